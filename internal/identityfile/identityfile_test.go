package identityfile_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/saasstarter/saas/internal/identityfile"
	"github.com/saasstarter/saas/internal/testdb"
)

// fixture fills a database with three live users and a deleted one, two
// organisations and a deleted one, memberships (one of them of the deleted
// user), invitations in each status, and business data (a project, audit
// entries) that imports must leave alone.
func fixture(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := testdb.Pool(t)
	for _, sql := range []string{
		`INSERT INTO users (clerk_id, email, first_name, last_name, public_metadata, clerk_created_at) VALUES
		   ('user_a', 'alice@acme.test', 'Alice', 'Anders', '{"operator":true}', '2025-01-02T03:04:05.678Z'),
		   ('user_b', 'bob@acme.test', 'Bob', '', '{}', NULL),
		   ('user_c', 'carol@globex.test', '', '', '{}', NULL)`,
		`INSERT INTO users (clerk_id, deleted_at) VALUES ('user_gone', now())`,
		`INSERT INTO organizations (clerk_id, name, slug, plan, public_metadata) VALUES
		   ('org_acme', 'Acme', 'acme', 'enterprise', '{"plan":"enterprise","features":["export"]}'),
		   ('org_globex', 'Globex', 'globex', '', '{}')`,
		`INSERT INTO organizations (clerk_id, name, slug, deleted_at) VALUES ('org_gone', 'Gone', 'gone', now())`,
		`INSERT INTO memberships (clerk_id, organization_id, user_id, role, permissions)
		 SELECT v.m, o.id, u.id, v.role, v.perms::text[] FROM (VALUES
		   ('mem_aa', 'org_acme', 'user_a', 'org:admin', '{org:projects:manage}'),
		   ('mem_ba', 'org_acme', 'user_b', 'org:member', '{}'),
		   ('mem_cg', 'org_globex', 'user_c', 'org:admin', '{}'),
		   ('mem_goneg', 'org_globex', 'user_gone', 'org:member', '{}'),
		   ('mem_ago', 'org_gone', 'user_a', 'org:admin', '{}')) v(m, org, usr, role, perms)
		 JOIN organizations o ON o.clerk_id = v.org JOIN users u ON u.clerk_id = v.usr`,
		`INSERT INTO invitations (clerk_id, organization_id, email, role, status)
		 SELECT v.i, o.id, v.email, 'org:member', v.status FROM (VALUES
		   ('inv_1', 'org_acme', 'new@acme.test', 'pending'),
		   ('inv_2', 'org_acme', 'old@acme.test', 'accepted'),
		   ('inv_3', 'org_gone', 'x@gone.test', 'pending')) v(i, org, email, status)
		 JOIN organizations o ON o.clerk_id = v.org`,
		`INSERT INTO projects (organization_id, name, created_by) SELECT id, 'Apollo', 'user_a' FROM organizations WHERE clerk_id = 'org_acme'`,
	} {
		if _, err := pool.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	return pool
}

// export runs Export with a small page size, so every type spans pages.
func export(t *testing.T, pool *pgxpool.Pool) ([]map[string]any, identityfile.Counts, []byte) {
	t.Helper()
	var buf bytes.Buffer
	var progress []identityfile.Counts
	counts, err := identityfile.Export(context.Background(), pool, &buf, identityfile.ExportOptions{
		PageSize: 2, Progress: func(c identityfile.Counts) { progress = append(progress, c) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(progress) == 0 || progress[len(progress)-1] != counts {
		t.Errorf("progress %v does not end at the counts %v", progress, counts)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", len(lines)+1, err, sc.Text())
		}
		lines = append(lines, m)
	}
	return lines, counts, buf.Bytes()
}

// TestExportWritesTheDocumentedFormat: a header, then live users,
// organisations, memberships and pending invitations in that order, each
// with exactly the documented fields, across several pages.
func TestExportWritesTheDocumentedFormat(t *testing.T) {
	t.Parallel()
	pool := fixture(t)
	lines, counts, _ := export(t, pool)

	if want := (identityfile.Counts{Users: 3, Organizations: 2, Memberships: 3, Invitations: 1}); counts != want {
		t.Fatalf("counts %v, want %v", counts, want)
	}
	if len(lines) != 1+3+2+3+1 {
		t.Fatalf("%d lines, want 10", len(lines))
	}
	if h := lines[0]; h["type"] != "header" || h["format"] != "saas-identities" || h["version"] != 1.0 {
		t.Errorf("header %v", h)
	}
	fields := map[string][]string{
		"header":       {"exported_at", "format", "type", "version"},
		"user":         {"created_at", "email", "external_ids", "first_name", "id", "image_url", "last_name", "public_metadata", "type", "updated_at"},
		"organization": {"created_at", "external_ids", "id", "image_url", "name", "plan", "public_metadata", "slug", "type", "updated_at"},
		"membership":   {"created_at", "external_ids", "id", "organization_id", "permissions", "role", "type", "updated_at", "user_id"},
		"invitation":   {"created_at", "email", "external_ids", "id", "organization_id", "role", "status", "type", "updated_at"},
	}
	var order []string
	ids := map[string][]float64{}
	clerk := map[string]string{} // clerk id → type
	for i, l := range lines {
		typ, _ := l["type"].(string)
		if got := slices.Sorted(maps.Keys(l)); !slices.Equal(got, fields[typ]) {
			t.Errorf("line %d (%s) has fields %v, want %v", i+1, typ, got, fields[typ])
		}
		for _, k := range []string{"exported_at", "created_at", "updated_at"} {
			if v, ok := l[k]; ok {
				if ts, err := time.Parse(time.RFC3339, v.(string)); err != nil || ts.Location() != time.UTC {
					t.Errorf("line %d: %s %v is not RFC 3339 in UTC", i+1, k, v)
				}
			}
		}
		if typ == "header" {
			continue
		}
		if len(order) == 0 || order[len(order)-1] != typ {
			order = append(order, typ)
		}
		ids[typ] = append(ids[typ], l["id"].(float64))
		clerk[l["external_ids"].(map[string]any)["clerk"].(string)] = typ
	}
	if want := []string{"user", "organization", "membership", "invitation"}; !slices.Equal(order, want) {
		t.Errorf("record types in order %v, want %v", order, want)
	}
	for typ, list := range ids {
		if !slices.IsSorted(list) {
			t.Errorf("%s ids %v are not in order", typ, list)
		}
	}
	want := map[string]string{"user_a": "user", "user_b": "user", "user_c": "user", "org_acme": "organization",
		"org_globex": "organization", "mem_aa": "membership", "mem_ba": "membership", "mem_cg": "membership", "inv_1": "invitation"}
	if !maps.Equal(clerk, want) {
		t.Errorf("exported clerk ids %v, want %v (nothing deleted, no invitation that is not pending)", clerk, want)
	}
	alice := lines[1]
	if alice["email"] != "alice@acme.test" || alice["created_at"] != "2025-01-02T03:04:05.678Z" ||
		alice["public_metadata"].(map[string]any)["operator"] != true {
		t.Errorf("alice: %v", alice)
	}
	var admin map[string]any
	for _, l := range lines {
		if l["type"] == "membership" && l["role"] == "org:admin" && l["organization_id"] == lines[4]["id"] {
			admin = l
		}
	}
	if admin == nil || admin["user_id"] != alice["id"] || fmt.Sprint(admin["permissions"]) != "[org:projects:manage]" {
		t.Errorf("Acme's admin membership %v does not name alice (%v) with her permissions", admin, alice["id"])
	}
}

// importFile runs Import over lines joined by newlines.
func importFile(pool *pgxpool.Pool, provider string, dryRun bool, lines ...string) (identityfile.Report, error) {
	return identityfile.Import(context.Background(), pool, strings.NewReader(strings.Join(lines, "\n")+"\n"),
		identityfile.ImportOptions{Provider: provider, DryRun: dryRun})
}

// withProvider returns the exported lines with external_ids[provider] set
// to id(line) on every record.
func withProvider(t *testing.T, raw []byte, provider string, id func(m map[string]any) string) []string {
	t.Helper()
	var out []string
	for line := range strings.Lines(string(raw)) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		if m["type"] != "header" {
			m["external_ids"].(map[string]any)[provider] = id(m)
		}
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	return out
}

// snapshot is everything an import must not change but for the mapping:
// the identity rows as the app reads them and the business data.
func snapshot(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var s string
	err := pool.QueryRow(context.Background(), `SELECT concat_ws(E'\n',
	    (SELECT string_agg(concat_ws('|', id, email, first_name, last_name, public_metadata, deleted_at), ',' ORDER BY id) FROM users),
	    (SELECT string_agg(concat_ws('|', id, name, slug, plan, deleted_at), ',' ORDER BY id) FROM organizations),
	    (SELECT string_agg(concat_ws('|', id, organization_id, user_id, role, permissions, deleted_at), ',' ORDER BY id) FROM memberships),
	    (SELECT string_agg(concat_ws('|', id, organization_id, email, role, status), ',' ORDER BY id) FROM invitations),
	    (SELECT string_agg(concat_ws('|', id, organization_id, name, created_by, created_at, updated_at), ',' ORDER BY id) FROM projects),
	    (SELECT string_agg(concat_ws('|', id, organization_id, actor_id, actor, action, target_user_id, target, details, created_at), ',' ORDER BY id) FROM audit_log))`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func clerkIDs(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var s string
	if err := pool.QueryRow(context.Background(), `SELECT concat_ws(',',
	    (SELECT string_agg(clerk_id, ',' ORDER BY id) FROM users), (SELECT string_agg(clerk_id, ',' ORDER BY id) FROM organizations),
	    (SELECT string_agg(clerk_id, ',' ORDER BY id) FROM memberships), (SELECT string_agg(clerk_id, ',' ORDER BY id) FROM invitations))`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func mappings(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var s string
	if err := pool.QueryRow(context.Background(),
		`SELECT COALESCE(string_agg(concat_ws('|', provider, kind, app_id, external_id), ',' ORDER BY provider, kind, app_id), '') FROM external_identities`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestImportMapsANewProvider: a dry run reports what an import would do and
// writes nothing; the import records every id of the new provider without
// touching anything else; importing again changes nothing, and a later
// export carries both providers' ids.
func TestImportMapsANewProvider(t *testing.T) {
	t.Parallel()
	pool := fixture(t)
	_, _, raw := export(t, pool)
	file := withProvider(t, raw, "keycloak", func(m map[string]any) string { return fmt.Sprintf("kc-%s-%v", m["type"], m["id"]) })
	before, clerkBefore := snapshot(t, pool), clerkIDs(t, pool)

	dry, err := importFile(pool, "keycloak", true, file...)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Users.Added != 3 || dry.Organizations.Added != 2 || dry.Memberships.Added != 3 || dry.Invitations.Added != 1 || !dry.DryRun {
		t.Errorf("dry run report %+v", dry)
	}
	if !strings.HasPrefix(dry.String(), "dry run: nothing was written") {
		t.Errorf("dry run report reads %q", dry.String())
	}
	if m := mappings(t, pool); m != "" {
		t.Fatalf("the dry run wrote %s", m)
	}

	rep, err := importFile(pool, "keycloak", false, file...)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Users != dry.Users || rep.Organizations != dry.Organizations || rep.Memberships != dry.Memberships || rep.Invitations != dry.Invitations {
		t.Errorf("import %+v differs from its dry run %+v", rep, dry)
	}
	if got := strings.Count(mappings(t, pool), "keycloak|"); got != 9 {
		t.Errorf("%d keycloak ids recorded, want 9: %s", got, mappings(t, pool))
	}
	if after := snapshot(t, pool); after != before {
		t.Errorf("the import changed more than the mapping:\nbefore %s\nafter  %s", before, after)
	}
	if got := clerkIDs(t, pool); got != clerkBefore {
		t.Errorf("a keycloak import changed Clerk ids: %s → %s", clerkBefore, got)
	}

	again, err := importFile(pool, "keycloak", false, file...)
	if err != nil || again.Users.Unchanged != 3 || again.Users.Added+again.Users.Changed != 0 {
		t.Errorf("a second import: %+v, %v; want everything unchanged", again, err)
	}
	// A new id for one user is a change.
	changed := withProvider(t, raw, "keycloak", func(m map[string]any) string {
		if m["type"] == "user" && m["email"] == "bob@acme.test" {
			return "kc-bob-2"
		}
		return fmt.Sprintf("kc-%s-%v", m["type"], m["id"])
	})
	if rep, err := importFile(pool, "keycloak", false, changed...); err != nil || rep.Users.Changed != 1 || rep.Users.Unchanged != 2 {
		t.Errorf("changing bob's id: %+v, %v", rep, err)
	}

	lines, _, _ := export(t, pool)
	for _, l := range lines[1:] {
		ids := l["external_ids"].(map[string]any)
		if ids["clerk"] == nil || ids["keycloak"] == nil {
			t.Errorf("exported %s %v lacks a provider's id: %v", l["type"], l["id"], ids)
		}
	}
}

// TestImportMatchesByClerkIDOrEmail: a file made outside the app (no ids)
// names users by Clerk id or email, other records by Clerk id.
func TestImportMatchesByClerkIDOrEmail(t *testing.T) {
	t.Parallel()
	pool := fixture(t)
	rep, err := importFile(pool, "zitadel", false,
		`{"type":"user","email":"ALICE@acme.test","external_ids":{"zitadel":"z-alice"}}`,
		`{"type":"user","external_ids":{"clerk":"user_b","zitadel":"z-bob"}}`,
		`{"type":"organization","external_ids":{"clerk":"org_acme","zitadel":"z-acme"}}`,
		`{"type":"membership","external_ids":{"clerk":"mem_aa","zitadel":"z-mem"}}`,
		`{"type":"invitation","external_ids":{"clerk":"inv_1","zitadel":"z-inv"}}`)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Users.Added != 2 || rep.Organizations.Added != 1 || rep.Memberships.Added != 1 || rep.Invitations.Added != 1 {
		t.Errorf("report %+v", rep)
	}
	var alice string
	if err := pool.QueryRow(context.Background(), `SELECT e.external_id FROM external_identities e JOIN users u ON u.id = e.app_id
	    WHERE e.kind = 'user' AND e.provider = 'zitadel' AND u.clerk_id = 'user_a'`).Scan(&alice); err != nil || alice != "z-alice" {
		t.Errorf("alice's zitadel id %q, %v", alice, err)
	}
}

// TestImportClerkReplacesTheRunningIDs: with provider clerk (a new Clerk
// instance) the new ids replace the Clerk ids on the rows, and nothing else
// changes; external_identities stays empty.
func TestImportClerkReplacesTheRunningIDs(t *testing.T) {
	t.Parallel()
	pool := fixture(t)
	_, _, raw := export(t, pool)
	before := snapshot(t, pool)
	file := withProvider(t, raw, "clerk", func(m map[string]any) string { return fmt.Sprintf("new_%s_%v", m["type"], m["id"]) })
	rep, err := importFile(pool, "clerk", false, file...)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Users.Changed != 3 || rep.Organizations.Changed != 2 || rep.Memberships.Changed != 3 || rep.Invitations.Changed != 1 {
		t.Errorf("report %+v", rep)
	}
	if got := clerkIDs(t, pool); strings.Count(got, "new_") != 9 || !strings.Contains(got, "user_gone") || !strings.Contains(got, "org_gone") {
		t.Errorf("clerk ids after the import: %s (want 9 new ones, the deleted rows untouched)", got)
	}
	if after := snapshot(t, pool); after != before {
		t.Errorf("the import changed more than the ids:\nbefore %s\nafter  %s", before, after)
	}
	if m := mappings(t, pool); m != "" {
		t.Errorf("a clerk import wrote external_identities: %s", m)
	}
}

// TestImportRefuses: every kind of bad line stops the import with an error
// naming the line, and nothing is written, even by the lines before it.
func TestImportRefuses(t *testing.T) {
	t.Parallel()
	pool := fixture(t)
	var alice, acme int64
	if err := pool.QueryRow(context.Background(), `SELECT u.id, o.id FROM users u, organizations o WHERE u.clerk_id = 'user_a' AND o.clerk_id = 'org_acme'`).Scan(&alice, &acme); err != nil {
		t.Fatal(err)
	}
	good := fmt.Sprintf(`{"type":"user","id":%d,"external_ids":{"clerk":"user_a","kc":"kc-a"}}`, alice)
	for _, c := range []struct {
		name, provider string
		lines          []string
		line           int
		want           string
	}{
		{"ErrNotJSON", "kc", []string{good, `{"type":"user",`}, 2, "not a JSON object"},
		{"ErrBlankLine", "kc", []string{good, ``}, 2, "not a JSON object"},
		{"ErrNoType", "kc", []string{`{"id":1}`}, 1, `no "type"`},
		{"ErrUnknownType", "kc", []string{good, `{"type":"session","id":1}`}, 2, `unknown type "session"`},
		{"ErrUnknownField", "kc", []string{`{"type":"user","id":1,"externalIds":{"kc":"x"}}`}, 1, `unknown field "externalIds"`},
		{"ErrTwoValues", "kc", []string{good + ` {}`}, 1, "after top-level value"},
		{"ErrNoProviderID", "kc", []string{good, fmt.Sprintf(`{"type":"organization","id":%d,"external_ids":{"clerk":"org_acme"}}`, acme)}, 2, "no external_ids.kc"},
		{"ErrSpaceInID", "kc", []string{`{"type":"user","id":1,"external_ids":{"kc":" x"}}`}, 1, "surrounding space"},
		{"ErrUnknownRecord", "kc", []string{good, `{"type":"user","id":999999,"external_ids":{"kc":"kc-z"}}`}, 2, "no user with id 999999"},
		{"ErrUnknownClerkID", "kc", []string{`{"type":"organization","external_ids":{"clerk":"org_nope","kc":"kc-o"}}`}, 1, `no organisation with clerk id "org_nope"`},
		{"ErrDeletedRecord", "kc", []string{`{"type":"user","external_ids":{"clerk":"user_gone","kc":"kc-g"}}`}, 1, "no user with clerk id"},
		{"ErrNothingToMatch", "kc", []string{`{"type":"membership","external_ids":{"kc":"kc-m"}}`}, 1, "no id, external_ids.clerk or email"},
		{"ErrOtherDatabase", "kc", []string{fmt.Sprintf(`{"type":"user","id":%d,"external_ids":{"clerk":"user_b","kc":"kc-a"}}`, alice)}, 1, "another database"},
		{"ErrSameRowTwice", "kc", []string{good, `{"type":"user","email":"alice@acme.test","external_ids":{"kc":"kc-a2"}}`}, 2, fmt.Sprintf("user %d is also on line 1", alice)},
		{"ErrSameIDTwice", "kc", []string{good, `{"type":"user","external_ids":{"clerk":"user_b","kc":"kc-a"}}`}, 2, fmt.Sprintf(`kc id "kc-a" of user %d is already user %d's`, alice+1, alice)},
		{"ErrClerkIDTaken", "clerk", []string{fmt.Sprintf(`{"type":"user","id":%d,"external_ids":{"clerk":"user_b"}}`, alice)}, 1, `clerk id "user_b" of user`},
		{"ErrHeaderLater", "kc", []string{good, `{"type":"header","format":"saas-identities","version":1,"exported_at":"2026-01-01T00:00:00Z"}`}, 2, "only allowed on the first line"},
		{"ErrNewerVersion", "kc", []string{`{"type":"header","format":"saas-identities","version":2,"exported_at":"2026-01-01T00:00:00Z"}`, good}, 1, "version 2"},
		{"ErrLineTooLong", "kc", []string{good, `{"type":"user","first_name":"` + strings.Repeat("x", identityfile.MaxLine) + `"}`}, 2, "longer than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := importFile(pool, c.provider, false, c.lines...)
			var le *identityfile.LineError
			if !errors.As(err, &le) || le.Line != c.line || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want line %d: …%s…", err, c.line, c.want)
			}
			if m := mappings(t, pool); m != "" {
				t.Fatalf("a refused import wrote %s", m)
			}
		})
	}
	t.Run("ErrBadProviderName", func(t *testing.T) {
		if _, err := importFile(pool, "Key Cloak", false, good); err == nil || !strings.Contains(err.Error(), "provider") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("ErrEmptyFile", func(t *testing.T) {
		_, err := identityfile.Import(context.Background(), pool, strings.NewReader(""), identityfile.ImportOptions{Provider: "kc"})
		if err == nil || !strings.Contains(err.Error(), "no records") {
			t.Fatalf("error %v", err)
		}
	})
	if got := clerkIDs(t, pool); strings.Count(got, "user_b") != 1 {
		t.Errorf("a refused clerk import changed ids: %s", got)
	}
}
