// Package config reads the application's configuration from the environment
// into one typed struct, with the defaults and rules of CONTRACT.md.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/saasstarter/saas/internal/clerkid"
)

// Environment names.
const (
	EnvDevelopment = "development"
	EnvTest        = "test"
	EnvProduction  = "production"
)

// Mode says where identity comes from.
type Mode string

// The two modes: real Clerk, or the built-in emulator.
const (
	ModeClerk    Mode = "clerk"
	ModeEmulator Mode = "emulator"
)

// Config is everything the process needs to start.
type Config struct {
	Env     string
	Addr    string
	BaseURL *url.URL
	// BaseURLFromAddr is set when BASE_URL was unset and derived from ADDR
	// (development and test only); ListenedOn then follows the real port.
	BaseURLFromAddr bool

	DatabaseURL string
	// DBMaxConns sizes the pgx pool unless DATABASE_URL sets pool_max_conns.
	DBMaxConns int32

	// SessionSecrets signs and encrypts the app's cookie session. The first
	// key signs; all of them verify, so keys can be rotated.
	SessionSecrets [][]byte

	Mode                 Mode
	ClerkSecretKey       string
	ClerkPublishableKey  string
	ClerkJWTKey          string
	ClerkAPIURL          string
	ClerkWebhookSecret   string
	ClerkAuthorizedParty []string
	// ClerkMachineSecretKey is this app's machine secret key (ak_…): machine
	// tokens are verified as this machine. Empty switches the machine routes
	// off.
	ClerkMachineSecretKey string
	// ClerkInstanceID is the Clerk instance (ins_…) whose webhooks are
	// applied; empty means it is learned from the Backend API.
	ClerkInstanceID string
	// ClerkProxyURL, in Clerk mode, is where the app serves Clerk's
	// Frontend API through its own origin (Clerk's proxy setup); nil when
	// CLERK_PROXY_URL is unset. Tokens then carry it as iss.
	ClerkProxyURL *url.URL

	// EmulatorSecretKey is the emulator's Backend API secret key.
	EmulatorSecretKey string

	// APIRateLimit is how many /api requests one user or machine may make
	// per minute.
	APIRateLimit int
	// MetricsAddr is the private listener for /metrics; empty disables it.
	MetricsAddr string
	// MetricsRequired makes a metrics listener that cannot start stop the
	// process (production, where METRICS_ADDR is set on purpose). Elsewhere
	// the default loopback listener is a convenience: if its port is taken
	// (a second instance, a local Prometheus) the app starts without it.
	MetricsRequired bool
	// ShutdownDelay is how long the server keeps serving after SIGTERM,
	// with /readyz failing, before it stops accepting connections.
	ShutdownDelay time.Duration
}

// Production reports whether the process runs in production.
func (c Config) Production() bool { return c.Env == EnvProduction }

// Getenv is the signature of os.Getenv, injected so tests need no process
// environment.
type Getenv func(string) string

// Load reads and validates the configuration. The returned error is one line
// that says which variable is wrong and why.
func Load(getenv Getenv) (Config, error) {
	var c Config
	c.Env = orDefault(getenv("APP_ENV"), EnvDevelopment)
	switch c.Env {
	case EnvDevelopment, EnvTest, EnvProduction:
	default:
		return c, fmt.Errorf("APP_ENV must be development, test or production, not %q", c.Env)
	}

	defaultAddr := "localhost:8080"
	if c.Production() {
		defaultAddr = ":8080"
	}
	c.Addr = orDefault(getenv("ADDR"), defaultAddr)

	rawBase := getenv("BASE_URL")
	if rawBase == "" {
		if c.Production() {
			return c, errors.New("BASE_URL is required in production (the public origin, such as https://app.example.com)")
		}
		// In development the app is reached where it listens: a second
		// instance on another ADDR must not send its browser script,
		// redirects and token checks to the first one's origin.
		var err error
		if rawBase, err = originOf(c.Addr); err != nil {
			return c, fmt.Errorf("ADDR %q is not host:port: %w", c.Addr, err)
		}
		c.BaseURLFromAddr = true
	}
	base, err := url.Parse(rawBase)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || (base.Path != "" && base.Path != "/") {
		return c, fmt.Errorf("BASE_URL must be an origin such as https://app.example.com, not %q", rawBase)
	}
	base.Path = ""
	c.BaseURL = base

	c.DatabaseURL = orDefault(getenv("DATABASE_URL"), "postgres://postgres@127.0.0.1:5432/saas?sslmode=disable")
	if _, err := url.Parse(c.DatabaseURL); err != nil {
		return c, errors.New("DATABASE_URL is not a valid URL")
	}
	// A small pool per instance: each connection is a PostgreSQL backend
	// competing for CPU, and more of them than the cores can run turn into
	// queueing in the scheduler instead of in the pool. Measured on 2 cores
	// (docs/PERFORMANCE.md): 4 connections gave /dashboard a 14 ms p99 where
	// 10 gave 199 ms, and the operator's search 15 ms where 8 gave 26-61 ms
	// (8 would apply about 11 % more webhook events per second: pages
	// won). Set pool_max_conns in DATABASE_URL to override.
	c.DBMaxConns = int32(max(4, 2*runtime.GOMAXPROCS(0)))

	if err := c.loadSessionSecrets(getenv("SESSION_SECRET")); err != nil {
		return c, err
	}

	c.ClerkSecretKey = getenv("CLERK_SECRET_KEY")
	c.ClerkPublishableKey = getenv("CLERK_PUBLISHABLE_KEY")
	c.ClerkJWTKey = getenv("CLERK_JWT_KEY")
	c.ClerkAPIURL = orDefault(getenv("CLERK_API_URL"), "https://api.clerk.com/v1")
	c.ClerkWebhookSecret = getenv("CLERK_WEBHOOK_SIGNING_SECRET")
	c.ClerkMachineSecretKey = getenv("CLERK_MACHINE_SECRET_KEY")
	if c.ClerkMachineSecretKey != "" && (!strings.HasPrefix(c.ClerkMachineSecretKey, "ak_") || len(c.ClerkMachineSecretKey) < 8) {
		return c, errors.New("CLERK_MACHINE_SECRET_KEY must be a machine secret key (ak_…) from the Clerk Dashboard's Machines page")
	}
	c.ClerkInstanceID = getenv("CLERK_INSTANCE_ID")
	if c.ClerkInstanceID != "" && !clerkid.Valid(clerkid.Instance, c.ClerkInstanceID) {
		return c, fmt.Errorf("CLERK_INSTANCE_ID must be a Clerk instance id (ins_…), not %q", c.ClerkInstanceID)
	}
	c.EmulatorSecretKey = orDefault(getenv("CLERK_EMULATOR_SECRET_KEY"), "sk_test_emulator")
	if ap := getenv("CLERK_AUTHORIZED_PARTIES"); ap != "" {
		for _, p := range strings.Split(ap, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.ClerkAuthorizedParty = append(c.ClerkAuthorizedParty, strings.TrimRight(p, "/"))
			}
		}
	} else {
		c.ClerkAuthorizedParty = []string{c.BaseURL.String()}
	}

	c.APIRateLimit = 120
	if v := getenv("API_RATE_LIMIT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, fmt.Errorf("API_RATE_LIMIT must be a positive number of requests per minute, not %q", v)
		}
		c.APIRateLimit = n
	}
	// Metrics are served on their own listener: loopback by default outside
	// production; in production only on an address set on purpose, on a
	// network the public load balancer does not reach. "off" disables them.
	switch v := getenv("METRICS_ADDR"); {
	case v == "off":
	case v != "":
		c.MetricsAddr = v
	case !c.Production():
		c.MetricsAddr = "127.0.0.1:9090"
	}
	c.MetricsRequired = c.Production() && c.MetricsAddr != ""

	if c.ShutdownDelay, err = shutdownDelay(getenv("SHUTDOWN_DELAY"), c.Production()); err != nil {
		return c, err
	}

	switch {
	case c.ClerkSecretKey != "":
		c.Mode = ModeClerk
		if !strings.HasPrefix(c.ClerkSecretKey, "sk_test_") && !strings.HasPrefix(c.ClerkSecretKey, "sk_live_") {
			return c, errors.New("CLERK_SECRET_KEY must start with sk_test_ or sk_live_")
		}
		if c.ClerkPublishableKey == "" {
			return c, errors.New("CLERK_PUBLISHABLE_KEY is required when CLERK_SECRET_KEY is set")
		}
		if c.ClerkWebhookSecret == "" {
			return c, errors.New("CLERK_WEBHOOK_SIGNING_SECRET is required when CLERK_SECRET_KEY is set")
		}
	case c.Production():
		return c, errors.New("CLERK_SECRET_KEY is required in production (the Clerk emulator only runs in development and test)")
	default:
		c.Mode = ModeEmulator
	}
	if v := getenv("CLERK_PROXY_URL"); v != "" {
		if c.Mode != ModeClerk {
			return c, fmt.Errorf("CLERK_PROXY_URL is for Clerk mode (set CLERK_SECRET_KEY); the emulator always serves the Frontend API at %s/__clerk", c.BaseURL)
		}
		p, err := url.Parse(strings.TrimRight(v, "/"))
		if err != nil || p.Scheme != c.BaseURL.Scheme || p.Host != c.BaseURL.Host || p.Path == "" ||
			p.User != nil || p.RawQuery != "" || p.Fragment != "" || strings.Contains(p.Path, "//") {
			return c, fmt.Errorf("CLERK_PROXY_URL must be a path on BASE_URL, such as %s/__clerk, not %q", c.BaseURL, v)
		}
		c.ClerkProxyURL = p
	}
	return c, nil
}

// originOf is the http origin a browser on this machine uses to reach a
// listener on addr: a wildcard or empty host is reached as localhost.
func originOf(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// ListenedOn is called once the listener is bound to addr (its real
// address, with the port the kernel chose for ADDR=host:0). A BASE_URL
// derived from ADDR follows it; an explicit BASE_URL on a loopback host
// whose port is not the listener's is almost certainly a mistake (a copied
// .env, a second instance), and the returned warning says so. Behind a
// proxy in production the public port legitimately differs, so other hosts
// are not second-guessed.
func (c *Config) ListenedOn(addr string) (warning string) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if c.BaseURLFromAddr {
		old := c.BaseURL.String()
		c.BaseURL.Host = net.JoinHostPort(c.BaseURL.Hostname(), port)
		if len(c.ClerkAuthorizedParty) == 1 && c.ClerkAuthorizedParty[0] == old {
			c.ClerkAuthorizedParty = []string{c.BaseURL.String()}
		}
		return ""
	}
	basePort := c.BaseURL.Port()
	if basePort == "" {
		basePort = map[string]string{"http": "80", "https": "443"}[c.BaseURL.Scheme]
	}
	if isLoopbackHost(c.BaseURL.Hostname()) && basePort != port {
		return fmt.Sprintf("BASE_URL %s does not reach this server (listening on %s): the browser script, redirects and "+
			"token checks will use the wrong origin; unset BASE_URL to derive it from ADDR", c.BaseURL, addr)
	}
	return ""
}

// isLoopbackHost reports whether host names this machine.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// maxShutdownDelay bounds SHUTDOWN_DELAY: the delay and the drain after it
// must fit in the platform's termination grace period.
const maxShutdownDelay = 5 * time.Minute

// shutdownDelay reads SHUTDOWN_DELAY: a duration such as 5s, or a number
// of seconds. The default gives a load balancer time to see /readyz fail
// (a few health checks) in production; elsewhere there is no balancer, and
// Ctrl-C should stop the server at once.
func shutdownDelay(v string, production bool) (time.Duration, error) {
	if v == "" {
		if production {
			return 5 * time.Second, nil
		}
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if n, nerr := strconv.Atoi(v); nerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || d < 0 || d > maxShutdownDelay {
		return 0, fmt.Errorf("SHUTDOWN_DELAY must be a duration from 0 to %v such as 5s, not %q", maxShutdownDelay, v)
	}
	return d, nil
}

// minSecretLen is the shortest accepted session key: 32 bytes of key material
// for HMAC-SHA256 and AES-256.
const minSecretLen = 32

func (c *Config) loadSessionSecrets(raw string) error {
	if raw == "" {
		if c.Production() {
			return errors.New("SESSION_SECRET is required in production (comma-separated keys, each at least 32 bytes)")
		}
		key, err := localSessionSecret(LocalDir)
		if err != nil {
			return fmt.Errorf("SESSION_SECRET is unset and %w", err)
		}
		c.SessionSecrets = [][]byte{key}
		return nil
	}
	for i, k := range strings.Split(raw, ",") {
		k = strings.TrimSpace(k)
		if len(k) < minSecretLen {
			return fmt.Errorf("SESSION_SECRET key %d is %d bytes; each key must be at least %d", i+1, len(k), minSecretLen)
		}
		c.SessionSecrets = append(c.SessionSecrets, []byte(k))
	}
	return nil
}

// LocalDir is where development state that must survive restarts (the
// generated session secret) is kept. It is ignored by git.
const LocalDir = ".local"

// localSessionSecret returns the development session secret kept in dir,
// creating it on first use, so that sign-ins survive restarts without any
// setup. A file that other users could read, or that belongs to someone
// else, is refused: whoever holds the key can forge session cookies.
func localSessionSecret(dir string) ([]byte, error) {
	path := filepath.Join(dir, "session-secret")
	b, err := readPrivateFile(path)
	switch {
	case err == nil && len(strings.TrimSpace(string(b))) >= minSecretLen:
		return []byte(strings.TrimSpace(string(b))), nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	buf := make([]byte, 48)
	if _, err := rand.Read(buf); err != nil {
		return nil, err
	}
	key := base64.RawURLEncoding.EncodeToString(buf)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%s could not be created: %w", dir, err)
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("%s could not be written: %w", path, err)
	}
	return []byte(key), nil
}

// readPrivateFile reads path if it is a regular file of the current user
// that nobody else can read or write. The checks are made on the open file,
// so the file checked is the file read.
func readPrivateFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a regular file: delete it to generate a new secret", path)
	case !ownedByCurrentUser(fi):
		return nil, fmt.Errorf("%s belongs to another user: delete it to generate a new secret, or set SESSION_SECRET", path)
	case runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0:
		// Windows reports synthetic permission bits; its ACLs are not checked.
		return nil, fmt.Errorf("%s is readable or writable by other users (mode %04o): run chmod 600 %s, or delete it to generate a new secret", path, fi.Mode().Perm(), path)
	}
	return io.ReadAll(f)
}

// LogValue prints the configuration for the start-up log with every secret
// masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("env", c.Env),
		slog.String("mode", string(c.Mode)),
		slog.String("addr", c.Addr),
		slog.String("base_url", c.BaseURL.String()),
		slog.String("database_url", maskURL(c.DatabaseURL)),
		slog.Int("session_keys", len(c.SessionSecrets)),
		slog.String("clerk_secret_key", mask(c.ClerkSecretKey)),
		slog.String("clerk_publishable_key", c.ClerkPublishableKey),
		slog.Bool("clerk_jwt_key", c.ClerkJWTKey != ""),
		slog.String("clerk_api_url", c.ClerkAPIURL),
		slog.String("clerk_webhook_signing_secret", mask(c.ClerkWebhookSecret)),
		slog.String("clerk_machine_secret_key", mask(c.ClerkMachineSecretKey)),
		slog.String("clerk_instance_id", c.ClerkInstanceID),
		slog.Any("clerk_authorized_parties", c.ClerkAuthorizedParty),
		slog.String("clerk_proxy_url", urlString(c.ClerkProxyURL)),
		slog.Int("api_rate_limit", c.APIRateLimit),
		slog.String("metrics_addr", c.MetricsAddr),
		slog.Duration("shutdown_delay", c.ShutdownDelay),
	)
}

// mask keeps a secret's prefix (sk_live_, whsec_) so an operator can tell
// which kind of key is set, and hides the rest.
func mask(s string) string {
	if s == "" {
		return ""
	}
	if i := strings.LastIndex(s, "_"); i >= 0 && i < 9 {
		return s[:i+1] + "****"
	}
	return "****"
}

func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "****"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "****")
	}
	return u.Redacted()
}

func urlString(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.String()
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
