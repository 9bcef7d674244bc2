package app_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/clerkemu"
	"github.com/saasstarter/saas/internal/clerksync"
)

// TestChaosDeliveryConverges: with the emulator duplicating, reordering and
// delaying webhooks, the app database still ends up exactly matching
// Clerk's state — reconcile afterwards finds nothing to repair.
func TestChaosDeliveryConverges(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprintf("Seed%d", seed), func(t *testing.T) {
			t.Parallel()
			chaosRound(t, seed)
		})
	}
}

func chaosRound(t *testing.T, seed uint64) {
	ta := start(t, app.Options{Emulator: clerkemu.Config{
		Chaos: clerkemu.ChaosConfig{DuplicateRate: 0.3, ReorderRate: 0.3, MaxDelay: 20 * time.Millisecond, Seed: seed},
	}})
	ta.synced(t)

	// A burst of changes to the same objects, so order matters.
	var org struct {
		ID string `json:"id"`
	}
	alice := userID(t, ta.Server, "alice@acme.test")
	bapi(t, ta.Server, http.MethodPost, "/organizations", map[string]any{"name": "Chaos Inc", "created_by": alice}, &org)
	var users []string
	for i := range 4 {
		var u struct {
			ID string `json:"id"`
		}
		bapi(t, ta.Server, http.MethodPost, "/users", map[string]any{
			"email_address": []string{fmt.Sprintf("chaos%d@example.test", i)}, "first_name": fmt.Sprintf("C%d", i), "password": "password-123456",
		}, &u)
		users = append(users, u.ID)
		bapi(t, ta.Server, http.MethodPost, "/organizations/"+org.ID+"/memberships", map[string]any{"user_id": u.ID, "role": "org:member"}, nil)
	}
	bapi(t, ta.Server, http.MethodPatch, "/organizations/"+org.ID+"/memberships/"+users[0], map[string]any{"role": "org:admin"}, nil)
	bapi(t, ta.Server, http.MethodDelete, "/organizations/"+org.ID+"/memberships/"+users[1], nil, nil)
	bapi(t, ta.Server, http.MethodPatch, "/organizations/"+org.ID, map[string]any{"name": "Chaos Incorporated"}, nil)
	bapi(t, ta.Server, http.MethodDelete, "/users/"+users[2], nil, nil)
	bapi(t, ta.Server, http.MethodPatch, "/users/"+users[3]+"/metadata", map[string]any{"public_metadata": map[string]any{"tier": "gold"}}, nil)
	ta.synced(t)

	report, err := ta.App.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if report != (clerksync.Report{}) {
		t.Fatalf("after chaotic delivery the database differs from Clerk: reconcile changed %s", report)
	}
	var name string
	if err := ta.App.Pool().QueryRow(context.Background(), "SELECT name FROM organizations WHERE clerk_id = $1", org.ID).Scan(&name); err != nil || name != "Chaos Incorporated" {
		t.Fatalf("org name = %q, %v", name, err)
	}
}
