package clerkemu

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/saasstarter/saas/internal/browsertest"
)

// shimPage is an app page as the layout will render it: a nonce-based,
// 'strict-dynamic' CSP, the shim from the Frontend API, and a nonce'd
// script that loads Clerk and signs in through the development picker.
const shimPage = `<!doctype html><html><body><div id="si"></div><div id="os"></div><pre id="out"></pre>
<script nonce="n0nce" src="%s" data-clerk-publishable-key="%s"></script>
<script nonce="n0nce">
window.addEventListener('load', async () => {
  try {
    await Clerk.load({});
    if (!Clerk.isSignedIn) {
      Clerk.mountSignIn(document.getElementById('si'));
      document.querySelector('[data-email="dave@example.test"]').click();
      return;
    }
    Clerk.mountOrganizationSwitcher(document.getElementById('os'));
    await Clerk.session.getToken();
    document.getElementById('out').textContent = 'signed-in ' + Clerk.user.primaryEmailAddress.emailAddress +
      ' org=' + Clerk.organization.slug + ' cookie=' + (document.cookie.indexOf('__session=ey') >= 0);
  } catch (e) { document.getElementById('out').textContent = 'error ' + e; }
});
</script></body></html>`

// TestShimInChromium runs the shim in a real browser under the app's CSP:
// load, the account picker, the reload, cookies and the org switcher.
func TestShimInChromium(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t, 90*time.Second)
	var emu atomic.Pointer[Emulator] // set after the listener exists, read by its handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := emu.Load()
		if strings.HasPrefix(r.URL.Path, MountPath+"/") {
			e.Handler().ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", "script-src 'nonce-n0nce' 'strict-dynamic'; object-src 'none'; base-uri 'none'")
		fmt.Fprintf(w, shimPage, e.ScriptURL(), e.PublishableKey())
	}))
	srv.Start()
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	e, err := New(context.Background(), Config{BaseURL: base, Pool: testPool(t), WebhookURL: "-", Env: "test", Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	emu.Store(e)
	// The picker signs in and reloads the page; the switcher is mounted
	// only on the signed-in load.
	b.Run(t, "sign in through the picker", chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="clerk-org-select"]`)))
	out, err := chromedp.Run(b.Ctx, chromedp.Poll[string](`document.getElementById('out').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	if out != "signed-in dave@example.test org=acme cookie=true" {
		t.Fatalf("page after sign-in says %q (problems: %v)", out, b.Problems())
	}
	if p := b.Problems(); len(p) > 0 {
		t.Fatalf("console errors or CSP violations: %v", p)
	}
}
