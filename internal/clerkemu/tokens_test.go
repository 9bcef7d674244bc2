package clerkemu

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/jwt"
	"github.com/clerk/clerk-sdk-go/v2/session"
	"github.com/clerk/clerk-sdk-go/v2/user"
)

// mint creates a Backend API session for email and a token for orgID ("" =
// the session's default organization).
func (h *harness) mint(t *testing.T, email, orgID string) (string, *clerk.Session) {
	t.Helper()
	ctx := context.Background()
	cfg := h.sdkConfig(h.e.SecretKey())
	list, err := user.NewClient(cfg).List(ctx, &user.ListParams{EmailAddresses: []string{email}})
	if err != nil || len(list.Users) != 1 {
		t.Fatalf("user %s: %v", email, err)
	}
	s, err := session.NewClient(cfg).Create(ctx, &session.CreateParams{UserID: list.Users[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{}
	if orgID != "" {
		body["organization_id"] = orgID
	}
	tok, err := h.rawToken(s.ID, body)
	if err != nil {
		t.Fatal(err)
	}
	return tok, s
}

// rawToken calls POST /sessions/{id}/tokens directly, because clerk-sdk-go
// v2.4.2 has no organization_id parameter.
func (h *harness) rawToken(sid string, body map[string]any) (string, error) {
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, h.e.BackendURL()+"/sessions/"+sid+"/tokens", bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+h.e.SecretKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out clerk.SessionToken
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %v", resp.StatusCode, err)
	}
	return out.JWT, nil
}

func decodePayload(t *testing.T, tok string) map[string]any {
	t.Helper()
	u, err := jwt.Decode(context.Background(), &jwt.DecodeParams{Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	u.Extra["iat"], u.Extra["exp"], u.Extra["nbf"], u.Extra["iss"], u.Extra["jti"] = *u.IssuedAt, *u.Expiry, *u.NotBefore, u.Issuer, u.ID
	return u.Extra
}

func TestSessionTokenClaims(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	acme, _ := getOrg(context.Background(), h.e.pool, "acme")
	globex, _ := getOrg(context.Background(), h.e.pool, "globex")

	// First, before any session of dave's has an active organisation: later
	// sessions start in the last active one.
	t.Run("DefaultOrgIsFirstMembership", func(t *testing.T) {
		tok, s := h.mint(t, "dave@example.test", "")
		claims, _ := h.verify(t, tok)
		if s.LastActiveOrganizationID != acme.ID || claims.ActiveOrganizationID != acme.ID {
			t.Fatalf("session org %s, token org %s", s.LastActiveOrganizationID, claims.ActiveOrganizationID)
		}
	})

	t.Run("V2LayoutAndTemplate", func(t *testing.T) {
		tok, s := h.mint(t, "dave@example.test", acme.ID)
		claims, err := h.verify(t, tok)
		if err != nil {
			t.Fatal(err)
		}
		c := claims.Custom.(*customClaims)
		if claims.ActiveOrganizationRole != "org:member" || claims.SessionID != s.ID || claims.AuthorizedParty != h.srv.URL ||
			c.Sts != "active" || c.Pla != "o:enterprise" || c.Fea != "o:export,o:audit" || c.OrgPlan != "enterprise" ||
			!slices.Equal(c.FeatureFlags, []string{"export", "audit"}) {
			t.Fatalf("claims = %+v custom = %+v", claims, c)
		}
		if !slices.Equal(claims.ActiveOrganizationPermissions, []string{"org:export:read", "org:audit:read"}) {
			t.Fatalf("permissions = %v", claims.ActiveOrganizationPermissions)
		}
		p := decodePayload(t, tok)
		if p["v"] != float64(2) || p["nbf"] != p["iat"].(int64)-10 || p["exp"] != p["iat"].(int64)+60 || p["iss"] != h.e.Issuer() ||
			len(p["jti"].(string)) != 20 {
			t.Fatalf("payload = %v", p)
		}
		if parts := strings.Split(tok, "."); !strings.Contains(string(mustB64(t, parts[0])), `"cat":"cl_B7d4PD111AAA"`) {
			t.Fatalf("header = %s", mustB64(t, parts[0]))
		}
	})

	t.Run("AdminPermissionsInOtherOrg", func(t *testing.T) {
		tok, _ := h.mint(t, "dave@example.test", globex.ID)
		claims, err := h.verify(t, tok)
		c := claims.Custom.(*customClaims)
		if err != nil || claims.ActiveOrganizationRole != "org:admin" || c.OrgPlan != "free" || c.Fea != "" || c.Pla != "o:free" {
			t.Fatalf("claims = %+v %+v, %v", claims, c, err)
		}
	})

	t.Run("PersonalAccount", func(t *testing.T) {
		_, s := h.mint(t, "alice@acme.test", "")
		tok, err := h.rawToken(s.ID, map[string]any{"organization_id": ""})
		if err != nil {
			t.Fatal(err)
		}
		p := decodePayload(t, tok)
		if _, ok := p["o"]; ok || p["org_plan"] != nil || p["pla"] != nil {
			t.Fatalf("personal token carries org claims: %v", p)
		}
	})

	t.Run("ErrNotAMember", func(t *testing.T) {
		_, s := h.mint(t, "alice@acme.test", "")
		if _, err := h.rawToken(s.ID, map[string]any{"organization_id": globex.ID}); err == nil {
			t.Fatal("minted a token for an organization the user is not in")
		}
	})

	t.Run("V1Layout", func(t *testing.T) {
		h1 := newHarnessOn(t, h.e.pool, func(c *Config) { c.TokenVersion = 1 })
		tok, _ := h1.mint(t, "alice@acme.test", acme.ID)
		claims, err := h1.verify(t, tok)
		p := decodePayload(t, tok)
		if err != nil || claims.ActiveOrganizationRole != "org:admin" || p["org_slug"] != "acme" || p["v"] != nil ||
			!slices.Equal(claims.ActiveOrganizationPermissions, []string{"org:export:manage", "org:export:read", "org:audit:manage", "org:audit:read"}) {
			t.Fatalf("v1 claims = %+v payload %v, %v", claims, p, err)
		}
	})
}

func TestTemplateShortcodes(t *testing.T) {
	t.Parallel()
	tmpl, err := parseTemplate(`{"meta":"{{user.public_metadata}}","onboarded":"{{user.public_metadata.onboarded}}",
		"greeting":"Hi {{user.first_name}} from {{org.name || 'nowhere'}}","name":"{{user.full_name || 'Awesome User'}}",
		"membership":"{{org_membership.public_metadata}}","missing":"{{org.public_metadata.plan}}","sub":"nope"}`)
	if err != nil {
		t.Fatal(err)
	}
	u := &userRow{ID: "user_1", Email: "a@b.test", FirstName: strp("Ann"), PublicMD: json.RawMessage(`{"onboarded":true}`)}
	got := renderTemplate(tmpl, (&Emulator{issuer: "http://localhost:8080/__clerk"}).templateVars(u, nil, nil))
	want := map[string]any{"meta": map[string]any{"onboarded": true}, "onboarded": true, "greeting": "Hi Ann from nowhere", "name": "Ann"}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Fatalf("got %s want %s", gj, wj)
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	for len(s)%4 != 0 {
		s += "="
	}
	b, err := base64.URLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// postJSON calls the Backend API with the secret key.
func (h *harness) postJSON(path string, body, out any) error {
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, h.e.BackendURL()+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+h.e.SecretKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: status %d", path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
