// Package logging builds the process's slog logger: JSON in production,
// readable text elsewhere, written through a buffer.
//
// The access log writes one line per request. Written straight to stderr
// that is one write system call per request, as many as answering the
// request itself takes; on a virtual machine that was a tenth of the CPU a
// cheap request costs. Lines are therefore buffered and written at least
// every FlushInterval, when the buffer fills, at once for warnings and
// errors, and when the process stops (Close).
package logging

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// FlushInterval is the longest a line waits in the buffer.
const FlushInterval = 200 * time.Millisecond

// bufferSize holds a few hundred access-log lines.
const bufferSize = 64 << 10

// Writer buffers writes to an underlying writer and flushes them every
// FlushInterval. It is safe for concurrent use.
type Writer struct {
	mu   sync.Mutex
	buf  *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// NewWriter starts a Writer over w that flushes every interval
// (FlushInterval in the app). Close it to flush and stop its timer.
func NewWriter(w io.Writer, interval time.Duration) *Writer {
	bw := &Writer{buf: bufio.NewWriterSize(w, bufferSize), stop: make(chan struct{}), done: make(chan struct{})}
	go bw.flushEvery(interval)
	return bw
}

// Write buffers p; a line never waits longer than the flush interval.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// Flush writes what is buffered.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Flush()
}

// Close flushes and stops the periodic flush.
func (w *Writer) Close() error {
	close(w.stop)
	<-w.done
	return w.Flush()
}

func (w *Writer) flushEvery(d time.Duration) {
	defer close(w.done)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			_ = w.Flush()
		}
	}
}

// New returns a logger writing JSON (production) or text lines to w,
// flushing w at once after every warning or error so that those are never
// held back, even if the process dies right after.
func New(w *Writer, json bool) *slog.Logger {
	var h slog.Handler
	if json {
		h = slog.NewJSONHandler(w, nil)
	} else {
		h = slog.NewTextHandler(w, nil)
	}
	return slog.New(&flushing{Handler: h, w: w})
}

// flushing flushes the writer after records at warning level or above.
type flushing struct {
	slog.Handler
	w *Writer
}

func (h *flushing) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h *flushing) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &flushing{Handler: h.Handler.WithAttrs(attrs), w: h.w}
}

func (h *flushing) WithGroup(name string) slog.Handler {
	return &flushing{Handler: h.Handler.WithGroup(name), w: h.w}
}
