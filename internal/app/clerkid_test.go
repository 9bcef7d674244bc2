package app_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestClerkIDsFromURLsCheckedBeforeUse: an invitation or user id in an
// admin URL that is not shaped like a Clerk id is answered 404 without any
// Backend API call; a well-formed one reaches Clerk (issue 14, item 9).
func TestClerkIDsFromURLsCheckedBeforeUse(t *testing.T) {
	t.Parallel()
	const org, admin = "org_acmeacmeacme0001", "user_adminadmin0001"
	fake := newFakeBAPI(t)
	p := startClerk(t, fake, map[string]string{"CLERK_INSTANCE_ID": testInstance})
	p.seedMember(t, testInstance, org, admin, "org:admin")
	auth := bearer(p.token(t, admin, org, "admin"))
	bad := []string{
		"orginv_x", "..", "%2e%2e", "orginv_..%2F..%2Fusers", "orginv_abcdefghij%2Frevoke", "orginv_abcdefghij%3Fx=1",
		"orginv_abcdefghij%00", "user_abcdefghij0001", "orginv_" + strings.Repeat("a", 65),
	}
	for _, id := range bad {
		for _, r := range []struct{ method, path string }{
			{http.MethodGet, "/admin/invitations/" + id},
			{http.MethodPost, "/admin/invitations/" + id + "/revoke"},
		} {
			res, body := rawRequest(t, p.URL, r.method, r.path, auth)
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s = %d %.80s, want 404", r.method, r.path, res.StatusCode, body)
			}
		}
	}
	for _, id := range []string{"user_x", "..", "user_..%2F..%2Fx", "orginv_abcdefghij0001", "user_abcdefghij%3Fuser_id=x"} {
		for _, path := range []string{"/admin/members/" + id + "/role", "/admin/members/" + id + "/remove"} {
			res, body := rawRequest(t, p.URL, http.MethodPost, path, with(auth, "Content-Type", "application/x-www-form-urlencoded"))
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("POST %s = %d %.80s, want 404", path, res.StatusCode, body)
			}
		}
	}
	if n := fake.total(); n != 0 {
		t.Fatalf("malformed ids made %d Backend API calls, want 0: %v", n, fake.calls)
	}
	// A well-formed id does reach Clerk (whose 404 the fake returns).
	res, _ := rawRequest(t, p.URL, http.MethodPost, "/admin/invitations/orginv_abcdefghij0001/revoke", auth)
	if res.StatusCode != http.StatusNotFound || fake.count("POST /v1/organizations/"+org+"/invitations/orginv_abcdefghij0001/revoke") != 1 {
		t.Fatalf("well-formed id: %d, calls %v", res.StatusCode, fake.calls)
	}
}
