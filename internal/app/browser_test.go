package app_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/saasstarter/saas/internal/browsertest"
)

// TestLandingPageInBrowser is H-02 for the public shell: the page loads in a
// real Chromium with its CSP, htmx starts with eval disabled, and the console
// shows no errors and no CSP violations.
func TestLandingPageInBrowser(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t, 60*time.Second)
	srv := newServer(t)
	b.Run(t, "open landing page",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="landing"] h1`)),
	)
	typ, err := chromedp.Run(b.Ctx, chromedp.Poll[string](`typeof htmx === "object" && htmx.config.allowEval === false ? "ok" : ""`))
	if err != nil || typ != "ok" {
		t.Fatalf("htmx not loaded with allowEval=false: %q %v", typ, err)
	}
	if p := b.Problems(); len(p) != 0 {
		t.Fatalf("browser reported problems: %v", p)
	}
}
