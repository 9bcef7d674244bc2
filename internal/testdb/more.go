package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// UniqueName returns prefix followed by random hex, for a database or role
// no other test uses.
func UniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// NewLimited creates an empty database owned by a new login role that
// PostgreSQL allows connLimit connections (a role's CONNECTION LIMIT; the
// role is not a superuser, whom PostgreSQL exempts), and returns the URL
// that connects to it as that role. Both are dropped when the test ends.
func NewLimited(t testing.TB, connLimit int) string {
	t.Helper()
	role, name := UniqueName("saas_limited_"), UniqueName("saas_test_limited_")
	if !exec(t, "CREATE ROLE "+role+" LOGIN CONNECTION LIMIT "+strconv.Itoa(connLimit)) {
		t.FailNow()
	}
	t.Cleanup(func() {
		if err := Drop(name); err != nil {
			t.Errorf("testdb: %v", err)
		}
		exec(t, "DROP ROLE IF EXISTS "+role)
	})
	if !exec(t, "CREATE DATABASE "+name+" OWNER "+role) {
		t.FailNow()
	}
	u, err := url.Parse(URLFor(name))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	return u.String()
}

// exec runs one statement on the server's maintenance database and
// reports whether it succeeded (a failure is reported on t).
func exec(t testing.TB, sql string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := connect(ctx)
	if err != nil {
		t.Errorf("testdb: connect: %v", err)
		return false
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Errorf("testdb: %s: %v", sql, err)
		return false
	}
	return true
}
