package render

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/database"
	"github.com/saasstarter/saas/internal/secure"
	"github.com/saasstarter/saas/internal/web"
	"github.com/saasstarter/saas/internal/web/htmx"
	"github.com/saasstarter/saas/views/pages"
)

// ErrorHandler returns Echo's HTTPErrorHandler: every error a handler or
// middleware returns ends here. It answers JSON for the API, an inline alert
// for HTMX (which would otherwise drop the body of a 4xx/5xx), and the error
// page for browsers. Only public messages reach the client; server errors
// are logged with the request id.
func (r *Renderer) ErrorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		// The handler's context may already be cancelled (request timeout,
		// client gone); the error page must still render.
		c.SetRequest(c.Request().WithContext(context.WithoutCancel(c.Request().Context())))
		status, message := Classify(err)
		reqID := c.Response().Header().Get(echo.HeaderXRequestID)
		if status >= http.StatusInternalServerError {
			level := slog.LevelError
			if status == http.StatusServiceUnavailable && (database.Unavailable(err) || errors.Is(err, context.DeadlineExceeded)) {
				// The database pool logs a refused connection once; the
				// access log counts the requests it costs.
				level = slog.LevelDebug
			}
			logger.Log(c.Request().Context(), level, "request failed", "request_id", reqID, "method", c.Request().Method,
				"route", c.Path(), "status", status, "err", err)
		}
		secure.NoStore(c.Response().Header())
		if status == http.StatusServiceUnavailable && c.Response().Header().Get(echo.HeaderRetryAfter) == "" {
			c.Response().Header().Set(echo.HeaderRetryAfter, retryAfter)
		}

		var werr error
		switch {
		case c.Request().Method == http.MethodHead:
			werr = c.NoContent(status)
		case web.IsAPI(c):
			werr = c.JSON(status, map[string]string{"error": message})
		case web.IsHTMX(c):
			h := c.Response().Header()
			h.Set(htmx.HeaderRetarget, "#flash")
			h.Set(htmx.HeaderReswap, "innerHTML")
			if h.Get(auth.HeaderRefresh) != "" {
				// The page script refreshes the session and retries; there
				// is nothing to show in the meantime.
				h.Set(htmx.HeaderReswap, "none")
			}
			werr = Component(c, status, pages.ErrorFragment(message))
		default:
			werr = r.Page(c, status, message, pages.Error(status, message, reqID))
		}
		if werr != nil {
			logger.Error("writing error response failed", "request_id", reqID, "err", werr)
		}
	}
}

// retryAfter is the Retry-After of a 503 whose handler set none: the seconds
// after which a database that refused connections, or an overloaded
// instance, has likely recovered.
const retryAfter = "5"

// Classify maps any error to a status and a message that is safe to show.
// *apperr.Error carries its own (unless it is internal); a database that
// refused or dropped the connection is a 503 (database.Unavailable);
// framework errors (unknown route, method not allowed, body too large, a
// request past its deadline) get the standard text of their status;
// anything else is a 500 with a generic message.
func Classify(err error) (int, string) {
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Code != apperr.Internal {
		return apperr.Status(ae.Code), apperr.MessageOf(ae)
	}
	if database.Unavailable(err) {
		return http.StatusServiceUnavailable, publicText(http.StatusServiceUnavailable)
	}
	if ae != nil {
		return http.StatusInternalServerError, publicText(http.StatusInternalServerError)
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status := he.Code
		if status < 400 || status > 599 {
			status = http.StatusInternalServerError
		}
		return status, publicText(status)
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, publicText(http.StatusRequestEntityTooLarge)
	}
	return http.StatusInternalServerError, publicText(http.StatusInternalServerError)
}

func publicText(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Not found"
	case http.StatusUnauthorized:
		return "Unauthenticated"
	case http.StatusForbidden:
		return "Forbidden"
	case http.StatusRequestEntityTooLarge:
		return "Request body too large"
	case http.StatusInternalServerError:
		return "Something went wrong"
	case http.StatusServiceUnavailable:
		return "The service is busy; please try again in a moment"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Something went wrong"
}
