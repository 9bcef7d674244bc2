//go:build pprof

package main

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
	"os"
)

// A binary built with -tags pprof serves Go's profiler on PPROF_ADDR
// (default 127.0.0.1:6060), for profiling under load (docs/PERFORMANCE.md).
// Release builds do not contain it.
func init() {
	addr := os.Getenv("PPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil {
			slog.Warn("pprof listener", "addr", addr, "err", err)
		}
	}()
}
