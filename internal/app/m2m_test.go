package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// appMachine is the id of the machine that stands for the app in the
// emulator: machine tokens must be scoped to it.
func appMachine(t *testing.T, ta *testApp) string {
	t.Helper()
	var list struct {
		Data []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"data"`
	}
	bapi(t, ta.Server, http.MethodGet, "/machines?limit=100", nil, &list)
	for _, m := range list.Data {
		if m.Name == "app" {
			return m.ID
		}
	}
	t.Fatalf("the emulator has no machine for the app: %+v", list.Data)
	return ""
}

// machineToken creates a machine in the emulator, scoped to the app's
// machine, and issues an opaque M2M token with its secret, as a cron job
// would.
func machineToken(t *testing.T, ta *testApp) string {
	t.Helper()
	return machineTokenScoped(t, ta, []string{appMachine(t, ta)})
}

// machineTokenScoped is machineToken for a machine scoped to scopes.
func machineTokenScoped(t *testing.T, ta *testApp, scopes []string) string {
	t.Helper()
	var m struct {
		ID        string `json:"id"`
		SecretKey string `json:"secret_key"`
	}
	bapi(t, ta.Server, http.MethodPost, "/machines", map[string]any{"name": "nightly-usage", "scoped_machines": scopes}, &m)
	if m.SecretKey == "" {
		var s struct {
			Secret string `json:"secret"`
		}
		bapi(t, ta.Server, http.MethodGet, "/machines/"+m.ID+"/secret_key", nil, &s)
		m.SecretKey = s.Secret
	}
	req, _ := http.NewRequest(http.MethodPost, ta.URL+"/__clerk/v1/m2m_tokens", strings.NewReader(`{"seconds_until_expiration":600}`))
	req.Header.Set("Authorization", "Bearer "+m.SecretKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || !strings.HasPrefix(tok.Token, "mt_") {
		t.Fatalf("m2m token: status %d, %v, %q", res.StatusCode, err, tok.Token)
	}
	return tok.Token
}

func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, strings.TrimSpace(string(b))
}

// acmeID returns the Clerk id of the seeded Acme organisation.
func acmeID(t *testing.T, ta *testApp) string {
	t.Helper()
	var org struct {
		ID string `json:"id"`
	}
	bapi(t, ta.Server, http.MethodGet, "/organizations/acme", nil, &org)
	return org.ID
}

func TestMachineUsageEndpoint(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	mt := machineToken(t, ta)
	acme := acmeID(t, ta)
	usage := ta.URL + "/api/m2m/usage"

	t.Run("RecordsWithMachineToken", func(t *testing.T) {
		status, body := call(t, http.MethodPost, usage, mt, `{"org_id":"`+acme+`","metric":"api_calls","value":1234}`)
		if status != http.StatusCreated || !strings.Contains(body, `"value":1234`) || !strings.Contains(body, `"machine_id":"mch_`) {
			t.Fatalf("POST usage = %d %s", status, body)
		}
		status, body = call(t, http.MethodGet, usage+"?org_id="+acme, mt, "")
		if status != http.StatusOK || !strings.Contains(body, `"metric":"api_calls"`) || !strings.Contains(body, `"total_count":1`) {
			t.Fatalf("GET usage = %d %s", status, body)
		}
	})
	t.Run("ErrInvalidInput", func(t *testing.T) {
		for _, body := range []string{`{"org_id":"acme","metric":"x","value":1}`, `{"org_id":"` + acme + `","metric":"Bad Metric","value":1}`,
			`{"org_id":"` + acme + `","metric":"x"}`, `not json`} {
			if status, got := call(t, http.MethodPost, usage, mt, body); status != http.StatusBadRequest || !strings.HasPrefix(got, `{"error":`) {
				t.Errorf("POST %s = %d %s, want 400 JSON", body, status, got)
			}
		}
	})
	t.Run("ErrUnknownOrg", func(t *testing.T) {
		if status, _ := call(t, http.MethodPost, usage, mt, `{"org_id":"org_doesnotexist0000","metric":"x","value":1}`); status != http.StatusNotFound {
			t.Errorf("unknown org = %d, want 404", status)
		}
	})
	t.Run("SessionTokenRefusedHere", func(t *testing.T) {
		tok := sessionToken(t, ta.Server, "alice@acme.test", "")
		if status, body := call(t, http.MethodGet, usage+"?org_id="+acme, tok, ""); status != http.StatusUnauthorized || body != `{"error":"Unauthenticated"}` {
			t.Errorf("session token on /api/m2m = %d %s, want 401", status, body)
		}
	})
	t.Run("MachineTokenRefusedElsewhere", func(t *testing.T) {
		if status, _ := call(t, http.MethodGet, ta.URL+"/api/me", mt, ""); status != http.StatusUnauthorized {
			t.Errorf("machine token on /api/me = %d, want 401", status)
		}
	})
	t.Run("ErrNoOrForgedToken", func(t *testing.T) {
		for _, tok := range []string{"", "mt_" + strings.Repeat("0", 32), "garbage"} {
			if status, _ := call(t, http.MethodGet, usage+"?org_id="+acme, tok, ""); status != http.StatusUnauthorized {
				t.Errorf("token %q = %d, want 401", tok, status)
			}
		}
	})
}

// TestCSRFAppliesToCookieSessionsOnly: a browser session (cookies) needs the
// CSRF token on unsafe requests; a bearer-token client cannot be forged
// cross-site and needs none (C-01, C-02).
func TestCSRFAppliesToCookieSessionsOnly(t *testing.T) {
	t.Parallel()
	ta := start(t)
	tok := sessionToken(t, ta.Server, "alice@acme.test", "")
	post := func(h map[string]string, cookie bool) int {
		req, _ := http.NewRequest(http.MethodPost, ta.URL+"/", strings.NewReader("x=1"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range h {
			req.Header.Set(k, v)
		}
		if cookie {
			req.AddCookie(&http.Cookie{Name: "__session", Value: tok})
			req.AddCookie(&http.Cookie{Name: "__client_uat", Value: "1"})
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for name, h := range map[string]map[string]string{
		"NoToken":    nil,
		"CrossSite":  {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
		"SameSite":   {"Sec-Fetch-Site": "same-site"},
		"WrongToken": {"X-CSRF-Token": "forged"},
	} {
		if got := post(h, true); got != http.StatusForbidden && got != http.StatusBadRequest {
			t.Errorf("cookie session, %s: status %d, want 400/403 from CSRF", name, got)
		}
	}
	// The same request with a bearer token passes CSRF and reaches the
	// router, which has no POST / (405).
	if got := post(bearer(tok), false); got != http.StatusMethodNotAllowed {
		t.Errorf("bearer POST / = %d, want 405 (past CSRF)", got)
	}
}
