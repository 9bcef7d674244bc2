// Package browsertest drives Debian's Chromium from Go tests (chromedp): one
// headless Chromium per test binary, started on first use, with a fresh
// browser context (its own cookies and storage) and tab per test; the flags
// this network-less machine needs; a record of console errors and CSP
// violations; and a screenshot saved when a test fails.
//
// Browser tests never skip silently: without Chromium every one of them fails
// with the same line. With -short they skip, which is the documented inner
// loop (CI runs without -short and fails on any skip).
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ArtifactsDir is where screenshots of failed tests are written, relative
// to the repository root.
const ArtifactsDir = "e2e-artifacts"

// Viewport is the window size every test starts with.
var Viewport = struct{ Width, Height int64 }{1280, 900}

// Browser is one headless Chromium tab in a browser context of its own.
type Browser struct {
	// Ctx runs chromedp actions in the tab.
	Ctx context.Context

	mu       sync.Mutex
	problems []string
}

// execPath finds Chromium.
func execPath() (string, error) {
	for _, name := range []string{os.Getenv("CHROMIUM_PATH"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium not found; install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH")
}

// shared is the test binary's one Chromium. Starting it costs about a second
// of CPU; tests open browser contexts in it instead, which are as isolated
// as separate profiles (cookies, storage, cache) and cost milliseconds.
var shared struct {
	once    sync.Once
	ctx     context.Context // the browser, for chromedp.NewContext
	cancel  context.CancelFunc
	dataDir string
	err     error
}

func startShared() {
	path, err := execPath()
	if err != nil {
		shared.err = err
		return
	}
	if shared.dataDir, err = os.MkdirTemp("", "browsertest-"); err != nil {
		shared.err = err
		return
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(shared.dataDir),
		chromedp.WindowSize(int(Viewport.Width), int(Viewport.Height)),
		// Without these Chromium keeps trying to reach Google's services,
		// which this machine cannot do.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		// Tabs of parallel tests are all in the background; they must keep
		// running their timers and animation frames at full speed.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(ctx); err != nil {
		cancelBrowser()
		cancelAlloc()
		shared.err = fmt.Errorf("start Chromium: %w", err)
		return
	}
	shared.ctx = ctx
	shared.cancel = func() { cancelBrowser(); cancelAlloc() }
}

// Close closes the shared Chromium and removes its profile; call it from
// TestMain after m.Run. Without it Chromium still dies with the test
// process, but its temporary profile is left behind.
func Close() {
	if shared.cancel != nil {
		shared.cancel()
	}
	if shared.dataDir != "" {
		_ = os.RemoveAll(shared.dataDir)
	}
}

// New opens a tab for t in a fresh browser context of the shared Chromium
// and closes both when t ends. The whole test is bounded by timeout.
func New(t testing.TB, timeout time.Duration) *Browser {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	shared.once.Do(startShared)
	if shared.err != nil {
		t.Fatalf("browsertest: %v", shared.err)
	}
	ctx, cancelTab := chromedp.NewContext(shared.ctx, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	b := &Browser{Ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(Viewport.Width, Viewport.Height)); err != nil {
		cancelTimeout()
		cancelTab()
		t.Fatalf("browsertest: open a tab: %v", err)
	}
	// Collect errors, uncaught exceptions and browser-log errors (CSP
	// violations are reported there) for the test to assert on.
	go func() {
		for msg, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if msg.IsException() || msg.Type == "error" {
				p := msg.String()
				if msg.URL != "" && !strings.Contains(p, msg.URL) {
					// "Failed to load resource" names no resource.
					p += " (" + msg.URL + ")"
				}
				b.record(p)
			}
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			b.screenshot(t)
		}
		cancelTimeout()
		cancelTab()
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
