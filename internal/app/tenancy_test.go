package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/clerkemu"
)

// TestTenancy is checklist §4.1 against the whole app, once per claim
// format (the emulator's v2 tokens and Clerk's older v1 layout): the org id
// comes from the token only, every read and write is scoped to it and to the
// caller's live membership, and removals, deletions and role changes that
// arrive by webhook take effect on the next request.
func TestTenancy(t *testing.T) {
	t.Parallel()
	for _, version := range []int{2, 1} {
		t.Run("v"+strconv.Itoa(version), func(t *testing.T) {
			ta := start(t, app.Options{Emulator: clerkemu.Config{TokenVersion: version}})
			s := seedProduct(t, ta)
			acme := createProject(t, ta, s.tok["alice@acme.test/acme"], "Acme Rocket")
			globex := createProject(t, ta, s.tok["carol@globex.test/globex"], "Globex Secret")

			t.Run("T01_OtherOrgIDsAre404", func(t *testing.T) {
				// Dave is a member of both; with Acme active, Globex's
				// project does not exist for him, on any surface.
				for _, who := range []string{"alice@acme.test/acme", "dave@example.test/acme"} {
					tok := s.tok[who]
					id := strconv.FormatInt(globex, 10)
					for _, r := range []hreq{
						{method: "GET", path: "/api/projects/" + id},
						{method: "PATCH", path: "/api/projects/" + id, body: `{"name":"pwned"}`},
						{method: "DELETE", path: "/api/projects/" + id},
						{method: "POST", path: "/projects/" + id + "/rename", body: "name=pwned"},
						{method: "POST", path: "/projects/" + id + "/rename", body: "name=pwned", header: hxHeaders},
						{method: "POST", path: "/projects/" + id + "/delete", body: ""},
						{method: "POST", path: "/projects/" + id + "/delete", body: "", header: hxHeaders},
					} {
						r.token = tok
						res, body := sendReq(t, ta, r)
						if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden {
							t.Errorf("%s %s %s %v = %d %s, want 404 (or 403)", who, r.method, r.path, r.header, res.StatusCode, body)
						}
					}
				}
				// No change happened: Globex still sees its project as it was.
				_, body := sendReq(t, ta, hreq{path: "/api/projects/" + strconv.FormatInt(globex, 10), token: s.tok["carol@globex.test/globex"]})
				if got := jsonObject(t, body)["name"]; got != "Globex Secret" {
					t.Fatalf("Globex project after the attack = %v", got)
				}
			})

			t.Run("T01_MemberOfBothSeesOnlyTheActiveOrg", func(t *testing.T) {
				for active, want := range map[string][2]string{"acme": {"Acme Rocket", "Globex Secret"}, "globex": {"Globex Secret", "Acme Rocket"}} {
					tok := s.tok["dave@example.test/"+active]
					_, body := sendReq(t, ta, hreq{path: "/api/projects", token: tok})
					if !strings.Contains(string(body), want[0]) || strings.Contains(string(body), want[1]) {
						t.Errorf("%s: /api/projects = %s", active, body)
					}
					for _, path := range []string{"/dashboard", "/projects"} {
						for _, h := range []map[string]string{nil, hxHeaders} {
							_, body := sendReq(t, ta, hreq{path: path, token: tok, header: h})
							if !strings.Contains(string(body), want[0]) || strings.Contains(string(body), want[1]) {
								t.Errorf("%s: %s (htmx=%v) shows the wrong organisation's projects", active, path, h != nil)
							}
						}
					}
					_, body = sendReq(t, ta, hreq{path: "/api/org/members", token: tok})
					members := fmt.Sprint(jsonObject(t, body)["data"])
					if active == "acme" && (strings.Contains(members, "carol@") || !strings.Contains(members, "bob@")) ||
						active == "globex" && (strings.Contains(members, "bob@") || !strings.Contains(members, "carol@")) {
						t.Errorf("%s: members = %s", active, members)
					}
				}
			})

			t.Run("T02_OrgIDFromInputIsIgnored", func(t *testing.T) {
				tok := s.tok["dave@example.test/acme"]
				q := "?org_id=" + s.org["globex"] + "&organization_id=" + s.org["globex"]
				_, body := sendReq(t, ta, hreq{path: "/api/org" + q, token: tok, header: map[string]string{"X-Org-Id": s.org["globex"]}})
				if got := jsonObject(t, body)["id"]; got != s.org["acme"] {
					t.Errorf("/api/org with a Globex id in the query = %v, want Acme", got)
				}
				res, _ := sendReq(t, ta, hreq{method: "POST", path: "/api/projects", token: s.tok["alice@acme.test/acme"],
					body: `{"name":"x","org_id":"` + s.org["globex"] + `"}`})
				if res.StatusCode != http.StatusBadRequest {
					t.Errorf("create with an org_id field = %d, want 400", res.StatusCode)
				}
				res, _ = sendReq(t, ta, hreq{method: "POST", path: "/projects", token: s.tok["alice@acme.test/acme"],
					body: "name=Hidden+field&org_id=" + s.org["globex"]})
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("form create = %d", res.StatusCode)
				}
				_, body = sendReq(t, ta, hreq{path: "/api/projects?q=Hidden", token: s.tok["carol@globex.test/globex"]})
				if strings.Contains(string(body), "Hidden field") {
					t.Error("a hidden org_id field put a project into Globex")
				}
			})

			t.Run("T08_NoStoreAndVary", func(t *testing.T) {
				tok := s.tok["alice@acme.test/acme"]
				for _, r := range []hreq{{path: "/dashboard"}, {path: "/dashboard", header: hxHeaders}, {path: "/projects"},
					{path: "/orgs"}, {path: "/orgs", header: hxHeaders}, {path: "/api/org"}, {path: "/api/projects"}, {path: "/api/me"}} {
					r.token = tok
					res, _ := sendReq(t, ta, r)
					if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
						t.Errorf("%s (htmx=%v): Cache-Control = %q", r.path, r.header != nil, cc)
					}
					if !strings.HasPrefix(r.path, "/api") && !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "HX-Request") {
						t.Errorf("%s: Vary = %q, want HX-Request", r.path, res.Header.Values("Vary"))
					}
				}
			})

			t.Run("T09_CursorsAndSearchStayInTheirOrg", func(t *testing.T) {
				alice := s.tok["alice@acme.test/acme"]
				for _, n := range []string{"100% done", "under_score", `back\slash`, "plain"} {
					createProject(t, ta, alice, n)
				}
				_, body := sendReq(t, ta, hreq{path: "/api/projects?limit=2", token: alice})
				cursor, _ := jsonObject(t, body)["next_cursor"].(string)
				if cursor == "" {
					t.Fatalf("no next_cursor in %s", body)
				}
				res, body := sendReq(t, ta, hreq{path: "/api/projects?limit=2&cursor=" + url.QueryEscape(cursor), token: s.tok["dave@example.test/globex"]})
				if res.StatusCode != http.StatusBadRequest {
					t.Errorf("Acme cursor replayed in Globex = %d %s, want 400", res.StatusCode, body)
				}
				res, _ = sendReq(t, ta, hreq{path: "/api/projects?limit=2&cursor=" + url.QueryEscape(cursor), token: alice})
				if res.StatusCode != http.StatusOK {
					t.Errorf("cursor in its own org = %d", res.StatusCode)
				}
				for q, want := range map[string]float64{"%": 1, "_": 1, `\`: 1, "Secret": 0, "": 6} {
					_, body := sendReq(t, ta, hreq{path: "/api/projects?q=" + url.QueryEscape(q), token: alice})
					if got := jsonObject(t, body)["total_count"]; got != want {
						t.Errorf("search %q: total_count = %v, want %v (%s)", q, got, want, body)
					}
				}
			})

			t.Run("T03_RoleFromTheTokenUntilItExpires", func(t *testing.T) {
				// Decision: role and permission checks read the token, as
				// Clerk's has() does; a downgrade applies to tokens minted
				// after it (within a token's 60 s lifetime), while data access
				// needs the live membership at once (T-04).
				old := s.tok["dave@example.test/globex"]
				bapi(t, ta.Server, http.MethodPatch, "/organizations/"+s.org["globex"]+"/memberships/"+userID(t, ta.Server, "dave@example.test"),
					map[string]string{"role": "org:member"}, nil)
				ta.synced(t)
				if res, body := sendReq(t, ta, hreq{method: "POST", path: "/api/projects", token: old, body: `{"name":"old token"}`}); res.StatusCode != http.StatusCreated {
					t.Errorf("old admin token after the downgrade = %d %s, want 201 until it expires", res.StatusCode, body)
				}
				fresh := sessionToken(t, ta.Server, "dave@example.test", s.org["globex"])
				if res, _ := sendReq(t, ta, hreq{method: "POST", path: "/api/projects", token: fresh, body: `{"name":"new token"}`}); res.StatusCode != http.StatusForbidden {
					t.Errorf("new token after the downgrade = %d, want 403", res.StatusCode)
				}
				_, doc := pageReq(t, ta, hreq{path: "/dashboard", token: fresh})
				if got := textsOf(doc, `[data-testid="my-role"]`); len(got) != 1 || got[0] != "Member" {
					t.Errorf("dashboard role = %q", got)
				}
			})

			t.Run("T04_RemovedMemberLosesAccessWithAValidToken", func(t *testing.T) {
				tok := s.tok["bob@acme.test/acme"]
				if res, _ := sendReq(t, ta, hreq{path: "/api/org", token: tok}); res.StatusCode != http.StatusOK {
					t.Fatalf("before removal: %d", res.StatusCode)
				}
				bapi(t, ta.Server, http.MethodDelete, "/organizations/"+s.org["acme"]+"/memberships/"+userID(t, ta.Server, "bob@acme.test"), nil, nil)
				ta.synced(t)
				for _, r := range []hreq{{path: "/api/org"}, {path: "/api/org/members"}, {path: "/api/projects"}, {path: "/dashboard"},
					{path: "/dashboard", header: hxHeaders}, {path: "/projects"}} {
					r.token = tok
					res, body := sendReq(t, ta, r)
					if res.StatusCode != http.StatusForbidden {
						t.Errorf("removed member %s (htmx=%v) = %d, want 403", r.path, r.header != nil, res.StatusCode)
					}
					if strings.Contains(string(body), "Acme Rocket") {
						t.Errorf("removed member %s still shows Acme's data", r.path)
					}
				}
				if res, _ := sendReq(t, ta, hreq{path: "/api/projects/" + strconv.FormatInt(acme, 10), token: tok}); res.StatusCode != http.StatusNotFound {
					t.Errorf("removed member GET project = %d, want 404", res.StatusCode)
				}
				_, doc := pageReq(t, ta, hreq{path: "/orgs", token: tok})
				if n := doc.Find(`[data-testid="org-row"]`).Length(); n != 0 {
					t.Errorf("/orgs still lists %d organisations for the removed member", n)
				}
			})

			t.Run("T06_DeletedUser", func(t *testing.T) {
				// Deleting a user ends their sessions (session.ended), so the
				// still-unexpired token is refused outright: 401 for the API, the
				// sign-in page for pages.
				tok := s.tok["dave@example.test/acme"]
				bapi(t, ta.Server, http.MethodDelete, "/users/"+userID(t, ta.Server, "dave@example.test"), nil, nil)
				ta.synced(t)
				for _, path := range []string{"/api/org", "/api/projects", "/api/me", "/dashboard"} {
					res, _ := sendReq(t, ta, hreq{path: path, token: tok})
					signIn := res.StatusCode == http.StatusSeeOther && strings.HasPrefix(res.Header.Get("Location"), "/sign-in")
					if res.StatusCode < 400 && !signIn {
						t.Errorf("deleted user %s = %d, want a refusal", path, res.StatusCode)
					}
				}
			})

			t.Run("T05_DeletedOrg", func(t *testing.T) {
				tok := s.tok["carol@globex.test/globex"]
				bapi(t, ta.Server, http.MethodDelete, "/organizations/"+s.org["globex"], nil, nil)
				ta.synced(t)
				for _, r := range []hreq{{path: "/api/org"}, {path: "/api/projects"}, {path: "/api/projects/" + strconv.FormatInt(globex, 10)},
					{path: "/dashboard"}, {method: "POST", path: "/api/projects", body: `{"name":"zombie"}`}} {
					r.token = tok
					res, body := sendReq(t, ta, r)
					if res.StatusCode != http.StatusNotFound {
						t.Errorf("deleted org %s %s = %d %s, want 404", r.method, r.path, res.StatusCode, body)
					}
				}
			})
		})
	}
}

// createProject creates a project through the API and returns its id.
func createProject(t *testing.T, ta *testApp, token, name string) int64 {
	t.Helper()
	res, body := sendReq(t, ta, hreq{method: "POST", path: "/api/projects", token: token, body: fmt.Sprintf(`{"name":%q}`, name)})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create project %q = %d %s", name, res.StatusCode, body)
	}
	return int64(jsonObject(t, body)["id"].(float64))
}
