package auth_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/auth/authtest"
	"github.com/saasstarter/saas/internal/config"
)

// TestJWKSRandomKids is J-04: 1,000 tokens with random kids, sequential and
// concurrent, cost one JWKS fetch per interval, not one per token.
func TestJWKSRandomKids(t *testing.T) {
	t.Parallel()
	f := withJWKS(t)
	ctx := context.Background()
	// An attacker has no signing key, so only the header matters: reuse one
	// payload and signature under headers with random kids.
	parts := strings.Split(f.other.Sign(t, nil, f.claims()), ".")
	kidToken := func(i int) string {
		return b64(fmt.Sprintf(`{"alg":"RS256","typ":"JWT","kid":"ins_random_%d"}`, i)) + "." + parts[1] + "." + parts[2]
	}
	tokens := make([]string, 1000)
	for i := range tokens {
		tokens[i] = kidToken(i)
	}
	var wg sync.WaitGroup
	for _, tok := range tokens[:500] {
		wg.Go(func() {
			if _, err := f.a.Verify(ctx, tok); err == nil {
				t.Error("token with unknown kid accepted")
			}
		})
	}
	wg.Wait()
	for _, tok := range tokens[500:] {
		if _, err := f.a.Verify(ctx, tok); err == nil {
			t.Fatal("token with unknown kid accepted")
		}
	}
	if n := f.jwks.Fetches.Load(); n != 1 {
		t.Fatalf("1,000 random kids caused %d JWKS fetches, want 1", n)
	}
	// A genuine token still verifies: its kid was in the one fetch.
	if _, err := f.a.Verify(ctx, f.token(t, nil)); err != nil {
		t.Fatal(err)
	}
	// After the interval one more fetch is allowed, and only one.
	f.clock.Advance(31 * time.Second)
	for i := range 100 {
		_, _ = f.a.Verify(ctx, kidToken(1000+i))
	}
	if n := f.jwks.Fetches.Load(); n != 2 {
		t.Fatalf("after the interval: %d fetches, want 2", n)
	}
}

// TestJWKSKeySource covers J-05 and J-16 and the Backend API's
// authentication.
func TestJWKSKeySource(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("J-05/RejectsMissingKidOnJWKSPath", func(t *testing.T) {
		f := withJWKS(t)
		tok := f.key.Sign(t, map[string]any{"kid": nil}, f.claims())
		if _, err := f.a.Verify(ctx, tok); err == nil {
			t.Fatal("token without kid accepted")
		}
		if n := f.jwks.Fetches.Load(); n != 0 {
			t.Fatalf("%d fetches for a kid-less token", n)
		}
	})
	t.Run("J-05/AcceptsMissingKidWithPinnedKey", func(t *testing.T) {
		f := pinned(t)
		if _, err := f.a.Verify(ctx, f.key.Sign(t, map[string]any{"kid": nil}, f.claims())); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("J-16/RotationNewKidAfterIntervalOldKidDropped", func(t *testing.T) {
		f := withJWKS(t)
		if _, err := f.a.Verify(ctx, f.token(t, nil)); err != nil {
			t.Fatal(err)
		}
		rotated := authtest.NewIssuer(t, "ins_rotated")
		rotated.Key = f.other.Key // reuse a key; only the kid matters here
		f.jwks.SetKeys(rotated)
		f.clock.Advance(31 * time.Second)
		if _, err := f.a.Verify(ctx, rotated.Sign(t, nil, f.claims())); err != nil {
			t.Fatalf("new kid refused: %v", err)
		}
		// The refetch replaced the set: a fresh token with the removed kid
		// is refused (tokens verified before stay cached until exp).
		if _, err := f.a.Verify(ctx, f.token(t, func(c map[string]any) { c["jti"] = "other" })); err == nil {
			t.Fatal("removed kid still trusted after the refetch")
		}
	})
	t.Run("RejectsWhenSecretKeyWrong", func(t *testing.T) {
		key, _ := issuers(t)
		srv := authtest.NewJWKSServer(t, "sk_test_right", key)
		cfg := baseConfig(authtest.NewClock(t0))
		cfg.APIURL, cfg.SecretKey = srv.URL+"/v1", "sk_test_wrong"
		a, err := auth.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Verify(ctx, key.Sign(t, nil, authtest.Session(fapi, "user_1", "sess_1", t0))); err == nil {
			t.Fatal("accepted without keys")
		}
	})
	t.Run("NewDoesNoNetworkIO", func(t *testing.T) {
		f := withJWKS(t)
		_ = f
		if n := f.jwks.Fetches.Load(); n != 0 {
			t.Fatalf("New fetched the JWKS %d times", n)
		}
	})
}

// TestPEMFormats: CLERK_JWT_KEY with or without the BEGIN/END lines, on one
// line, or with escaped newlines; anything else fails at start-up.
func TestPEMFormats(t *testing.T) {
	t.Parallel()
	key, _ := issuers(t)
	full := key.PEM()
	body := strings.Join(strings.Split(strings.TrimSpace(full), "\n")[1:strings.Count(strings.TrimSpace(full), "\n")], "")
	for name, pem := range map[string]string{
		"Full":            full,
		"BodyOnOneLine":   body,
		"EscapedNewlines": strings.ReplaceAll(full, "\n", `\n`),
		"HeaderOneLine":   "-----BEGIN PUBLIC KEY-----" + body + "-----END PUBLIC KEY-----",
	} {
		t.Run("Accepts"+name, func(t *testing.T) {
			cfg := baseConfig(authtest.NewClock(t0))
			cfg.JWTKey = pem
			a, err := auth.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Verify(context.Background(), key.Sign(t, nil, authtest.Session(fapi, "user_1", "sess_1", t0))); err != nil {
				t.Fatal(err)
			}
		})
	}
	for name, pem := range map[string]string{"Garbage": "not a key", "Truncated": body[:100]} {
		t.Run("Rejects"+name, func(t *testing.T) {
			cfg := baseConfig(authtest.NewClock(t0))
			cfg.JWTKey = pem
			if _, err := auth.New(cfg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestCookieSuffix(t *testing.T) {
	t.Parallel()
	if got := auth.CookieSuffix(pk); got != suffix {
		t.Fatalf("CookieSuffix(%q) = %q, want %q (clerk.md §2.1)", pk, got, suffix)
	}
	if got := auth.CookieSuffix(""); got != "" {
		t.Fatalf("empty key gave suffix %q", got)
	}
}

func TestFrontendAPIFromPublishableKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"pk_test_Y2xlcmsubG9jYWxob3N0JA":         "https://clerk.localhost",
		"pk_test_ZXhhbXBsZS5hY2NvdW50cy5kZXYk":   "https://example.accounts.dev",
		"pk_live_Y2xlcmsuZXhhbXBsZS5jb20k":       "https://clerk.example.com",
		"pk_live_Y2xlcmsuZXhhbXBsZS5jb20k==":     "https://clerk.example.com",
		"sk_live_Y2xlcmsuZXhhbXBsZS5jb20k":       "",
		"pk_live_bm8tZG9sbGFy":                   "", // no $
		"pk_live_YSRiJA":                         "", // two $
		"pk_test_extra_Y2xlcmsubG9jYWxob3N0JA":   "",
		"pk_test_bG9jYWxob3N0JA":                 "", // no dot
		"pk_test_ZXZpbC5jb20vQGNsZXJrLmNvbSQ":    "", // path in host
		"pk_test_!!!":                            "",
		"pk_test_Y2xlcmsuZXhhbXBsZS5jb20kCg":     "", // trailing newline after $
		"pk_test_Y2xlcmsubG9jYWxob3N0JA_suffix_": "",
	} {
		got, err := auth.FrontendAPIFromPublishableKey(in)
		if want == "" && err == nil {
			t.Errorf("%s: accepted as %q", in, got)
		}
		if want != "" && (err != nil || got != want) {
			t.Errorf("%s: got %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestConfigFrom(t *testing.T) {
	t.Parallel()
	getenv := func(env map[string]string) config.Getenv {
		return func(k string) string { return env[k] }
	}
	t.Run("ClerkMode", func(t *testing.T) {
		app, err := config.Load(getenv(map[string]string{
			"APP_ENV": "test", "SESSION_SECRET": strings.Repeat("s", 32),
			"CLERK_SECRET_KEY": "sk_test_x", "CLERK_PUBLISHABLE_KEY": pk, "CLERK_WEBHOOK_SIGNING_SECRET": "whsec_eA==",
		}))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := auth.ConfigFrom(app)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.FrontendAPI != fapi || cfg.APIURL != "https://api.clerk.com/v1" || cfg.SecretKey != "sk_test_x" || cfg.BaseURL != baseURL {
			t.Fatalf("%+v", cfg)
		}
	})
	t.Run("EmulatorMode", func(t *testing.T) {
		app, err := config.Load(getenv(map[string]string{"APP_ENV": "test", "SESSION_SECRET": strings.Repeat("s", 32)}))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := auth.ConfigFrom(app)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.FrontendAPI != baseURL+"/__clerk" || cfg.APIURL != baseURL+"/__clerk/v1" || cfg.SecretKey != "sk_test_emulator" {
			t.Fatalf("%+v", cfg)
		}
	})
}
