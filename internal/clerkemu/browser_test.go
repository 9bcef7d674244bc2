package clerkemu

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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
	chromium, err := exec.LookPath("chromium")
	if err != nil || testing.Short() {
		t.Skip("chromium not installed (apt-get install chromium) or -short")
	}
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
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=10000", "--dump-dom", srv.URL+"/").Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	if !strings.Contains(dom, "signed-in dave@example.test org=acme cookie=true") || !strings.Contains(dom, `data-testid="clerk-org-select"`) {
		t.Fatalf("page after sign-in:\n%s", dom)
	}
}
