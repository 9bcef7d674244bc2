package pagecursor

import (
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	c := Encode("audit", Time(at), "42")
	parts, err := Decode("audit", c, 2)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseTime(parts[0])
	if err != nil || !got.Equal(at) {
		t.Fatalf("time = %v, %v; want %v", got, err, at)
	}
	if id, err := ParseID(parts[1]); err != nil || id != 42 {
		t.Fatalf("id = %d, %v", id, err)
	}
}

func TestRefused(t *testing.T) {
	good := Encode("audit", "1", "2")
	for name, tc := range map[string]struct {
		list, cursor string
		n            int
	}{
		"not base64":    {"audit", "%%%", 2},
		"not json":      {"audit", "bm90IGpzb24", 2},
		"other list":    {"members", good, 2},
		"too few parts": {"audit", good, 3},
		"too long":      {"audit", strings.Repeat("A", MaxLen+1), 2},
		"empty":         {"audit", "", 2},
	} {
		if _, err := Decode(tc.list, tc.cursor, tc.n); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, s := range []string{"", "x", "-1", "0"} {
		if _, err := ParseID(s); err == nil {
			t.Errorf("ParseID(%q) accepted", s)
		}
	}
	if _, err := ParseTime("1e9"); err == nil {
		t.Error("ParseTime accepted a float")
	}
}
