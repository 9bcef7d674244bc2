package clerksync

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/saasstarter/saas/db/store"
)

// pipelineTx is a transaction whose statements without a needed result
// (BEGIN, the sqlc :exec queries, COMMIT) are held back and sent together with
// the next statement that returns a row. A user event then costs three round
// trips instead of five, and a membership event five instead of nine; under
// load the round trips, not the SQL, are what the database spends its time
// on. An error in a held-back statement surfaces at the next send, which is
// still inside the same transaction, so it aborts the event just the same.
//
// It implements store.DBTX; :execrows queries would get a zero count, so the
// apply code never uses their counts.
type pipelineTx struct {
	conn    *pgxpool.Conn
	pending *pgx.Batch
}

// runTx runs fn in a pipelined transaction on a connection from pool and
// commits it. Any error rolls the transaction back. A connection left in an
// unknown state (killed, mid-transaction) is destroyed by the pool on release.
func runTx(ctx context.Context, pool *pgxpool.Pool, fn func(*store.Queries) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	p := &pipelineTx{conn: conn, pending: &pgx.Batch{}}
	p.pending.Queue("BEGIN")
	if err := fn(store.New(p)); err != nil {
		p.rollback()
		return err
	}
	if err := p.commit(ctx); err != nil {
		p.rollback()
		return err
	}
	return nil
}

var errRolledBack = errors.New("transaction was rolled back")

func (p *pipelineTx) commit(ctx context.Context) error {
	tag, err := p.flush(ctx, "COMMIT")
	if err == nil && tag.String() != "COMMIT" {
		// PostgreSQL answers COMMIT of a failed transaction with ROLLBACK.
		err = errRolledBack
	}
	return err
}

func (p *pipelineTx) rollback() {
	if p.conn.Conn().IsClosed() {
		return
	}
	// Rolling back must happen even when the request's context has ended.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = p.conn.Exec(ctx, "ROLLBACK") // on failure the pool discards the connection
}

// flush sends the held-back statements followed by sql and returns sql's
// command tag.
func (p *pipelineTx) flush(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	b := p.pending
	p.pending = &pgx.Batch{}
	b.Queue(sql, args...)
	br := p.conn.SendBatch(ctx, b)
	var tag pgconn.CommandTag
	var err error
	for range b.Len() {
		if tag, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// Exec holds the statement back until the next send.
func (p *pipelineTx) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	p.pending.Queue(sql, args...)
	return pgconn.CommandTag{}, nil
}

// Query sends what is held back, then runs the query on its own.
func (p *pipelineTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if p.pending.Len() > 0 {
		if _, err := p.flush(ctx, "SELECT 1"); err != nil {
			return nil, err
		}
	}
	return p.conn.Query(ctx, sql, args...)
}

// QueryRow sends what is held back together with this query.
func (p *pipelineTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if p.pending.Len() == 0 {
		return p.conn.QueryRow(ctx, sql, args...)
	}
	b := p.pending
	p.pending = &pgx.Batch{}
	n := b.Len()
	b.Queue(sql, args...)
	br := p.conn.SendBatch(ctx, b)
	for range n {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return errRow{err}
		}
	}
	return batchRow{br}
}

// batchRow is the last result of a batch; scanning it closes the batch.
type batchRow struct{ br pgx.BatchResults }

func (r batchRow) Scan(dest ...any) error {
	err := r.br.QueryRow().Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
