package clerkemu

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
)

// requestInfo is what Clerk reports in event_attributes.http_request.
type requestInfo struct {
	ClientIP  string `json:"client_ip"`
	UserAgent string `json:"user_agent"`
}

type requestInfoKey struct{}

// withRequestInfo records the caller of a change so its events can name it,
// as Clerk's do; backend-initiated events carry empty strings.
func withRequestInfo(r *http.Request) context.Context {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return context.WithValue(r.Context(), requestInfoKey{}, requestInfo{ClientIP: ip, UserAgent: r.UserAgent()})
}

// event is Clerk's webhook envelope (clerk.md §6.1).
type event struct {
	Data            any    `json:"data"`
	Object          string `json:"object"`
	Type            string `json:"type"`
	Timestamp       int64  `json:"timestamp"`
	InstanceID      string `json:"instance_id"`
	EventAttributes struct {
		HTTPRequest requestInfo `json:"http_request"`
	} `json:"event_attributes"`
}

// emit queues an event in the outbox inside the caller's transaction, so the
// event exists if and only if the change commits. key groups events that
// must arrive in order (those about the same resource).
func (e *Emulator) emit(ctx context.Context, q querier, typ, key string, data any) error {
	ev := event{Data: data, Object: "event", Type: typ, Timestamp: e.nowMS(), InstanceID: e.kid}
	if info, ok := ctx.Value(requestInfoKey{}).(requestInfo); ok {
		ev.EventAttributes.HTTPRequest = info
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode %s: %w", typ, err)
	}
	_, err = q.Exec(ctx, `INSERT INTO clerkemu.outbox (msg_id, event_type, resource_key, body) VALUES ($1, $2, $3, $4)`,
		newID("msg"), typ, key, string(body))
	if err != nil {
		return fmt.Errorf("queue %s: %w", typ, err)
	}
	return nil
}

// Helpers that load a resource and emit its event, so every mutation
// announces the same shape.

func (e *Emulator) emitUser(ctx context.Context, q querier, typ, userID string) error {
	u, err := getUser(ctx, q, userID)
	if err != nil {
		return err
	}
	return e.emit(ctx, q, typ, u.ID, e.userJSON(u))
}

func (e *Emulator) emitOrg(ctx context.Context, q querier, typ, orgID string) error {
	o, err := getOrg(ctx, q, orgID)
	if err != nil {
		return err
	}
	return e.emit(ctx, q, typ, o.ID, e.orgJSON(o))
}

func (e *Emulator) emitMembership(ctx context.Context, q querier, typ string, m *membershipRow) error {
	data, err := e.loadMembershipJSON(ctx, q, m)
	if err != nil {
		return err
	}
	return e.emit(ctx, q, typ, m.ID, data)
}

// emitSession sends a session event with the embedded user, the shape of
// Clerk's SessionWebhookEventJSON.
func (e *Emulator) emitSession(ctx context.Context, q querier, typ string, s *sessionRow) error {
	u, err := getUser(ctx, q, s.UserID)
	if err != nil {
		return err
	}
	data := struct {
		*sessionJSON
		User *userJSON `json:"user"`
	}{sessionJSONOf(s), e.userJSON(u)}
	return e.emit(ctx, q, typ, s.ID, data)
}
