package config_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/saasstarter/saas/internal/config"
)

const key32 = "0123456789abcdef0123456789abcdef"

func load(env map[string]string) (config.Config, error) {
	return config.Load(func(k string) string { return env[k] })
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := load(map[string]string{"SESSION_SECRET": key32})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Env != "development" || cfg.Addr != "localhost:8080" || cfg.BaseURL.String() != "http://localhost:8080" {
		t.Errorf("defaults: env %q addr %q base %q", cfg.Env, cfg.Addr, cfg.BaseURL)
	}
	if cfg.Mode != config.ModeEmulator {
		t.Errorf("mode = %q, want emulator without CLERK_SECRET_KEY", cfg.Mode)
	}
	if cfg.ClerkAPIURL != "https://api.clerk.com/v1" || cfg.EmulatorSecretKey != "sk_test_emulator" {
		t.Errorf("clerk defaults: %q %q", cfg.ClerkAPIURL, cfg.EmulatorSecretKey)
	}
	if len(cfg.ClerkAuthorizedParty) != 1 || cfg.ClerkAuthorizedParty[0] != "http://localhost:8080" {
		t.Errorf("authorized parties default = %v, want [BASE_URL]", cfg.ClerkAuthorizedParty)
	}
	if cfg.APIRateLimit != 120 || cfg.MetricsAddr != "127.0.0.1:9090" || cfg.MetricsRequired {
		t.Errorf("rate limit %d, metrics %q; want 120 and loopback", cfg.APIRateLimit, cfg.MetricsAddr)
	}
	off, _ := load(map[string]string{"SESSION_SECRET": key32, "METRICS_ADDR": "off", "API_RATE_LIMIT": "5000"})
	if off.MetricsAddr != "" || off.APIRateLimit != 5000 {
		t.Errorf("METRICS_ADDR=off gives %q; API_RATE_LIMIT=5000 gives %d", off.MetricsAddr, off.APIRateLimit)
	}
}

// TestBaseURLFollowsTheListener: in development an unset BASE_URL is the
// origin of ADDR, and then of the port really bound; an explicit loopback
// BASE_URL that misses the listener is warned about.
func TestBaseURLFollowsTheListener(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"127.0.0.1:18283": "http://127.0.0.1:18283",
		":9000":           "http://localhost:9000",
		"0.0.0.0:9001":    "http://localhost:9001",
		"[::1]:9002":      "http://[::1]:9002",
	} {
		cfg, err := load(map[string]string{"SESSION_SECRET": key32, "ADDR": addr})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.BaseURL.String() != want || cfg.ClerkAuthorizedParty[0] != want {
			t.Errorf("ADDR %s: BASE_URL %s, authorized %v; want %s", addr, cfg.BaseURL, cfg.ClerkAuthorizedParty, want)
		}
	}

	t.Run("PortZeroFollowsTheListener", func(t *testing.T) {
		cfg, _ := load(map[string]string{"SESSION_SECRET": key32, "ADDR": "127.0.0.1:0"})
		if w := cfg.ListenedOn("127.0.0.1:41234"); w != "" || cfg.BaseURL.String() != "http://127.0.0.1:41234" ||
			cfg.ClerkAuthorizedParty[0] != "http://127.0.0.1:41234" {
			t.Fatalf("BASE_URL %s, authorized %v, warning %q", cfg.BaseURL, cfg.ClerkAuthorizedParty, w)
		}
	})
	t.Run("WarnMismatchedLoopbackBaseURL", func(t *testing.T) {
		cfg, _ := load(map[string]string{"SESSION_SECRET": key32, "ADDR": "127.0.0.1:18283", "BASE_URL": "http://localhost:8080"})
		if w := cfg.ListenedOn("127.0.0.1:18283"); !strings.Contains(w, "BASE_URL http://localhost:8080") {
			t.Fatalf("warning = %q", w)
		}
		if cfg.BaseURL.String() != "http://localhost:8080" {
			t.Fatalf("an explicit BASE_URL was changed to %s", cfg.BaseURL)
		}
	})
	t.Run("NoWarningBehindAProxy", func(t *testing.T) {
		cfg, _ := load(map[string]string{"SESSION_SECRET": key32, "ADDR": ":8080", "BASE_URL": "https://app.example.com"})
		if w := cfg.ListenedOn("[::]:8080"); w != "" {
			t.Fatalf("warning = %q", w)
		}
	})
}

func TestProductionDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := load(map[string]string{
		"APP_ENV": "production", "SESSION_SECRET": key32 + "," + key32 + "x",
		"CLERK_SECRET_KEY": "sk_live_x", "CLERK_PUBLISHABLE_KEY": "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k",
		"CLERK_WEBHOOK_SIGNING_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"BASE_URL":                     "https://app.example.com",
		"CLERK_AUTHORIZED_PARTIES":     "https://app.example.com, https://www.example.com/",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":8080" || cfg.Mode != config.ModeClerk || len(cfg.SessionSecrets) != 2 {
		t.Errorf("addr %q mode %q keys %d", cfg.Addr, cfg.Mode, len(cfg.SessionSecrets))
	}
	if cfg.MetricsAddr != "" {
		t.Errorf("production exposes metrics on %q by default", cfg.MetricsAddr)
	}
	if set, _ := load(map[string]string{"APP_ENV": "production", "SESSION_SECRET": key32, "BASE_URL": "https://app.example.com",
		"CLERK_SECRET_KEY": "sk_live_x", "CLERK_PUBLISHABLE_KEY": "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k",
		"CLERK_WEBHOOK_SIGNING_SECRET": "whsec_x", "METRICS_ADDR": "10.0.0.5:9090"}); !set.MetricsRequired {
		t.Error("a METRICS_ADDR set in production may be skipped when it cannot listen")
	}
	if got := strings.Join(cfg.ClerkAuthorizedParty, " "); got != "https://app.example.com https://www.example.com" {
		t.Errorf("authorized parties = %q", got)
	}
}

// TestInvalid: each bad configuration fails with one line naming the variable.
func TestInvalid(t *testing.T) {
	t.Parallel()
	clerk := map[string]string{"SESSION_SECRET": key32, "CLERK_SECRET_KEY": "sk_test_x",
		"CLERK_PUBLISHABLE_KEY": "pk_test_x", "CLERK_WEBHOOK_SIGNING_SECRET": "whsec_x"}
	with := func(base map[string]string, k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range base {
			m[a] = b
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"ErrBadEnv", map[string]string{"APP_ENV": "staging"}, "APP_ENV"},
		{"ErrBaseURLWithPath", map[string]string{"BASE_URL": "http://x.example/app", "SESSION_SECRET": key32}, "BASE_URL"},
		{"ErrBaseURLNoScheme", map[string]string{"BASE_URL": "localhost:8080", "SESSION_SECRET": key32}, "BASE_URL"},
		{"ErrShortSessionKey", map[string]string{"SESSION_SECRET": "short"}, "SESSION_SECRET"},
		{"ErrProductionNoSessionSecret", map[string]string{"APP_ENV": "production", "BASE_URL": "https://a.example", "CLERK_SECRET_KEY": "sk_live_x"}, "SESSION_SECRET"},
		{"ErrProductionWithoutClerk", map[string]string{"APP_ENV": "production", "SESSION_SECRET": key32, "BASE_URL": "https://a.example"}, "CLERK_SECRET_KEY"},
		{"ErrProductionNoBaseURL", map[string]string{"APP_ENV": "production", "SESSION_SECRET": key32}, "BASE_URL"},
		{"ErrBadAddr", map[string]string{"SESSION_SECRET": key32, "ADDR": "8080"}, "ADDR"},
		{"ErrBadSecretKey", with(clerk, "CLERK_SECRET_KEY", "nope"), "CLERK_SECRET_KEY"},
		{"ErrNoPublishableKey", with(clerk, "CLERK_PUBLISHABLE_KEY", ""), "CLERK_PUBLISHABLE_KEY"},
		{"ErrNoWebhookSecret", with(clerk, "CLERK_WEBHOOK_SIGNING_SECRET", ""), "CLERK_WEBHOOK_SIGNING_SECRET"},
		{"ErrBadRateLimit", map[string]string{"SESSION_SECRET": key32, "API_RATE_LIMIT": "lots"}, "API_RATE_LIMIT"},
		{"ErrZeroRateLimit", map[string]string{"SESSION_SECRET": key32, "API_RATE_LIMIT": "0"}, "API_RATE_LIMIT"},
		{"ErrProxyURLInEmulatorMode", map[string]string{"SESSION_SECRET": key32, "CLERK_PROXY_URL": "http://localhost:8080/__clerk"}, "CLERK_PROXY_URL"},
		{"ErrProxyURLOtherHost", with(clerk, "CLERK_PROXY_URL", "https://proxy.example.net/__clerk"), "CLERK_PROXY_URL"},
		{"ErrProxyURLRoot", with(clerk, "CLERK_PROXY_URL", "http://localhost:8080/"), "CLERK_PROXY_URL"},
		{"ErrProxyURLRelative", with(clerk, "CLERK_PROXY_URL", "/__clerk"), "CLERK_PROXY_URL"},
		{"ErrProxyURLQuery", with(clerk, "CLERK_PROXY_URL", "http://localhost:8080/__clerk?x=1"), "CLERK_PROXY_URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(tc.env)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q should be one line naming %s", err, tc.want)
			}
		})
	}
}

// TestProxyURL: CLERK_PROXY_URL is a path on BASE_URL, trailing slash
// dropped, and shows in the start-up summary.
func TestProxyURL(t *testing.T) {
	cfg, err := load(map[string]string{"SESSION_SECRET": key32, "CLERK_SECRET_KEY": "sk_test_x",
		"CLERK_PUBLISHABLE_KEY": "pk_test_x", "CLERK_WEBHOOK_SIGNING_SECRET": "whsec_x",
		"BASE_URL": "https://app.example.com", "CLERK_PROXY_URL": "https://app.example.com/__clerk/"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClerkProxyURL == nil || cfg.ClerkProxyURL.String() != "https://app.example.com/__clerk" {
		t.Fatalf("ClerkProxyURL = %v", cfg.ClerkProxyURL)
	}
	if out := fmt.Sprint(cfg.LogValue()); !strings.Contains(out, "clerk_proxy_url=https://app.example.com/__clerk") {
		t.Errorf("log value: %s", out)
	}
	unset, _ := load(map[string]string{"SESSION_SECRET": key32})
	if unset.ClerkProxyURL != nil {
		t.Errorf("unset CLERK_PROXY_URL = %v", unset.ClerkProxyURL)
	}
}

// TestSecretsMaskedInLog: the start-up summary never shows a secret.
func TestSecretsMaskedInLog(t *testing.T) {
	t.Parallel()
	cfg, err := load(map[string]string{
		"SESSION_SECRET": key32, "CLERK_SECRET_KEY": "sk_test_TOPSECRETVALUE",
		"CLERK_PUBLISHABLE_KEY": "pk_test_x", "CLERK_WEBHOOK_SIGNING_SECRET": "whsec_ALSOSECRET",
		"DATABASE_URL": "postgres://app:dbpassword@db:5432/app",
	})
	if err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprint(cfg.LogValue())
	for _, secret := range []string{"TOPSECRETVALUE", "ALSOSECRET", "dbpassword", key32} {
		if strings.Contains(out, secret) {
			t.Errorf("log value shows %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "sk_test_****") {
		t.Errorf("masked key should keep its kind prefix: %s", out)
	}
}

// TestDevelopmentSessionSecretPersists: with no SESSION_SECRET, development
// generates a key once and reuses it.
func TestDevelopmentSessionSecretPersists(t *testing.T) {
	t.Chdir(t.TempDir())
	a, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.SessionSecrets[0]) < 32 || string(a.SessionSecrets[0]) != string(b.SessionSecrets[0]) {
		t.Fatal("development session secret was not generated once and reused")
	}
	if fi, err := os.Stat(config.LocalDir + "/session-secret"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", fi, err)
	}
}
