package app_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// bapi calls the emulator's Backend API with its secret key, the way a
// script or clerk-sdk-go would.
func bapi(t testing.TB, srv *httptest.Server, method, path string, body any, out any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, srv.URL+"/__clerk/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer sk_test_emulator")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s = %d", method, path, res.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

// userID looks a seeded user up by email.
func userID(t testing.TB, srv *httptest.Server, email string) string {
	t.Helper()
	var users []struct {
		ID string `json:"id"`
	}
	bapi(t, srv, http.MethodGet, "/users?email_address="+url.QueryEscape(email), nil, &users)
	if len(users) != 1 {
		t.Fatalf("user %s: found %d", email, len(users))
	}
	return users[0].ID
}

// sessionToken signs a seeded user in with Clerk's testing flow (create a
// session, mint its token) and returns the session JWT. orgID, when set,
// mints the token for that organisation instead of the last active one.
func sessionToken(t testing.TB, srv *httptest.Server, email, orgID string) string {
	t.Helper()
	var sess struct {
		ID string `json:"id"`
	}
	bapi(t, srv, http.MethodPost, "/sessions", map[string]string{"user_id": userID(t, srv, email)}, &sess)
	body := map[string]any{}
	if orgID != "" {
		body["organization_id"] = orgID
	}
	var tok struct {
		JWT string `json:"jwt"`
	}
	bapi(t, srv, http.MethodPost, "/sessions/"+sess.ID+"/tokens", body, &tok)
	if tok.JWT == "" {
		t.Fatal("no jwt minted")
	}
	return tok.JWT
}

// bearer is a request header set carrying a session token.
func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}
