package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/saasstarter/saas/internal/pagecursor"
	"github.com/saasstarter/saas/internal/routes"
)

// walkPages follows a list's "Next" links from first, checking each later
// page links back to the first one, and returns every page. On a page with
// several lists, param (the list's cursor parameter) picks its links.
func walkPages(t *testing.T, ta *testApp, first string, header map[string]string, param ...string) []*goquery.Document {
	t.Helper()
	key := "after="
	if len(param) > 0 {
		key = param[0] + "="
	}
	link := func(doc *goquery.Document, sel string) string {
		var href string
		doc.Find(sel).Each(func(_ int, s *goquery.Selection) {
			h := s.AttrOr("href", "")
			if sel == `[data-testid="pager-first"]` && h == first || strings.Contains(h, key) {
				href = h
			}
		})
		return href
	}
	var docs []*goquery.Document
	for next := first; next != ""; {
		res := get(t, ta.URL+next, header)
		admWant(t, res, http.StatusOK)
		doc := parse(t, res)
		if len(docs) > 0 {
			if got := link(doc, `[data-testid="pager-first"]`); got != first {
				t.Errorf("page %d links to the first page as %q, want %q", len(docs)+1, got, first)
			}
		} else if doc.Find(`[data-testid="pager-first"]`).Length() != 0 {
			t.Error("the first page links to the first page")
		}
		docs = append(docs, doc)
		next = link(doc, `[data-testid="pager-next"]`)
		if len(docs) > 50 {
			t.Fatal("more than 50 pages: the cursor does not advance")
		}
	}
	return docs
}

// texts collects the text (or attribute attr, if not empty) of sel on every
// page.
func texts(docs []*goquery.Document, sel, attr string) []string {
	var out []string
	for _, d := range docs {
		d.Find(sel).Each(func(_ int, s *goquery.Selection) {
			if attr != "" {
				out = append(out, s.AttrOr(attr, ""))
			} else {
				out = append(out, strings.TrimSpace(s.Text()))
			}
		})
	}
	return out
}

// TestAdminListsPageWithCursors: the members, audit and webhook lists (and
// the operator's deliveries) are read page by page with keyset cursors:
// following "Next" shows every row exactly once, in order, with the
// filters kept; a cursor that was edited, or belongs to another list, is a
// 400 (a page, or a fragment for htmx), never a 500 or a wrong page.
func TestAdminListsPageWithCursors(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	acme := admOrg(t, ta, "acme")
	alice := admAs(t, ta, "alice@acme.test", "acme")
	dave := admAs(t, ta, "dave@example.test", "")
	// The sessions' own webhooks have landed: the lists hold still.
	ta.synced(t)
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := ta.App.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// 45 more members (so three pages of 20), with names that sort apart
	// from the seeded ones, audit entries and deliveries of the org.
	exec(`INSERT INTO users (clerk_id, email, first_name, last_name)
	      SELECT 'user_page_' || g, 'pager' || g || '@acme.test', 'Pager', lpad(g::text, 2, '0') FROM generate_series(1, 45) g`)
	exec(`INSERT INTO memberships (clerk_id, organization_id, user_id, role)
	      SELECT 'orgmem_page_' || u.clerk_id, o.id, u.id, 'org:member'
	      FROM organizations o, users u WHERE o.clerk_id = $1 AND u.clerk_id LIKE 'user_page_%'`, acme)
	exec(`INSERT INTO audit_log (organization_id, action, details, created_at)
	      SELECT o.id, 'project.created', jsonb_build_object('name', 'entry-' || g), now() - g * interval '1 second' - interval '1 minute'
	      FROM organizations o, generate_series(1, 30) g WHERE o.clerk_id = $1`, acme)
	// Entries with one timestamp: the id breaks the tie, so none is lost
	// at a page boundary.
	exec(`INSERT INTO audit_log (organization_id, action, details, created_at)
	      SELECT o.id, 'project.created', jsonb_build_object('name', 'same-' || g), now() - interval '1 hour'
	      FROM organizations o, generate_series(1, 25) g WHERE o.clerk_id = $1`, acme)
	exec(`INSERT INTO webhook_events (svix_id, type, organization_id, object_id, status, payload, received_at)
	      SELECT 'msg_page_' || g, 'organization.updated', $1, $1, 'applied', '{}', now() - g * interval '1 second'
	      FROM generate_series(1, 50) g`, acme)
	count := func(sql string) int {
		t.Helper()
		n, err := strconv.Atoi(admDB(t, ta, sql, acme))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("Members", func(t *testing.T) {
		docs := walkPages(t, ta, routes.AdminMembers, alice)
		ids := texts(docs, `[data-testid="member-row"]`, "data-user-id")
		want := count(`SELECT count(*) FROM memberships m JOIN organizations o ON o.id = m.organization_id
			WHERE o.clerk_id = $1 AND m.deleted_at IS NULL`)
		if len(docs) != (want+19)/20 || len(ids) != want {
			t.Fatalf("%d pages, %d rows; want %d rows", len(docs), len(ids), want)
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				t.Errorf("%s shown twice", id)
			}
			seen[id] = true
		}
		// Admins first, then by name: the 45 "Pager NN" members in order.
		roles := texts(docs, `[data-testid="member-role"]`, "")
		if !strings.Contains(roles[0], "Admin") {
			t.Errorf("first row's role = %q, want an admin first", roles[0])
		}
		var pagers []string
		for _, name := range texts(docs, `[data-testid="member-name"]`, "") {
			if strings.HasPrefix(name, "Pager ") {
				pagers = append(pagers, name)
			}
		}
		for i, name := range pagers {
			if want := "Pager " + twoDigits(i+1); name != want {
				t.Fatalf("member %d = %q, want %q", i, name, want)
			}
		}
		if got := docs[0].Find(`[data-testid="pager"]`).Text(); !strings.Contains(got, strconv.Itoa(want)+" in total") {
			t.Errorf("pager says %q, want %d in total", got, want)
		}
	})
	t.Run("MembersSearchKeepsTheQuery", func(t *testing.T) {
		docs := walkPages(t, ta, routes.AdminMembers+"?q=pager", alice)
		if names := texts(docs, `[data-testid="member-name"]`, ""); len(docs) != 3 || len(names) != 45 {
			t.Fatalf("search: %d pages, %d rows; want 3, 45", len(docs), len(names))
		}
		next := docs[0].Find(`[data-testid="pager-next"]`)
		if href := next.AttrOr("href", ""); !strings.Contains(href, "q=pager") || next.AttrOr("hx-get", "") != href {
			t.Errorf("next link %q (hx-get %q) lost the query", href, next.AttrOr("hx-get", ""))
		}
	})
	t.Run("Audit", func(t *testing.T) {
		docs := walkPages(t, ta, routes.AdminAudit, alice)
		// Each row is a sentence; the inserted ones name their project in
		// quotes ("… created project “entry-3”").
		var targets []string
		for _, sentence := range texts(docs, `[data-testid="audit-sentence"]`, "") {
			name := ""
			if _, rest, ok := strings.Cut(sentence, "“"); ok {
				name, _, _ = strings.Cut(rest, "”")
			}
			targets = append(targets, name)
		}
		want := count(`SELECT count(*) FROM audit_log a JOIN organizations o ON o.id = a.organization_id WHERE o.clerk_id = $1`)
		if len(targets) != want {
			t.Fatalf("%d rows over %d pages, want %d", len(targets), len(docs), want)
		}
		seen := map[string]int{}
		for _, s := range targets {
			seen[s]++
		}
		for i := 1; i <= 30; i++ {
			if n := seen["entry-"+strconv.Itoa(i)]; n != 1 {
				t.Errorf("entry-%d shown %d times", i, n)
			}
		}
		for i := 1; i <= 25; i++ {
			if n := seen["same-"+strconv.Itoa(i)]; n != 1 {
				t.Errorf("same-%d shown %d times", i, n)
			}
		}
	})
	t.Run("WebhooksKeepTheFilter", func(t *testing.T) {
		docs := walkPages(t, ta, routes.AdminWebhooks+"?type=organization.updated&status=", alice)
		ids := texts(docs, `[data-testid="delivery-row"]`, "id")
		want := count(`SELECT count(*) FROM webhook_events WHERE organization_id = $1 AND type = 'organization.updated'`)
		if len(ids) != want || len(docs) != (want+19)/20 {
			t.Fatalf("%d rows over %d pages, want %d", len(ids), len(docs), want)
		}
		// Newest first: the seeded ones (1 s apart, msg_page_1 newest) in
		// order, whichever page they fall on.
		var times []string
		for _, d := range docs {
			d.Find(`[data-testid="delivery-row"] time`).Each(func(_ int, s *goquery.Selection) {
				times = append(times, s.AttrOr("datetime", ""))
			})
		}
		for i := 1; i < len(times); i++ {
			if times[i] > times[i-1] {
				t.Fatalf("deliveries out of order: %s after %s", times[i], times[i-1])
			}
		}
	})
	t.Run("OpsDeliveries", func(t *testing.T) {
		docs := walkPages(t, ta, routes.OpsWebhooks, dave)
		ids := texts(docs, `[data-testid="delivery-row"]`, "id")
		var total int
		if err := ta.App.Pool().QueryRow(ctx, "SELECT count(*) FROM webhook_events").Scan(&total); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, id := range ids {
			seen[id] = true
		}
		if len(ids) != total || len(seen) != total {
			t.Fatalf("%d rows (%d distinct) over %d pages, want %d", len(ids), len(seen), len(docs), total)
		}
	})
	t.Run("OpsDirectory", func(t *testing.T) {
		// Rows with no creation time (stubs, and the users above) sort
		// after every other live row, newest id first; their cursors carry
		// -infinity.
		exec(`INSERT INTO users (clerk_id, stub) SELECT 'user_stub_' || g, true FROM generate_series(1, 5) g`)
		for _, c := range []struct{ param, row, table string }{
			{"users_after", `[data-testid="directory-user"] code`, "users"},
			{"orgs_after", `[data-testid="directory-org"] code`, "organizations"},
		} {
			docs := walkPages(t, ta, routes.Ops, dave, c.param)
			// Every page shows both tables: on the pages of one, the other
			// stays on its first page, so only the walked one is counted.
			var ids []string
			for _, d := range docs {
				ids = append(ids, d.Find(c.row).Map(func(_ int, s *goquery.Selection) string { return s.Text() })...)
			}
			var total int
			if err := ta.App.Pool().QueryRow(ctx, "SELECT count(*) FROM "+c.table).Scan(&total); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, id := range ids {
				seen[id] = true
			}
			if len(ids) != total || len(seen) != total {
				t.Errorf("%s: %d rows (%d distinct) over %d pages, want %d", c.table, len(ids), len(seen), len(docs), total)
			}
			if c.table == "users" && (len(docs) < 3 || ids[len(ids)-1] != "user_page_1") {
				t.Errorf("users: %d pages, last row %q; want user_page_1 (no creation time, lowest id) last", len(docs), ids[len(ids)-1])
			}
		}
		docs := walkPages(t, ta, routes.Ops+"?q=pager", dave, "users_after")
		if n := len(texts(docs, `[data-testid="directory-user"]`, "")); len(docs) != 2 || n != 45 {
			t.Errorf("search: %d pages, %d users; want 2, 45", len(docs), n)
		}
	})
	t.Run("BadCursorIs400", func(t *testing.T) {
		membersCursor := pagecursor.Encode("members", "1", "pager", "5")
		for _, c := range []struct {
			url    string
			header map[string]string
		}{
			{routes.Ops + "?users_after=" + url.QueryEscape(pagecursor.Encode("directory-orgs", "1", "-inf", "5")), dave},
			{routes.Ops + "?orgs_after=" + url.QueryEscape(pagecursor.Encode("directory-orgs", "1", "later", "5")), dave},
			{routes.OpsWebhooks + "?after=" + url.QueryEscape(pagecursor.Encode("deliveries", "x", "5")), dave},
		} {
			admWant(t, get(t, ta.URL+c.url, c.header), http.StatusBadRequest)
			admWant(t, get(t, ta.URL+c.url, admHX(c.header)), http.StatusBadRequest)
		}
		for _, u := range []string{
			routes.AdminMembers + "?after=not-a-cursor",
			routes.AdminMembers + "?after=" + url.QueryEscape(pagecursor.Encode("members", "2", "x", "5")),
			routes.AdminMembers + "?after=" + url.QueryEscape(pagecursor.Encode("members", "1", "x", "-5")),
			routes.AdminAudit + "?after=" + url.QueryEscape(membersCursor),
			routes.AdminAudit + "?after=" + url.QueryEscape(pagecursor.Encode("audit", "soon", "5")),
			routes.AdminWebhooks + "?after=" + url.QueryEscape(pagecursor.Encode("deliveries", "1", "0")),
			routes.AdminWebhooks + "?after=" + strings.Repeat("A", pagecursor.MaxLen+1),
		} {
			res := get(t, ta.URL+u, alice)
			admWant(t, res, http.StatusBadRequest)
			if got := parse(t, res).Find(`[data-testid="error-status"]`).Text(); got != "400" {
				t.Errorf("%s: error page says %q", u, got)
			}
			res = get(t, ta.URL+u, admHX(alice))
			admWant(t, res, http.StatusBadRequest)
			if parse(t, res).Find(`[data-testid="error-fragment"]`).Length() != 1 {
				t.Errorf("%s: htmx gets no error fragment", u)
			}
		}
		// The same cursor is fine on its own list.
		admWant(t, get(t, ta.URL+routes.AdminMembers+"?after="+url.QueryEscape(membersCursor), alice), http.StatusOK)
	})
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
