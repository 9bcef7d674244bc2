// The app's own browser script. It is loaded with the page's CSP nonce and
// must not rely on eval or inline handlers: htmx runs with allowEval off.
//
// It starts the Clerk browser script (ClerkJS in Clerk mode, the emulator's
// shim in emulator mode; both expose the same window.Clerk surface) and mounts
// Clerk's components where the server-rendered page asks for them with
// data-clerk-* attributes. With the layout's script tag this is the
// browser-script seam of internal/identity (docs/MIGRATION.md): the one
// place in the browser that knows the provider.
(function () {
  "use strict";

  // Move focus to swapped-in content that asks for it ([data-autofocus]), so
  // keyboard and screen reader users land where the change happened. The
  // settle event is dispatched on the new content, which is in the document
  // even when the swap replaced the target itself (hx-swap="outerHTML", as
  // the admin screens' rows and polling sections do); afterSwap fires on the
  // detached old element there, and never reaches this listener.
  document.addEventListener("htmx:afterSettle", function (evt) {
    var el = evt.target;
    if (!el || !el.querySelector || !document.contains(el)) return;
    var focus = el.matches("[data-autofocus]") ? el : el.querySelector("[data-autofocus]");
    if (focus && focus !== document.activeElement) focus.focus();
  });

  // A 401 marked X-Session-Refresh means the session cookie was stale (its
  // 60-second token expired while the tab slept). Refresh the token through
  // Clerk and retry the request once; if that fails, go to sign-in.
  document.addEventListener("htmx:responseError", function (evt) {
    var d = evt.detail || {};
    var xhr = d.xhr;
    if (!xhr || xhr.status !== 401 || xhr.getResponseHeader("X-Session-Refresh") !== "1") return;
    var cfg = d.requestConfig || {};
    var signIn = function () {
      window.location.assign("/sign-in?redirect_url=" + encodeURIComponent(window.location.pathname + window.location.search));
    };
    if ((cfg.headers || {})["X-Session-Refreshed"] || !window.Clerk || !window.Clerk.session) {
      signIn();
      return;
    }
    window.Clerk.session.getToken({ skipCache: true }).then(function () {
      window.htmx.ajax(cfg.verb, cfg.path, {
        source: d.elt,
        values: cfg.parameters,
        headers: { "X-Session-Refreshed": "1" },
      });
    }, signIn);
  });

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  function mountClerk() {
    var Clerk = window.Clerk;
    each('[data-clerk-mount="sign-in"]', function (el) {
      el.innerHTML = "";
      Clerk.mountSignIn(el, {
        routing: "path",
        path: "/sign-in",
        signUpUrl: el.dataset.signUpUrl,
        forceRedirectUrl: el.dataset.redirectUrl,
        signUpForceRedirectUrl: el.dataset.redirectUrl,
      });
    });
    each('[data-clerk-mount="sign-up"]', function (el) {
      el.innerHTML = "";
      Clerk.mountSignUp(el, {
        routing: "path",
        path: "/sign-up",
        signInUrl: el.dataset.signInUrl,
        forceRedirectUrl: el.dataset.redirectUrl,
        signInForceRedirectUrl: el.dataset.redirectUrl,
      });
    });
    each("#user-button", function (el) {
      Clerk.mountUserButton(el, { afterSignOutUrl: "/" });
    });
    each("[data-clerk-org-switcher]", function (el) {
      Clerk.mountOrganizationSwitcher(el, {
        hidePersonal: true,
        afterSelectOrganizationUrl: "/dashboard",
        afterCreateOrganizationUrl: "/dashboard",
      });
    });
  }

  // clerkLoaded settles once Clerk has loaded the client (its session, user
  // and organisations). Anything that acts through Clerk waits for it: a
  // click on a server-rendered button can come before the script is ready.
  var clerkLoaded = new Promise(function (resolve, reject) {
    window.addEventListener("load", function () {
      if (!window.Clerk) {
        reject(new Error("Clerk's browser script did not load"));
        return;
      }
      resolve(window.Clerk.load({
        signInUrl: "/sign-in",
        signUpUrl: "/sign-up",
        afterSignOutUrl: "/",
      }));
    });
  });
  clerkLoaded.then(mountClerk);

  // Buttons and forms that act through Clerk: switching the active
  // organisation and signing out happen in the browser (the session token
  // lives there), then the page reloads so the server sees the new token.
  document.addEventListener("click", function (evt) {
    var el = evt.target.closest && evt.target.closest("[data-clerk-set-active-org],[data-clerk-sign-out]");
    if (!el) return;
    evt.preventDefault();
    el.disabled = true;
    clerkLoaded.then(function () {
      if (el.hasAttribute("data-clerk-sign-out")) {
        return window.Clerk.signOut({ redirectUrl: "/" });
      }
      return window.Clerk.setActive({ organization: el.getAttribute("data-clerk-set-active-org") }).then(function () {
        window.location.assign(el.getAttribute("data-redirect-url") || "/dashboard");
      });
    }).catch(function (err) {
      el.disabled = false;
      throw err;
    });
  });
})();
