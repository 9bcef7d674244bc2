package testdb_test

import (
	"context"
	"testing"

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
