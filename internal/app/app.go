// Package app wires the application together: it builds every component
// from the configuration and registers the route table. cmd/web runs it; tests
// build the same thing against their own database.
//
// This is also where the identity provider is plugged in: New picks Clerk's
// implementation of each seam named in internal/identity (session
// verification and handshake, the webhook receiver) and wires the rest of
// the app to those interfaces.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/handlers/admin"
	"github.com/saasstarter/saas/handlers/api"
	"github.com/saasstarter/saas/handlers/dashboard"
	"github.com/saasstarter/saas/handlers/health"
	"github.com/saasstarter/saas/handlers/m2m"
	"github.com/saasstarter/saas/handlers/ops"
	"github.com/saasstarter/saas/handlers/orgs"
	"github.com/saasstarter/saas/handlers/pages"
	"github.com/saasstarter/saas/handlers/webhooks"
	"github.com/saasstarter/saas/internal/appsession"
	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/clerkdir"
	"github.com/saasstarter/saas/internal/clerkemu"
	"github.com/saasstarter/saas/internal/clerkjs"
	"github.com/saasstarter/saas/internal/clerkproxy"
	"github.com/saasstarter/saas/internal/clerksync"
	"github.com/saasstarter/saas/internal/config"
	"github.com/saasstarter/saas/internal/database"
	"github.com/saasstarter/saas/internal/identity"
	"github.com/saasstarter/saas/internal/lastadmin"
	"github.com/saasstarter/saas/internal/metrics"
	"github.com/saasstarter/saas/internal/projects"
	"github.com/saasstarter/saas/internal/ratelimit"
	"github.com/saasstarter/saas/internal/render"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/internal/secure"
	"github.com/saasstarter/saas/internal/server"
	"github.com/saasstarter/saas/static"
	"github.com/saasstarter/saas/views/layouts"
)

// App is the wired application.
type App struct {
	// Echo is the app's router, with its middleware pipeline.
	Echo *echo.Echo
	// Handler is what the HTTP server serves: the app, plus the emulator
	// beside it in emulator mode.
	Handler http.Handler
	// Emulator is the built-in Clerk emulator in emulator mode, else nil.
	Emulator *clerkemu.Emulator
	// Syncer applies Clerk webhooks to the database.
	Syncer *clerksync.Syncer
	// Clerk is the effective Clerk configuration: the configured keys in
	// Clerk mode, the emulator's in emulator mode.
	Clerk ClerkSettings
	// Metrics are the app's Prometheus metrics; cmd/web serves them on a
	// private listener (METRICS_ADDR).
	Metrics *metrics.Metrics

	cfg    config.Config
	pool   *pgxpool.Pool
	logger *slog.Logger
	render *render.Renderer
	authn  *auth.Authenticator
	latest int64
	// limiter counts /api requests per user, machine or anonymous client IP
	// in PostgreSQL.
	limiter *ratelimit.Limiter
	// draining is set once the process is shutting down (Drain).
	draining atomic.Bool
	// revocations are the revoked sessions the authenticator refuses.
	revocations *auth.Revocations
}

// ClerkSettings are the keys and URLs the app uses to talk to Clerk (or the
// emulator). Both modes run the same code with different values.
type ClerkSettings struct {
	SecretKey      string
	PublishableKey string
	APIURL         string
	JWTKey         string
	WebhookSecret  string
	// FrontendAPI is the Frontend API URL the browser and the handshake
	// use, and the exact iss of session tokens: the proxy URL when the
	// Frontend API is proxied (always in emulator mode).
	FrontendAPI string
	// ClerkJSURL and UIURL are the pinned ClerkJS and @clerk/ui browser
	// bundles on the Frontend API (internal/clerkjs pins their versions):
	// served by Clerk in Clerk mode, by the emulator in emulator mode.
	ClerkJSURL, UIURL string
	// ProxyURL is the Frontend API proxy on the app's origin, or empty.
	ProxyURL string
	// MachineSecretKey is the app's own machine secret (ak_…); machine
	// tokens are verified as that machine. Empty: the machine routes are off.
	MachineSecretKey string
	// MachineID is the app's machine id when known up front (emulator
	// mode); in Clerk mode it is learned when first needed.
	MachineID string
	// InstanceID pins webhooks to one Clerk instance; empty in Clerk mode
	// without CLERK_INSTANCE_ID, where it is learned from the Backend API.
	InstanceID string
}

// BackendConfig is the clerk-sdk-go client configuration for Backend API
// calls (create an organisation, change a role, invite): Clerk's API in
// Clerk mode, the emulator's in emulator mode. Build resource clients from
// it, e.g. organization.NewClient(a.Clerk.BackendConfig()).
func (s ClerkSettings) BackendConfig() *clerk.ClientConfig {
	cfg := &clerk.ClientConfig{}
	cfg.Key = clerk.String(s.SecretKey)
	cfg.URL = clerk.String(s.APIURL)
	return cfg
}

// Options adjust the wiring for tests.
type Options struct {
	// Emulator overrides the emulator's configuration in emulator mode
	// (BaseURL, Pool, Env and Logger are always filled in from the app).
	Emulator clerkemu.Config
	// RateLimit sets the /api rate limit; the zero value is 120 requests a
	// minute per user, machine or anonymous client IP. Its clock also drives
	// the limit of refused machine-token attempts.
	RateLimit ratelimit.Config
	// ClerkProxyUpstream overrides the Frontend API the CLERK_PROXY_URL
	// proxy forwards to (default: Clerk's, from the publishable key).
	ClerkProxyUpstream *url.URL
}

// machineAttempts is how many refused machine-token requests (and unknown
// handshake nonces) one client IP may make per minute before it is refused
// without any verification: a job with a valid token never comes near it,
// and a guesser gets at most this many Backend API calls a minute out of the
// app.
const machineAttempts = 10

// SessionTemplate is the session-token customisation the app expects, set in
// the Clerk Dashboard (Sessions → Customize session token) in Clerk mode and
// given to the emulator in emulator mode. org_plan and feature_flags carry
// the organisation's plan and feature flags (CONTRACT.md); operator marks the
// deployment's operators (the /ops console) from the user's public metadata;
// name and org_name let the page header show who is signed in, and where,
// before Clerk's components have loaded. A shortcode that is the whole value
// keeps its JSON type, and is left out when the metadata has no such key.
const SessionTemplate = `{"org_plan":"{{org.public_metadata.plan}}","feature_flags":"{{org.public_metadata.features}}",` +
	`"operator":"{{user.public_metadata.operator}}","name":"{{user.full_name || user.primary_email_address}}","org_name":"{{org.name}}"}`

// Clerk's implementations of the identity seams (internal/identity).
var (
	_ identity.Verifier        = (*auth.Authenticator)(nil)
	_ identity.Handshaker      = (*auth.Authenticator)(nil)
	_ identity.WebhookReceiver = (*webhooks.Handler)(nil)
	_ identity.Directory       = (*clerkdir.Directory)(nil)
)

// PublicRoutes is the contract's list of routes that need no session. Every
// other route is denied to anonymous callers (auth.Policy).
var PublicRoutes = []auth.Route{
	{Method: http.MethodGet, Path: routes.Home},
	{Method: http.MethodGet, Path: routes.SignIn},
	{Method: http.MethodGet, Path: routes.SignIn + "/*"},
	{Method: http.MethodGet, Path: routes.SignUp},
	{Method: http.MethodGet, Path: routes.SignUp + "/*"},
	{Method: http.MethodGet, Path: routes.Healthz},
	{Method: http.MethodGet, Path: routes.Readyz},
	{Method: http.MethodGet, Path: static.URLPrefix + "*"},
	{Method: http.MethodPost, Path: routes.Webhook},
	// Unknown paths answer 404 to everyone (CONTRACT.md, Routes).
	{Method: auth.AnyMethod, Path: routes.Unmatched},
}

// New builds the application on an open, migrated pool.
func New(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, logger *slog.Logger, opts ...Options) (*App, error) {
	var opt Options
	if len(opts) > 0 {
		opt = opts[0]
	}
	latest, err := database.LatestVersion()
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, pool: pool, logger: logger, latest: latest}

	if err := a.setupClerk(ctx, opt); err != nil {
		return nil, err
	}
	authCfg, err := auth.ConfigFrom(cfg)
	if err != nil {
		return nil, err
	}
	authCfg.FrontendAPI = a.Clerk.FrontendAPI
	authCfg.PublishableKey = a.Clerk.PublishableKey
	authCfg.SecretKey = a.Clerk.SecretKey
	authCfg.APIURL = a.Clerk.APIURL
	authCfg.JWTKey = a.Clerk.JWTKey
	// Sessions revoked before this instance started are refused from its
	// first request; WatchRevocations (in Run) adds the ones that follow. A
	// database that cannot answer yet (down, or not migrated: /readyz says
	// so) does not stop start-up; the listener loads the set once it can.
	a.revocations = auth.NewRevocations()
	if err := clerksync.LoadRevocations(ctx, pool, a.revocations); err != nil {
		logger.Warn("revoked sessions not loaded yet; the revocation listener retries", "err", err)
	}
	authCfg.Revocations = a.revocations
	// Handshake nonces cost a Backend API call each, so unknown ones are
	// limited per client IP as machine tokens are.
	authCfg.HandshakeAttempts = ratelimit.NewAttempts(pool, "handshake",
		ratelimit.Config{Limit: machineAttempts, Window: time.Minute, Now: opt.RateLimit.Now}, logger)
	authCfg.MachineSecretKey = a.Clerk.MachineSecretKey
	authCfg.MachineID = a.Clerk.MachineID
	if a.authn, err = auth.New(authCfg); err != nil {
		return nil, fmt.Errorf("clerk authentication: %w", err)
	}

	verifier, err := clerksync.NewVerifier(a.Clerk.WebhookSecret)
	if err != nil {
		return nil, fmt.Errorf("CLERK_WEBHOOK_SIGNING_SECRET: %w", err)
	}
	// Webhooks of any instance but this app's are recorded as ignored
	// (checklist W-12). Without CLERK_INSTANCE_ID the instance is asked of
	// the Backend API when the first webhook arrives: start-up itself must
	// not need the network (with CLERK_JWT_KEY), and a webhook proves that
	// Clerk is reachable.
	syncOpts := clerksync.Options{Logger: logger, InstanceID: a.Clerk.InstanceID, Revoked: a.revocations.Add}
	if syncOpts.InstanceID == "" {
		syncOpts.InstanceLookup = clerksync.Backend{URL: a.Clerk.APIURL, SecretKey: a.Clerk.SecretKey}.InstanceID
	}
	a.Syncer = clerksync.New(pool, syncOpts)

	sessions, err := appsession.NewStore(cfg.SessionSecrets, cfg.Production())
	if err != nil {
		return nil, err
	}
	a.render = &render.Renderer{
		Sessions: sessions,
		Clerk: layouts.ClerkScript{
			ClerkJSURL:     a.Clerk.ClerkJSURL,
			UIURL:          a.Clerk.UIURL,
			PublishableKey: a.Clerk.PublishableKey,
			ProxyURL:       a.Clerk.ProxyURL,
			Emulator:       a.Emulator != nil,
		},
		Identity: layoutIdentity,
	}
	a.Metrics = metrics.New(metrics.Options{WebhookRoute: routes.Webhook, VerifyCache: a.authn.CacheStats})
	limit := opt.RateLimit
	if limit.Limit == 0 {
		limit.Limit, limit.Window = cfg.APIRateLimit, time.Minute
	}
	if limit.LocalBatch == 0 { // a negative LocalBatch writes every hit
		limit.LocalBatch = ratelimit.BatchFor(limit.Limit)
	}
	a.limiter = ratelimit.New(pool, limit, logger)
	var machine echo.MiddlewareFunc
	if a.authn.MachinesEnabled() {
		attempts := ratelimit.NewAttempts(pool, "m2m", ratelimit.Config{Limit: machineAttempts, Window: time.Minute, Now: limit.Now}, logger)
		machine = a.authn.MachineMiddleware(attempts, routes.APIM2M+"/")
	} else {
		logger.Info("machine routes are off: set CLERK_MACHINE_SECRET_KEY to this app's machine secret key to serve " + routes.APIM2M)
	}
	// Anonymous /api callers are counted per client IP before the policy
	// answers them 401; the webhook is exempt (Svix signs it, and bursts).
	anonymous := a.limiter.AnonymousMiddleware(auth.Route{Method: http.MethodPost, Path: routes.Webhook})
	policy := auth.Policy(PublicRoutes)
	// The identity provider's seams: Clerk's sessions and webhooks.
	var (
		handshaker identity.Handshaker      = a.authn
		receiver   identity.WebhookReceiver = webhooks.New(webhooks.Config{Verifier: verifier, Syncer: a.Syncer, Logger: logger})
	)
	a.Echo = server.NewEcho(server.Config{
		Logger:       logger,
		Render:       a.render,
		Secure:       a.securityConfig(),
		Production:   cfg.Production(),
		Authenticate: handshaker.Middleware(),
		Machine:      machine,
		Policy:       func(next echo.HandlerFunc) echo.HandlerFunc { return anonymous(policy(next)) },
		LogIdentity:  logIdentity,
		CSRFExempt:   server.Route{Method: http.MethodPost, Path: routes.Webhook},
		Formless:     []string{routes.APIPrefix, routes.Healthz, routes.Readyz, static.URLPrefix},
		Instant:      []string{routes.Healthz, static.URLPrefix},
		Quiet:        []string{routes.Healthz, routes.Readyz},
		Anonymous:    []string{routes.Healthz, routes.Readyz, static.URLPrefix},
		Metrics:      a.Metrics.Middleware(),
		// Every /api route is rate limited; the limiter passes other routes.
		Inner: a.limiter.APIMiddleware(),
	})
	a.routes(receiver)

	mountPath, mounted, err := a.frontendAPI(opt)
	if err != nil {
		return nil, err
	}
	a.Handler = server.Handler(a.Echo, mountPath, mounted)
	return a, nil
}

// frontendAPI is what the app serves besides itself, and where: the
// emulator at /__clerk in emulator mode; with CLERK_PROXY_URL, a reverse
// proxy to Clerk's Frontend API at that URL's path; else nothing.
func (a *App) frontendAPI(opt Options) (string, http.Handler, error) {
	if a.Emulator != nil {
		return routes.Emulator, a.Emulator.Handler(), nil
	}
	if a.cfg.ClerkProxyURL == nil {
		return "", nil, nil
	}
	upstream := opt.ClerkProxyUpstream
	if upstream == nil {
		var err error
		if upstream, err = clerkproxy.UpstreamFor(a.cfg.ClerkPublishableKey); err != nil {
			return "", nil, fmt.Errorf("CLERK_PUBLISHABLE_KEY: %w", err)
		}
	}
	h, err := clerkproxy.New(clerkproxy.Config{ProxyURL: a.cfg.ClerkProxyURL, SecretKey: a.cfg.ClerkSecretKey,
		Upstream: upstream, Logger: a.logger})
	if err != nil {
		return "", nil, fmt.Errorf("CLERK_PROXY_URL: %w", err)
	}
	return a.cfg.ClerkProxyURL.Path, h, nil
}

// setupClerk fills a.Clerk: from the configuration in Clerk mode, or from a
// freshly started emulator in emulator mode.
func (a *App) setupClerk(ctx context.Context, opt Options) error {
	if a.cfg.Mode == config.ModeClerk {
		fapi, err := auth.FrontendAPIFromPublishableKey(a.cfg.ClerkPublishableKey)
		if err != nil {
			return fmt.Errorf("CLERK_PUBLISHABLE_KEY: %w", err)
		}
		var proxy string
		if a.cfg.ClerkProxyURL != nil {
			// Behind a proxy, ClerkJS, the handshake and iss all use
			// the proxy URL (Clerk's proxy setup).
			proxy = a.cfg.ClerkProxyURL.String()
			fapi = proxy
		}
		a.Clerk = ClerkSettings{
			SecretKey:      a.cfg.ClerkSecretKey,
			PublishableKey: a.cfg.ClerkPublishableKey,
			APIURL:         a.cfg.ClerkAPIURL,
			JWTKey:         a.cfg.ClerkJWTKey,
			WebhookSecret:  a.cfg.ClerkWebhookSecret,
			FrontendAPI:    fapi,
			ProxyURL:       proxy,
			// Without CLERK_MACHINE_SECRET_KEY the machine routes are off.
			MachineSecretKey: a.cfg.ClerkMachineSecretKey,
			InstanceID:       a.cfg.ClerkInstanceID,
		}
		return a.Clerk.pinBundles()
	}
	ecfg := opt.Emulator
	ecfg.BaseURL = a.cfg.BaseURL
	ecfg.Pool = a.pool
	ecfg.Env = a.cfg.Env
	ecfg.Logger = a.logger
	// A fresh emulator seeds the contract's organisations and users; the
	// seed reaches the app database through the real webhook route.
	ecfg.Seed = true
	if ecfg.SessionTemplate == "" {
		ecfg.SessionTemplate = SessionTemplate
	}
	if ecfg.SecretKey == "" {
		ecfg.SecretKey = a.cfg.EmulatorSecretKey
	}
	if ecfg.ApplicationName == "" {
		// What Clerk's components call the application ("Sign in to …"),
		// the name set in Clerk's Dashboard in Clerk mode.
		ecfg.ApplicationName = "SaaS Starter"
	}
	ecfg.SignInPath, ecfg.SignUpPath = routes.SignIn, routes.SignUp
	// The emulator's pages (accepting an invitation) take the app's design
	// tokens and components from its one stylesheet.
	ecfg.Stylesheet = static.Path("css/app.css")
	emu, err := clerkemu.New(ctx, ecfg)
	if err != nil {
		return fmt.Errorf("clerk emulator: %w", err)
	}
	a.Emulator = emu
	// The app is a machine of the emulator's instance, as it would be of a
	// Clerk instance, so the machine routes work offline too.
	machineID, machineKey, err := emu.AppMachine(ctx)
	if err != nil {
		return fmt.Errorf("clerk emulator: the app's machine: %w", err)
	}
	a.Clerk = ClerkSettings{
		SecretKey:      emu.SecretKey(),
		PublishableKey: emu.PublishableKey(),
		APIURL:         emu.BackendURL(),
		// The emulator's key is pinned, so verification never calls back
		// into the process over HTTP.
		JWTKey:        emu.PublicKeyPEM(),
		WebhookSecret: emu.WebhookSecret(),
		FrontendAPI:   emu.ProxyURL(),
		ProxyURL:      emu.ProxyURL(),
		// Events from any other instance (a stale emulator state, a
		// misconfigured secret) are recorded as ignored, never applied.
		InstanceID:       emu.InstanceID(),
		MachineSecretKey: machineKey,
		MachineID:        machineID,
	}
	return a.Clerk.pinBundles()
}

// pinBundles sets the bundle URLs: the pinned versions on the Frontend API,
// in both modes, so production runs the bundles the tests ran.
func (s *ClerkSettings) pinBundles() error {
	m, err := clerkjs.Pinned()
	if err != nil {
		return err
	}
	cjs, _ := m.Package(clerkjs.ClerkJSPackage)
	ui, _ := m.Package(clerkjs.UIPackage)
	s.ClerkJSURL = s.FrontendAPI + cjs.URLPath()
	s.UIURL = s.FrontendAPI + ui.URLPath()
	return nil
}

// securityConfig allows exactly what ClerkJS and @clerk/ui need beyond the
// app's own origin. In emulator mode, and with the Frontend API proxied,
// the bundles and the Frontend API are on the app's origin ('self'); in
// Clerk mode they are on the Frontend API's host. With Clerk, images come
// from Clerk's CDN and the bot protection (CAPTCHA on sign-up) from
// Cloudflare's challenge frame and script. ClerkJS's telemetry is switched
// off (app.js), so clerk-telemetry.com is not allowed.
func (a *App) securityConfig() secure.Config {
	sc := secure.Config{HSTS: a.cfg.Production(), DataOnly: []string{routes.APIPrefix, routes.Healthz, routes.Readyz}}
	if a.Emulator == nil {
		if a.Clerk.ProxyURL == "" {
			sc.ScriptSrc = []string{a.Clerk.FrontendAPI}
			sc.ConnectSrc = []string{a.Clerk.FrontendAPI}
		}
		sc.ScriptSrc = append(sc.ScriptSrc, "https://challenges.cloudflare.com")
		sc.ImgSrc = []string{"https://img.clerk.com"}
		sc.FrameSrc = []string{"https://challenges.cloudflare.com"}
	}
	return sc
}

// Pool is the app's database pool.
func (a *App) Pool() *pgxpool.Pool { return a.pool }

// Drain marks the app as shutting down: /readyz answers 503 from now on,
// while requests are still served, so load balancers stop routing to this
// instance before it stops accepting connections.
func (a *App) Drain() { a.draining.Store(true) }

// Run runs the background work: the listener that keeps the revoked
// sessions in step across instances, and the emulator's webhook delivery in
// emulator mode. It returns when ctx is cancelled.
func (a *App) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return clerksync.WatchRevocations(ctx, a.pool, a.revocations, a.logger) })
	if a.Emulator != nil {
		g.Go(func() error { return a.Emulator.Run(ctx) })
	}
	return g.Wait()
}

// Banner prints what a developer needs at start-up: the emulator's URLs and
// seeded accounts in emulator mode.
func (a *App) Banner(w interface{ Write([]byte) (int, error) }) {
	if a.Emulator != nil {
		a.Emulator.Banner(w)
		fmt.Fprintf(w, "  Machine routes %s: tokens of machines scoped to %s\n", routes.APIM2M, a.Clerk.MachineID)
	}
}

// layoutIdentity is the layout's view of the verified session.
func layoutIdentity(c echo.Context) layouts.Identity {
	u := auth.From(c.Request().Context())
	if !u.SignedIn() {
		return layouts.Identity{}
	}
	return layouts.Identity{SignedIn: true, UserID: u.UserID, UserName: u.UserName, OrgID: u.OrgID, OrgSlug: u.OrgSlug,
		OrgName: u.OrgName, OrgRole: u.OrgRole, Operator: u.Operator}
}

// logIdentity gives the access log the user and organisation of a request
// (or the machine, for machine tokens).
func logIdentity(c echo.Context) (string, string) {
	u := auth.From(c.Request().Context())
	if u.Machine != nil {
		return u.Machine.ID, ""
	}
	return u.UserID, u.OrgID
}

// routes is the route table: every route the app serves is registered here,
// by handler group.
func (a *App) routes(hooks identity.WebhookReceiver) {
	e := a.Echo
	e.GET(static.URLPrefix+"*", static.Handler)
	(&health.Handlers{
		Logger:   a.logger,
		Ready:    func(ctx context.Context) error { return database.Ready(ctx, a.pool, a.latest) },
		Draining: a.draining.Load,
	}).Routes(e)
	(&pages.Handlers{Render: a.render}).Routes(e)
	hooks.Register(e)
	if a.authn.MachinesEnabled() {
		(&m2m.Handlers{Queries: store.New(a.pool)}).Routes(e)
	}
	// One guard for the admin screens and /orgs: both change memberships.
	guard := lastadmin.New(a.pool, a.Clerk.BackendConfig())
	// The identity provider's admin API (the directory seam).
	var dir identity.Directory = clerkdir.New(a.Clerk.BackendConfig())
	(&admin.Handlers{Render: a.render, Pool: a.pool, Directory: dir, Syncer: a.Syncer, Guard: guard, Logger: a.logger}).Routes(e)
	(&ops.Handlers{Render: a.render, Pool: a.pool, Syncer: a.Syncer, Directory: dir, Logger: a.logger,
		Backend: clerksync.Backend{URL: a.Clerk.APIURL, SecretKey: a.Clerk.SecretKey}}).Routes(e)
	// The org-scoped product: organisations, the dashboard and projects
	// pages, and the JSON API (rate limited by server.Config.Inner).
	projectService := &projects.Service{Pool: a.pool}
	(&orgs.Handlers{Render: a.render, Pool: a.pool, Directory: dir, Guard: guard, Logger: a.logger}).Routes(e)
	(&dashboard.Handlers{Render: a.render, Pool: a.pool, Projects: projectService,
		Cache: dashboard.NewCache(dashboard.DefaultCacheSize, nil)}).Routes(e)
	(&api.Handlers{Pool: a.pool, Projects: projectService, Logger: a.logger}).Routes(e)
}
