package clerkemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// apiError is one entry of Clerk's error envelope
// ({"errors":[{code,message,long_message,meta}],"clerk_trace_id"}), which
// clerk-sdk-go turns into *clerk.APIErrorResponse and @clerk/backend into a
// ClerkAPIResponseError.
type apiError struct {
	Code        string         `json:"code"`
	Message     string         `json:"message"`
	LongMessage string         `json:"long_message"`
	Meta        map[string]any `json:"meta"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	// Exactly "application/json": @clerk/backend only parses a response as
	// JSON when the Content-Type is that string, without parameters.
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeAPIError answers with Clerk's error envelope.
func writeAPIError(w http.ResponseWriter, status int, e apiError) {
	if e.LongMessage == "" {
		e.LongMessage = e.Message
	}
	if e.Meta == nil {
		e.Meta = map[string]any{}
	}
	writeJSON(w, status, map[string]any{"errors": []apiError{e}, "clerk_trace_id": randomHex(16)})
}

// writeError is writeAPIError for an error whose message says it all.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeAPIError(w, status, apiError{Code: code, Message: message})
}

// clientError is an error whose message may be shown to the caller.
type clientError struct {
	status int
	code   string
	msg    string
	long   string
	meta   map[string]any
}

func (c *clientError) Error() string { return c.msg }

func (c *clientError) apiError() apiError {
	return apiError{Code: c.code, Message: c.msg, LongMessage: c.long, Meta: c.meta}
}

// invalid is Clerk's 422 for a request it understood but cannot apply.
func invalid(code, msg string) error {
	return &clientError{status: http.StatusUnprocessableEntity, code: code, msg: msg}
}

// invalidParam is a 422 about one parameter, named in meta.param_name as
// Clerk does, so form-handling code can point at the field.
func invalidParam(code, param, msg string) error {
	return &clientError{status: http.StatusUnprocessableEntity, code: code, msg: msg,
		meta: map[string]any{"param_name": param}}
}

// codeUnsupportedEndpoint marks a request for an endpoint (or method) the
// emulator does not serve. It is not Clerk's resource_not_found on purpose:
// a script that treats 404 as "already gone" must not mistake a missing
// emulator feature for a deleted object.
const codeUnsupportedEndpoint = "unsupported_endpoint"

// unsupportedParam refuses a query or body parameter the emulator does not
// apply. Clerk answers form_param_unknown for a parameter it does not know;
// the emulator says the same for one it does not implement, because
// ignoring a filter or a field and answering 200 would make the caller act
// on the wrong rows.
func unsupportedParam(name string) error {
	return &clientError{status: http.StatusUnprocessableEntity, code: "form_param_unknown", msg: "is unknown",
		long: fmt.Sprintf("%s is not a valid parameter for this request, or is not supported by the Clerk emulator.", name),
		meta: map[string]any{"param_name": name}}
}

// unsupportedValue refuses a parameter value the emulator does not support.
func unsupportedValue(name, long string) error {
	return &clientError{status: http.StatusUnprocessableEntity, code: "form_param_value_invalid", msg: "is invalid",
		long: long, meta: map[string]any{"param_name": name}}
}

// unsupportedFeature refuses a Clerk feature the emulator has no model of
// (phone numbers, TOTP, OAuth accounts, logos…), naming it.
func unsupportedFeature(what string) error {
	return &clientError{status: http.StatusUnprocessableEntity, code: "unsupported_by_emulator",
		msg:  what + " is not supported by the Clerk emulator",
		long: what + " is not supported by the Clerk emulator; use a Clerk development instance to exercise it."}
}

// errSessionInactive is returned for tokens of ended or revoked sessions.
var errSessionInactive = &clientError{status: http.StatusNotFound, code: "resource_not_found", msg: "session is not active"}

// errNotFound marks a missing row; handlers turn it into Clerk's 404.
var errNotFound = errors.New("not found")

// fail maps an error to Clerk's envelope; unknown errors are logged and
// answered as a 500 without detail.
func (e *Emulator) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ce *clientError
	switch {
	case errors.As(err, &ce):
		writeAPIError(w, ce.status, ce.apiError())
	case errors.Is(err, errNotFound):
		writeAPIError(w, http.StatusNotFound, apiError{Code: "resource_not_found", Message: "not found",
			LongMessage: "The requested resource was not found."})
	case errors.Is(err, errNotMember):
		writeError(w, http.StatusForbidden, "not_a_member_in_organization", errNotMember.Error())
	case r.Context().Err() != nil:
		// The browser went away (ClerkJS aborts requests a navigation
		// leaves behind): nobody reads the answer, and nothing failed.
		writeError(w, http.StatusServiceUnavailable, "request_cancelled", "the request was cancelled")
	default:
		e.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal_clerk_error", "internal error")
	}
}
