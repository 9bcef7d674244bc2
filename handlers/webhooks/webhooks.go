// Package webhooks receives Clerk's Svix-signed webhooks on
// POST /api/webhooks/clerk and hands them to clerksync. Handler is Clerk's
// identity.WebhookReceiver: another provider's notifications get a receiver
// and route of their own (docs/MIGRATION.md).
//
// The route must be exempt from session authentication and CSRF (by its
// route template, and only that route), and must never redirect: Svix treats
// a 3xx as a failure.
package webhooks

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/clerksync"
	"github.com/saasstarter/saas/internal/routes"
)

// DefaultMaxBody caps a delivery's body. Clerk's events are a few KiB; user
// metadata can add up to a few dozen.
const DefaultMaxBody = 1 << 20

// DefaultTimeout bounds the work on one delivery, well inside the 15 s Svix
// waits before counting an attempt as failed, so a stalled database gives a
// 5xx (and a retry) instead of a timeout with an unknown outcome.
const DefaultTimeout = 10 * time.Second

// Config is what the handler needs.
type Config struct {
	Verifier *clerksync.Verifier
	Syncer   *clerksync.Syncer
	// MaxBody is the body cap in bytes (default DefaultMaxBody).
	MaxBody int64
	// Timeout bounds one delivery (default DefaultTimeout).
	Timeout time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Handler is the webhook endpoint.
type Handler struct {
	cfg Config
	log *slog.Logger
}

// New returns the webhook handler.
func New(cfg Config) *Handler {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Handler{cfg: cfg, log: log.With("component", "webhooks")}
}

// Routes registers POST /api/webhooks/clerk on g, which must be a group
// without a prefix (e.Group("")), because the path is absolute.
func (h *Handler) Routes(g *echo.Group) {
	g.POST(routes.Webhook, h.Receive)
}

// Register registers POST /api/webhooks/clerk on e.
func (h *Handler) Register(e *echo.Echo) {
	e.POST(routes.Webhook, h.Receive)
}

type okBody struct {
	OK bool `json:"ok"`
}

type errorBody struct {
	Error string `json:"error"`
}

// Receive verifies and applies one delivery. It answers by itself rather than
// through the application's error handler so that the status codes Svix acts
// on stay exactly as documented in CONTRACT.md, whatever else changes.
func (h *Handler) Receive(c echo.Context) error {
	r := c.Request()
	// The exact bytes are needed for the signature, so the body is read here
	// and never bound. MaxBytesReader also stops a chunked body at the cap.
	if r.ContentLength > h.cfg.MaxBody {
		return h.fail(c, http.StatusRequestEntityTooLarge, "Payload too large", nil)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, h.cfg.MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return h.fail(c, http.StatusRequestEntityTooLarge, "Payload too large", nil)
		}
		return h.fail(c, http.StatusBadRequest, "Could not read body", err)
	}

	svixID, err := h.cfg.Verifier.Verify(body, r.Header)
	switch {
	case errors.Is(err, clerksync.ErrSignature):
		return h.fail(c, http.StatusUnauthorized, "Invalid signature", nil)
	case err != nil:
		return h.fail(c, http.StatusBadRequest, "Missing or malformed signature headers", nil)
	}

	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.Timeout)
	defer cancel()
	res, err := h.cfg.Syncer.Ingest(ctx, svixID, body)
	switch {
	case errors.Is(err, clerksync.ErrMalformed):
		return h.fail(c, http.StatusBadRequest, "Malformed event", err)
	case err != nil:
		h.log.ErrorContext(ctx, "webhook not committed", "svix_id", svixID, "error", err)
		return h.fail(c, http.StatusServiceUnavailable, "Temporarily unavailable", nil)
	}
	h.log.DebugContext(ctx, "webhook", "svix_id", svixID, "status", res.Status)
	return c.JSON(http.StatusOK, okBody{OK: true})
}

// fail answers with a fixed public message; the cause is only logged.
func (h *Handler) fail(c echo.Context, status int, msg string, cause error) error {
	if cause != nil {
		h.log.InfoContext(c.Request().Context(), "webhook rejected", "status", status, "error", cause)
	}
	// Connection: close after a refused body, so an oversized upload is not
	// drained to keep the connection alive.
	if status == http.StatusRequestEntityTooLarge {
		c.Response().Header().Set(echo.HeaderConnection, "close")
	}
	return c.JSON(status, errorBody{Error: msg})
}
