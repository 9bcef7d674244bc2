package clerksync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/clerkid"
)

// Options configures a Syncer.
type Options struct {
	// InstanceID, when set, is the Clerk instance (ins_…) whose events are
	// applied. Events from any other instance are recorded as ignored: a
	// defence against a development secret configured in production
	// (checklist W-12).
	InstanceID string
	// InstanceLookup, used when InstanceID is empty, learns the instance id
	// (e.g. Backend.InstanceID). It is called when the first event arrives,
	// not at start, and its answer is kept; until it has answered, events
	// are refused as transient failures (5xx, so Svix retries them), never
	// applied unpinned.
	InstanceLookup func(context.Context) (string, error)
	// Logger receives one line per failed or ignored delivery; nil means
	// slog.Default().
	Logger *slog.Logger
	// Revoked, when set, hears of every session a committed event ended,
	// so this instance refuses its tokens at once; other instances learn
	// of it from the NOTIFY the same transaction sends (WatchRevocations).
	Revoked func(session string, at time.Time)
}

// Syncer applies Clerk events to the database.
type Syncer struct {
	pool *pgxpool.Pool
	opts Options
	log  *slog.Logger

	// mu guards learned, the instance id InstanceLookup answered.
	mu      sync.Mutex
	learned string
}

// New returns a Syncer that writes through pool.
func New(pool *pgxpool.Pool, opts Options) *Syncer {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Syncer{pool: pool, opts: opts, log: log.With("component", "clerksync")}
}

// Result says what Ingest or Replay did with a delivery.
type Result struct {
	// EventID is the webhook_events row of the delivery.
	EventID int64
	Status  Status
	// Error is the recorded fault when Status is failed or ignored.
	Error string
}

// Ingest records and applies one verified delivery in a single transaction.
// It returns ErrMalformed for a body that is not an event envelope. Any other
// error is transient (the database could not commit) and nothing was
// written; the caller answers 5xx so that Svix retries. Permanent faults are
// not errors: they come back as a Result with StatusFailed.
func (s *Syncer) Ingest(ctx context.Context, svixID string, body []byte) (Result, error) {
	ev, err := ParseEvent(body)
	if err != nil {
		return Result{}, err
	}
	payload, err := storableJSON(body)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	instance, err := s.instance(ctx)
	if err != nil {
		return Result{}, err
	}
	ch, fault := s.prepare(ev, instance)
	res, err := s.ingest(ctx, svixID, ev, ch, fault, payload)
	if err != nil && isPermanent(err) {
		// The database refused the data itself. The transaction is gone, so
		// record the failure in a fresh one that applies nothing.
		res, err = s.ingest(ctx, svixID, ev, ch, err, payload)
	}
	if err == nil && (res.Status == StatusFailed || res.Status == StatusIgnored && res.Error != "") {
		s.log.WarnContext(ctx, "webhook not applied", "svix_id", svixID, "type", ev.Type, "status", res.Status, "error", res.Error)
	}
	return res, err
}

// prepare decodes the event into a change, or returns the permanent fault
// that stops it from being applied. instance is the pinned instance id, ""
// when events of any instance are applied.
func (s *Syncer) prepare(ev Event, instance string) (change, error) {
	ch, err := decode(ev)
	if err == nil && instance != "" && ev.InstanceID != instance {
		err = &ignoredError{fmt.Sprintf("instance_id %q is not this app's instance", ev.InstanceID)}
	}
	return ch, err
}

// instance returns the instance id events must carry: Options.InstanceID,
// or the one InstanceLookup answered (asked once, then kept), or "" when
// neither is set.
func (s *Syncer) instance(ctx context.Context) (string, error) {
	if s.opts.InstanceID != "" || s.opts.InstanceLookup == nil {
		return s.opts.InstanceID, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.learned != "" {
		return s.learned, nil
	}
	id, err := s.opts.InstanceLookup(ctx)
	if err != nil {
		return "", fmt.Errorf("learn the Clerk instance id (or set CLERK_INSTANCE_ID): %w", err)
	}
	if !clerkid.Valid(clerkid.Instance, id) {
		return "", fmt.Errorf("the Backend API named an invalid instance id %q", clean(id, maxID))
	}
	s.learned = id
	s.log.InfoContext(ctx, "webhooks pinned to the Clerk instance", "instance_id", id)
	return id, nil
}

// ignoredError marks an event that is deliberately not applied.
type ignoredError struct{ msg string }

func (e *ignoredError) Error() string { return e.msg }

// ingest runs the inbox transaction: insert → apply → record status → commit.
// When fault is set, nothing is applied and the fault is recorded instead.
func (s *Syncer) ingest(ctx context.Context, svixID string, ev Event, ch change, fault error, payload []byte) (Result, error) {
	var res Result
	err := runTx(ctx, s.pool, func(q *store.Queries) error {
		// The row is inserted with the outcome we expect, so that the common
		// case (applied, or a recorded fault) needs no second write.
		want := outcomeOf(fault)
		id, err := q.InsertWebhookEvent(ctx, store.InsertWebhookEventParams{
			SvixID: svixID, Type: ev.Type, OrganizationID: ch.orgID, ObjectID: ch.objectID,
			InstanceID: ev.InstanceID, EventAt: tz(ev.Timestamp), Payload: payload,
			Status: string(want.Status), Error: want.Error,
		})
		if errors.Is(err, pgx.ErrNoRows) {
			res = Result{Status: StatusDuplicate}
			return q.CountWebhookEventAttempt(ctx, svixID)
		}
		if err != nil {
			return err
		}
		res, err = s.process(ctx, q, id, ch, fault, want.Status)
		return err
	})
	s.committed(ch, res, err)
	return res, err
}

// committed passes on what a committed change means beyond the database: a
// revoked session (also when it was already recorded: adding it again to
// the set is harmless, and a replay must reach an instance that missed it).
func (s *Syncer) committed(ch change, res Result, err error) {
	if err != nil || ch.revoked == "" || s.opts.Revoked == nil || res.Status == StatusFailed || res.Status == StatusIgnored {
		return
	}
	s.opts.Revoked(ch.revoked, ch.revokedAt)
}

// outcomeOf is the result of processing an event with the given fault (nil:
// applied, until the apply says otherwise).
func outcomeOf(fault error) Result {
	var ign *ignoredError
	switch {
	case errors.As(fault, &ign):
		return Result{Status: StatusIgnored, Error: clean(fault.Error(), maxText)}
	case fault != nil:
		return Result{Status: StatusFailed, Error: clean(fault.Error(), maxText)}
	}
	return Result{Status: StatusApplied}
}

// process applies a change (unless fault is set) and records the outcome on
// the delivery row, unless the row already holds it (recorded). Ingest and
// Replay share it, so a replay goes through exactly the code a delivery does.
func (s *Syncer) process(ctx context.Context, q *store.Queries, id int64, ch change, fault error, recorded Status) (Result, error) {
	res := outcomeOf(fault)
	res.EventID = id
	if fault == nil {
		st, err := ch.apply(ctx, q)
		if err != nil {
			return res, err
		}
		res.Status = st
	}
	if res.Status == recorded {
		return res, nil
	}
	err := q.FinishWebhookEvent(ctx, store.FinishWebhookEventParams{ID: id, Status: string(res.Status), Error: res.Error})
	return res, err
}
