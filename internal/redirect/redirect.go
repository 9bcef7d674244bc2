// Package redirect validates redirect targets that come from requests
// (redirect_url after sign-in, HX-Current-URL), so that the app never sends a
// browser to another origin (security checklist R-01).
package redirect

import "strings"

// maxLen bounds an accepted target. Real return paths are short; a long one
// is either an attack or a mistake, and the fallback is always safe.
const maxLen = 2048

// Safe returns raw when it is a same-origin relative path, and fallback
// otherwise. The rule is an allow-list: raw must start with exactly one "/",
// and may not contain a backslash, a control or non-ASCII byte, a space, a
// "." or ".." path segment, a malformed percent escape, or a percent-encoded
// slash, backslash, dot or control character. Browsers and proxies treat
// those as separators or strip them, which is how "/\evil.com" or
// "/%2F%2Fevil.com" become another host.
//
// raw is returned byte for byte: it is never percent-decoded, because
// decoding before writing Location is what turned "/%09/evil.example/" into an
// open redirect in Echo (GHSA-v753-g4cw-jm48). The fallback is trusted and
// not checked.
func Safe(raw, fallback string) string {
	if ok(raw) {
		return raw
	}
	return fallback
}

func ok(raw string) bool {
	if len(raw) == 0 || len(raw) > maxLen || raw[0] != '/' {
		return false
	}
	if len(raw) > 1 && raw[1] == '/' {
		return false // scheme-relative: //host
	}
	for i := 0; i < len(raw); i++ {
		b := raw[i]
		switch {
		case b <= ' ', b >= 0x7f, b == '\\':
			return false
		case b == '%':
			if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
				return false
			}
			if forbiddenEscape(unhex(raw[i+1])<<4 | unhex(raw[i+2])) {
				return false
			}
			i += 2
		}
	}
	path := raw
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// forbiddenEscape reports whether a percent-encoded byte would change how a
// browser, proxy or a later decoder splits the path: slashes, backslashes,
// dots (WHATWG treats "%2e%2e" as a ".." segment), and control characters.
func forbiddenEscape(b byte) bool {
	return b == '/' || b == '\\' || b == '.' || b < 0x20 || b == 0x7f
}

func isHex(b byte) bool {
	return ('0' <= b && b <= '9') || ('a' <= b && b <= 'f') || ('A' <= b && b <= 'F')
}

func unhex(b byte) byte {
	switch {
	case '0' <= b && b <= '9':
		return b - '0'
	case 'a' <= b && b <= 'f':
		return b - 'a' + 10
	default:
		return b - 'A' + 10
	}
}
