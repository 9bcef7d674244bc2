// Package browsertest drives Debian's Chromium from Go tests (chromedp): a
// fresh headless profile per test, the flags this network-less machine
// needs, a record of console errors and CSP violations, and a screenshot
// saved when a test fails.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ArtifactsDir is where screenshots of failed tests are written, relative
// to the repository root.
const ArtifactsDir = "e2e-artifacts"

// Browser is one headless Chromium tab.
type Browser struct {
	// Ctx runs chromedp actions in the tab.
	Ctx context.Context

	mu       sync.Mutex
	problems []string
}

// execPath finds Chromium. Browser tests need it: a machine without it fails
// the test rather than skipping, so CI cannot pass without running them.
func execPath(t testing.TB) string {
	for _, name := range []string{os.Getenv("CHROMIUM_PATH"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("browsertest: Chromium not found; install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH")
	return ""
}

// New starts Chromium for t and closes it when t ends. The whole test is
// bounded by timeout.
func New(t testing.TB, timeout time.Duration) *Browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath(t)),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		// Without these Chromium keeps trying to reach Google's services,
		// which this machine cannot do.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	b := &Browser{Ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
		t.Fatalf("browsertest: start Chromium: %v", err)
	}
	// Collect errors, uncaught exceptions and browser-log errors (CSP
	// violations are reported there) for the test to assert on.
	go func() {
		for msg, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if msg.IsException() || msg.Type == "error" {
				b.record(msg.String())
			}
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			b.screenshot(t)
		}
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return b
}

func (b *Browser) record(p string) {
	b.mu.Lock()
	b.problems = append(b.problems, p)
	b.mu.Unlock()
}

// Problems returns the console errors and uncaught exceptions seen so far,
// which include Content-Security-Policy violations.
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// Run runs chromedp actions and fails the test on error, naming the step.
func (b *Browser) Run(t testing.TB, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.Ctx, actions...); err != nil {
		t.Fatalf("%s: %v (browser problems: %v)", step, err, b.Problems())
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// screenshot saves the current page for a failed test.
func (b *Browser) screenshot(t testing.TB) {
	ctx, cancel := context.WithTimeout(b.Ctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(80))
	if err != nil {
		t.Logf("browsertest: no screenshot: %v", err)
		return
	}
	dir := filepath.Join(repoRoot(), ArtifactsDir)
	_ = os.MkdirAll(dir, 0o755)
	path := filepath.Join(dir, unsafeName.ReplaceAllString(t.Name(), "_")+".png")
	if err := os.WriteFile(path, png, 0o644); err == nil {
		t.Logf("browsertest: screenshot saved to %s", path)
	}
}

// repoRoot walks up from the working directory to the directory with go.mod.
func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}
