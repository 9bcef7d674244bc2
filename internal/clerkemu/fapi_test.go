package clerkemu

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The Frontend API as ClerkJS 6 drives it: forms, PATCH and DELETE
// tunnelled as POST ?_method=…, and Clerk's {response, client} envelope.
// The browser journeys in internal/app run the real bundles against it;
// these tests pin each endpoint's shape and refusals.

// fapiClient is the part of Clerk's client JSON these tests read.
type fapiClient struct {
	Object   string `json:"object"`
	ID       string `json:"id"`
	Sessions []struct {
		ID                       string  `json:"id"`
		Status                   string  `json:"status"`
		LastActiveOrganizationID *string `json:"last_active_organization_id"`
		LastActiveToken          struct {
			JWT string `json:"jwt"`
		} `json:"last_active_token"`
		User struct {
			ID                    string `json:"id"`
			PrimaryEmailAddressID string `json:"primary_email_address_id"`
			EmailAddresses        []struct {
				ID           string `json:"id"`
				EmailAddress string `json:"email_address"`
				Verification struct {
					Status string `json:"status"`
				} `json:"verification"`
			} `json:"email_addresses"`
			OrganizationMemberships   []fapiMembership `json:"organization_memberships"`
			CreateOrganizationEnabled bool             `json:"create_organization_enabled"`
			PrivateMetadata           json.RawMessage  `json:"private_metadata"`
		} `json:"user"`
	} `json:"sessions"`
	SignIn *struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"sign_in"`
	SignUp *struct {
		ID string `json:"id"`
	} `json:"sign_up"`
	LastActiveSessionID *string `json:"last_active_session_id"`
	UpdatedAt           int64   `json:"updated_at"`
}

// fapiMembership is the part of a membership these tests read.
type fapiMembership struct {
	Role         string   `json:"role"`
	RoleName     string   `json:"role_name"`
	Permissions  []string `json:"permissions"`
	Organization struct {
		ID   string `json:"id"`
		Slug string `json:"slug"`
	} `json:"organization"`
}

// fapiAnswer is a decoded Frontend API answer.
type fapiAnswer struct {
	status   int
	header   http.Header
	response json.RawMessage
	client   *fapiClient
	errCode  string
	raw      []byte
}

// send sends a form as ClerkJS does: from the app's origin, GET or POST,
// other methods tunnelled in _method.
func (b *browser) send(method, path string, form url.Values) fapiAnswer {
	b.t.Helper()
	target := b.h.e.Issuer() + path
	httpMethod := method
	if method != http.MethodGet && method != http.MethodPost {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		target += sep + "_method=" + method
		httpMethod = http.MethodPost
	}
	req, _ := http.NewRequest(httpMethod, target, strings.NewReader(form.Encode()))
	if httpMethod == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.h.srv.URL)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Response json.RawMessage `json:"response"`
		Client   *fapiClient     `json:"client"`
		Errors   []struct {
			Code string `json:"code"`
		} `json:"errors"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if !json.Valid(raw) {
		b.t.Fatalf("%s %s: %d, not JSON: %s", method, path, resp.StatusCode, raw)
	}
	if bytes.HasPrefix(raw, []byte("{")) {
		_ = json.Unmarshal(raw, &body)
	}
	a := fapiAnswer{status: resp.StatusCode, header: resp.Header, response: body.Response, client: body.Client, raw: raw}
	if len(body.Errors) > 0 {
		a.errCode = body.Errors[0].Code
	}
	return a
}

// ok fails the test unless the answer is a 200.
func (a fapiAnswer) ok(t *testing.T, what string) fapiAnswer {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("%s: %d %s", what, a.status, a.errCode)
	}
	return a
}

// refused fails the test unless the answer is status with Clerk's code.
func (a fapiAnswer) refused(t *testing.T, what string, status int, code string) {
	t.Helper()
	if a.status != status || a.errCode != code {
		t.Errorf("%s: %d %q, want %d %q", what, a.status, a.errCode, status, code)
	}
}

// decode decodes the envelope's response, or the bare body of an answer
// without one (a token).
func (a fapiAnswer) decode(t *testing.T, v any) {
	t.Helper()
	src := a.response
	if len(src) == 0 {
		src = a.raw
	}
	if err := json.Unmarshal(src, v); err != nil {
		t.Fatalf("response %s: %v", a.response, err)
	}
}

// clientUAT is the __client_uat the answer sets, or -1.
func (a fapiAnswer) clientUAT(t *testing.T, suffix string) int64 {
	t.Helper()
	uat, plain := int64(-1), int64(-1)
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		n, _ := strconv.ParseInt(c.Value, 10, 64)
		switch c.Name {
		case "__client_uat_" + suffix:
			uat = n
		case "__client_uat":
			plain = n
		}
	}
	if uat != plain {
		t.Fatalf("__client_uat %d and __client_uat_%s %d differ", plain, suffix, uat)
	}
	return uat
}

func TestFrontendSignIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser(t)

	b.send("POST", "/v1/client/sign_ins", url.Values{"identifier": {"nobody@acme.test"}}).
		refused(t, "unknown identifier", 422, "form_identifier_not_found")
	b.send("POST", "/v1/client/sign_ins", url.Values{"identifier": {"alice@acme.test"}, "strategy": {"email_code"}}).
		refused(t, "email codes", 422, "unsupported_by_emulator")
	b.send("POST", "/v1/client/sign_ins", url.Values{"identifier": {"alice@acme.test"}, "favourite_colour": {"blue"}}).
		refused(t, "an unknown field", 422, "form_param_unknown")

	a := b.send("POST", "/v1/client/sign_ins", url.Values{"identifier": {"Alice@Acme.test"}, "locale": {"en-GB"}, "timezone": {"Europe/London"}}).ok(t, "identifier")
	var si signInJSON
	a.decode(t, &si)
	if si.Status != "needs_first_factor" || len(si.SupportedFirstFactors) != 1 || si.SupportedFirstFactors[0].Strategy != "password" ||
		a.client == nil || a.client.SignIn == nil || a.client.SignIn.ID != si.ID || len(a.client.Sessions) != 0 || a.clientUAT(t, h.e.CookieSuffix()) != 0 {
		t.Fatalf("sign-in after the identifier: %s, client %+v", a.response, a.client)
	}
	attempt := "/v1/client/sign_ins/" + si.ID + "/attempt_first_factor"
	b.send("POST", attempt, url.Values{"strategy": {"password"}, "password": {"wrong-password"}}).
		refused(t, "a wrong password", 422, "form_password_incorrect")
	h.browser(t).send("GET", "/v1/client/sign_ins/"+si.ID, nil).refused(t, "another browser's sign-in", 404, "resource_not_found")
	b.send("GET", "/v1/client/sign_ins/"+si.ID, nil).ok(t, "the sign-in").decode(t, &si)
	if si.Status != "needs_first_factor" {
		t.Fatalf("a wrong password changed the sign-in to %q", si.Status)
	}

	a = b.send("POST", attempt, url.Values{"strategy": {"password"}, "password": {DevPassword}}).ok(t, "the password")
	a.decode(t, &si)
	c := a.client
	if si.Status != "complete" || si.CreatedSessionID == nil || c.SignIn != nil || len(c.Sessions) != 1 ||
		c.Sessions[0].ID != *si.CreatedSessionID || c.LastActiveSessionID == nil || *c.LastActiveSessionID != c.Sessions[0].ID {
		t.Fatalf("complete sign-in: %s, client %+v", a.response, c)
	}
	if uat := a.clientUAT(t, h.e.CookieSuffix()); uat != c.UpdatedAt/1000 || uat <= 0 {
		t.Fatalf("__client_uat = %d, want the client's updated_at in seconds (%d)", uat, c.UpdatedAt/1000)
	}
	u := c.Sessions[0].User
	if len(u.EmailAddresses) != 1 || u.EmailAddresses[0].EmailAddress != "alice@acme.test" || u.EmailAddresses[0].ID != u.PrimaryEmailAddressID ||
		u.EmailAddresses[0].Verification.Status != "verified" || !u.CreateOrganizationEnabled || u.PrivateMetadata != nil {
		t.Fatalf("Clerk.user: %+v", u)
	}
	if len(u.OrganizationMemberships) != 1 || u.OrganizationMemberships[0].Organization.Slug != "acme" ||
		u.OrganizationMemberships[0].RoleName != "Admin" || !slices.Contains(u.OrganizationMemberships[0].Permissions, "org:sys_memberships:manage") ||
		c.Sessions[0].LastActiveOrganizationID == nil || *c.Sessions[0].LastActiveOrganizationID != u.OrganizationMemberships[0].Organization.ID {
		t.Fatalf("memberships: %+v", u.OrganizationMemberships)
	}
	claims, err := h.verify(t, c.Sessions[0].LastActiveToken.JWT)
	if err != nil || claims.SessionID != c.Sessions[0].ID || claims.ActiveOrganizationSlug != "acme" {
		t.Fatalf("last_active_token: %+v, %v", claims, err)
	}

	t.Run("PasswordAndIdentifierAtOnce", func(t *testing.T) {
		a := h.browser(t).send("POST", "/v1/client/sign_ins", url.Values{"identifier": {"bob@acme.test"}, "password": {DevPassword}, "strategy": {"password"}}).ok(t, "sign in")
		a.decode(t, &si)
		if si.Status != "complete" || len(a.client.Sessions) != 1 {
			t.Fatalf("sign-in with both: %s", a.response)
		}
	})
}

func TestFrontendSignUp(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser(t)
	h.drain(t)
	seeded := len(h.rec.snapshot())

	b.send("POST", "/v1/client/sign_ups", url.Values{"email_address": {"bob@acme.test"}, "password": {"long-enough"}}).
		refused(t, "a taken address", 422, "form_identifier_exists")
	b.send("POST", "/v1/client/sign_ups", url.Values{"email_address": {"not an address"}}).
		refused(t, "a malformed address", 422, "form_param_format_invalid")
	b.send("POST", "/v1/client/sign_ups", url.Values{"email_address": {"x@new.test"}, "strategy": {"oauth_google"}}).
		refused(t, "OAuth", 422, "unsupported_by_emulator")

	a := b.send("POST", "/v1/client/sign_ups", url.Values{"email_address": {"Zoe@New.test"}, "first_name": {"Zoe"}}).ok(t, "sign up")
	var su signUpJSON
	a.decode(t, &su)
	if su.Status != "missing_requirements" || !slices.Equal(su.MissingFields, []string{"password"}) || a.client.SignUp == nil ||
		a.client.SignUp.ID != su.ID || len(a.client.Sessions) != 0 {
		t.Fatalf("sign-up without a password: %s", a.response)
	}
	b.send("PATCH", "/v1/client/sign_ups/"+su.ID, url.Values{"password": {"short"}}).
		refused(t, "a short password", 422, "form_password_length_too_short")
	h.browser(t).send("PATCH", "/v1/client/sign_ups/"+su.ID, url.Values{"password": {"long-enough"}}).
		refused(t, "another browser's sign-up", 404, "resource_not_found")

	a = b.send("PATCH", "/v1/client/sign_ups/"+su.ID, url.Values{"password": {"long-enough"}, "last_name": {"Zed"}}).ok(t, "the password")
	a.decode(t, &su)
	if su.Status != "complete" || su.CreatedUserID == nil || su.CreatedSessionID == nil || len(a.client.Sessions) != 1 ||
		a.client.SignUp != nil || a.client.Sessions[0].User.EmailAddresses[0].EmailAddress != "zoe@new.test" {
		t.Fatalf("complete sign-up: %s, client %+v", a.response, a.client)
	}
	code, _, user := h.call(t, "GET", "/v1/users/"+*su.CreatedUserID, nil, true)
	if code != 200 || user["first_name"] != "Zoe" || user["last_name"] != "Zed" || user["password_enabled"] != true {
		t.Fatalf("the new user: %d %v", code, user)
	}
	// The new password signs in.
	a = h.browser(t).send("POST", "/v1/client/sign_ins", url.Values{"identifier": {"zoe@new.test"}, "password": {"long-enough"}}).ok(t, "sign in")
	h.drain(t)
	var types []string
	for _, ev := range h.rec.snapshot()[seeded:] {
		types = append(types, ev.Type)
	}
	if want := []string{"user.created", "session.created", "session.created"}; !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
}

func TestFrontendSessionsAndSignOut(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	acme, _ := getOrg(ctx, h.e.pool, "acme")
	globex, _ := getOrg(ctx, h.e.pool, "globex")

	b := h.browser(t)
	sid := b.signIn("dave@example.test")
	suffix := h.e.CookieSuffix()

	var s sessionFAPIJSON
	a := b.send("POST", "/v1/client/sessions/"+sid+"/touch", url.Values{"active_organization_id": {globex.ID}, "intent": {"select_org"}}).ok(t, "switch")
	a.decode(t, &s)
	if s.LastActiveOrganizationID == nil || *s.LastActiveOrganizationID != globex.ID || s.LastActiveToken == nil {
		t.Fatalf("session after the switch: %s", a.response)
	}
	if claims, err := h.verify(t, s.LastActiveToken.JWT); err != nil || claims.ActiveOrganizationID != globex.ID ||
		*claims.IssuedAt < a.clientUAT(t, suffix) {
		t.Fatalf("token after the switch: %+v %v (it must not be older than __client_uat)", claims, err)
	}
	b.send("POST", "/v1/client/sessions/"+sid+"/touch", url.Values{"active_organization_id": {"org_nope"}}).
		refused(t, "an organisation of someone else", 403, "not_a_member_in_organization")

	var tok tokenJSON
	b.send("POST", "/v1/client/sessions/"+sid+"/tokens", url.Values{"organization_id": {acme.ID}, "tab_state": {"1"}}).decode(t, &tok)
	if claims, err := h.verify(t, tok.JWT); err != nil || claims.ActiveOrganizationID != acme.ID {
		t.Fatalf("token for Acme: %+v %v", claims, err)
	}
	b.send("POST", "/v1/client/sessions/"+sid+"/tokens", url.Values{"organization_id": {""}}).decode(t, &tok)
	if claims, err := h.verify(t, tok.JWT); err != nil || claims.ActiveOrganizationID != "" {
		t.Fatalf("personal token: %+v %v", claims, err)
	}
	b.send("POST", "/v1/client/sessions/"+sid+"/tokens/supabase", nil).refused(t, "JWT templates", 422, "unsupported_by_emulator")

	// <UserProfile/>'s devices: this browser's session and another's,
	// which it can sign out.
	elsewhere := h.browser(t).signIn("dave@example.test")
	var active []sessionWithActivitiesJSON
	b.send("GET", "/v1/me/sessions/active", nil).ok(t, "active sessions").decode(t, &active)
	if len(active) != 2 || active[0].ID != elsewhere || active[1].ID != sid || active[0].LatestActivity.Object != "session_activity" {
		t.Fatalf("active sessions: %+v", active)
	}
	b.send("POST", "/v1/me/sessions/"+elsewhere+"/revoke", nil).ok(t, "revoke the other device")
	if code, _, sess := h.call(t, "GET", "/v1/sessions/"+elsewhere, nil, true); code != 200 || sess["status"] != "revoked" {
		t.Fatalf("the other device's session: %d %v", code, sess)
	}
	h.browser(t).send("POST", "/v1/me/sessions/"+sid+"/revoke", nil).refused(t, "a signed-out browser revoking", 401, "signed_out")

	// Clerk.signOut(): DELETE /v1/client/sessions.
	a = b.send("DELETE", "/v1/client/sessions", nil).ok(t, "sign out")
	if len(a.client.Sessions) != 0 || a.client.LastActiveSessionID != nil || a.clientUAT(t, suffix) != 0 {
		t.Fatalf("client after sign-out: %+v", a.client)
	}
	if code, _, sess := h.call(t, "GET", "/v1/sessions/"+sid, nil, true); code != 200 || sess["status"] != "removed" {
		t.Fatalf("session after sign-out: %d %v", code, sess)
	}
	b.send("POST", "/v1/client/sessions/"+sid+"/tokens", nil).refused(t, "a token after sign-out", 401, "signed_out")
	h.browser(t).send("POST", "/v1/client/sessions/"+sid+"/tokens", nil).refused(t, "another browser's session", 401, "signed_out")
	b.send("GET", "/v1/me", nil).refused(t, "/v1/me after sign-out", 401, "signed_out")

	// Signing out of one session: …/end.
	sid = b.signIn("dave@example.test")
	b.send("POST", "/v1/client/sessions/"+sid+"/end", nil).ok(t, "end")
	if code, _, sess := h.call(t, "GET", "/v1/sessions/"+sid, nil, true); code != 200 || sess["status"] != "ended" {
		t.Fatalf("session after end: %d %v", code, sess)
	}
	a = b.send("GET", "/v1/client", nil).ok(t, "client")
	if len(a.client.Sessions) != 0 {
		t.Fatalf("client after end: %+v", a.client)
	}
}

func TestFrontendOrganizations(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	acme, _ := getOrg(ctx, h.e.pool, "acme")
	bob, _ := getUserByEmail(ctx, h.e.pool, "bob@acme.test")
	alice, _ := getUserByEmail(ctx, h.e.pool, "alice@acme.test")

	admin := h.browser(t)
	admin.signIn("alice@acme.test")
	member := h.browser(t)
	member.signIn("bob@acme.test")
	orgPath := "/v1/organizations/" + acme.ID

	type page[T any] struct {
		Data       []T `json:"data"`
		TotalCount int `json:"total_count"`
	}
	var mems page[membershipFAPIJSON]
	member.send("GET", orgPath+"/memberships?paginated=true&limit=10&offset=0", nil).ok(t, "members").decode(t, &mems)
	if mems.TotalCount != 3 || len(mems.Data) != 3 || mems.Data[0].PublicUserData == nil || mems.Data[0].PublicUserData.Identifier == "" {
		t.Fatalf("members: %+v", mems)
	}
	member.send("PATCH", orgPath, url.Values{"name": {"Bob's"}}).refused(t, "a member renaming", 403, "authorization_invalid")
	member.send("POST", orgPath+"/invitations", url.Values{"email_address": {"x@new.test"}, "role": {"org:member"}}).
		refused(t, "a member inviting", 403, "authorization_invalid")
	member.send("GET", orgPath+"/invitations?status=pending", nil).refused(t, "a member listing invitations", 403, "authorization_invalid")
	h.browser(t).send("GET", orgPath, nil).refused(t, "a signed-out browser", 401, "signed_out")

	var org orgFAPIJSON
	admin.send("PATCH", orgPath, url.Values{"name": {"Acme Corp"}, "slug": {"acme-corp"}}).ok(t, "rename").decode(t, &org)
	if org.Name != "Acme Corp" || org.Slug != "acme-corp" {
		t.Fatalf("renamed: %+v", org)
	}
	admin.send("PATCH", orgPath, url.Values{"slug": {"Not A Slug"}}).refused(t, "a bad slug", 422, "form_param_format_invalid")

	var inv orgInvitationFAPIJSON
	admin.send("POST", orgPath+"/invitations", url.Values{"email_address": {"ivan@new.test"}, "role": {"org:member"}}).ok(t, "invite").decode(t, &inv)
	if inv.EmailAddress != "ivan@new.test" || inv.Status != "pending" || inv.OrganizationID != acme.ID {
		t.Fatalf("invitation: %+v", inv)
	}
	var bulk []orgInvitationFAPIJSON
	admin.send("POST", orgPath+"/invitations/bulk", url.Values{"email_address": {"a@new.test", "b@new.test"}, "role": {"org:admin"}}).ok(t, "invite two").decode(t, &bulk)
	if len(bulk) != 2 || bulk[1].EmailAddress != "b@new.test" || bulk[1].Role != "org:admin" {
		t.Fatalf("bulk: %+v", bulk)
	}
	admin.send("POST", orgPath+"/invitations/"+inv.ID+"/revoke", nil).ok(t, "revoke").decode(t, &inv)
	var invs page[orgInvitationFAPIJSON]
	admin.send("GET", orgPath+"/invitations?status=pending&limit=10&offset=0", nil).ok(t, "pending").decode(t, &invs)
	if inv.Status != "revoked" || invs.TotalCount != 2 {
		t.Fatalf("after revoking: %+v, pending %+v", inv, invs)
	}

	var roles page[roleJSON]
	member.send("GET", orgPath+"/roles?limit=20&offset=0", nil).ok(t, "roles").decode(t, &roles)
	if roles.TotalCount != 2 || roles.Data[0].Key != "org:admin" || roles.Data[1].Key != "org:member" {
		t.Fatalf("roles: %+v", roles)
	}

	// The last admin stays: neither demoted nor gone.
	admin.send("PATCH", orgPath+"/memberships/"+alice.ID, url.Values{"role": {"org:member"}}).
		refused(t, "demoting the last admin", 422, "organization_minimum_permissions_needed")
	admin.send("DELETE", "/v1/me/organization_memberships/"+acme.ID, nil).
		refused(t, "the last admin leaving", 422, "organization_minimum_permissions_needed")
	var m membershipFAPIJSON
	admin.send("PATCH", orgPath+"/memberships/"+bob.ID, url.Values{"role": {"org:admin"}}).ok(t, "promote Bob").decode(t, &m)
	if m.Role != "org:admin" || m.PublicUserData.UserID != bob.ID {
		t.Fatalf("Bob: %+v", m)
	}
	admin.send("PATCH", orgPath+"/memberships/"+bob.ID, url.Values{"role": {"org:owner"}}).refused(t, "a custom role", 422, "form_param_value_invalid")
	a := member.send("DELETE", "/v1/me/organization_memberships/"+acme.ID, nil).ok(t, "Bob leaves")
	if len(a.client.Sessions) != 1 || len(a.client.Sessions[0].User.OrganizationMemberships) != 0 || a.client.Sessions[0].LastActiveOrganizationID != nil {
		t.Fatalf("Bob after leaving: %+v", a.client.Sessions)
	}

	t.Run("CreateAndAcceptInvitation", func(t *testing.T) {
		carol := h.browser(t)
		carol.signIn("carol@globex.test")
		a := carol.send("POST", "/v1/organizations", url.Values{"name": {"Carol's Lab"}}).ok(t, "create")
		var lab orgFAPIJSON
		a.decode(t, &lab)
		if lab.Slug != "carol-s-lab" || lab.MembersCount != 1 || !slices.ContainsFunc(a.client.Sessions[0].User.OrganizationMemberships,
			func(m fapiMembership) bool { return m.Organization.ID == lab.ID && m.Role == "org:admin" }) {
			t.Fatalf("created: %+v, client %+v", lab, a.client)
		}
		carol.send("POST", "/v1/organizations/"+lab.ID+"/invitations", url.Values{"email_address": {"dave@example.test"}, "role": {"org:member"}}).ok(t, "invite Dave")
		dave := h.browser(t)
		dave.signIn("dave@example.test")
		var mine page[userInvitationJSON]
		dave.send("GET", "/v1/me/organization_invitations?status=pending&limit=10&offset=0", nil).ok(t, "Dave's invitations").decode(t, &mine)
		if mine.TotalCount != 1 || mine.Data[0].PublicOrganizationData.Name != "Carol's Lab" {
			t.Fatalf("Dave's invitations: %+v", mine)
		}
		dave.send("POST", "/v1/me/organization_invitations/"+mine.Data[0].ID+"/accept", nil).ok(t, "accept")
		var dm page[membershipFAPIJSON]
		dave.send("GET", "/v1/me/organization_memberships?paginated=true&limit=2&offset=2", nil).ok(t, "Dave's memberships").decode(t, &dm)
		if dm.TotalCount != 3 || len(dm.Data) != 1 || dm.Data[0].Organization.ID != lab.ID {
			t.Fatalf("Dave's memberships, third: %+v", dm)
		}
		var none page[json.RawMessage]
		dave.send("GET", "/v1/me/organization_suggestions?status=pending&limit=10&offset=0", nil).ok(t, "suggestions").decode(t, &none)
		if none.TotalCount != 0 {
			t.Fatalf("suggestions: %+v", none)
		}
	})
}

// upload sends a logo as ClerkJS's organization.setLogo does: a multipart
// form with the file.
func (b *browser) upload(path, filename string, content []byte) fapiAnswer {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", filename)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.h.e.Issuer()+path+"?_method=PUT", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", b.h.srv.URL)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body struct {
		Response json.RawMessage `json:"response"`
		Errors   []struct {
			Code string `json:"code"`
		} `json:"errors"`
	}
	_ = json.Unmarshal(raw, &body)
	a := fapiAnswer{status: resp.StatusCode, header: resp.Header, response: body.Response, raw: raw}
	if len(body.Errors) > 0 {
		a.errCode = body.Errors[0].Code
	}
	return a
}

// onePixelPNG is a valid 1×1 PNG.
var onePixelPNG, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")

// TestFrontendOrganizationLogo: an admin uploads a logo through the
// Frontend API (as <OrganizationProfile/> does); the organization then has
// an image, served from the emulator, and the change reaches the app as
// organization.updated. Formats other than Clerk's are refused, SVG
// included.
func TestFrontendOrganizationLogo(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	acme, _ := getOrg(ctx, h.e.pool, "acme")
	logo := "/v1/organizations/" + acme.ID + "/logo"
	admin := h.browser(t)
	admin.signIn("alice@acme.test")
	member := h.browser(t)
	member.signIn("bob@acme.test")

	member.upload(logo, "logo.png", onePixelPNG).refused(t, "a member uploading", 403, "authorization_invalid")
	admin.upload(logo, "logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)).
		refused(t, "an SVG", 422, "form_param_format_invalid")
	admin.upload(logo, "logo.png", []byte("not an image")).refused(t, "text", 422, "form_param_format_invalid")

	h.drain(t)
	seen := len(h.rec.snapshot())
	var org orgFAPIJSON
	admin.upload(logo, "logo.png", onePixelPNG).ok(t, "upload").decode(t, &org)
	if !org.HasImage || !strings.HasPrefix(org.ImageURL, h.e.Issuer()+"/img/img_") {
		t.Fatalf("after the upload: %+v", org)
	}
	resp, err := http.Get(org.ImageURL)
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !bytes.Equal(served, onePixelPNG) ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("the logo is served as %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Security-Policy"))
	}
	h.drain(t)
	events := h.rec.snapshot()[seen:]
	if len(events) != 1 || events[0].Type != "organization.updated" || events[0].Data["image_url"] != org.ImageURL || events[0].Data["has_image"] != true {
		t.Fatalf("events after the upload: %+v", events)
	}

	old := org.ImageURL
	admin.send("DELETE", logo, nil).ok(t, "remove").decode(t, &org)
	if org.HasImage || org.ImageURL != h.e.imageURL(acme.ID) {
		t.Fatalf("after removing: %+v", org)
	}
	if resp, err := http.Get(old); err != nil || resp.StatusCode != 404 {
		t.Fatalf("the removed logo is still served: %v %v", resp, err)
	}
}
