package clerkid_test

import (
	"strings"
	"testing"

	"github.com/saasstarter/saas/internal/clerkid"
)

func TestValid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		prefix, id string
		want       bool
	}{
		{clerkid.User, "user_2g7np7Hrk0SN6kj5EDMLDaKNL0S", true},
		{clerkid.OrgInvitation, "orginv_2g7np7Hrk0SN6kj5EDMLDaKNL0S", true},
		{clerkid.Organization, "org_doesnotexist0000", true},
		{clerkid.Instance, "ins_2g7np7Hrk0SN6kj5EDMLDaKNL0S", true},
		{clerkid.User, "", false},
		{clerkid.User, "user_", false},
		{clerkid.User, "user", false},
		{clerkid.User, "user_123456789", false},
		{clerkid.User, "user_1234567890", true},
		{clerkid.User, "org_2g7np7Hrk0SN6kj5EDMLDaKNL0S", false},
		{clerkid.Organization, "orginv_2g7np7Hrk0SN6kj5EDMLDaKNL0S", false},
		{clerkid.User, "userx2g7np7Hrk0SN6kj5EDMLDaKNL0S", false},
		{clerkid.User, "USER_2g7np7Hrk0SN6kj5EDMLDaKNL0S", false},
		{clerkid.OrgInvitation, "orginv_../../users", false},
		{clerkid.OrgInvitation, "orginv_2g7np7Hrk0SN6kj5%2F..%2Fx", false},
		{clerkid.OrgInvitation, "orginv_2g7np7Hrk0SN6kj5EDM?x=1", false},
		{clerkid.OrgInvitation, "orginv_2g7np7Hrk0SN6kj5EDM/revoke", false},
		{clerkid.User, "user_2g7np7Hrk0SN6kj5EDMLDaKNL0S\n", false},
		{clerkid.User, "user_2g7np7Hrk0SN6kj5EDMLDaKNL0Sé", false},
		{clerkid.User, "user_" + strings.Repeat("a", 64), true},
		{clerkid.User, "user_" + strings.Repeat("a", 65), false},
	}
	for _, tc := range cases {
		if got := clerkid.Valid(tc.prefix, tc.id); got != tc.want {
			t.Errorf("Valid(%q, %q) = %v, want %v", tc.prefix, tc.id, got, tc.want)
		}
	}
}
