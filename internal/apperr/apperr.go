// Package apperr defines the application's one error type.
//
// Every error that should reach a user carries a machine Code and a public
// Message. Anything else is treated as internal: its text is logged, never
// shown. Handlers return *Error values; the HTTP error handler turns them into
// an HTML page, an HTMX fragment or a JSON body.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
)

// Code is a machine-readable error class.
type Code string

// The error classes the application uses. Keep this list short: a code exists
// when callers need to branch on it or when it maps to a distinct HTTP status.
const (
	Invalid      Code = "invalid"
	Unauthorized Code = "unauthorized"
	Forbidden    Code = "forbidden"
	NotFound     Code = "not_found"
	Conflict     Code = "conflict"
	TooLarge     Code = "too_large"
	RateLimited  Code = "rate_limited"
	Unavailable  Code = "unavailable"
	Internal     Code = "internal"
)

// Error is the application error: a code, a message safe to show, and an
// optional cause that is only ever logged.
type Error struct {
	Code    Code
	Message string
	Err     error
}

// Error returns the public message followed by the cause, for logs.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a public message.
func New(code Code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Errorf is New with a formatted public message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with a code and public message that keeps err as its
// cause. The cause's text is never shown to users.
func Wrap(code Code, message string, err error) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// MessageOf returns the public message of the first *Error in err's chain. For
// any other error it returns a generic message, so internal details never leak.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal && e.Message != "" {
		return e.Message
	}
	return "Something went wrong"
}

// Status maps a code to its HTTP status.
func Status(code Code) int {
	switch code {
	case Invalid:
		return http.StatusBadRequest
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case RateLimited:
		return http.StatusTooManyRequests
	case Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// FromStatus returns the code for an HTTP status, used to adopt errors raised
// by the framework (404 for unknown routes, 405, 413 from the body limit).
func FromStatus(status int) Code {
	switch status {
	case http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusUnsupportedMediaType:
		return Invalid
	case http.StatusUnauthorized:
		return Unauthorized
	case http.StatusForbidden:
		return Forbidden
	case http.StatusNotFound:
		return NotFound
	case http.StatusConflict:
		return Conflict
	case http.StatusRequestEntityTooLarge:
		return TooLarge
	case http.StatusTooManyRequests:
		return RateLimited
	case http.StatusServiceUnavailable:
		return Unavailable
	}
	if status >= 400 && status < 500 {
		return Invalid
	}
	return Internal
}
