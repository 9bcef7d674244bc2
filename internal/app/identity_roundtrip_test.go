package app_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/identityfile"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/internal/testdb"
)

// instance is an app over a database the test owns, started and stopped
// by the test, so that a second one (a new identity provider) can follow it
// on the same database.
type instance struct {
	*testApp
	runOnce, stopOnce sync.Once
	cancel            context.CancelFunc
	done              chan struct{}
}

// newInstance wires and serves the app over pool without delivering the
// emulator's webhooks yet (deliver starts that).
func newInstance(t *testing.T, pool *pgxpool.Pool, opt app.Options) *instance {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	a, err := app.New(context.Background(), testConfig(t, "http://"+srv.Listener.Addr().String()), pool,
		slog.New(slog.NewTextHandler(io.Discard, nil)), testOptions(opt))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a.Handler
	srv.Start()
	in := &instance{testApp: &testApp{Server: srv, App: a}, cancel: func() {}, done: make(chan struct{})}
	close(in.done)
	t.Cleanup(in.stop)
	return in
}

func (in *instance) deliver() {
	in.runOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		in.cancel, in.done = cancel, make(chan struct{})
		go func() { defer close(in.done); _ = in.App.Run(ctx) }()
	})
}

func (in *instance) stop() {
	in.stopOnce.Do(func() { in.cancel(); <-in.done; in.Server.Close() })
}

// webhookGate stands where a provider's webhook endpoint is configured:
// until it opens, deliveries are accepted and dropped (as events a provider
// emits before an endpoint exists are never sent); once open, they are
// passed to the app's webhook route.
type webhookGate struct {
	*httptest.Server
	mu     sync.Mutex
	target string
}

func newWebhookGate(t *testing.T) *webhookGate {
	t.Helper()
	g := &webhookGate{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		target := g.target
		g.mu.Unlock()
		if target == "" {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target, r.Body)
		req.Header = r.Header.Clone()
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *webhookGate) open(target string) { g.mu.Lock(); g.target = target; g.mu.Unlock() }

// seen is what the product shows to one member in one organisation, with
// every identity provider id replaced by the app's id it names.
type seen map[string]string

// productView collects, for each membership, the JSON API (/api/me,
// /api/org, /api/org/members) and the pages (the dashboard, and for admins
// the members, invitations and audit screens), leaving out what is not
// about identity (session ids, times) and naming ids through names.
func productView(t *testing.T, ta *testApp, names *strings.Replacer, members map[string]string) seen {
	t.Helper()
	out := seen{}
	for key, org := range members {
		email, _, _ := strings.Cut(key, "/")
		h := bearer(sessionToken(t, ta.Server, email, org))
		for _, path := range []string{"/api/me", "/api/org", "/api/org/members"} {
			res, body := sendReq(t, ta, hreq{path: path, header: h})
			var v map[string]any
			if res.StatusCode != http.StatusOK || json.Unmarshal(body, &v) != nil {
				t.Fatalf("%s as %s: %d %s", path, key, res.StatusCode, body)
			}
			// Not identity: the session, and what the provider hosts or
			// stamps (image URLs on its servers, its creation time), which
			// change with it (docs/MIGRATION.md).
			delete(v, "session_id")
			delete(v, "created_at")
			delete(v, "image_url")
			if u, ok := v["user"].(map[string]any); ok {
				delete(u, "image_url")
			}
			b, _ := json.Marshal(v)
			out[key+" "+path] = names.Replace(string(b))
		}
		pages := []struct{ path, sel string }{
			{routes.Dashboard, `[data-testid="org-name"], [data-testid="plan-badge"], [data-testid="my-role"], .stat-value, [data-testid="member-row"], [data-testid="activity-sentence"]`},
		}
		if strings.Contains(out[key+" /api/me"], `"org_role":"org:admin"`) {
			pages = append(pages,
				struct{ path, sel string }{routes.AdminMembers, `[data-testid="member-row"] td:nth-child(-n+2), [data-testid="member-row"] @data-user-id`},
				struct{ path, sel string }{routes.AdminInvitations, `[data-testid="invitation-row"] td:nth-child(-n+2), [data-testid="invitation-row"] @data-invitation-id`},
				struct{ path, sel string }{routes.AdminAudit, `[data-testid="audit-sentence"]`})
		}
		for _, p := range pages {
			res, doc := pageReq(t, ta, hreq{path: p.path, header: h})
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s as %s: %d", p.path, key, res.StatusCode)
			}
			var texts []string
			for sel := range strings.SplitSeq(p.sel, ", ") {
				sel, attr, _ := strings.Cut(sel, " @")
				doc.Find(sel).Each(func(_ int, s *goquery.Selection) {
					v := strings.Join(strings.Fields(s.Text()), " ")
					if attr != "" {
						v = s.AttrOr(attr, "?")
					}
					texts = append(texts, v)
				})
			}
			out[key+" "+p.path] = names.Replace(strings.Join(texts, " | "))
		}
	}
	return out
}

// idNames replaces each provider id in the file's lines with what it names
// in the app ("user#3").
func idNames(lines []map[string]any, provider string, extra ...string) *strings.Replacer {
	type pair struct{ from, to string }
	var pairs []pair
	for _, l := range lines {
		if ids, ok := l["external_ids"].(map[string]any); ok {
			pairs = append(pairs, pair{ids[provider].(string), l["type"].(string) + "#" + jsonNumber(l["id"])})
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		pairs = append(pairs, pair{extra[i], extra[i+1]})
	}
	// Longest first, so no id is replaced inside a longer one.
	slices.SortFunc(pairs, func(a, b pair) int { return cmp.Compare(len(b.from), len(a.from)) })
	var args []string
	for _, p := range pairs {
		args = append(args, p.from, p.to)
	}
	return strings.NewReplacer(args...)
}

func jsonNumber(v any) string { b, _ := json.Marshal(v); return string(b) }

func fileLines(t *testing.T, raw []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(string(raw)) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// TestIdentityRoundTrip rehearses leaving the identity provider: the app
// runs on one provider (the emulator, as a Clerk instance) with a role
// change, a project and a pending invitation; its identities are exported;
// that provider is then gone (its state dropped) and a new one, with new
// ids for everyone, takes its place; the file is loaded into the new
// provider and its ids are imported into the app; the new provider's
// webhooks are switched on; and the API and the pages show the same
// people, organisations, roles, invitations and audit log for the same app
// ids, with no row added, while the new provider's events land on the
// imported rows.
func TestIdentityRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.ClonePool(t, seededTemplate(t))
	old := newInstance(t, pool, app.Options{})
	old.deliver()
	old.synced(t)

	// Life on the old provider: Bob becomes an admin, Alice starts a
	// project and invites Erin.
	alice := admAs(t, old.testApp, "alice@acme.test", "acme")
	admWant(t, admPost(t, old.URL+"/admin/members/"+userID(t, old.Server, "bob@acme.test")+"/role", url.Values{"role": {"org:admin"}}, admHX(alice)), http.StatusOK)
	admWant(t, admPost(t, old.URL+routes.AdminInvitations, url.Values{"email": {"erin@new.test"}, "role": {"org:member"}}, admHX(alice)), http.StatusOK)
	if res, body := sendReq(t, old.testApp, hreq{method: http.MethodPost, path: "/api/projects", header: alice, body: `{"name":"Apollo"}`}); res.StatusCode != http.StatusCreated {
		t.Fatalf("create project: %d %s", res.StatusCode, body)
	}
	old.synced(t)
	members := map[string]string{}
	for _, m := range []string{"alice@acme.test/acme", "bob@acme.test/acme", "carol@globex.test/globex", "dave@example.test/acme", "dave@example.test/globex"} {
		_, slug, _ := strings.Cut(m, "/")
		members[m] = admOrg(t, old.testApp, slug)
	}

	var file bytes.Buffer
	if _, err := identityfile.Export(ctx, pool, &file, identityfile.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	lines := fileLines(t, file.Bytes())
	before := productView(t, old.testApp, idNames(lines, "clerk"), members)
	// The views hold what the comparison is about (so an empty selection
	// cannot pass for "unchanged").
	for k, want := range map[string]string{
		"alice@acme.test/acme /dashboard":           "Bob Bakerbob@acme.testAdmin",
		"bob@acme.test/acme /dashboard":             "Alice Anders created project “Apollo”",
		"alice@acme.test/acme /admin/invitations":   "erin@new.test",
		"alice@acme.test/acme /admin/audit":         "Alice Anders changed Bob Baker's role to Admin",
		"carol@globex.test/globex /api/org":         `"name":"Globex"`,
		"dave@example.test/globex /api/org/members": `"role":"org:admin","user_id":"user#`,
	} {
		if !strings.Contains(before[k], want) {
			t.Fatalf("%s shows %q, without %q", k, before[k], want)
		}
	}
	var rowsBefore string
	countRows := `SELECT concat_ws(',', (SELECT count(*) FROM users), (SELECT count(*) FROM organizations),
	    (SELECT count(*) FROM memberships), (SELECT count(*) FROM invitations), (SELECT count(*) FROM projects),
	    (SELECT count(*) FROM audit_log))`
	if err := pool.QueryRow(ctx, countRows).Scan(&rowsBefore); err != nil {
		t.Fatal(err)
	}
	old.stop()

	// The old provider is gone: its state is dropped, and a new provider
	// starts over the same app database with new ids for the same people.
	if _, err := pool.Exec(ctx, "DROP SCHEMA clerkemu CASCADE"); err != nil {
		t.Fatal(err)
	}
	gate := newWebhookGate(t)
	opt := app.Options{}
	opt.Emulator.WebhookURL = gate.URL
	next := newInstance(t, pool, opt)
	// Events of the load below happen before the app's endpoint is set up
	// at the new provider: the gate drops them.
	next.deliver()
	for key, org := range members {
		_, slug, _ := strings.Cut(key, "/")
		if members[key] = admOrg(t, next.testApp, slug); members[key] == org {
			t.Fatalf("the new provider gave %s the old id %s", slug, org)
		}
	}
	// Signed in with the new provider, nobody is known yet.
	res, body := sendReq(t, next.testApp, hreq{path: "/api/me", header: bearer(sessionToken(t, next.Server, "alice@acme.test", members["alice@acme.test/acme"]))})
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"user":null`) {
		t.Fatalf("before the import, /api/me = %d %s; want the user unknown", res.StatusCode, body)
	}

	// Load the file into the new provider (what a migration script does):
	// people and organisations are found by email and slug, roles set as
	// the file says, pending invitations sent again. Each line gets the new
	// provider's id.
	byID := map[string]map[string]any{}
	for _, l := range lines {
		if l["type"] != "header" {
			byID[l["type"].(string)+"#"+jsonNumber(l["id"])] = l
		}
	}
	for _, l := range lines {
		var id string
		switch l["type"] {
		case "header":
			continue
		case "user":
			id = userID(t, next.Server, l["email"].(string))
		case "organization":
			id = admOrg(t, next.testApp, l["slug"].(string))
		case "membership":
			org := byID["organization#"+jsonNumber(l["organization_id"])]["external_ids"].(map[string]any)["clerk"].(string)
			user := byID["user#"+jsonNumber(l["user_id"])]["external_ids"].(map[string]any)["clerk"].(string)
			var m struct {
				ID   string `json:"id"`
				Role string `json:"role"`
			}
			bapi(t, next.Server, http.MethodPatch, "/organizations/"+org+"/memberships/"+user, map[string]string{"role": l["role"].(string)}, &m)
			id = m.ID
		case "invitation":
			org := byID["organization#"+jsonNumber(l["organization_id"])]["external_ids"].(map[string]any)["clerk"].(string)
			var inv struct {
				ID string `json:"id"`
			}
			bapi(t, next.Server, http.MethodPost, "/organizations/"+org+"/invitations", map[string]string{"email_address": l["email"].(string), "role": l["role"].(string)}, &inv)
			id = inv.ID
		}
		ids := l["external_ids"].(map[string]any)
		if id == "" || id == ids["clerk"] {
			t.Fatalf("the new provider's id of %s %v is %q (old: %v)", l["type"], l["id"], id, ids["clerk"])
		}
		ids["clerk"] = id
	}
	var mapped bytes.Buffer
	for _, l := range lines {
		b, _ := json.Marshal(l)
		mapped.Write(append(b, '\n'))
	}

	dry, err := identityfile.Import(ctx, pool, bytes.NewReader(mapped.Bytes()), identityfile.ImportOptions{Provider: "clerk", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if dry.Users.Changed != 4 || dry.Organizations.Changed != 2 || dry.Memberships.Changed != 5 || dry.Invitations.Changed != 1 {
		t.Fatalf("dry run: %+v", dry)
	}
	if _, body := sendReq(t, next.testApp, hreq{path: "/api/me", header: bearer(sessionToken(t, next.Server, "alice@acme.test", members["alice@acme.test/acme"]))}); !strings.Contains(string(body), `"user":null`) {
		t.Fatalf("the dry run changed the database: /api/me = %s", body)
	}
	rep, err := identityfile.Import(ctx, pool, bytes.NewReader(mapped.Bytes()), identityfile.ImportOptions{Provider: "clerk"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Users != dry.Users || rep.Memberships != dry.Memberships {
		t.Fatalf("import %+v differs from its dry run %+v", rep, dry)
	}

	// The app's endpoint is set up at the new provider: its events now
	// reach the app, and land on the imported rows (a user, an organisation
	// and a membership event, none changing anything).
	next.synced(t)
	gate.open(next.URL + routes.Webhook)
	bapi(t, next.Server, http.MethodPatch, "/users/"+userID(t, next.Server, "alice@acme.test"), map[string]string{"first_name": "Alice"}, nil)
	bapi(t, next.Server, http.MethodPatch, "/organizations/"+members["alice@acme.test/acme"], map[string]string{"name": "Acme"}, nil)
	bapi(t, next.Server, http.MethodPatch, "/organizations/"+members["alice@acme.test/acme"]+"/memberships/"+userID(t, next.Server, "bob@acme.test"), map[string]string{"role": "org:admin"}, nil)
	next.synced(t)
	var applied int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM webhook_events WHERE status = 'applied'
	    AND type IN ('user.updated', 'organization.updated', 'organizationMembership.updated')
	    AND received_at > (SELECT max(received_at) FROM webhook_events WHERE type = 'organizationInvitation.created')`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != 3 {
		t.Errorf("%d of the new provider's 3 events were applied", applied)
	}

	// The invitation's audit entry keeps the old provider's invitation id:
	// invitations are not people or organisations, and a pending one is
	// sent again by the new provider (docs/MIGRATION.md).
	var oldInvitation []string
	for _, l := range fileLines(t, file.Bytes()) {
		if l["type"] == "invitation" {
			oldInvitation = []string{l["external_ids"].(map[string]any)["clerk"].(string), "invitation#" + jsonNumber(l["id"])}
		}
	}
	after := productView(t, next.testApp, idNames(lines, "clerk", oldInvitation...), members)
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range before {
			if !yield(k) {
				return
			}
		}
	}) {
		if before[k] != after[k] {
			t.Errorf("%s changed with the provider:\nbefore %s\nafter  %s", k, before[k], after[k])
		}
	}
	if len(after) != len(before) || len(before) < 20 {
		t.Errorf("compared %d views before and %d after", len(before), len(after))
	}
	var rowsAfter string
	if err := pool.QueryRow(ctx, countRows).Scan(&rowsAfter); err != nil {
		t.Fatal(err)
	}
	if rowsAfter != rowsBefore {
		t.Errorf("rows (users, organisations, memberships, invitations, projects, audit) %s before, %s after", rowsBefore, rowsAfter)
	}
}
