package clerksync

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/apperr"
)

// Delivery is one row of the delivery log.
type Delivery struct {
	ID             int64
	SvixID         string
	Type           string
	OrganizationID string // Clerk org id, empty when the event concerns no org
	ObjectID       string // Clerk id of the user, org, membership… the event is about
	InstanceID     string
	Status         Status
	Error          string
	Attempts       int32
	ReceivedAt     time.Time
	LastAttemptAt  time.Time
	// ProcessedAt is when the delivery was last processed (ingested or
	// replayed); EventAt is the envelope's timestamp, when Clerk sent it.
	ProcessedAt *time.Time
	EventAt     *time.Time
	// Payload is the body as received; List leaves it empty.
	Payload []byte
}

// DeliveryFilter selects deliveries; empty fields match everything.
type DeliveryFilter struct {
	OrganizationID string
	Type           string
	Status         Status
	// Limit is the page size (1–200, default 50); Offset skips rows.
	Limit  int32
	Offset int32
}

// DeliveryPage is one page of deliveries, newest first.
type DeliveryPage struct {
	Deliveries []Delivery
	Total      int64
}

func timePtr(t pgtype.Timestamptz) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

// ListDeliveries returns a page of the delivery log.
func (s *Syncer) ListDeliveries(ctx context.Context, f DeliveryFilter) (DeliveryPage, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := store.New(s.pool)
	rows, err := q.ListWebhookEvents(ctx, store.ListWebhookEventsParams{
		OrganizationID: f.OrganizationID, Type: f.Type, Status: string(f.Status),
		MaxRows: f.Limit, SkipRows: max(f.Offset, 0),
	})
	if err != nil {
		return DeliveryPage{}, err
	}
	total, err := q.CountWebhookEvents(ctx, store.CountWebhookEventsParams{
		OrganizationID: f.OrganizationID, Type: f.Type, Status: string(f.Status),
	})
	if err != nil {
		return DeliveryPage{}, err
	}
	page := DeliveryPage{Deliveries: make([]Delivery, 0, len(rows)), Total: total}
	for _, r := range rows {
		page.Deliveries = append(page.Deliveries, Delivery{
			ID: r.ID, SvixID: r.SvixID, Type: r.Type, OrganizationID: r.OrganizationID, ObjectID: r.ObjectID,
			InstanceID: r.InstanceID, Status: Status(r.Status), Error: r.Error, Attempts: r.Attempts,
			ReceivedAt: r.ReceivedAt.Time, LastAttemptAt: r.LastAttemptAt.Time,
			ProcessedAt: timePtr(r.ProcessedAt), EventAt: timePtr(r.EventAt),
		})
	}
	return page, nil
}

func deliveryOf(r store.WebhookEvent) Delivery {
	return Delivery{
		ID: r.ID, SvixID: r.SvixID, Type: r.Type, OrganizationID: r.OrganizationID, ObjectID: r.ObjectID,
		InstanceID: r.InstanceID, Status: Status(r.Status), Error: r.Error, Attempts: r.Attempts,
		ReceivedAt: r.ReceivedAt.Time, LastAttemptAt: r.LastAttemptAt.Time,
		ProcessedAt: timePtr(r.ProcessedAt), EventAt: timePtr(r.EventAt), Payload: r.Payload,
	}
}

var errDeliveryNotFound = apperr.New(apperr.NotFound, "Delivery not found")

// Delivery returns one delivery with its payload, or an apperr NotFound.
func (s *Syncer) Delivery(ctx context.Context, id int64) (Delivery, error) {
	r, err := store.New(s.pool).GetWebhookEvent(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Delivery{}, errDeliveryNotFound
	}
	if err != nil {
		return Delivery{}, err
	}
	return deliveryOf(r), nil
}

// Replay re-applies a stored delivery through the same code as a live one,
// in one transaction, and records the new status on its row. Guards still
// hold: replaying an old update after a newer one gives "stale". It returns
// an apperr NotFound for an unknown id; any other error is transient and
// nothing was written.
func (s *Syncer) Replay(ctx context.Context, id int64) (Result, error) {
	// Learned before the transaction, so no connection waits on Clerk.
	instance, err := s.instance(ctx)
	if err != nil {
		return Result{}, err
	}
	res, err := s.replay(ctx, id, instance, nil)
	if err != nil && isPermanent(err) {
		res, err = s.replay(ctx, id, instance, err)
	}
	return res, err
}

func (s *Syncer) replay(ctx context.Context, id int64, instance string, fault error) (Result, error) {
	var res Result
	var ch change
	err := runTx(ctx, s.pool, func(q *store.Queries) error {
		// The row lock serialises a replay with a concurrent redelivery or a
		// second replay of the same event.
		r, err := q.LockWebhookEvent(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return errDeliveryNotFound
		}
		if err != nil {
			return err
		}
		if fault == nil {
			ev, perr := ParseEvent(r.Payload)
			if perr == nil {
				ch, fault = s.prepare(ev, instance)
			} else {
				fault = permanentf("%v", perr)
			}
		}
		res, err = s.process(ctx, q, id, ch, fault, "")
		return err
	})
	s.committed(ch, res, err)
	return res, err
}
