package clerksync

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saasstarter/saas/internal/testdb"
)

// fakeBAPI serves the four Backend API lists Reconcile reads, in Clerk's
// shapes (clerk.md §7): GET /v1/users is a bare array with /v1/users/count
// beside it; the others are {data, total_count}. It is deliberately small;
// the emulator is the full stand-in.
type fakeBAPI struct {
	users, orgs []map[string]any
	members     map[string][]map[string]any // by org id
	mu          sync.Mutex
	requests    int
	throttled   bool // answer the first organizations request with 429
}

func (f *fakeBAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	throttle := f.throttled && strings.HasSuffix(r.URL.Path, "/organizations")
	f.throttled = f.throttled && !throttle
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer sk_test_fake" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errors":[{"code":"authentication_invalid","message":"bad key"}]}`)
		return
	}
	if throttle {
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"errors":[{"code":"too_many_requests","message":"slow down"}]}`)
		return
	}
	page := func(all []map[string]any) []map[string]any {
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		if limit <= 0 {
			limit = 10
		}
		end := min(offset+limit, len(all))
		if offset > end {
			return []map[string]any{}
		}
		return all[offset:end]
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	p := strings.TrimPrefix(r.URL.Path, "/v1")
	switch {
	case p == "/users":
		_ = enc.Encode(page(f.users))
	case p == "/users/count":
		_ = enc.Encode(map[string]any{"object": "total_count", "total_count": len(f.users)})
	case p == "/organizations":
		_ = enc.Encode(map[string]any{"data": page(f.orgs), "total_count": len(f.orgs)})
	case strings.HasPrefix(p, "/organizations/") && strings.HasSuffix(p, "/memberships"):
		all := f.members[strings.TrimSuffix(strings.TrimPrefix(p, "/organizations/"), "/memberships")]
		_ = enc.Encode(map[string]any{"data": page(all), "total_count": len(all)})
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"errors":[{"code":"resource_not_found","message":"not found"}]}`)
	}
}

func bapiUser(id, first string, updated int64) map[string]any {
	return map[string]any{
		"object": "user", "id": id, "first_name": first, "last_name": "L", "image_url": "https://img/" + id,
		"primary_email_address_id": "e_" + id,
		"email_addresses":          []any{map[string]any{"id": "e_" + id, "email_address": id + "@x.example"}},
		"public_metadata":          map[string]any{}, "created_at": 1_700_000_000_000, "updated_at": updated,
	}
}

func bapiOrg(id, plan string, updated int64) map[string]any {
	return map[string]any{
		"object": "organization", "id": id, "name": "Org " + id, "slug": id,
		"public_metadata": map[string]any{"plan": plan}, "created_at": 1_700_000_000_000, "updated_at": updated,
	}
}

func bapiMember(id string, org map[string]any, userID, role string, updated int64) map[string]any {
	return map[string]any{
		"object": "organization_membership", "id": id, "role": role, "permissions": []string{},
		"organization":     org,
		"public_user_data": map[string]any{"user_id": userID, "first_name": "F", "identifier": userID + "@x.example"},
		"created_at":       1_700_000_000_000, "updated_at": updated,
	}
}

func TestReconcileRepairsDrift(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.Pool(t)
	s := New(pool, Options{Logger: slog.New(slog.DiscardHandler)})
	deliver := func(typ string, data any) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"type": typ, "data": data, "timestamp": time.Now().UnixMilli()})
		if res, err := s.Ingest(ctx, fmt.Sprintf("msg_%d", time.Now().UnixNano()), body); err != nil || res.Status != StatusApplied {
			t.Fatalf("seed %s: %+v, %v", typ, res, err)
		}
	}

	o1, o2 := bapiOrg("org_1", "enterprise", 1_700_000_002_000), bapiOrg("org_2", "free", 1_700_000_000_000)
	f := &fakeBAPI{
		users: []map[string]any{
			bapiUser("user_same", "Same", 1_700_000_000_000),
			bapiUser("user_changed", "NewName", 1_700_000_002_000),
			bapiUser("user_missing", "Missing", 1_700_000_000_000),
		},
		orgs: []map[string]any{o1, o2},
		members: map[string][]map[string]any{
			"org_1": {bapiMember("mem_same", o1, "user_same", "org:admin", 1_700_000_000_000),
				bapiMember("mem_missing", o1, "user_changed", "basic_member", 1_700_000_000_000)},
			"org_2": {bapiMember("mem_role", o2, "user_missing", "org:admin", 1_700_000_002_000)},
		},
		throttled: true,
	}
	// The database: one user and one membership in step, older data for
	// user_changed, org_1 and mem_role, and rows Clerk no longer has.
	deliver("user.created", f.users[0])
	deliver("user.updated", bapiUser("user_changed", "OldName", 1_700_000_001_000))
	deliver("user.created", bapiUser("user_gone", "Gone", 1_700_000_000_000))
	deliver("organization.created", bapiOrg("org_1", "free", 1_700_000_001_000))
	deliver("organization.created", bapiOrg("org_gone", "free", 1_700_000_000_000))
	deliver("organizationMembership.created", f.members["org_1"][0])
	deliver("organizationMembership.created", bapiMember("mem_role", o2, "user_missing", "org:member", 1_700_000_001_000))
	deliver("organizationMembership.created", bapiMember("mem_gone", o2, "user_same", "org:member", 1_700_000_000_000))
	// org_2 and user_missing now exist only as stubs (from the membership).

	srv := httptest.NewServer(f)
	defer srv.Close()
	backend := Backend{URL: srv.URL + "/v1", SecretKey: "sk_test_fake", PageSize: 2}

	start := time.Now()
	rep, err := Reconcile(ctx, pool, backend)
	if err != nil {
		t.Fatal(err)
	}
	want := Report{
		Users:         Counts{Created: 0, Updated: 2, Deleted: 1}, // user_missing was a stub: updated
		Organizations: Counts{Created: 0, Updated: 2, Deleted: 1}, // org_2 was a stub
		Memberships:   Counts{Created: 1, Updated: 1, Deleted: 1},
	}
	if rep != want {
		t.Fatalf("report = %v\nwant     %v", rep, want)
	}
	// 8 requests (users ×2 pages ×2 calls, orgs ×2 with the 429, members ×2)
	// at 5/s with a burst of 5: at least 0.6 s.
	if f.requests != 8 || time.Since(start) < 550*time.Millisecond {
		t.Errorf("requests = %d in %v; want 8, rate-limited", f.requests, time.Since(start))
	}

	var got string
	err = pool.QueryRow(ctx, `SELECT
		(SELECT string_agg(clerk_id || ':' || first_name || ':' || stub::text, ',' ORDER BY clerk_id) FROM users WHERE deleted_at IS NULL) || ' | ' ||
		(SELECT string_agg(clerk_id || ':' || plan, ',' ORDER BY clerk_id) FROM organizations WHERE deleted_at IS NULL) || ' | ' ||
		(SELECT string_agg(clerk_id || ':' || role, ',' ORDER BY clerk_id) FROM memberships WHERE deleted_at IS NULL)`).Scan(&got)
	if err != nil {
		t.Fatal(err)
	}
	const wantState = "user_changed:NewName:false,user_missing:Missing:false,user_same:Same:false | " +
		"org_1:enterprise,org_2:free | mem_missing:org:member,mem_role:org:admin,mem_same:org:admin"
	if got != wantState {
		t.Fatalf("state = %s\nwant    %s", got, wantState)
	}

	again, err := Reconcile(ctx, pool, backend)
	if err != nil || again != (Report{}) {
		t.Fatalf("second run = %v, %v; want no changes", again, err)
	}

	if _, err := Reconcile(ctx, pool, Backend{URL: srv.URL + "/v1", SecretKey: "sk_test_wrong"}); err == nil {
		t.Fatal("a rejected secret key did not fail the reconcile")
	}
}
