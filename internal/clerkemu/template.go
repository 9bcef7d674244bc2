package clerkemu

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// DefaultSessionTemplate is the session-token customisation the emulator
// ships with. It is the one the project's README tells Clerk users to set in
// the Dashboard, so the org_plan and feature_flags claims read the same in
// both modes.
const DefaultSessionTemplate = `{"org_plan":"{{org.public_metadata.plan}}","feature_flags":"{{org.public_metadata.features}}"}`

// reservedClaims cannot be set by a template: Clerk forbids overriding its
// default claims.
var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "sid": true, "azp": true, "exp": true, "nbf": true, "iat": true,
	"jti": true, "fva": true, "v": true, "sts": true, "o": true, "fea": true, "pla": true, "act": true,
	"org_id": true, "org_slug": true, "org_role": true, "org_permissions": true,
}

func parseTemplate(raw string) (map[string]any, error) {
	var t map[string]any
	if err := json.Unmarshal([]byte(raw), &t); err != nil {
		return nil, fmt.Errorf("clerkemu: session template must be a JSON object: %w", err)
	}
	return t, nil
}

var shortcodeRE = regexp.MustCompile(`\{\{\s*(.*?)\s*\}\}`)

// renderTemplate evaluates Clerk shortcodes against vars (user, org,
// org_membership, session). A value that is exactly one shortcode keeps the
// JSON type of what it resolves to, and is left out when that is null; a
// shortcode inside a longer string is interpolated as text.
func renderTemplate(tmpl map[string]any, vars map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range tmpl {
		if reservedClaims[k] {
			continue
		}
		if r := renderValue(v, vars); r != nil {
			out[k] = r
		}
	}
	return out
}

func renderValue(v any, vars map[string]any) any {
	switch v := v.(type) {
	case string:
		if m := shortcodeRE.FindStringSubmatchIndex(v); m != nil && m[0] == 0 && m[1] == len(v) {
			return evalExpr(v[m[2]:m[3]], vars)
		}
		return shortcodeRE.ReplaceAllStringFunc(v, func(code string) string {
			return textOf(evalExpr(shortcodeRE.FindStringSubmatch(code)[1], vars))
		})
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if r := renderValue(x, vars); r != nil {
				out[k] = r
			}
		}
		return out
	case []any:
		out := make([]any, 0, len(v))
		for _, x := range v {
			out = append(out, renderValue(x, vars))
		}
		return out
	default:
		return v
	}
}

// evalExpr resolves "a.b.c || 'fallback' || x.y": the first alternative that
// is neither null nor an empty string wins, like JavaScript's ||.
func evalExpr(expr string, vars map[string]any) any {
	for _, alt := range strings.Split(expr, "||") {
		alt = strings.TrimSpace(alt)
		var v any
		switch {
		case len(alt) >= 2 && (alt[0] == '\'' || alt[0] == '"') && alt[len(alt)-1] == alt[0]:
			v = alt[1 : len(alt)-1]
		case alt == "true" || alt == "false":
			v = alt == "true"
		default:
			if n, err := strconv.ParseFloat(alt, 64); err == nil {
				v = n
			} else {
				v = lookup(alt, vars)
			}
		}
		if v != nil && v != "" {
			return v
		}
	}
	return nil
}

func lookup(path string, vars map[string]any) any {
	var cur any = vars
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

func textOf(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}
