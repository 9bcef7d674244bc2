package audit

import (
	"maps"
	"testing"
)

// TestDetailsOf: string values are kept, others read as "", and a value
// that is not an object shows nothing.
func TestDetailsOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw  string
		want map[string]string
	}{
		{`{"name":"Apollo","role":"org:admin"}`, map[string]string{"name": "Apollo", "role": "org:admin"}},
		{`{"name":"Apollo","count":3,"tags":["a"]}`, map[string]string{"name": "Apollo", "count": "", "tags": ""}},
		{`[1,2]`, nil},
		{`not json`, nil},
	} {
		if got := DetailsOf([]byte(tc.raw)); !maps.Equal(got, tc.want) {
			t.Errorf("DetailsOf(%s) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}
