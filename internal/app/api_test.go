package app_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/clerkemu"
)

// TestAPIContract checks the JSON API against CONTRACT.md: shapes, status
// codes and messages, for both claim formats.
func TestAPIContract(t *testing.T) {
	t.Parallel()
	for _, version := range []int{2, 1} {
		t.Run(map[int]string{1: "v1", 2: "v2"}[version], func(t *testing.T) {
			ta := start(t, app.Options{Emulator: clerkemu.Config{TokenVersion: version}})
			s := seedProduct(t, ta)
			alice := s.tok["alice@acme.test/acme"]

			t.Run("MeSignedOut", func(t *testing.T) {
				res, body := sendReq(t, ta, hreq{path: "/api/me"})
				if res.StatusCode != http.StatusUnauthorized || strings.TrimSpace(string(body)) != `{"error":"Unauthenticated"}` {
					t.Fatalf("got %d %s", res.StatusCode, body)
				}
			})
			t.Run("Me", func(t *testing.T) {
				_, body := sendReq(t, ta, hreq{path: "/api/me", token: alice})
				me := jsonObject(t, body)
				for _, k := range []string{"user_id", "session_id", "org_id", "org_role", "org_slug", "org_permissions", "plan", "features", "user"} {
					if _, ok := me[k]; !ok {
						t.Errorf("/api/me lacks %q: %s", k, body)
					}
				}
				if me["org_id"] != s.org["acme"] || me["org_role"] != "org:admin" || me["org_slug"] != "acme" || me["plan"] != "enterprise" {
					t.Errorf("/api/me = %s", body)
				}
				if f, _ := me["features"].([]any); !slices.Contains(f, any("export")) {
					t.Errorf("features = %v", me["features"])
				}
				u, _ := me["user"].(map[string]any)
				if u["email"] != "alice@acme.test" || u["first_name"] != "Alice" || u["id"] != me["user_id"] {
					t.Errorf("user = %v", u)
				}
			})
			t.Run("MeArraysNeverNull", func(t *testing.T) {
				// Carol's organisation has no features: still [] in JSON.
				_, body := sendReq(t, ta, hreq{path: "/api/me", token: s.tok["carol@globex.test/globex"]})
				if !strings.Contains(string(body), `"features":[]`) || strings.Contains(string(body), "null,\"plan\"") {
					t.Errorf("/api/me = %s", body)
				}
			})
			t.Run("Org", func(t *testing.T) {
				_, body := sendReq(t, ta, hreq{path: "/api/org", token: alice})
				o := jsonObject(t, body)
				if o["id"] != s.org["acme"] || o["name"] != "Acme" || o["slug"] != "acme" || o["plan"] != "enterprise" || o["members_count"] != float64(3) {
					t.Errorf("/api/org = %s", body)
				}
				for _, k := range []string{"image_url", "created_at"} {
					if _, ok := o[k]; !ok {
						t.Errorf("/api/org lacks %q", k)
					}
				}
			})
			t.Run("Members", func(t *testing.T) {
				_, body := sendReq(t, ta, hreq{path: "/api/org/members", token: alice})
				m := jsonObject(t, body)
				data, _ := m["data"].([]any)
				if len(data) != 3 || m["total_count"] != float64(3) {
					t.Fatalf("/api/org/members = %s", body)
				}
				first, _ := data[0].(map[string]any)
				for _, k := range []string{"user_id", "email", "first_name", "last_name", "role"} {
					if _, ok := first[k]; !ok {
						t.Errorf("member lacks %q", k)
					}
				}
			})
			t.Run("ExportGates", func(t *testing.T) {
				cases := []struct{ who, status, body string }{
					{"bob@acme.test/acme", "403", `{"error":"Admin required"}`},
					{"carol@globex.test/globex", "403", `{"error":"Enterprise plan required"}`},
					{"alice@acme.test/acme", "200", `{"success":true}`},
				}
				for _, c := range cases {
					// A bearer-token API client sends no CSRF token.
					res, body := sendReq(t, ta, hreq{method: "POST", path: "/api/org/export", token: s.tok[c.who]})
					if got := strings.TrimSpace(string(body)); strconv.Itoa(res.StatusCode) != c.status || got != c.body {
						t.Errorf("%s: export = %d %s, want %s %s", c.who, res.StatusCode, got, c.status, c.body)
					}
				}
				_, doc := pageReq(t, ta, hreq{path: "/dashboard", token: alice})
				if !slices.ContainsFunc(textsOf(doc, `[data-testid="activity-row"]`), func(s string) bool { return strings.Contains(s, "exported") }) {
					t.Error("the export is not in the dashboard's audit log")
				}
			})
			t.Run("NoOrg", func(t *testing.T) {
				tok := sessionTokenNoOrg(t, ta)
				for _, path := range []string{"/api/org", "/api/org/members", "/api/projects"} {
					res, body := sendReq(t, ta, hreq{path: path, token: tok})
					if res.StatusCode != http.StatusForbidden || strings.TrimSpace(string(body)) != `{"error":"Must be in an org"}` {
						t.Errorf("%s without org = %d %s", path, res.StatusCode, body)
					}
				}
				_, body := sendReq(t, ta, hreq{path: "/api/me", token: tok})
				if me := jsonObject(t, body); me["org_id"] != nil || !strings.Contains(string(body), `"org_permissions":[]`) {
					t.Errorf("/api/me without org = %s", body)
				}
				res, _ := sendReq(t, ta, hreq{path: "/dashboard", token: tok})
				if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/orgs" {
					t.Errorf("/dashboard without org = %d %q, want 303 /orgs", res.StatusCode, res.Header.Get("Location"))
				}
			})
			t.Run("ProjectsCRUD", func(t *testing.T) {
				id := createProject(t, ta, alice, "  First  ")
				p := "/api/projects/" + strconv.FormatInt(id, 10)
				_, body := sendReq(t, ta, hreq{path: p, token: alice})
				if got := jsonObject(t, body)["name"]; got != "First" {
					t.Errorf("name = %v, want trimmed", got)
				}
				res, body := sendReq(t, ta, hreq{method: "PATCH", path: p, token: alice, body: `{"name":"Renamed"}`})
				if res.StatusCode != http.StatusOK || jsonObject(t, body)["name"] != "Renamed" {
					t.Errorf("PATCH = %d %s", res.StatusCode, body)
				}
				res, body = sendReq(t, ta, hreq{method: "DELETE", path: p, token: alice})
				if res.StatusCode != http.StatusOK || jsonObject(t, body)["deleted"] != true {
					t.Errorf("DELETE = %d %s", res.StatusCode, body)
				}
				if res, _ := sendReq(t, ta, hreq{path: p, token: alice}); res.StatusCode != http.StatusNotFound {
					t.Errorf("GET after delete = %d", res.StatusCode)
				}
			})
			t.Run("ProjectsValidation", func(t *testing.T) {
				for _, b := range []string{`{"name":""}`, `{"name":"   "}`, `{}`, `{"name":"a\u0000b"}`, `{"name":"` + strings.Repeat("x", 101) + `"}`, `not json`, `{"name":"a"}{"name":"b"}`} {
					if res, body := sendReq(t, ta, hreq{method: "POST", path: "/api/projects", token: alice, body: b}); res.StatusCode != http.StatusBadRequest {
						t.Errorf("create %q = %d %s, want 400", b, res.StatusCode, body)
					}
				}
			})
			t.Run("A08_IDsCheckedBeforeTheDatabase", func(t *testing.T) {
				for _, id := range []string{"0", "-1", "01", "1e3", "%2F..%2F1", "1%00", "9223372036854775808", "abc", "1%20"} {
					if res, _ := sendReq(t, ta, hreq{path: "/api/projects/" + id, token: alice}); res.StatusCode != http.StatusNotFound {
						t.Errorf("GET /api/projects/%s = %d, want 404", id, res.StatusCode)
					}
				}
			})
			t.Run("ProjectPermissions", func(t *testing.T) {
				// Bob is a member without org:projects:* permissions.
				bob := s.tok["bob@acme.test/acme"]
				id := createProject(t, ta, alice, "Alice's")
				if res, _ := sendReq(t, ta, hreq{method: "POST", path: "/api/projects", token: bob, body: `{"name":"x"}`}); res.StatusCode != http.StatusForbidden {
					t.Errorf("member create = %d, want 403", res.StatusCode)
				}
				if res, _ := sendReq(t, ta, hreq{method: "PATCH", path: "/api/projects/" + strconv.FormatInt(id, 10), token: bob, body: `{"name":"x"}`}); res.StatusCode != http.StatusForbidden {
					t.Errorf("member rename = %d, want 403", res.StatusCode)
				}
				if res, _ := sendReq(t, ta, hreq{path: "/api/projects/" + strconv.FormatInt(id, 10), token: bob}); res.StatusCode != http.StatusOK {
					t.Errorf("member read = %d, want 200", res.StatusCode)
				}
			})
		})
	}
}

// TestCSRFOnCookieSessions: a bearer-authenticated POST needs no CSRF token
// (see TestAPIContract/ExportGates), while the same POST authenticated by
// the session cookie without a token is refused, and with one it passes.
func TestCSRFOnCookieSessions(t *testing.T) {
	t.Parallel()
	ta := start(t)
	s := seedProduct(t, ta)
	cookie := map[string]string{"Cookie": "__session=" + s.tok["alice@acme.test/acme"] + "; __client_uat=1"}
	for _, path := range []string{"/api/org/export", "/projects", "/orgs"} {
		res, _ := sendReq(t, ta, hreq{method: "POST", path: path, header: cookie, body: "name=x"})
		if res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusBadRequest {
			t.Errorf("cookie POST %s without a CSRF token = %d, want 400/403", path, res.StatusCode)
		}
	}
	// With the token from a page (cookie and field), the form works.
	res, doc := pageReq(t, ta, hreq{path: "/dashboard", header: cookie})
	tok, _ := doc.Find(`[data-testid="project-create"] input[name="_csrf"]`).Attr("value")
	var csrfCookie string
	for _, c := range res.Cookies() {
		if c.Name == "_csrf" {
			csrfCookie = c.Value
		}
	}
	if tok == "" || csrfCookie == "" {
		t.Fatalf("no CSRF token on the dashboard (field %q, cookie %q)", tok, csrfCookie)
	}
	h := map[string]string{"Cookie": cookie["Cookie"] + "; _csrf=" + csrfCookie}
	res, _ = sendReq(t, ta, hreq{method: "POST", path: "/projects", header: h, body: "_csrf=" + tok + "&name=With+token&return=dashboard"})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/dashboard" {
		t.Errorf("form with token = %d %q, want 303 /dashboard", res.StatusCode, res.Header.Get("Location"))
	}
	// A cross-site POST carrying the session cookie is refused (C-01).
	res, _ = sendReq(t, ta, hreq{method: "POST", path: "/projects", body: "_csrf=" + tok + "&name=x",
		header: map[string]string{"Cookie": h["Cookie"], "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST = %d, want 403", res.StatusCode)
	}
}
