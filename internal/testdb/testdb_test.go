package testdb_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/saasstarter/saas/internal/database"
	"github.com/saasstarter/saas/internal/testdb"
)

func TestPoolIsMigratedAndIsolated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := testdb.Pool(t)
	b := testdb.Pool(t)

	want, err := database.LatestVersion()
	if err != nil {
		t.Fatal(err)
	}
	if err := database.Ready(ctx, a, want); err != nil {
		t.Fatalf("cloned database is not migrated: %v", err)
	}
	if _, err := a.Exec(ctx, "INSERT INTO users (clerk_id) VALUES ('user_only_in_a')"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("database b sees %d users written to a; want 0", n)
	}
}

// TestDroppedWhenTheTestEnds: this package runs without testdb.Main, so a
// test's database is dropped as soon as the test ends.
func TestDroppedWhenTheTestEnds(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("Uses", func(t *testing.T) {
		u, err := url.Parse(testdb.New(t))
		if err != nil {
			t.Fatal(err)
		}
		name = strings.TrimPrefix(u.Path, "/")
	})
	conn, err := pgx.Connect(context.Background(), testdb.URLFor("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if name == "" || exists {
		t.Fatalf("database %q still exists after its test ended", name)
	}
}
