package clerkemu

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/jwks"
	"github.com/clerk/clerk-sdk-go/v2/jwt"
	"github.com/clerk/clerk-sdk-go/v2/m2m_token"
	"github.com/clerk/clerk-sdk-go/v2/machine"
	"github.com/clerk/clerk-sdk-go/v2/organization"
	"github.com/clerk/clerk-sdk-go/v2/organizationinvitation"
	"github.com/clerk/clerk-sdk-go/v2/organizationmembership"
	"github.com/clerk/clerk-sdk-go/v2/session"
	"github.com/clerk/clerk-sdk-go/v2/user"
)

// sdkConfig points clerk-sdk-go at the emulator exactly as the app does.
func (h *harness) sdkConfig(key string) *clerk.ClientConfig {
	return &clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
		URL: clerk.String(h.e.BackendURL()), Key: clerk.String(key), HTTPClient: &http.Client{Timeout: 10 * time.Second},
	}}
}

// customClaims reads the claims clerk-sdk-go does not expose.
type customClaims struct {
	Sts          string   `json:"sts"`
	Fea          string   `json:"fea"`
	Pla          string   `json:"pla"`
	OrgPlan      string   `json:"org_plan"`
	FeatureFlags []string `json:"feature_flags"`
}

// verify checks a token the way the app's middleware does: clerk-sdk-go
// jwt.Verify, key from the emulator's JWKS, ProxyURL = the exact issuer.
func (h *harness) verify(t *testing.T, token string) (*clerk.SessionClaims, error) {
	t.Helper()
	ctx := context.Background()
	set, err := jwks.NewClient(h.sdkConfig(h.e.SecretKey())).Get(ctx, &jwks.GetParams{})
	if err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks: %v %+v", err, set)
	}
	return jwt.Verify(ctx, &jwt.VerifyParams{
		Token: token, JWK: set.Keys[0], ProxyURL: clerk.String(h.e.Issuer()),
		CustomClaimsConstructor: func(context.Context) any { return &customClaims{} },
		AuthorizedPartyHandler:  func(azp string) bool { return azp == h.srv.URL },
	})
}

func TestSDKClients(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	cfg := h.sdkConfig(h.e.SecretKey())
	users, orgs := user.NewClient(cfg), organization.NewClient(cfg)
	members, invites := organizationmembership.NewClient(cfg), organizationinvitation.NewClient(cfg)
	sessions := session.NewClient(cfg)

	t.Run("UsersListAndCount", func(t *testing.T) {
		list, err := users.List(ctx, &user.ListParams{ListParams: clerk.ListParams{Limit: clerk.Int64(2)}})
		if err != nil || list.TotalCount != 4 || len(list.Users) != 2 {
			t.Fatalf("list = %+v, %v", list, err)
		}
		one, err := users.List(ctx, &user.ListParams{EmailAddresses: []string{"dave@example.test"}})
		if err != nil || len(one.Users) != 1 || one.TotalCount != 1 || *one.Users[0].FirstName != "Dave" {
			t.Fatalf("filter = %+v, %v", one, err)
		}
		n, err := users.Count(ctx, &user.ListParams{})
		if err != nil || n.TotalCount != 4 {
			t.Fatalf("count = %+v, %v", n, err)
		}
	})

	var created *clerk.User
	t.Run("UserCreateGetMetadata", func(t *testing.T) {
		var err error
		created, err = users.Create(ctx, &user.CreateParams{EmailAddresses: &[]string{"erin@example.test"},
			Password: clerk.String("correct horse"), FirstName: clerk.String("Erin")})
		if err != nil || created.ID == "" || created.EmailAddresses[0].EmailAddress != "erin@example.test" {
			t.Fatalf("create = %+v, %v", created, err)
		}
		got, err := users.Get(ctx, created.ID)
		if err != nil || got.ID != created.ID || *got.PrimaryEmailAddressID != created.EmailAddresses[0].ID {
			t.Fatalf("get = %+v, %v", got, err)
		}
		md := json.RawMessage(`{"onboarded":true,"nested":{"a":1}}`)
		if _, err := users.UpdateMetadata(ctx, created.ID, &user.UpdateMetadataParams{PublicMetadata: &md}); err != nil {
			t.Fatal(err)
		}
		patch := json.RawMessage(`{"nested":{"b":2},"onboarded":null}`)
		got, err = users.UpdateMetadata(ctx, created.ID, &user.UpdateMetadataParams{PublicMetadata: &patch})
		if err != nil || !jsonEqual(got.PublicMetadata, `{"nested":{"a":1,"b":2}}`) {
			t.Fatalf("merged metadata = %s, %v", got.PublicMetadata, err)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := users.Get(ctx, "user_missing")
		var apiErr *clerk.APIErrorResponse
		if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 404 || apiErr.Errors[0].Code != "resource_not_found" {
			t.Fatalf("err = %v", err)
		}
	})

	var org *clerk.Organization
	t.Run("Organizations", func(t *testing.T) {
		var err error
		org, err = orgs.Create(ctx, &organization.CreateParams{Name: clerk.String("Initech"), CreatedBy: clerk.String(created.ID)})
		if err != nil || org.Slug != "initech" || org.CreatedBy != created.ID {
			t.Fatalf("create = %+v, %v", org, err)
		}
		bySlug, err := orgs.Get(ctx, "acme")
		if err != nil || bySlug.Name != "Acme" || !jsonEqual(bySlug.PublicMetadata, `{"plan":"enterprise","features":["export","audit"]}`) {
			t.Fatalf("get by slug = %+v (%s), %v", bySlug, bySlug.PublicMetadata, err)
		}
		list, err := orgs.List(ctx, &organization.ListParams{UserIDs: []string{created.ID}})
		if err != nil || list.TotalCount != 1 || list.Organizations[0].ID != org.ID {
			t.Fatalf("list = %+v, %v", list, err)
		}
		updated, err := orgs.Update(ctx, org.ID, &organization.UpdateParams{Name: clerk.String("Initech Ltd")})
		if err != nil || updated.Name != "Initech Ltd" {
			t.Fatalf("update = %+v, %v", updated, err)
		}
		md := json.RawMessage(`{"plan":"free"}`)
		updated, err = orgs.UpdateMetadata(ctx, org.ID, &organization.UpdateMetadataParams{PublicMetadata: &md})
		if err != nil || !jsonEqual(updated.PublicMetadata, `{"plan":"free"}`) {
			t.Fatalf("metadata = %s, %v", updated.PublicMetadata, err)
		}
	})

	t.Run("Memberships", func(t *testing.T) {
		list, err := members.List(ctx, &organizationmembership.ListParams{OrganizationID: org.ID})
		if err != nil || list.TotalCount != 1 || list.OrganizationMemberships[0].Role != "org:admin" ||
			list.OrganizationMemberships[0].PublicUserData.UserID != created.ID {
			t.Fatalf("creator membership = %+v, %v", list, err)
		}
		bob, _ := users.List(ctx, &user.ListParams{EmailAddresses: []string{"bob@acme.test"}})
		m, err := members.Create(ctx, &organizationmembership.CreateParams{OrganizationID: org.ID, UserID: clerk.String(bob.Users[0].ID), Role: clerk.String("org:member")})
		if err != nil || m.Role != "org:member" || m.Organization.ID != org.ID {
			t.Fatalf("create = %+v, %v", m, err)
		}
		m, err = members.Update(ctx, &organizationmembership.UpdateParams{OrganizationID: org.ID, UserID: bob.Users[0].ID, Role: clerk.String("org:admin")})
		if err != nil || m.Role != "org:admin" || !slices.Contains(m.Permissions, "org:sys_memberships:manage") {
			t.Fatalf("update = %+v, %v", m, err)
		}
		mine, err := users.ListOrganizationMemberships(ctx, bob.Users[0].ID, &user.ListOrganizationMembershipsParams{})
		if err != nil || mine.TotalCount != 2 {
			t.Fatalf("bob's memberships = %+v, %v", mine, err)
		}
		if _, err := members.Delete(ctx, &organizationmembership.DeleteParams{OrganizationID: org.ID, UserID: bob.Users[0].ID}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Invitations", func(t *testing.T) {
		inv, err := invites.Create(ctx, &organizationinvitation.CreateParams{OrganizationID: org.ID,
			EmailAddress: clerk.String("frank@example.test"), Role: clerk.String("org:member")})
		if err != nil || inv.Status != "pending" || inv.URL == "" {
			t.Fatalf("create = %+v, %v", inv, err)
		}
		list, err := invites.List(ctx, &organizationinvitation.ListParams{OrganizationID: org.ID})
		if err != nil || list.TotalCount != 1 {
			t.Fatalf("list = %+v, %v", list, err)
		}
		revoked, err := invites.Revoke(ctx, &organizationinvitation.RevokeParams{OrganizationID: org.ID, ID: inv.ID})
		if err != nil || revoked.Status != "revoked" {
			t.Fatalf("revoke = %+v, %v", revoked, err)
		}
	})

	t.Run("SessionsAndTokens", func(t *testing.T) {
		dave, _ := users.List(ctx, &user.ListParams{EmailAddresses: []string{"dave@example.test"}})
		s, err := sessions.Create(ctx, &session.CreateParams{UserID: dave.Users[0].ID})
		if err != nil || s.Status != "active" || s.LastActiveOrganizationID == "" {
			t.Fatalf("session = %+v, %v", s, err)
		}
		tok, err := sessions.CreateToken(ctx, &session.CreateTokenParams{ID: s.ID, ExpiresInSeconds: clerk.Int64(120)})
		if err != nil || tok.Object != "token" {
			t.Fatalf("token = %+v, %v", tok, err)
		}
		claims, err := h.verify(t, tok.JWT)
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		if claims.Subject != dave.Users[0].ID || claims.SessionID != s.ID || claims.ActiveOrganizationID != s.LastActiveOrganizationID ||
			*claims.Expiry-*claims.IssuedAt != 120 {
			t.Fatalf("claims = %+v", claims)
		}
		revoked, err := sessions.Revoke(ctx, &session.RevokeParams{ID: s.ID})
		if err != nil || revoked.Status != "revoked" {
			t.Fatalf("revoke = %+v, %v", revoked, err)
		}
		if _, err := sessions.CreateToken(ctx, &session.CreateTokenParams{ID: s.ID}); err == nil {
			t.Fatal("a revoked session must not get tokens")
		}
	})

	t.Run("MachinesAndM2M", func(t *testing.T) {
		machines := machine.NewClient(cfg)
		api, err := machines.Create(ctx, &machine.CreateParams{Name: "api"})
		if err != nil {
			t.Fatal(err)
		}
		worker, err := machines.Create(ctx, &machine.CreateParams{Name: "worker", ScopedMachines: []string{api.ID}})
		if err != nil || len(worker.ScopedMachines) != 1 || worker.SecretKey[:3] != "ak_" {
			t.Fatalf("machine = %+v, %v", worker, err)
		}
		claims := json.RawMessage(`{"job":"nightly"}`)
		tok, err := m2m_token.NewClient(h.sdkConfig(worker.SecretKey)).Create(ctx, &m2m_token.CreateParams{Claims: &claims})
		if err != nil || tok.Token[:3] != "mt_" || tok.Subject != worker.ID {
			t.Fatalf("m2m token = %+v, %v", tok, err)
		}
		if _, err := m2m_token.NewClient(cfg).Create(ctx, &m2m_token.CreateParams{}); err == nil {
			t.Fatal("the instance secret key must not create M2M tokens")
		}
		m2m := m2m_token.NewClient(cfg)
		v, err := m2m.Verify(ctx, &m2m_token.VerifyParams{Token: tok.Token})
		if err != nil || v.Subject != worker.ID || !jsonEqual(v.Claims, `{"job":"nightly"}`) {
			t.Fatalf("verify = %+v (%s), %v", v, v.Claims, err)
		}
		if _, err := m2m_token.NewClient(h.sdkConfig(api.SecretKey)).Verify(ctx, &m2m_token.VerifyParams{Token: tok.Token}); err != nil {
			t.Fatalf("the scoped machine must verify: %v", err)
		}
		if _, err := m2m.Revoke(ctx, tok.ID, &m2m_token.RevokeParams{RevocationReason: clerk.String("rotated")}); err != nil {
			t.Fatal(err)
		}
		if _, err := m2m.Verify(ctx, &m2m_token.VerifyParams{Token: tok.Token}); err == nil {
			t.Fatal("a revoked token must not verify")
		}
	})

	t.Run("Deletes", func(t *testing.T) {
		del, err := orgs.Delete(ctx, org.ID)
		if err != nil || !del.Deleted || del.ID != org.ID {
			t.Fatalf("delete org = %+v, %v", del, err)
		}
		delU, err := users.Delete(ctx, created.ID)
		if err != nil || !delU.Deleted {
			t.Fatalf("delete user = %+v, %v", delU, err)
		}
		if _, err := users.Get(ctx, created.ID); err == nil {
			t.Fatal("deleted user still found")
		}
	})

	t.Run("ErrBadSecretKey", func(t *testing.T) {
		_, err := jwks.NewClient(h.sdkConfig("sk_test_wrong")).Get(ctx, &jwks.GetParams{})
		var apiErr *clerk.APIErrorResponse
		if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 401 || apiErr.Errors[0].Code != "authentication_invalid" {
			t.Fatalf("err = %v", err)
		}
	})
}

// jsonEqual compares JSON by value, since PostgreSQL's jsonb does not keep
// the original formatting.
func jsonEqual(got json.RawMessage, want string) bool {
	var a, b any
	if json.Unmarshal(got, &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
