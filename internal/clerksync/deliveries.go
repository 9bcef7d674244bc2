package clerksync

import (
	"context"
	"errors"
	"strconv"
	"strings"
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
	// Limit is the page size (1–200, default 50).
	Limit int32
	// Before, when set, is the keyset cursor of the last row of the previous
	// page: the page starts after it.
	Before *DeliveryCursor
}

// DeliveryCursor is the position of a row in the log's order
// (received_at DESC, id DESC).
type DeliveryCursor struct {
	ReceivedAt time.Time
	ID         int64
}

// DeliveryPage is one page of deliveries, newest first.
type DeliveryPage struct {
	Deliveries []Delivery
	// Next is the cursor of the following page, nil on the last one.
	Next *DeliveryCursor
}

func timePtr(t pgtype.Timestamptz) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

// DeliveriesSQL is the statement of a page of the log for f, with its
// arguments. It is built for the filters given rather than written once
// with "$1 = ” OR column = $1": each combination is then a statement of
// its own whose plan walks the index for it (webhook_events_org,
// _type, _status, _org_status, _received) and stops after the page, even
// once the database keeps a plan across executions. The outcome is
// checked against the known ones, as every value, passed as an argument.
func DeliveriesSQL(f DeliveryFilter) (string, []any) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.OrganizationID != "" {
		where = append(where, "organization_id = "+arg(f.OrganizationID))
	}
	if f.Type != "" {
		where = append(where, "type = "+arg(f.Type))
	}
	if f.Status != "" {
		where = append(where, "status = "+arg(string(f.Status)))
		if f.Status != StatusApplied {
			// Lets the planner use the partial indexes of the rare outcomes
			// also with a plan made for any value of the argument.
			where = append(where, "status <> 'applied'")
		}
	}
	if f.Before != nil {
		where = append(where, "(received_at, id) < ("+arg(pgtype.Timestamptz{Time: f.Before.ReceivedAt, Valid: true})+", "+arg(f.Before.ID)+")")
	}
	sql := `SELECT id, svix_id, type, organization_id, object_id, instance_id, status, error, attempts,
       received_at, last_attempt_at, processed_at, event_at
FROM webhook_events`
	if len(where) > 0 {
		sql += "\nWHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	// The limit is written into the statement, not passed: with an
	// argument as LIMIT PostgreSQL cannot cost a generic plan and plans
	// every execution afresh.
	sql += "\nORDER BY received_at DESC, id DESC\nLIMIT " + strconv.Itoa(int(limit)+1)
	return sql, args
}

// ListDeliveries returns a page of the delivery log.
func (s *Syncer) ListDeliveries(ctx context.Context, f DeliveryFilter) (DeliveryPage, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	sql, args := DeliveriesSQL(f)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return DeliveryPage{}, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Delivery, error) {
		var d Delivery
		var status string
		var received, last, processed, eventAt pgtype.Timestamptz
		err := r.Scan(&d.ID, &d.SvixID, &d.Type, &d.OrganizationID, &d.ObjectID, &d.InstanceID, &status, &d.Error,
			&d.Attempts, &received, &last, &processed, &eventAt)
		d.Status, d.ReceivedAt, d.LastAttemptAt = Status(status), received.Time, last.Time
		d.ProcessedAt, d.EventAt = timePtr(processed), timePtr(eventAt)
		return d, err
	})
	if err != nil {
		return DeliveryPage{}, err
	}
	page := DeliveryPage{Deliveries: list}
	if len(list) > int(f.Limit) {
		page.Deliveries = list[:f.Limit]
		last := page.Deliveries[f.Limit-1]
		page.Next = &DeliveryCursor{ReceivedAt: last.ReceivedAt, ID: last.ID}
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
