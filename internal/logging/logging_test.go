package logging_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saasstarter/saas/internal/logging"
)

// sink records what reaches the underlying writer and signals each write.
type sink struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func newSink() *sink { return &sink{wrote: make(chan struct{}, 100)} }

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wrote <- struct{}{}
	return s.buf.Write(p)
}

func (s *sink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func TestInfoIsBufferedWarningsAreNot(t *testing.T) {
	t.Parallel()
	s := newSink()
	w := logging.NewWriter(s, time.Hour) // no periodic flush during the test
	defer w.Close()
	log := logging.New(w, false)

	log.Info("request", "status", 200)
	if got := s.String(); got != "" {
		t.Fatalf("an info line reached the output before a flush: %q", got)
	}
	log.Warn("not ready")
	got := s.String()
	if !strings.Contains(got, "msg=request") || !strings.Contains(got, `msg="not ready"`) {
		t.Fatalf("after a warning the output is %q, want both lines", got)
	}
}

func TestPeriodicFlush(t *testing.T) {
	t.Parallel()
	s := newSink()
	w := logging.NewWriter(s, logging.FlushInterval)
	defer w.Close()
	logging.New(w, true).Info("request", "status", 200)
	select {
	case <-s.wrote:
	case <-time.After(10 * logging.FlushInterval):
		t.Fatal("a buffered line was never written")
	}
	if !strings.Contains(s.String(), `"msg":"request"`) {
		t.Fatalf("output %q, want the JSON line", s.String())
	}
}

func TestCloseFlushes(t *testing.T) {
	t.Parallel()
	s := newSink()
	w := logging.NewWriter(s, time.Hour)
	logging.New(w, false).Info("last words")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.String(), "last words") {
		t.Fatalf("Close left %q unwritten", s.String())
	}
}
