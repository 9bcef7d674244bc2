package clerkemu

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// call sends a JSON request to the emulator, with the secret key when
// withKey, and decodes the JSON answer.
func (h *harness) call(t *testing.T, method, path string, body any, withKey bool) (int, http.Header, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, h.e.Issuer()+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if withKey {
		req.Header.Set("Authorization", "Bearer "+h.e.SecretKey())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header, out
}

// firstError is the first entry of a Clerk error envelope; it fails the
// test when the body is not one.
func firstErr(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	errs, _ := body["errors"].([]any)
	if len(errs) == 0 || body["clerk_trace_id"] == "" {
		t.Fatalf("not Clerk's error envelope: %v", body)
	}
	e := errs[0].(map[string]any)
	for _, k := range []string{"code", "message", "long_message", "meta"} {
		if _, ok := e[k]; !ok {
			t.Fatalf("error lacks %s: %v", k, e)
		}
	}
	return e
}

// TestUnsupportedIsRefused: an endpoint, method, query parameter or body
// field the emulator does not implement answers 4xx with Clerk's envelope
// naming it; none is ignored with a 200.
func TestUnsupportedIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	acme, _ := getOrg(t.Context(), h.e.pool, "acme")
	bob, _ := getUserByEmail(t.Context(), h.e.pool, "bob@acme.test")
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code, names        string
	}{
		{"UnknownEndpoint", "GET", "/v1/domains", nil, 404, codeUnsupportedEndpoint, "GET /v1/domains"},
		{"KnownPathOtherMethod", "PUT", "/v1/users/" + bob.ID, nil, 405, codeUnsupportedEndpoint, "PUT /v1/users/"},
		{"UnknownUserFilter", "GET", "/v1/users?favourite_colour=blue", nil, 422, "form_param_unknown", "favourite_colour"},
		{"UnsupportedCursor", "GET", "/v1/users?starting_after=user_x", nil, 422, "form_param_unknown", "starting_after"},
		{"UnknownMembershipFilter", "GET", "/v1/organizations/" + acme.ID + "/memberships?organization_id=x", nil, 422, "form_param_unknown", "organization_id"},
		{"UnsupportedOrderBy", "GET", "/v1/organizations?order_by=-slug", nil, 422, "form_param_value_invalid", "order_by"},
		{"UnknownUserField", "PATCH", "/v1/users/" + bob.ID, map[string]any{"totp_secret": "x"}, 422, "form_param_unknown", "totp_secret"},
		{"UnknownOrgField", "POST", "/v1/organizations", map[string]any{"name": "X", "role_set_key": "r"}, 422, "form_param_unknown", "role_set_key"},
		{"BodyOnBodilessAction", "POST", "/v1/users/" + bob.ID + "/ban", map[string]any{"reason": "spam"}, 422, "form_param_unknown", "reason"},
		{"CustomRole", "POST", "/v1/organizations/" + acme.ID + "/memberships", map[string]any{"user_id": bob.ID, "role": "org:billing"}, 422, "form_param_value_invalid", "org:billing"},
		{"JWTTemplate", "POST", "/v1/sessions/sess_x/tokens/supabase", nil, 422, "unsupported_by_emulator", "JWT templates"},
		{"WrongTypeField", "PATCH", "/v1/users/" + bob.ID, map[string]any{"first_name": 5}, 422, "form_param_format_invalid", "first_name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, hdr, body := h.call(t, tc.method, strings.TrimPrefix(tc.path, "/__clerk"), tc.body, true)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			e := firstErr(t, body)
			text, _ := json.Marshal(e)
			if e["code"] != tc.code || !strings.Contains(string(text), tc.names) {
				t.Fatalf("error %s, want code %s naming %q", text, tc.code, tc.names)
			}
			if status == 405 && hdr.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
	t.Run("NothingChanged", func(t *testing.T) {
		u, _ := getUser(t.Context(), h.e.pool, bob.ID)
		if u.Banned || u.UpdatedAt != bob.UpdatedAt {
			t.Fatalf("a refused request changed the user: %+v", u)
		}
	})
}

// TestBackendAndFrontendShareV1: the secret key picks the Backend API, its
// absence the Frontend API, on the same path.
func TestBackendAndFrontendShareV1(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	t.Run("BackendCreatesOrganization", func(t *testing.T) {
		status, _, body := h.call(t, "POST", "/v1/organizations", map[string]any{"name": "Backend Org"}, true)
		if status != 200 || body["object"] != "organization" || body["slug"] != "backend-org" {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("FrontendCreatesOrganizationForTheSignedInUser", func(t *testing.T) {
		b := h.browser(t)
		b.signIn("carol@globex.test")
		resp, body := b.post("/v1/organizations", url.Values{"name": {"Frontend Org"}})
		org, _ := body["response"].(map[string]any)
		if resp.StatusCode != 200 || org["slug"] != "frontend-org" {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
		carol, _ := getUserByEmail(t.Context(), h.e.pool, "carol@globex.test")
		if m, err := getMembership(t.Context(), h.e.pool, org["id"].(string), carol.ID); err != nil || m.Role != "org:admin" {
			t.Fatalf("creator membership: %+v %v", m, err)
		}
	})
	t.Run("FrontendSignedOut", func(t *testing.T) {
		resp, body := h.browser(t).post("/v1/organizations", url.Values{"name": {"Nobody's"}})
		if resp.StatusCode != 401 || firstErr(t, body)["code"] != "signed_out" {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
	})
	t.Run("BackendPathWithoutKey", func(t *testing.T) {
		status, _, body := h.call(t, "GET", "/v1/users", nil, false)
		if status != 401 || firstErr(t, body)["code"] != "authentication_invalid" {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("WrongKey", func(t *testing.T) {
		req, _ := http.NewRequest("GET", h.e.Issuer()+"/v1/users", nil)
		req.Header.Set("Authorization", "Bearer sk_test_wrong")
		if resp, body := do(t, req); resp.StatusCode != 401 || !strings.Contains(body, "authentication_invalid") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
}

// TestListsAsClerk: newest first by default, limit/offset and total_count,
// and filters that really filter (issue: username=nobody returned everyone).
func TestListsAsClerk(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var users []map[string]any
	get := func(path string, out any) {
		t.Helper()
		req, _ := http.NewRequest("GET", h.e.BackendURL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+h.e.SecretKey())
		resp, body := do(t, req)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		if err := json.Unmarshal([]byte(body), out); err != nil {
			t.Fatal(err)
		}
	}
	get("/users", &users)
	if len(users) != 4 || !newestFirst(users) {
		t.Fatalf("default order must be newest first: %v", users)
	}
	get("/users?order_by=%2Bfirst_name&limit=2&offset=1", &users)
	if got := names(users); got != "Bob,Carol" {
		t.Fatalf("order_by=+first_name limit=2 offset=1 = %s", got)
	}
	get("/users?username=nobody", &users)
	if len(users) != 0 {
		t.Fatalf("username=nobody = %v", names(users))
	}
	acme, _ := getOrg(t.Context(), h.e.pool, "acme")
	var mems list[map[string]any]
	get("/organizations/"+acme.ID+"/memberships?query=bob", &mems)
	if mems.TotalCount != 1 || len(mems.Data) != 1 {
		t.Fatalf("memberships query=bob = %+v", mems)
	}
	var paged []map[string]any
	seen := map[any]bool{}
	for offset := range 3 {
		get("/organizations/"+acme.ID+"/memberships?limit=1&offset="+itoa(offset), &mems)
		if mems.TotalCount != 3 || len(mems.Data) != 1 || seen[mems.Data[0]["id"]] {
			t.Fatalf("memberships page %d = %+v", offset, mems)
		}
		seen[mems.Data[0]["id"]] = true
		paged = append(paged, mems.Data[0])
	}
	if !newestFirst(paged) {
		t.Fatalf("memberships are not newest first: %v", paged)
	}
}

// newestFirst reports whether created_at never increases along the list.
func newestFirst(items []map[string]any) bool {
	for i := 1; i < len(items); i++ {
		if items[i]["created_at"].(float64) > items[i-1]["created_at"].(float64) {
			return false
		}
	}
	return true
}

// names lists the users' first names.
func names(users []map[string]any) string {
	var out []string
	for _, u := range users {
		out = append(out, u["first_name"].(string))
	}
	return strings.Join(out, ",")
}
