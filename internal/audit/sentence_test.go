package audit

import "testing"

func TestSentence(t *testing.T) {
	t.Parallel()
	alice := Item{Actor: "user_a", ActorName: "Alice Anders"}
	with := func(action, target, targetName string, d map[string]string) Item {
		it := alice
		it.Action, it.Target, it.TargetName, it.Details = action, target, targetName, d
		return it
	}
	for _, tc := range []struct {
		name string
		in   Item
		want string
	}{
		{"RoleChangedByAdmin", with(MemberRoleChanged, "user_b", "Bob Baker", map[string]string{"from": "org:member", "to": "org:admin"}),
			"Alice Anders changed Bob Baker's role to Admin"},
		{"RoleChangedBySync", Item{Actor: "clerk", Action: MemberRoleChanged, Target: "user_b", TargetName: "Bob Baker", Details: map[string]string{"role": "org:member"}},
			"Bob Baker's role is now Member"},
		{"SettingsWithPrevious", with(OrgSettingsUpdated, "org_1", "", map[string]string{"name": "Acme Inc", "previous_name": "Acme"}),
			"Alice Anders updated the organisation settings: name Acme → Acme Inc"},
		{"SettingsOld", with(OrgSettingsUpdated, "org_1", "", map[string]string{"name": "Acme Inc", "slug": "acme"}),
			"Alice Anders updated the organisation settings: name Acme Inc, slug acme"},
		{"MemberAddedBySync", Item{Actor: "clerk", Action: MemberAdded, Target: "user_b", TargetName: "Bob Baker", Details: map[string]string{"role": "org:member"}},
			"Bob Baker joined the organisation as Member"},
		{"MemberRemovedByAdmin", with(MemberRemoved, "user_b", "Bob Baker", nil), "Alice Anders removed Bob Baker"},
		{"ProjectCreated", with(ProjectCreated, "7", "", map[string]string{"name": "Apollo"}), "Alice Anders created project “Apollo”"},
		{"Invited", with(InvitationCreated, "orginv_1", "", map[string]string{"email": "erin@new.test", "role": "org:member"}),
			"Alice Anders invited erin@new.test as Member"},
		{"UnknownActorName", Item{Actor: "user_gone", Action: OrgExported}, "user_gone exported the organisation's data"},
		{"UnknownAction", with("thing.happened", "", "", nil), "Alice Anders did thing.happened"},
		{"Impersonated", Item{Actor: "user_a", ActorName: "Alice Anders", Impersonator: "user_op", Action: OrgLeft},
			"Alice Anders left the organisation (impersonated by user_op)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Sentence(tc.in); got != tc.want {
				t.Errorf("Sentence = %q, want %q", got, tc.want)
			}
		})
	}
}
