package server

import "testing"

// TestRequestIDsAreUnique: ids of one process never repeat, and two
// processes (two generators) do not share ids either.
func TestRequestIDsAreUnique(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, gen := range []func() string{requestIDs(), requestIDs()} {
		for range 1000 {
			id := gen()
			if seen[id] || len(id) < 18 {
				t.Fatalf("request id %q repeated or too short", id)
			}
			seen[id] = true
		}
	}
}
