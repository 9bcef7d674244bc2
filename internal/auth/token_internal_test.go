package auth

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzExtractToken feeds arbitrary Authorization and Cookie headers to the
// token transport. It must never panic, and whatever it would hand to the
// JOSE library must be a single-spelling compact JWS within the size cap.
func FuzzExtractToken(f *testing.F) {
	f.Add("Bearer a.b.c", "__session=a.b.c; __client_uat=1")
	f.Add("bearer  x.y.z ", "__session_uosMEFaG=\"a.b.c\"; __session=d.e.f")
	f.Add("Basic dXNlcg==", "__client_uat_uosMEFaG=0;__clerk_handshake=a.b.c")
	f.Add("Bearer\ta.b.c.d", ";;=;__session=;__session")
	f.Add("", "__session="+strings.Repeat("a", 9000)+".b.c")
	f.Fuzz(func(t *testing.T, authz, cookie string) {
		h := http.Header{}
		h.Set("Authorization", authz)
		h.Set("Cookie", cookie)
		if tok, ok := bearerToken(h.Get("Authorization")); ok {
			check(t, tok)
		}
		ck := readCookies(h, "uosMEFaG")
		tok, uat, _ := ck.sessionToken()
		check(t, tok)
		check(t, ck.handshake)
		_ = uat
	})
}

func check(t *testing.T, tok string) {
	if !wellFormed(tok) {
		return
	}
	if len(tok) > maxTokenLen || strings.Count(tok, ".") != 2 || strings.ContainsAny(tok, " \t\r\n=+/\"") {
		t.Fatalf("wellFormed accepted %q", tok)
	}
	if _, err := parseHeader(tok); err == nil && !strings.HasPrefix(tok, "ey") {
		t.Fatalf("header of %q parsed without being JSON", tok)
	}
}

func TestWellFormed(t *testing.T) {
	t.Parallel()
	for tok, want := range map[string]bool{
		"a.b.c": true, "A-_.b9.c": true, "a.b": false, "a.b.c.d": false, ".b.c": false, "a..c": false, "a.b.": false,
		"a.b.c=": false, "a.b.c ": false, "a+b.c.d": false, strings.Repeat("a", maxTokenLen-3) + ".b.c": false,
		strings.Repeat("a", maxTokenLen-4) + ".b.c": true,
	} {
		if got := wellFormed(tok); got != want {
			t.Errorf("wellFormed(%.20q…) = %v, want %v", tok, got, want)
		}
	}
}

func TestCacheIsBounded(t *testing.T) {
	t.Parallel()
	c := newTTLCache[int](100)
	now := time.Unix(1_800_000_000, 0)
	for i := range 1000 {
		c.put(keyOf(strings.Repeat("x", i)), i, now.Add(1000), now)
	}
	if n := c.len(); n > 100 {
		t.Fatalf("cache holds %d entries, bound is 100", n)
	}
	if _, ok := c.get(keyOf(strings.Repeat("x", 999)), now); !ok {
		t.Fatal("latest entry evicted")
	}
	if _, ok := c.get(keyOf(strings.Repeat("x", 999)), now.Add(1001)); ok {
		t.Fatal("expired entry served")
	}
}
