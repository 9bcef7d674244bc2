// The app's own browser script. It is loaded with the page's CSP nonce and
// must not rely on eval or inline handlers: htmx runs with allowEval off.
//
// It loads Clerk (ClerkJS and @clerk/ui, from Clerk's Frontend API or the
// emulator's: the same code in both modes) and mounts Clerk's components
// where the server-rendered page asks for them with data-clerk-mount. With
// the layout's script tags this is the browser-script seam of
// internal/identity (docs/MIGRATION.md): the one place in the browser that
// knows the provider.
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

  // An error answer (the server retargets it to #flash, the page's banner)
  // is shown next to the form that was sent instead, in its row or card, so
  // it appears where the person acted; the previous one there is replaced.
  // Requests without a form (polls, active search) keep the banner.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var d = evt.detail || {};
    if (!d.xhr || d.xhr.status < 400 || d.xhr.status === 401 || !d.serverResponse) return;
    var src = d.requestConfig && d.requestConfig.elt;
    var form = src && src.closest && src.closest("form");
    if (!form || !document.contains(form)) return;
    var next = form.nextElementSibling;
    if (next && next.hasAttribute("data-inline-error")) next.remove();
    var box = document.createElement("div");
    box.setAttribute("data-inline-error", "");
    box.className = "inline-error";
    box.innerHTML = d.serverResponse;
    form.insertAdjacentElement("afterend", box);
    d.shouldSwap = false;
    d.isError = false;
  });

  // hx-confirm questions are asked in the page's styled <dialog>
  // (#confirm-dialog) instead of the browser's confirm(); the request goes
  // out only when it is closed with Confirm.
  //
  // A dialog's close event is a task queued after it closes: asked again at
  // once (Cancel, then the same button), the dialog is open again when the
  // first close event arrives. Each opening's listener therefore waits for a
  // close event that finds the dialog closed, and only the latest opening
  // may send its request.
  var openings = 0;
  document.addEventListener("htmx:confirm", function (evt) {
    var question = evt.detail && evt.detail.question;
    var dialog = document.getElementById("confirm-dialog");
    if (!question || !dialog || typeof dialog.showModal !== "function") return;
    evt.preventDefault();
    dialog.querySelector("[data-confirm-text]").textContent = question;
    dialog.returnValue = "";
    var mine = ++openings;
    var onClose = function () {
      if (dialog.open) return; // the close of an earlier opening, delivered late
      dialog.removeEventListener("close", onClose);
      if (mine === openings && dialog.returnValue === "ok") evt.detail.issueRequest(true);
    };
    dialog.addEventListener("close", onClose);
    dialog.showModal();
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

  // The CSP nonce of this page: Clerk's components inject their styles with
  // it (Clerk.load's nonce option), so style-src needs no 'unsafe-inline'.
  var nonce = (document.currentScript && document.currentScript.nonce) || "";

  // The app's colours, from its stylesheet (light or dark), for Clerk's
  // components; <SignUp/> also asks for the optional first and last name,
  // which the app shows in member lists.
  function appearance() {
    var css = window.getComputedStyle(document.documentElement);
    var v = function (name) { return css.getPropertyValue(name).trim(); };
    return {
      variables: {
        colorPrimary: v("--accent"),
        colorBackground: v("--surface"),
        colorText: v("--text"),
        colorTextSecondary: v("--muted"),
        colorDanger: v("--err"),
        colorSuccess: v("--ok"),
        fontFamily: v("--font"),
        borderRadius: v("--radius-control"),
      },
      options: { showOptionalFields: true },
    };
  }

  function mountClerk(Clerk) {
    each('[data-clerk-mount="sign-in"]', function (el) {
      Clerk.mountSignIn(el, {
        routing: "path",
        path: el.dataset.path,
        signUpUrl: el.dataset.signUpUrl,
        forceRedirectUrl: el.dataset.redirectUrl,
        signUpForceRedirectUrl: el.dataset.redirectUrl,
      });
    });
    each('[data-clerk-mount="sign-up"]', function (el) {
      Clerk.mountSignUp(el, {
        routing: "path",
        path: el.dataset.path,
        signInUrl: el.dataset.signInUrl,
        forceRedirectUrl: el.dataset.redirectUrl,
        signInForceRedirectUrl: el.dataset.redirectUrl,
      });
    });
    each('[data-clerk-mount="user-button"]', function (el) {
      Clerk.mountUserButton(el, { showName: true });
    });
    // Switching or creating an organisation navigates (a full page load),
    // so the server renders the page for the new active organisation.
    each('[data-clerk-mount="organization-switcher"]', function (el) {
      Clerk.mountOrganizationSwitcher(el, {
        hidePersonal: true,
        afterSelectOrganizationUrl: el.dataset.afterSelectUrl,
        afterCreateOrganizationUrl: el.dataset.afterCreateUrl,
        afterLeaveOrganizationUrl: el.dataset.afterLeaveUrl,
      });
    });
  }

  // Another tab signing out, or the session ending at Clerk, leaves this
  // server-rendered page showing a signed-in user: reload it, so the
  // server renders it (or redirects to sign-in) for the signed-out browser.
  // A sign-out in this tab passes through undefined (Clerk's transitive
  // state) and navigates by itself.
  function followSignOut(Clerk) {
    var signedIn = !!Clerk.user;
    Clerk.addListener(function (resources) {
      if (signedIn && resources.user === null) {
        window.location.reload();
      }
      if (resources.user !== undefined) {
        signedIn = !!resources.user;
      }
    });
  }

  // clerkLoaded settles once Clerk has loaded the client (its session, user
  // and organisations). Anything that acts through Clerk waits for it: a
  // click on a server-rendered button can come before the script is ready.
  var clerkLoaded = new Promise(function (resolve, reject) {
    window.addEventListener("load", function () {
      var Clerk = window.Clerk;
      if (!Clerk || !window.__internal_ClerkUICtor) {
        reject(new Error("Clerk's browser bundles did not load"));
        return;
      }
      Clerk.load({
        ui: { ClerkUI: window.__internal_ClerkUICtor },
        signInUrl: "/sign-in",
        signUpUrl: "/sign-up",
        afterSignOutUrl: "/",
        telemetry: false,
        nonce: nonce,
        appearance: appearance(),
      }).then(function () { resolve(Clerk); }, reject);
    });
  });
  clerkLoaded.then(function (Clerk) {
    mountClerk(Clerk);
    followSignOut(Clerk);
  });

  // The organisation list's switch buttons act through Clerk (the session
  // token lives in the browser), then load the dashboard so the server sees
  // the new token.
  document.addEventListener("click", function (evt) {
    var el = evt.target.closest && evt.target.closest("[data-clerk-set-active-org]");
    if (!el) return;
    evt.preventDefault();
    el.disabled = true;
    clerkLoaded.then(function (Clerk) {
      return Clerk.setActive({ organization: el.getAttribute("data-clerk-set-active-org") }).then(function () {
        window.location.assign(el.getAttribute("data-redirect-url") || "/dashboard");
      });
    }).catch(function (err) {
      el.disabled = false;
      throw err;
    });
  });
})();
