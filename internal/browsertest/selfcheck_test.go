package browsertest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/saasstarter/saas/internal/browsertest"
)

// TestProblemsCatchCSPViolations proves the harness can fail: a page whose
// inline script breaks its CSP must show up in Problems.
func TestProblemsCatchCSPViolations(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "script-src 'nonce-abc'")
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<!doctype html><p id="p">x</p><script>document.title="ran"</script>`))
	}))
	defer srv.Close()
	b := browsertest.New(t, 30*time.Second)
	start := time.Now()
	b.Run(t, "open", chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.CSS("#p")))
	t.Logf("navigate took %v", time.Since(start))
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`true`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, p := range b.Problems() {
			if strings.Contains(p, "Content Security Policy") {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("CSP violation not reported; problems: %v", b.Problems())
}
