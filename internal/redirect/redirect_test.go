package redirect

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafe(t *testing.T) {
	t.Parallel()
	const fallback = "/"
	// Security checklist R-01 vectors, plus the encodings and dot segments the
	// same rule is meant to cover.
	rejected := []string{
		"https://evil.com",
		"//evil.com",
		"///evil.com",
		`/\evil.com`,
		`\\evil.com`,
		"/%2F%2Fevil.com",
		"/%2f%2fevil.com",
		"/%5Cevil.com",
		"/%5cevil.com",
		"/dashboard?next=%2F%2Fevil.com",
		`/\t/evil.com`,
		"/\t/evil.com",
		"/\r\nLocation: https://evil.com",
		"/\n/evil.com",
		" //evil.com",
		"https:evil.com",
		"javascript:alert(1)",
		"http://app.example.com@evil.com",
		"HTTPS://EVIL.COM",
		"https://app.example.com.evil.com",
		"/..//evil.com",
		"/../evil.com",
		"/a/../../evil.com",
		"/./evil.com",
		"/a/..",
		"/%2e%2e/evil.com",
		"/%2E/evil.com",
		"/%09/evil.example/",
		"/%0d%0aSet-Cookie:x=y",
		"/%00",
		"/%zz",
		"/%2",
		"/dashboard%",
		"/a b",
		"/caf\u00e9",
		"/\x7f",
		"",
		"dashboard",
		"?x=1",
		"#top",
		"/" + strings.Repeat("a", maxLen),
	}
	for _, raw := range rejected {
		t.Run("Rejects/"+raw, func(t *testing.T) {
			if got := Safe(raw, fallback); got != fallback {
				t.Fatalf("Safe(%q) = %q, want fallback %q", raw, got, fallback)
			}
		})
	}
	accepted := []string{
		"/",
		"/dashboard",
		"/dashboard?tab=1",
		"/orgs/org_1/settings",
		"/dashboard?next=/orgs&x=%41",
		"/orgs/a%20b",
		"/search?q=a..b",
		"/a/b#section",
		"/a..b/c.",
	}
	for _, raw := range accepted {
		t.Run("Accepts/"+raw, func(t *testing.T) {
			if got := Safe(raw, fallback); got != raw {
				t.Fatalf("Safe(%q) = %q, want it unchanged", raw, got)
			}
		})
	}
	t.Run("ReturnsGivenFallback", func(t *testing.T) {
		if got := Safe("//evil.com", "/dashboard"); got != "/dashboard" {
			t.Fatalf("got %q", got)
		}
	})
}

// FuzzSafe checks the property that matters: whatever Safe returns resolves,
// against the app's origin, to the app's origin, and is returned verbatim.
func FuzzSafe(f *testing.F) {
	for _, s := range []string{"/dashboard?tab=1", "//evil.com", `/\evil.com`, "/%2F%2Fevil.com", "/..//x", "/\t/x", "https://evil.com", "/%09/evil.example/"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://app.example.com/some/page")
	f.Fuzz(func(t *testing.T, raw string) {
		got := Safe(raw, "/fallback")
		if got == "/fallback" {
			return
		}
		if got != raw {
			t.Fatalf("Safe(%q) = %q: accepted values must be returned unchanged", raw, got)
		}
		if strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\t\r\n") {
			t.Fatalf("Safe accepted %q", got)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("Safe accepted unparsable %q: %v", got, err)
		}
		if u.Scheme != "" || u.Host != "" || u.User != nil {
			t.Fatalf("Safe accepted %q with scheme/host/user", got)
		}
		if r := base.ResolveReference(u); r.Host != base.Host || r.Scheme != base.Scheme {
			t.Fatalf("Safe accepted %q which resolves to %s", got, r)
		}
		// Decoding once must not produce a scheme-relative or backslash path either.
		if dec, err := url.PathUnescape(got); err == nil && (strings.HasPrefix(dec, "//") || strings.Contains(dec, `\`)) {
			t.Fatalf("Safe accepted %q which decodes to %q", got, dec)
		}
	})
}
