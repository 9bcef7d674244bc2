// Package clerkemu is a built-in, Clerk-compatible identity provider for
// development and tests. It runs inside the app's process, mounted under
// /__clerk on the app's own origin, and serves:
//
//   - a Backend API under /__clerk/v1 (users, organizations, memberships,
//     invitations, sessions, clients, sign-in and testing tokens, machines,
//     M2M tokens, JWKS) with Clerk's JSON shapes and error envelope, so
//     clerk-sdk-go and @clerk/backend work against it unchanged; whatever it
//     does not support (endpoint, filter, field) is refused by name;
//   - the Frontend API that Clerk's own ClerkJS and @clerk/ui bundles call
//     (environment, client, sessions and tokens, email-and-password sign-in
//     and sign-up, the user's organizations, invitations and organization
//     profile), the pinned bundles themselves at Clerk's /npm/ paths, the
//     development browser (__clerk_db_jwt) and Clerk's handshake in both its
//     token and nonce formats;
//   - Svix-signed webhooks for every change, delivered from a persistent
//     outbox to the app's real webhook route.
//
// The app runs against it as a Clerk app with the proxy URL
// BASE_URL/__clerk (Clerk's "proxy the Frontend API through your domain"
// setup): session tokens carry that URL as iss, and the publishable key is
// one Clerk's own parsers accept.
//
// Its state lives in the schema "clerkemu" of the app's database, so users,
// keys and the webhook secret survive restarts. It refuses to run in
// production or on a BASE_URL that is not loopback, and it answers only
// direct requests from this machine for BASE_URL's host.
//
// It stands in for Clerk on every identity seam of internal/identity at once
// (session tokens and handshake, webhooks, Backend API, browser script), so
// the app's Clerk implementations are exercised unchanged.
package clerkemu

import (
	"context"
	"crypto/rsa"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/saasstarter/saas/internal/clerkjs"
)

// MountPath is the path prefix the emulator owns on the app's origin. The app
// routes every request whose path starts with MountPath+"/" to Handler.
const MountPath = "/__clerk"

// DefaultSecretKey is the Backend API secret key unless Config.SecretKey says
// otherwise (CONTRACT.md, "Emulator endpoints").
const DefaultSecretKey = "sk_test_emulator"

// DefaultTokenLifetime is Clerk's session token lifetime.
const DefaultTokenLifetime = 60 * time.Second

// Config configures an Emulator. BaseURL and Pool are required.
type Config struct {
	// BaseURL is the app's public origin, e.g. http://localhost:8080. The
	// emulator is mounted at BaseURL + MountPath and only redirects there.
	BaseURL *url.URL
	// Pool is the app's database. New creates the schema "clerkemu" in it.
	Pool *pgxpool.Pool
	// SecretKey authenticates Backend API calls; default DefaultSecretKey.
	SecretKey string
	// WebhookURL receives the Svix-signed events; default
	// BaseURL + /api/webhooks/clerk. "-" disables delivery (events still
	// queue in the outbox).
	WebhookURL string
	// TokenLifetime is the lifetime of session tokens; default 60 s.
	TokenLifetime time.Duration
	// TokenVersion selects the claim layout: 2 (default) or 1.
	TokenVersion int
	// SessionTemplate is the session-token customisation, a JSON object whose
	// string values may hold Clerk shortcodes; default DefaultSessionTemplate.
	SessionTemplate string
	// Env is the app's environment; "production" is refused.
	Env string
	// Chaos perturbs webhook delivery in tests.
	Chaos ChaosConfig
	// Logger receives the emulator's logs; default slog.Default().
	Logger *slog.Logger
	// Seed creates the development organizations and users on first start.
	Seed bool
	// HTTPClient delivers webhooks; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// PasswordCost is the bcrypt cost of stored passwords; default
	// bcrypt.DefaultCost. Tests lower it: hashing dominates their set-up
	// under the race detector, and it is not what they test.
	PasswordCost int
	// RetrySchedule is the wait before each retry of a failed delivery; the
	// last step repeats. Default DefaultRetrySchedule.
	RetrySchedule []time.Duration
	// ApplicationName is the name Clerk's components show; default
	// "Development".
	ApplicationName string
	// SignInPath and SignUpPath are the app's pages that mount <SignIn/>
	// and <SignUp/>, the instance's sign-in and sign-up URLs; default
	// /sign-in and /sign-up.
	SignInPath, SignUpPath string
	// Stylesheet is the app's stylesheet (a same-origin path), which the
	// emulator's own pages use so that they look like the app; without it
	// they fall back to a few built-in rules.
	Stylesheet string
}

// Emulator is a running Clerk stand-in. Create it with New.
type Emulator struct {
	cfg      Config
	pool     *pgxpool.Pool
	log      *slog.Logger
	origin   string // BaseURL without a trailing slash
	issuer   string
	key      *rsa.PrivateKey
	kid      string // also the instance id, as on Clerk
	whsecret string
	template map[string]any
	handler  http.Handler
	bapi     *http.ServeMux // Backend API routes (secret key)
	fapi     *http.ServeMux // Frontend API routes (browser)
	bundles  *clerkjs.Bundles
	wake     chan struct{}
	// delivered fires after each pass of the delivery loop.
	delivered *signal
	chaos     *chaos
	now       func() time.Time
	lastMS    atomic.Int64 // the last value of nowMS
}

// ErrProduction is returned by New when Env is production.
var ErrProduction = errors.New("clerkemu: the Clerk emulator refuses to run in production; set CLERK_SECRET_KEY to use Clerk")

// ErrNotLoopback is returned by New when BASE_URL is not a loopback origin:
// anyone who can reach the emulator can sign in as any user, so it must
// never be served on an address other machines (or a proxy) can reach.
var ErrNotLoopback = errors.New("clerkemu: the Clerk emulator only runs on a loopback BASE_URL")

// New opens (or creates) the emulator state in cfg.Pool and returns an
// emulator ready to serve. It does not deliver webhooks until Run is called.
func New(ctx context.Context, cfg Config) (*Emulator, error) {
	if strings.EqualFold(strings.TrimSpace(cfg.Env), "production") {
		return nil, ErrProduction
	}
	if cfg.BaseURL == nil || cfg.BaseURL.Host == "" || (cfg.BaseURL.Scheme != "http" && cfg.BaseURL.Scheme != "https") {
		return nil, errors.New("clerkemu: BaseURL must be an http(s) origin")
	}
	if !isLoopbackHost(cfg.BaseURL.Host) {
		return nil, fmt.Errorf("%w: BASE_URL %s is not localhost, 127.0.0.0/8 or ::1 (set CLERK_SECRET_KEY to use Clerk)",
			ErrNotLoopback, cfg.BaseURL.Redacted())
	}
	if cfg.Pool == nil {
		return nil, errors.New("clerkemu: Pool is required")
	}
	origin := (&url.URL{Scheme: cfg.BaseURL.Scheme, Host: cfg.BaseURL.Host}).String()
	if cfg.SecretKey == "" {
		cfg.SecretKey = DefaultSecretKey
	}
	if cfg.WebhookURL == "" {
		cfg.WebhookURL = origin + "/api/webhooks/clerk"
	}
	if cfg.TokenLifetime <= 0 {
		cfg.TokenLifetime = DefaultTokenLifetime
	}
	if cfg.TokenVersion != 1 {
		cfg.TokenVersion = 2
	}
	if cfg.SessionTemplate == "" {
		cfg.SessionTemplate = DefaultSessionTemplate
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.PasswordCost == 0 {
		cfg.PasswordCost = bcrypt.DefaultCost
	}
	if len(cfg.RetrySchedule) == 0 {
		cfg.RetrySchedule = DefaultRetrySchedule
	}
	if cfg.ApplicationName == "" {
		cfg.ApplicationName = "Development"
	}
	if cfg.SignInPath == "" {
		cfg.SignInPath = "/sign-in"
	}
	if cfg.SignUpPath == "" {
		cfg.SignUpPath = "/sign-up"
	}
	// The browser bundles are committed and checked before anything else:
	// a missing or edited file is one line that says how to restore it.
	bundles, err := clerkjs.Load()
	if err != nil {
		return nil, err
	}
	tmpl, err := parseTemplate(cfg.SessionTemplate)
	if err != nil {
		return nil, err
	}
	e := &Emulator{
		cfg:       cfg,
		pool:      cfg.Pool,
		log:       cfg.Logger.With("component", "clerkemu"),
		origin:    origin,
		issuer:    origin + MountPath,
		template:  tmpl,
		wake:      make(chan struct{}, 1),
		delivered: newSignal(),
		chaos:     newChaos(cfg.Chaos),
		now:       time.Now,
		bundles:   bundles,
	}
	if err := e.migrate(ctx); err != nil {
		return nil, err
	}
	if err := e.loadInstance(ctx); err != nil {
		return nil, err
	}
	if cfg.Seed {
		if err := e.seed(ctx); err != nil {
			return nil, fmt.Errorf("clerkemu: seed: %w", err)
		}
	}
	e.handler = e.routes()
	return e, nil
}

// Handler serves every path under MountPath. It answers direct loopback
// requests for BASE_URL's host only.
func (e *Emulator) Handler() http.Handler { return e.handler }

// Issuer is the exact iss of the emulator's tokens. It is the proxy URL,
// BASE_URL + MountPath: Clerk issues session tokens whose iss is the proxy
// URL when the Frontend API is proxied, and clerk-sdk-go's jwt.Verify takes
// it as VerifyParams.ProxyURL.
func (e *Emulator) Issuer() string { return e.issuer }

// ProxyURL is the Frontend API URL the app and Clerk's SDKs use: pass it as
// proxyUrl to @clerk/backend and ClerkJS, and as ProxyURL to clerk-sdk-go.
func (e *Emulator) ProxyURL() string { return e.issuer }

// BackendURL is the Backend API base for clerk-sdk-go (it includes /v1).
func (e *Emulator) BackendURL() string { return e.issuer + "/v1" }

// JWKSURL is the public JWKS of the Frontend API.
func (e *Emulator) JWKSURL() string { return e.issuer + "/.well-known/jwks.json" }

// SecretKey is the Backend API secret key.
func (e *Emulator) SecretKey() string { return e.cfg.SecretKey }

// PublishableKey is pk_test_ + base64("clerk.<BASE_URL host>$"): the key of
// a development instance whose Frontend API host is clerk.<host>, which is
// what Clerk's own parsePublishableKey and isPublishableKey accept (the
// decoded host must contain a dot, so "localhost:8080" alone is refused).
// The Frontend API itself is reached through the proxy URL, as in Clerk's
// proxy setup; the host in the key only names the instance. It keeps the
// port, so two apps on different localhost ports get different cookie
// suffixes (cookies are not separated by port). The app derives its cookie
// suffix from it.
func (e *Emulator) PublishableKey() string {
	return "pk_test_" + base64.RawStdEncoding.EncodeToString([]byte("clerk."+strings.ToLower(e.cfg.BaseURL.Host)+"$"))
}

// WebhookSecret is the whsec_ secret that signs every delivery. It is
// generated once and persisted.
func (e *Emulator) WebhookSecret() string { return e.whsecret }

// InstanceID is the instance id, which is also the signing key's kid.
func (e *Emulator) InstanceID() string { return e.kid }

// PublicKeyPEM is the signing key's public half, usable as CLERK_JWT_KEY.
func (e *Emulator) PublicKeyPEM() string { return publicKeyPEM(&e.key.PublicKey) }

// Reset deletes every user, organization, session, machine and pending
// webhook, then seeds again when Config.Seed is set. The keys and webhook
// secret are kept, so verifiers configured with them keep working.
func (e *Emulator) Reset(ctx context.Context) error {
	_, err := e.pool.Exec(ctx, `TRUNCATE clerkemu.m2m_tokens, clerkemu.machines, clerkemu.sessions,
		clerkemu.clients, clerkemu.invitations, clerkemu.memberships, clerkemu.organizations,
		clerkemu.users, clerkemu.outbox, clerkemu.instance_invitations, clerkemu.sign_in_tokens,
		clerkemu.handshake_nonces, clerkemu.sign_ins, clerkemu.sign_ups, clerkemu.images;
		UPDATE clerkemu.instance SET seeded = false`)
	if err != nil {
		return fmt.Errorf("clerkemu: reset: %w", err)
	}
	if e.cfg.Seed {
		return e.seed(ctx)
	}
	return nil
}

// Banner writes the emulator's URLs and the seeded accounts, for the app's
// start-up output.
func (e *Emulator) Banner(w io.Writer) {
	fmt.Fprintf(w, "Clerk emulator (development only, loopback only)\n")
	fmt.Fprintf(w, "  Frontend API  %s  (proxy URL; publishable key %s)\n  Backend API   %s  (secret key %s)\n  Webhooks to   %s\n",
		e.issuer, e.PublishableKey(), e.BackendURL(), e.cfg.SecretKey, e.cfg.WebhookURL)
	if !e.cfg.Seed {
		return
	}
	fmt.Fprintf(w, "  Seeded accounts (password %q):\n", DevPassword)
	for _, a := range SeedAccounts() {
		fmt.Fprintf(w, "    %-20s %s\n", a.Email, strings.Join(a.Orgs, ", "))
	}
}
