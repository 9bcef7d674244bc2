package auth_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// TestVerifyJWTChecklist runs security-checklist §3 (J-01…J-17) against a
// pinned key. The J-04, J-05 and J-16 key-source cases are in keys_test.go.
func TestVerifyJWTChecklist(t *testing.T) {
	t.Parallel()
	f := pinned(t)
	now := f.clock.Now().Unix()
	signWith := func(header map[string]any, edit func(map[string]any)) string {
		c := f.claims()
		if edit != nil {
			edit(c)
		}
		return f.key.Sign(t, header, c)
	}
	valid := f.token(t, nil)
	hs256 := func() string {
		in := b64(`{"alg":"HS256","typ":"JWT","kid":"ins_test_a"}`) + "." + b64(`{"iss":"`+fapi+`","sub":"user_1","sid":"sess_1","iat":1800000000,"exp":1800000060}`)
		m := hmac.New(sha256.New, []byte(f.key.PEM()))
		m.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}()
	parts := strings.Split(valid, ".")

	cases := []struct {
		id, name string
		token    string
		ok       bool
	}{
		{"J-00", "ValidV2Token", valid, true},
		{"J-01", "AlgNoneEmptySignature", b64(`{"alg":"none","kid":"ins_test_a"}`) + "." + parts[1] + ".", false},
		{"J-01", "AlgNoneWithSignature", b64(`{"alg":"none","kid":"ins_test_a"}`) + "." + parts[1] + "." + parts[2], false},
		{"J-02", "HS256KeyedWithPublicKey", hs256, false},
		{"J-02", "RS384", signWith(map[string]any{"alg": "RS384"}, nil), false},
		{"J-03", "OtherKeySameKid", f.other.Sign(t, map[string]any{"kid": "ins_test_a"}, f.claims()), false},
		{"J-03", "OtherInstance", f.other.Sign(t, nil, f.claims()), false},
		{"J-03", "SignatureOfAnotherToken", parts[0] + "." + strings.Split(f.token(t, func(c map[string]any) { c["sub"] = "user_2" }), ".")[1] + "." + parts[2], false},
		{"J-06", "NoExp", signWith(nil, func(c map[string]any) { delete(c, "exp") }), false},
		{"J-06", "NoIat", signWith(nil, func(c map[string]any) { delete(c, "iat") }), false},
		{"J-06", "NoSub", signWith(nil, func(c map[string]any) { delete(c, "sub") }), false},
		{"J-06", "NoSid", signWith(nil, func(c map[string]any) { delete(c, "sid") }), false},
		{"J-07", "ExpiredWithinLeeway", signWith(nil, func(c map[string]any) { c["iat"] = now - 61; c["exp"] = now - 1 }), true},
		{"J-07", "ExpiredBeyondLeeway", signWith(nil, func(c map[string]any) { c["iat"] = now - 90; c["exp"] = now - 30 }), false},
		{"J-07", "ExpiredSixSeconds", signWith(nil, func(c map[string]any) { c["iat"] = now - 66; c["exp"] = now - 6 }), false},
		{"J-08", "NbfInFuture", signWith(nil, func(c map[string]any) { c["nbf"] = now + 30 }), false},
		{"J-08", "IatInFuture", signWith(nil, func(c map[string]any) { c["iat"] = now + 30; c["exp"] = now + 90 }), false},
		{"J-09", "EvilIssuer", signWith(nil, func(c map[string]any) { c["iss"] = "https://evil.example.com" }), false},
		{"J-09", "ClerkPrefixIssuer", signWith(nil, func(c map[string]any) { c["iss"] = "https://clerk.attacker.dev" }), false},
		{"J-09", "IssuerTrailingSlash", signWith(nil, func(c map[string]any) { c["iss"] = fapi + "/" }), false},
		{"J-09", "NoIssuer", signWith(nil, func(c map[string]any) { delete(c, "iss") }), false},
		{"J-10", "AzpNotAllowed", signWith(nil, func(c map[string]any) { c["azp"] = "https://evil.example" }), false},
		{"J-10", "AzpMissingAccepted", signWith(nil, func(c map[string]any) { delete(c, "azp") }), true},
		{"J-10", "AzpEmptyAccepted", signWith(nil, func(c map[string]any) { c["azp"] = "" }), true},
		{"J-11", "TemplateTokenWithoutSid", signWith(nil, func(c map[string]any) { delete(c, "sid"); c["exp"] = now + 86400 }), false},
		{"J-11", "TemplateCategory", signWith(map[string]any{"cat": "cl_B7d4PD222AAA"}, nil), false},
		{"J-11", "SessionCategory", signWith(map[string]any{"cat": "cl_B7d4PD111AAA"}, nil), true},
		{"J-11", "IgnoreCategory", signWith(map[string]any{"cat": "cl_I7d4PD111III"}, nil), true},
		{"J-11", "MachineCategory", signWith(map[string]any{"cat": "cl_B7d4PD333AAA"}, nil), false},
		{"J-11", "MachineSubject", signWith(nil, func(c map[string]any) { c["sub"] = "mch_2abcdefghijklmnopqrstuvwxyz" }), false},
		{"J-12", "UnknownCrit", signWith(map[string]any{"crit": []string{"exp"}, "exp": 1}, nil), false},
		{"J-12", "CritB64", signWith(map[string]any{"crit": []string{"b64"}, "b64": true}, nil), true},
		{"J-13", "DuplicateSub", f.key.SignRaw(`{"alg":"RS256","typ":"JWT","kid":"ins_test_a"}`,
			`{"iss":"`+fapi+`","sub":"user_1","sub":"user_admin","sid":"sess_1","iat":1800000000,"exp":1800000060}`), false},
		{"J-13", "DuplicateAlg", f.key.SignRaw(`{"alg":"none","alg":"RS256","typ":"JWT","kid":"ins_test_a"}`,
			`{"iss":"`+fapi+`","sub":"user_1","sid":"sess_1","iat":1800000000,"exp":1800000060}`), false},
		{"J-14", "StdAlphabetSignature", parts[0] + "." + parts[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(parts[2]) + "+/", false},
		{"J-14", "FourSegments", valid + ".x", false},
		{"J-14", "PaddedPayload", parts[0] + "." + parts[1] + "=." + parts[2], false},
		{"J-14", "TrailingSpace", valid + " ", false},
		{"J-14", "LeadingSpace", " " + valid, false},
		{"J-14", "JSONSerialization", `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, false},
		{"J-14", "EmptySegment", parts[0] + ".." + parts[2], false},
		{"J-15", "Oversized", signWith(nil, func(c map[string]any) { c["pad"] = strings.Repeat("a", 9000) }), false},
		{"J-15", "MegabyteOfDots", strings.Repeat(".", 1<<20), false},
		{"J-18", "ActorAccepted", signWith(nil, func(c map[string]any) { c["act"] = map[string]any{"sub": "user_admin"} }), true},
		{"J-18", "MalformedActor", signWith(nil, func(c map[string]any) { c["act"] = "user_admin" }), false},
		{"J-00", "Empty", "", false},
		{"J-00", "OpaqueMachineToken", "mt_0123456789abcdef0123456789abcdef", false},
	}
	for _, tc := range cases {
		name := "Rejects"
		if tc.ok {
			name = "Accepts"
		}
		t.Run(tc.id+"/"+name+tc.name, func(t *testing.T) {
			a, err := f.a.Verify(context.Background(), tc.token)
			if tc.ok && (err != nil || !a.SignedIn()) {
				t.Fatalf("want accepted, got %v", err)
			}
			if !tc.ok && err == nil {
				t.Fatalf("want rejected, got signed in as %q", a.UserID)
			}
		})
	}
}

func TestVerifyReadsIdentity(t *testing.T) {
	t.Parallel()
	f := pinned(t)
	tok := f.token(t, func(c map[string]any) {
		c["act"] = map[string]any{"sub": "user_admin", "iss": "https://dashboard.clerk.com"}
		c["fva"] = []int{3, -1}
	})
	a, err := f.a.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if a.UserID != "user_1" || a.SessionID != "sess_1" || a.SessionStatus != "active" {
		t.Errorf("identity = %q %q %q", a.UserID, a.SessionID, a.SessionStatus)
	}
	if a.Actor == nil || a.Actor.Subject != "user_admin" {
		t.Errorf("actor = %+v", a.Actor)
	}
	if a.FactorVerificationAge != [2]int64{3, -1} {
		t.Errorf("fva = %v", a.FactorVerificationAge)
	}
	if !a.ExpiresAt.Equal(t0.Add(60*time.Second)) || !a.IssuedAt.Equal(t0) {
		t.Errorf("times = %v %v", a.IssuedAt, a.ExpiresAt)
	}
}

// TestVerifyCachesUntilExpiry shows that a repeat token is served from the
// cache (even with its key gone) and that the cache ends at exp + leeway.
func TestVerifyCachesUntilExpiry(t *testing.T) {
	t.Parallel()
	f := withJWKS(t)
	tok := f.token(t, nil)
	ctx := context.Background()
	if _, err := f.a.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	f.jwks.SetKeys() // the key disappears; only the cache can answer now
	f.clock.Advance(time.Minute)
	for range 3 {
		if _, err := f.a.Verify(ctx, tok); err != nil {
			t.Fatalf("cache miss: %v", err)
		}
	}
	if n := f.jwks.Fetches.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", n)
	}
	if hits, misses := f.a.CacheStats(); hits != 3 || misses != 1 {
		t.Fatalf("CacheStats = %d hits, %d misses; want 3, 1", hits, misses)
	}
	f.clock.Advance(6 * time.Second) // exp + 5 s leeway has passed
	if _, err := f.a.Verify(ctx, tok); err == nil {
		t.Fatal("expired token still accepted from the cache")
	}
}
