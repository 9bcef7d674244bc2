package app_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/saasstarter/saas/internal/browsertest"
	"github.com/saasstarter/saas/internal/routes"
)

// screenshotsEnv, when set to 1, makes the browser journeys save a
// screenshot of each screen into docs/screenshots (for the README):
//
//	SCREENSHOTS=1 go test -run 'InBrowser' ./internal/app/
const screenshotsEnv = "SCREENSHOTS"

// admShot saves the current page as docs/screenshots/name when SCREENSHOTS=1.
func admShot(t *testing.T, b *browsertest.Browser, name string) {
	t.Helper()
	shot(t, b, name, chromedp.FullScreenshot(100))
}

// shot saves what capture takes (the whole page, the viewport, one element)
// as docs/screenshots/name when SCREENSHOTS=1.
func shot(t *testing.T, b *browsertest.Browser, name string, capture chromedp.Action[[]byte]) {
	t.Helper()
	if os.Getenv(screenshotsEnv) != "1" {
		return
	}
	png, err := chromedp.Run(b.Ctx, capture)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot %s is not a PNG", name)
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// admSignIn signs in through Clerk's <SignIn/> (ClerkJS then keeps the
// 60-second session token fresh) and lands on next.
func admSignIn(t *testing.T, b *browsertest.Browser, base, email, next string) {
	t.Helper()
	b.Run(t, "open sign-in", chromedp.Navigate(base+"/sign-in?redirect_url="+next))
	clerkSignIn(t, b, email, "password")
}

// admWaitJS polls a JavaScript condition in the page.
func admWaitJS(t *testing.T, b *browsertest.Browser, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](expr)); err != nil {
		t.Fatalf("waiting for %s: %v (browser problems: %v)", what, err, b.Problems())
	}
}

// admWaitHTMX waits until htmx has processed the element sel (a form
// swapped in moments ago is not yet, and a click on it then submits it
// natively, as without JavaScript) and no swap is under way. It waits
// through a navigation (waitJS), such as the one of a link just clicked.
func admWaitHTMX(t *testing.T, b *browsertest.Browser, sel string) {
	t.Helper()
	waitJS(t, b, "htmx to take over "+sel, `(() => {
		const e = document.querySelector(`+strconv.Quote(sel)+`);
		const d = e && e["htmx-internal-data"];
		return !!(d && d.initHash) && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling");
	})()`)
}

// admAcceptDialogs accepts every confirm() the page opens and records their
// messages (hx-confirm uses the page's own dialog, so there should be none).
func admAcceptDialogs(b *browsertest.Browser) func() []string {
	var mu sync.Mutex
	var seen []string
	go func() {
		for ev, err := range chromedp.Events(b.Ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			mu.Lock()
			seen = append(seen, ev.Message)
			mu.Unlock()
			go func() {
				_, _ = chromedp.Call(b.Ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			}()
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// TestAdminJourneyInBrowser: Alice signs in through the UI, changes Bob's
// role and sees it settle when the webhook lands, invites someone and
// revokes the invitation (confirming), and replays a failed delivery; all
// with htmx swaps in a real Chromium under the app's CSP.
func TestAdminJourneyInBrowser(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t, 120*time.Second)
	ta := start(t)
	ta.synced(t)
	bob := userID(t, ta.Server, "bob@acme.test")
	failed := failDelivery(t, ta, admOrg(t, ta, "acme"))
	dialogs := admAcceptDialogs(b)

	admSignIn(t, b, ta.URL, "alice@acme.test", routes.AdminMembers)
	b.Run(t, "members screen", chromedp.WaitVisible(chromedp.CSS(`[data-testid="admin-members"] tr[data-user-id="`+bob+`"]`)))
	row := `tr[data-user-id="` + bob + `"]`
	admWaitHTMX(t, b, row+` form:has([data-testid="role-submit"])`)
	b.Run(t, "make Bob an admin",
		chromedp.SetValue(chromedp.CSS(row+` [data-testid="role-select"]`), "org:admin"),
		chromedp.Click(chromedp.CSS(row+` [data-testid="role-submit"]`)),
	)
	admWaitJS(t, b, "Bob's row to settle as Admin", `(() => {
		const r = document.querySelector('`+row+`');
		return !!r && r.querySelector('[data-testid="member-role"] .badge').textContent.trim() === "Admin" && !r.querySelector('[data-testid="pending"]');
	})()`)
	if got := memberRole(t, ta, "bob@acme.test", "acme"); got != "org:admin" {
		t.Fatalf("database role = %q", got)
	}
	admShot(t, b, "admin-members.png")

	b.Run(t, "invite Frank",
		chromedp.Click(chromedp.CSS(`[data-testid="tab-invitations"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="invite-email"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="invite-email"]`), "frank@new.test"),
		chromedp.Click(chromedp.CSS(`[data-testid="invite-submit"]`)),
	)
	admWaitJS(t, b, "the invitation to be listed", `[...document.querySelectorAll('[data-testid="invitation-email"]')].some(e => e.textContent === "frank@new.test") && !document.querySelector('[data-testid="invite-pending"]')`)
	admWaitJS(t, b, "focus on the notice", `document.activeElement && document.activeElement.dataset.testid === "invite-notice"`)
	admShot(t, b, "admin-invitations.png")
	// hx-confirm asks in the page's styled dialog, not with confirm().
	// The grid was swapped in by the invite: a click before htmx has taken
	// over its Revoke form would submit it natively (the confirmation page).
	admWaitHTMX(t, b, `form:has([data-testid="revoke-invitation"])`)
	b.Run(t, "revoke it, then cancel",
		chromedp.Click(chromedp.CSS(`[data-testid="revoke-invitation"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[open] [data-testid="confirm-dialog-cancel"]`)),
	)
	waitText(t, b, `[data-testid="confirm-dialog-text"]`, "Revoke the invitation to frank@new.test?")
	b.Run(t, "cancel", chromedp.Click(chromedp.CSS(`dialog[open] [data-testid="confirm-dialog-cancel"]`)))
	admWaitJS(t, b, "the dialog to close, the invitation kept", `!document.querySelector('dialog[open]') && !!document.querySelector('[data-testid="invitation-row"]')`)
	b.Run(t, "revoke it and confirm",
		chromedp.Click(chromedp.CSS(`[data-testid="revoke-invitation"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[open] [data-testid="confirm-dialog-ok"]`)),
		chromedp.Click(chromedp.CSS(`dialog[open] [data-testid="confirm-dialog-ok"]`)),
	)
	admWaitJS(t, b, "the invitation to go", `!document.querySelector('[data-testid="invitation-row"]')`)
	if d := dialogs(); len(d) != 0 {
		t.Fatalf("the browser's own dialogs opened: %q", d)
	}

	b.Run(t, "settings", chromedp.Click(chromedp.CSS(`[data-testid="tab-settings"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="settings-form"]`)))
	admShot(t, b, "admin-settings.png")

	id := strconv.FormatInt(failed, 10)
	b.Run(t, "replay the failed delivery",
		chromedp.Navigate(ta.URL+routes.AdminWebhooks+"?status=failed"),
		chromedp.WaitVisible(chromedp.CSS(`#delivery-`+id+` [data-testid="replay"]`)),
		chromedp.Click(chromedp.CSS(`#delivery-`+id+` [data-testid="replay"]`)),
	)
	admWaitJS(t, b, "the delivery to be replayed", `(() => { const r = document.querySelector('#delivery-`+id+`'); return !!r && r.dataset.status !== "failed"; })()`)
	b.Run(t, "the whole log", chromedp.Navigate(ta.URL+routes.AdminWebhooks), chromedp.WaitVisible(chromedp.CSS(`[data-testid="delivery-row"]`)))
	admShot(t, b, "admin-webhooks.png")
	if p := b.Problems(); len(p) != 0 {
		t.Fatalf("browser reported problems: %v", p)
	}
}

// TestOpsConsoleInBrowser: Dave (an operator) searches the directory with
// active search and runs a reconcile.
func TestOpsConsoleInBrowser(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t, 90*time.Second)
	ta := start(t)
	ta.synced(t)
	failDelivery(t, ta, admOrg(t, ta, "globex"))
	admSignIn(t, b, ta.URL, "dave@example.test", routes.Ops)
	b.Run(t, "console", chromedp.WaitVisible(chromedp.CSS(`[data-testid="sync-health"]`)))
	b.Run(t, "search", chromedp.SendKeys(chromedp.CSS(`[data-testid="directory-search"]`), "acme"))
	admWaitJS(t, b, "the directory to narrow", `document.querySelectorAll('[data-testid="directory-org"]').length === 1 && location.search === "?q=acme"`)
	b.Run(t, "reconcile", chromedp.Click(chromedp.CSS(`[data-testid="reconcile"]`)))
	admWaitJS(t, b, "the reconcile result", `document.querySelectorAll('[data-testid="reconcile-row"]').length === 3`)
	admShot(t, b, "ops.png")
	if p := b.Problems(); len(p) != 0 {
		t.Fatalf("browser reported problems: %v", p)
	}
}
