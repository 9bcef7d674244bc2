// Package app wires the application together: it builds every component
// from the configuration and registers the route table. cmd/web runs it; tests
// build the same thing against their own database.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

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
	"github.com/saasstarter/saas/internal/clerkemu"
	"github.com/saasstarter/saas/internal/clerkjs"
	"github.com/saasstarter/saas/internal/clerkproxy"
	"github.com/saasstarter/saas/internal/clerksync"
	"github.com/saasstarter/saas/internal/config"
	"github.com/saasstarter/saas/internal/database"
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
	// limiter counts /api requests per user or machine in PostgreSQL.
	limiter *ratelimit.Limiter
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
	// minute per user or machine.
	RateLimit ratelimit.Config
	// ClerkProxyUpstream overrides the Frontend API the CLERK_PROXY_URL
	// proxy forwards to (default: Clerk's, from the publishable key).
	ClerkProxyUpstream *url.URL
}

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
	if a.authn, err = auth.New(authCfg); err != nil {
		return nil, fmt.Errorf("clerk authentication: %w", err)
	}

	verifier, err := clerksync.NewVerifier(a.Clerk.WebhookSecret)
	if err != nil {
		return nil, fmt.Errorf("CLERK_WEBHOOK_SIGNING_SECRET: %w", err)
	}
	syncOpts := clerksync.Options{Logger: logger}
	if a.Emulator != nil {
		// Events from any other instance (a stale emulator state, a
		// misconfigured secret) are recorded as ignored, never applied.
		syncOpts.InstanceID = a.Emulator.InstanceID()
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
		Identity: identity,
	}
	a.Metrics = metrics.New(metrics.Options{WebhookRoute: routes.Webhook, VerifyCache: a.authn.CacheStats})
	a.Echo = server.NewEcho(server.Config{
		Logger:       logger,
		Render:       a.render,
		Secure:       a.securityConfig(),
		Production:   cfg.Production(),
		Authenticate: a.authn.Middleware(),
		Machine:      a.authn.MachineMiddleware(routes.APIM2M + "/"),
		Policy:       auth.Policy(PublicRoutes),
		LogIdentity:  logIdentity,
		CSRFExempt:   server.Route{Method: http.MethodPost, Path: routes.Webhook},
		Metrics:      a.Metrics.Middleware(),
	})
	limit := opt.RateLimit
	if limit.Limit == 0 {
		limit.Limit, limit.Window = cfg.APIRateLimit, time.Minute
	}
	a.limiter = ratelimit.New(pool, limit, logger)
	a.routes(webhooks.New(webhooks.Config{Verifier: verifier, Syncer: a.Syncer, Logger: logger}))

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
	emu, err := clerkemu.New(ctx, ecfg)
	if err != nil {
		return fmt.Errorf("clerk emulator: %w", err)
	}
	a.Emulator = emu
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
	sc := secure.Config{HSTS: a.cfg.Production()}
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

// Run runs the background work: the emulator's webhook delivery in
// emulator mode. It returns when ctx is cancelled.
func (a *App) Run(ctx context.Context) error {
	if a.Emulator == nil {
		<-ctx.Done()
		return nil
	}
	return a.Emulator.Run(ctx)
}

// Banner prints what a developer needs at start-up: the emulator's URLs and
// seeded accounts in emulator mode.
func (a *App) Banner(w interface{ Write([]byte) (int, error) }) {
	if a.Emulator != nil {
		a.Emulator.Banner(w)
	}
}

// identity is the layout's view of the verified session.
func identity(c echo.Context) layouts.Identity {
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
func (a *App) routes(hooks *webhooks.Handler) {
	e := a.Echo
	e.GET(static.URLPrefix+"*", static.Handler)
	(&health.Handlers{
		Logger: a.logger,
		Ready:  func(ctx context.Context) error { return database.Ready(ctx, a.pool, a.latest) },
	}).Routes(e)
	(&pages.Handlers{Render: a.render}).Routes(e)
	hooks.Register(e)
	(&m2m.Handlers{Queries: store.New(a.pool)}).Routes(e)
	(&admin.Handlers{Render: a.render, Pool: a.pool, Clerk: a.Clerk.BackendConfig(), Syncer: a.Syncer, Logger: a.logger}).Routes(e)
	(&ops.Handlers{Render: a.render, Pool: a.pool, Syncer: a.Syncer,
		Backend: clerksync.Backend{URL: a.Clerk.APIURL, SecretKey: a.Clerk.SecretKey}}).Routes(e)
	// The org-scoped product: organisations, the dashboard and projects
	// pages, and the JSON API, every /api route rate limited.
	e.Use(a.limiter.APIMiddleware())
	projectService := &projects.Service{Pool: a.pool}
	(&orgs.Handlers{Render: a.render, Pool: a.pool, Clerk: a.Clerk.BackendConfig(), Logger: a.logger}).Routes(e)
	(&dashboard.Handlers{Render: a.render, Pool: a.pool, Projects: projectService}).Routes(e)
	(&api.Handlers{Pool: a.pool, Projects: projectService, Logger: a.logger}).Routes(e)
}
