package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/saasstarter/saas/internal/database"
	"github.com/saasstarter/saas/internal/identityfile"
	"github.com/saasstarter/saas/internal/testdb"
)

// webCommand runs `web args…` against dbURL and returns its log.
func webCommand(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	env := map[string]string{
		"APP_ENV":        "test",
		"DATABASE_URL":   dbURL,
		"SESSION_SECRET": "identity-commands-secret-0123456789abcdef0123",
	}
	var logs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := run(ctx, args, func(k string) string { return env[k] }, &logs)
	return logs.String(), err
}

// TestIdentityCommands: export-identities writes the identity file (only
// its owner can read it), import-identities --dry-run writes nothing, the
// import maps the new provider's ids, and a bad file or bad arguments are
// refused with a clear error.
func TestIdentityCommands(t *testing.T) {
	t.Parallel()
	dbURL := testdb.New(t)
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, sql := range []string{
		`INSERT INTO users (clerk_id, email, first_name) VALUES ('user_a', 'alice@acme.test', 'Alice'), ('user_b', 'bob@acme.test', 'Bob')`,
		`INSERT INTO organizations (clerk_id, name, slug) VALUES ('org_acme', 'Acme', 'acme')`,
		`INSERT INTO memberships (clerk_id, organization_id, user_id, role)
		 SELECT 'mem_' || u.clerk_id, o.id, u.id, 'org:admin' FROM organizations o, users u`,
	} {
		if _, err := conn.Exec(context.Background(), sql); err != nil {
			t.Fatal(err)
		}
	}
	mapped := func() int {
		t.Helper()
		var n int
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM external_identities WHERE provider = 'keycloak'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "identities.jsonl")
	logs, err := webCommand(t, dbURL, "export-identities", "-o", file)
	if err != nil {
		t.Fatalf("export-identities: %v\n%s", err, logs)
	}
	if !strings.Contains(logs, "2 users, 1 organisation, 2 memberships, 0 invitations") {
		t.Errorf("the log does not say what was exported:\n%s", logs)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("the file's mode is %v, want 0600: it holds personal data", fi.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".identities-*")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], `{"type":"header","format":"saas-identities","version":1,`) {
		t.Fatalf("the file has %d lines, want a header and 5 records:\n%s", len(lines), raw)
	}

	// The new provider's ids, as a migration script would add them.
	var withIDs bytes.Buffer
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			m["external_ids"].(map[string]any)["keycloak"] = "kc-" + m["external_ids"].(map[string]any)["clerk"].(string)
		}
		b, _ := json.Marshal(m)
		withIDs.Write(append(b, '\n'))
	}
	mappedFile := filepath.Join(dir, "keycloak.jsonl")
	if err := os.WriteFile(mappedFile, withIDs.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if logs, err := webCommand(t, dbURL, "import-identities", "--provider", "keycloak", "--dry-run", mappedFile); err != nil {
		t.Fatalf("dry run: %v\n%s", err, logs)
	}
	if n := mapped(); n != 0 {
		t.Fatalf("the dry run wrote %d mappings", n)
	}
	if logs, err := webCommand(t, dbURL, "import-identities", "--provider", "keycloak", mappedFile); err != nil {
		t.Fatalf("import: %v\n%s", err, logs)
	}
	if n := mapped(); n != 5 {
		t.Fatalf("%d keycloak ids recorded, want 5", n)
	}

	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte(lines[0]+"\n"+`{"type":"user","id":1,"external_ids":{"zitadel":"z"},"nickname":"x"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"ErrMalformedLine", []string{"import-identities", "--provider", "zitadel", bad}, `line 2: json: unknown field "nickname"`},
		{"ErrNoProvider", []string{"import-identities", bad}, "--provider and one FILE are required"},
		{"ErrNoFile", []string{"import-identities", "--provider", "zitadel", filepath.Join(dir, "missing.jsonl")}, "no such file"},
		{"ErrExportArgument", []string{"export-identities", "extra"}, `unexpected argument "extra"`},
		{"ErrUnknownFlag", []string{"export-identities", "--out", file}, "flag provided but not defined"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := webCommand(t, dbURL, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want …%s…", err, c.want)
			}
		})
	}
	if n := mapped(); n != 5 {
		t.Errorf("refused commands changed the mappings: %d", n)
	}
}

// TestIdentityCommandsNeedAMigratedDatabase: the identity commands do not
// migrate; on an older schema they say to run `web migrate`.
func TestIdentityCommandsNeedAMigratedDatabase(t *testing.T) {
	t.Parallel()
	dbURL := testdb.New(t)
	pool, err := database.Open(context.Background(), dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	_, err = pool.Exec(context.Background(), `UPDATE goose_db_version SET is_applied = false
	    WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`)
	pool.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"export-identities", "-o", filepath.Join(t.TempDir(), "x.jsonl")},
		{"import-identities", "--provider", "kc", "-"},
	} {
		if _, err := webCommand(t, dbURL, args...); err == nil || !strings.Contains(err.Error(), "run `web migrate` first") {
			t.Errorf("%s on an older schema: %v", args[0], err)
		}
	}
}

// TestProgressLine: the progress line redraws in place, at most once per
// interval, and is ended with a newline.
func TestProgressLine(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	now := time.Unix(0, 0)
	p := &progressLine{w: &out, every: time.Second, now: func() time.Time { return now }}
	p.show(identityfile.Counts{Users: 1000})
	now = now.Add(500 * time.Millisecond)
	p.show(identityfile.Counts{Users: 2000}) // too soon: not drawn
	now = now.Add(time.Second)
	p.show(identityfile.Counts{Users: 3000, Organizations: 1})
	p.done()
	want := "\rexporting: 1000 users, 0 organisations, 0 memberships, 0 invitations\x1b[K" +
		"\rexporting: 3000 users, 1 organisation, 0 memberships, 0 invitations\x1b[K\n"
	if out.String() != want {
		t.Errorf("progress output %q, want %q", out.String(), want)
	}
}
