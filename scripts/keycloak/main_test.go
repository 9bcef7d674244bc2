package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sample is an identity file as `web export-identities` writes it: Alice
// admin of Acme, Bob member of Acme and admin of Globex, a user without
// email, and a pending invitation.
const sample = `{"type":"header","format":"saas-identities","version":1,"exported_at":"2026-05-04T09:30:00Z"}
{"type":"user","id":1,"external_ids":{"clerk":"user_a"},"email":"Alice@acme.test","first_name":"Alice","last_name":"Anders","image_url":"","public_metadata":{"operator":true},"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}
{"type":"user","id":2,"external_ids":{"clerk":"user_b"},"email":"bob@acme.test","first_name":"Bob","last_name":"","image_url":"","public_metadata":{},"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}
{"type":"user","id":3,"external_ids":{"clerk":"user_c"},"email":"","first_name":"","last_name":"","image_url":"","public_metadata":{},"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}
{"type":"organization","id":7,"external_ids":{"clerk":"org_acme"},"name":"Acme","slug":"acme","image_url":"","plan":"enterprise","public_metadata":{"plan":"enterprise"},"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}
{"type":"organization","id":8,"external_ids":{"clerk":"org_globex"},"name":"Globex","slug":"globex","image_url":"","plan":"","public_metadata":{},"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}
{"type":"membership","id":1,"external_ids":{"clerk":"mem_1"},"organization_id":7,"user_id":1,"role":"org:admin","permissions":[],"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}
{"type":"membership","id":2,"external_ids":{"clerk":"mem_2"},"organization_id":7,"user_id":2,"role":"org:member","permissions":[],"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}
{"type":"membership","id":3,"external_ids":{"clerk":"mem_3"},"organization_id":8,"user_id":2,"role":"org:admin","permissions":[],"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}
{"type":"invitation","id":4,"external_ids":{"clerk":"inv_1"},"organization_id":7,"email":"erin@new.test","role":"org:member","status":"pending","created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}
`

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRealm: users carry their ids as attributes and their memberships as
// role subgroups of their organisation's group; invitations and users
// without email are reported, not dropped silently.
func TestRealm(t *testing.T) {
	t.Parallel()
	var out, warn bytes.Buffer
	if err := run([]string{"realm", writeTemp(t, "f.jsonl", sample)}, &out, &warn); err != nil {
		t.Fatal(err)
	}
	var got kcPartialImport
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.IfResourceExists != "SKIP" || len(got.Users) != 2 || len(got.Groups) != 2 {
		t.Fatalf("partial import %+v", got)
	}
	alice, bob := got.Users[0], got.Users[1]
	if alice.Username != "alice@acme.test" || alice.Email != "Alice@acme.test" || !alice.EmailVerified || !alice.Enabled ||
		alice.Attributes["app_user_id"][0] != "1" || alice.Attributes["clerk_id"][0] != "user_a" ||
		alice.Attributes["public_metadata"][0] != `{"operator":true}` || alice.CreatedTimestamp != 1735787045000 {
		t.Errorf("alice %+v", alice)
	}
	if strings.Join(alice.Groups, ",") != "/acme/admin" || strings.Join(bob.Groups, ",") != "/acme/member,/globex/admin" {
		t.Errorf("groups: alice %v, bob %v", alice.Groups, bob.Groups)
	}
	acme := got.Groups[0]
	if acme.Name != "acme" || acme.Attributes["app_organization_id"][0] != "7" || acme.Attributes["plan"][0] != "enterprise" ||
		len(acme.SubGroups) != 2 || acme.SubGroups[0].Name != "admin" || acme.SubGroups[1].Name != "member" {
		t.Errorf("acme %+v", acme)
	}
	for _, want := range []string{"user 3 has no email", "invite erin@new.test to acme as org:member"} {
		if !strings.Contains(warn.String(), want) {
			t.Errorf("warnings %q lack %q", warn.String(), want)
		}
	}
}

// TestIDs: Keycloak's users and groups, found by the app's ids in their
// attributes, become an import file; one missing is an error.
func TestIDs(t *testing.T) {
	t.Parallel()
	f := writeTemp(t, "f.jsonl", sample)
	users := writeTemp(t, "users.json", `[
	  {"id":"kc-u1","username":"alice@acme.test","email":"alice@acme.test","enabled":true,"attributes":{"app_user_id":["1"]}},
	  {"id":"kc-u2","username":"bob@acme.test","email":"bob@acme.test","enabled":true,"attributes":{"app_user_id":["2"]}},
	  {"id":"kc-u3","username":"c@x.test","email":"c@x.test","enabled":true,"attributes":{"app_user_id":["3"]}}]`)
	groups := writeTemp(t, "groups.json", `[
	  {"id":"kc-g7","name":"acme","path":"/acme","attributes":{"app_organization_id":["7"]}},
	  {"id":"kc-g8","name":"globex","path":"/globex","attributes":{"app_organization_id":["8"]}}]`)
	var out bytes.Buffer
	if err := run([]string{"ids", f, users, groups}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	want := `{"external_ids":{"keycloak":"kc-u1"},"id":1,"type":"user"}
{"external_ids":{"keycloak":"kc-u2"},"id":2,"type":"user"}
{"external_ids":{"keycloak":"kc-u3"},"id":3,"type":"user"}
{"external_ids":{"keycloak":"kc-g7"},"id":7,"type":"organization"}
{"external_ids":{"keycloak":"kc-g8"},"id":8,"type":"organization"}
`
	if out.String() != want {
		t.Errorf("import file:\n%s\nwant\n%s", out.String(), want)
	}

	short := writeTemp(t, "groups.json", `[{"id":"kc-g7","name":"acme","attributes":{"app_organization_id":["7"]}}]`)
	if err := run([]string{"ids", f, users, short}, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "organisation 8") {
		t.Errorf("a group missing from Keycloak's list: %v", err)
	}
}
