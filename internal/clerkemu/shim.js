/* Clerk emulator browser shim: a small, dependency-free stand-in for
 * ClerkJS v5 (window.Clerk) served by the development emulator.
 * It provides load(), user/session/organization state, session.getToken()
 * with refresh before expiry, setActive(), signOut(), createOrganization()
 * and plain-DOM mount functions. No eval, no inline handlers: it runs under
 * a nonce + 'strict-dynamic' CSP. */
(function () {
  "use strict";
  var script = document.currentScript;
  var src = script && script.src ? script.src : "";
  var FAPI = src.indexOf("/npm/") > 0 ? src.slice(0, src.indexOf("/npm/")) : location.origin + "/__clerk";
  var REFRESH_MARGIN_S = 20; // refresh a token this close to expiry
  var POLL_MS = 5000;       // like clerk-js's SessionCookiePoller

  function api(method, path, body) {
    var init = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body) {
      init.headers["Content-Type"] = "application/x-www-form-urlencoded";
      init.body = new URLSearchParams(body).toString();
    }
    return fetch(FAPI + path, init).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) {
        if (!res.ok) {
          var e = (json.errors && json.errors[0]) || {};
          var err = new Error(e.long_message || e.message || "Request failed (" + res.status + ")");
          err.code = e.code; err.status = res.status; err.errors = json.errors;
          throw err;
        }
        return json;
      });
    });
  }

  function b64urlJSON(part) {
    var s = part.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    return JSON.parse(decodeURIComponent(escape(atob(s))));
  }
  function tokenExp(jwt) {
    try { return b64urlJSON(jwt.split(".")[1]).exp || 0; } catch (e) { return 0; }
  }

  var secure = location.protocol === "https:" ? "; Secure" : "";
  function setCookie(name, value, maxAge) {
    document.cookie = name + "=" + value + "; Path=/; SameSite=Lax; Max-Age=" + maxAge + secure;
  }

  function el(tag, attrs, children) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") n.textContent = attrs[k];
      else if (k === "style") n.setAttribute("style", attrs[k]);
      else n.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) n.appendChild(c); });
    return n;
  }

  function safeURL(u, fallback) {
    if (!u) return fallback;
    try {
      var url = new URL(u, location.origin);
      if (url.origin === location.origin) return url.pathname + url.search + url.hash;
    } catch (e) { /* fall through */ }
    return fallback;
  }

  function camelOrg(o) {
    return o && { id: o.id, name: o.name, slug: o.slug, imageUrl: o.image_url, membersCount: o.members_count,
      publicMetadata: o.public_metadata || {} };
  }

  function Clerk(publishableKey) {
    this.publishableKey = publishableKey;
    this.frontendApi = FAPI;
    this.loaded = false;
    this.client = null; this.session = null; this.user = null; this.organization = null;
    this.environment = null;
    this._options = {};
    this._listeners = [];
    this._tokens = {};
    this._timer = null;
  }

  Object.defineProperty(Clerk.prototype, "isSignedIn", { get: function () { return !!this.session; } });
  Clerk.prototype.version = "5.0.0-emulator";

  Clerk.prototype.load = function (options) {
    var self = this;
    this._options = options || {};
    return Promise.all([api("GET", "/v1/environment"), api("GET", "/v1/client")]).then(function (r) {
      self.environment = r[0];
      self._apply(r[1].response);
      self.loaded = true;
      self._startPoller();
      return self.session ? self.session.getToken() : null;
    }).then(function () { return self; });
  };

  // _apply turns the Frontend API's client into ClerkJS-shaped state and
  // writes the cookies the server reads.
  Clerk.prototype._apply = function (client) {
    var self = this;
    this.client = client;
    var s = client && client.sessions && client.sessions[0];
    this._tokens = {};
    if (!s) {
      this.session = this.user = this.organization = null;
      this._clearCookies();
      this._emit();
      return;
    }
    var u = s.user;
    var memberships = (u.organization_memberships || []).map(function (m) {
      return { id: m.id, role: m.role, roleName: m.role_name, permissions: m.permissions, organization: camelOrg(m.organization) };
    });
    this.user = {
      id: u.id, firstName: u.first_name, lastName: u.last_name,
      fullName: [u.first_name, u.last_name].filter(Boolean).join(" ") || null,
      imageUrl: u.image_url, publicMetadata: u.public_metadata || {},
      primaryEmailAddress: { emailAddress: u.email_address, toString: function () { return u.email_address; } },
      emailAddresses: [{ emailAddress: u.email_address }],
      organizationMemberships: memberships,
      getOrganizationMemberships: function () { return Promise.resolve({ data: memberships, total_count: memberships.length }); }
    };
    var active = memberships.filter(function (m) { return m.organization.id === s.last_active_organization_id; })[0];
    this.organization = active ? active.organization : null;
    this.session = {
      id: s.id, status: s.status, expireAt: new Date(s.expire_at), user: this.user,
      lastActiveOrganizationId: s.last_active_organization_id || null,
      lastActiveToken: s.last_active_token ? { getRawString: function () { return s.last_active_token.jwt; } } : null,
      getToken: function (opts) { return self._getToken(s.id, opts || {}); },
      touch: function () { return api("POST", "/v1/client/sessions/" + s.id + "/touch", {}).then(function (r) { self._apply(r.client); }); },
      end: function () { return self.signOut(); }
    };
    if (s.last_active_token) this._store(null, s.last_active_token.jwt, client.updated_at);
    this._emit();
  };

  // _store caches a token; tokens for the active organization also become
  // the __session cookie (plain and suffixed names, as clerk-js writes).
  Clerk.prototype._store = function (orgKey, jwt, clientUpdatedAt) {
    this._tokens[orgKey || ""] = { jwt: jwt, exp: tokenExp(jwt) };
    if (orgKey) return;
    var suffix = this.environment && this.environment.cookie_suffix;
    var uat = Math.floor((clientUpdatedAt || (this.client && this.client.updated_at) || 0) / 1000);
    [""].concat(suffix ? ["_" + suffix] : []).forEach(function (sfx) {
      setCookie("__session" + sfx, jwt, 31536000);
      setCookie("__client_uat" + sfx, String(uat), 31536000);
    });
  };

  Clerk.prototype._clearCookies = function () {
    var suffix = this.environment && this.environment.cookie_suffix;
    [""].concat(suffix ? ["_" + suffix] : []).forEach(function (sfx) {
      setCookie("__session" + sfx, "", 0);
      setCookie("__client_uat" + sfx, "0", 31536000);
    });
  };

  Clerk.prototype._getToken = function (sid, opts) {
    var self = this;
    var active = (this.session && this.session.lastActiveOrganizationId) || null;
    var want = opts.organizationId === undefined ? active : (opts.organizationId || null);
    var isActive = want === active; // only the active org's token becomes the cookie
    var key = isActive ? "" : (want || "personal");
    var cached = this._tokens[key];
    if (!opts.skipCache && cached && cached.exp - Date.now() / 1000 > REFRESH_MARGIN_S) return Promise.resolve(cached.jwt);
    var body = isActive ? {} : { organization_id: want || "" };
    return api("POST", "/v1/client/sessions/" + sid + "/tokens", body).then(function (r) {
      if (self.session && self.session.id === sid) self._store(isActive ? null : key, r.jwt);
      return r.jwt;
    }, function (err) {
      if (err.status === 401 || err.status === 404) return self._reload().then(function () { return null; });
      throw err;
    });
  };

  Clerk.prototype._reload = function () {
    var self = this;
    return api("GET", "/v1/client").then(function (r) { self._apply(r.response); });
  };

  Clerk.prototype._startPoller = function () {
    var self = this;
    if (this._timer) return;
    var tick = function () { if (self.session) self.session.getToken().catch(function () {}); };
    this._timer = setInterval(tick, POLL_MS);
    window.addEventListener("focus", tick);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) tick(); });
  };

  Clerk.prototype.addListener = function (fn) {
    var self = this;
    this._listeners.push(fn);
    fn({ client: this.client, session: this.session, user: this.user, organization: this.organization });
    return function () { self._listeners = self._listeners.filter(function (f) { return f !== fn; }); };
  };
  Clerk.prototype._emit = function () {
    var state = { client: this.client, session: this.session, user: this.user, organization: this.organization };
    this._listeners.forEach(function (fn) { try { fn(state); } catch (e) { console.error(e); } });
  };

  // setActive switches the active organization (object, id, slug or null
  // for the personal account), refreshes __session, then navigates.
  Clerk.prototype.setActive = function (params) {
    var self = this;
    params = params || {};
    if (!this.session) return Promise.reject(new Error("Not signed in"));
    var sid = this.session.id;
    var body = {};
    if (params.organization !== undefined) {
      var o = params.organization;
      var id = o === null ? "" : (typeof o === "string" ? o : o.id);
      var bySlug = (this.user.organizationMemberships || []).filter(function (m) { return m.organization.slug === id; })[0];
      body.active_organization_id = bySlug ? bySlug.organization.id : id;
    }
    return api("POST", "/v1/client/sessions/" + sid + "/touch", body).then(function (r) {
      self._apply(r.client);
      if (params.beforeEmit) return params.beforeEmit(self.session);
    }).then(function () {
      var to = params.redirectUrl && safeURL(params.redirectUrl, null);
      if (to) location.assign(to);
    });
  };

  Clerk.prototype.signOut = function (opts) {
    var self = this;
    opts = typeof opts === "function" ? {} : (opts || {});
    var to = safeURL(opts.redirectUrl || this._options.afterSignOutUrl, "/");
    var done = function () { self._apply(null); location.assign(to); };
    if (!this.session) { done(); return Promise.resolve(); }
    return api("POST", "/v1/client/sessions/" + this.session.id + "/remove", {}).then(done, done);
  };

  Clerk.prototype.createOrganization = function (params) {
    var self = this;
    return api("POST", "/v1/organizations", { name: params.name || "", slug: params.slug || "" }).then(function (r) {
      return self._reload().then(function () { return camelOrg(r.response); });
    });
  };

  Clerk.prototype.buildSignInUrl = function () { return this._options.signInUrl || "/sign-in"; };
  Clerk.prototype.buildSignUpUrl = function () { return this._options.signUpUrl || "/sign-up"; };
  Clerk.prototype.redirectToSignIn = function () { location.assign(safeURL(this.buildSignInUrl(), "/sign-in")); };
  Clerk.prototype.openSignIn = Clerk.prototype.redirectToSignIn;

  // afterAuthURL picks where to go after signing in or up, in ClerkJS's
  // order: force prop, ?redirect_url=, fallback prop, load() option, "/".
  Clerk.prototype._afterAuthURL = function (props, kind) {
    var q = new URLSearchParams(location.search).get("redirect_url");
    var o = this._options;
    var force = props.forceRedirectUrl || o[kind + "ForceRedirectUrl"];
    return safeURL(force || q || props.fallbackRedirectUrl || o[kind + "FallbackRedirectUrl"], "/");
  };

  function field(label, name, type, testid, autocomplete) {
    var id = "cl-" + name + "-" + Math.random().toString(36).slice(2, 8);
    return el("div", { class: "cl-formField", style: "margin:.6rem 0" }, [
      el("label", { for: id, text: label, style: "display:block;font-size:.9rem;margin-bottom:.2rem" }),
      el("input", { id: id, name: name, type: type, required: "", "data-testid": testid, autocomplete: autocomplete,
        style: "width:100%;box-sizing:border-box;padding:.5rem" })
    ]);
  }
  var buttonStyle = "width:100%;padding:.6rem;margin-top:.6rem;border:0;border-radius:6px;background:#3b5bdb;color:#fff;font-size:1rem;cursor:pointer";

  Clerk.prototype._authForm = function (node, props, kind) {
    var self = this;
    node.textContent = "";
    if (this.session) {
      node.appendChild(el("div", { class: "cl-signedIn", "data-testid": "clerk-signed-in" }, [
        el("p", { text: "Signed in as " + this.user.primaryEmailAddress.emailAddress + "." }),
        el("a", { href: this._afterAuthURL(props, kind), text: "Continue" })
      ]));
      return;
    }
    var up = kind === "signUp";
    var error = el("p", { class: "cl-formError", role: "alert", "data-testid": "clerk-error", style: "color:#c92a2a" });
    var fields = up ? [field("First name", "first_name", "text", "clerk-first-name", "given-name"),
      field("Last name", "last_name", "text", "clerk-last-name", "family-name")] : [];
    fields.push(field("Email address", up ? "email_address" : "identifier", "email", "clerk-email", "email"));
    fields.push(field("Password", "password", "password", "clerk-password", up ? "new-password" : "current-password"));
    var form = el("form", { class: "cl-form", "data-testid": up ? "clerk-sign-up" : "clerk-sign-in", novalidate: "" },
      fields.concat([error, el("button", { type: "submit", "data-testid": "clerk-submit", style: buttonStyle,
        text: up ? "Sign up" : "Sign in" })]));
    var submit = function (data) {
      error.textContent = "";
      return api("POST", up ? "/v1/client/sign_ups" : "/v1/client/sign_ins", data).then(function (r) {
        self._apply(r.client);
        location.assign(self._afterAuthURL(props, kind));
      }, function (err) { error.textContent = err.message; });
    };
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      submit(Object.fromEntries(new FormData(form).entries()));
    });
    var other = up ? (props.signInUrl || this.buildSignInUrl()) : (props.signUpUrl || this.buildSignUpUrl());
    var children = [el("h2", { text: up ? "Create your account" : "Sign in", style: "margin-top:0" }), form,
      el("p", { style: "font-size:.9rem" }, [document.createTextNode(up ? "Have an account? " : "No account? "),
        el("a", { href: safeURL(other, "/"), text: up ? "Sign in" : "Sign up" })])];
    var env = this.environment || {};
    if (!up && env.dev_accounts && env.dev_accounts.length) {
      var list = el("ul", { class: "cl-devAccounts", style: "list-style:none;padding:0" });
      env.dev_accounts.forEach(function (a) {
        var b = el("button", { type: "button", "data-testid": "clerk-dev-account", "data-email": a.email,
          style: "width:100%;text-align:left;padding:.4rem;margin:.15rem 0;cursor:pointer",
          text: a.first_name + " " + a.last_name + " <" + a.email + "> " + (a.orgs || []).join(", ") });
        b.addEventListener("click", function () { submit({ identifier: a.email, password: env.dev_password }); });
        list.appendChild(el("li", {}, [b]));
      });
      children.push(el("details", { class: "cl-devPicker", open: "" }, [
        el("summary", { text: "Development accounts (password \u201c" + env.dev_password + "\u201d)" }), list]));
    }
    node.appendChild(el("div", { class: "cl-card", style: "max-width:26rem" }, children));
  };

  Clerk.prototype.mountSignIn = function (node, props) { this._authForm(node, props || {}, "signIn"); };
  Clerk.prototype.mountSignUp = function (node, props) { this._authForm(node, props || {}, "signUp"); };

  Clerk.prototype.mountUserButton = function (node, props) {
    var self = this;
    props = props || {};
    node.textContent = "";
    if (!this.user) return;
    var signOut = el("button", { type: "button", "data-testid": "clerk-sign-out", text: "Sign out", style: "cursor:pointer" });
    signOut.addEventListener("click", function () { self.signOut({ redirectUrl: props.afterSignOutUrl }); });
    var name = this.user.fullName || this.user.primaryEmailAddress.emailAddress;
    node.appendChild(el("details", { class: "cl-userButton", "data-testid": "clerk-user-button", style: "position:relative" }, [
      el("summary", { text: props.showName === false ? name.charAt(0) : name, style: "cursor:pointer" }),
      el("div", { class: "cl-userButtonPopover", style: "position:absolute;right:0;background:#fff;border:1px solid #ddd;padding:.5rem;z-index:10;min-width:12rem" }, [
        el("p", { text: this.user.primaryEmailAddress.emailAddress, style: "margin:.2rem 0 .5rem;font-size:.85rem" }), signOut])
    ]));
  };

  Clerk.prototype.mountOrganizationSwitcher = function (node, props) {
    var self = this;
    props = props || {};
    node.textContent = "";
    if (!this.user) return;
    var select = el("select", { "data-testid": "clerk-org-select", "aria-label": "Active organization" });
    if (!props.hidePersonal) select.appendChild(el("option", { value: "", text: "Personal account" }));
    this.user.organizationMemberships.forEach(function (m) {
      var opt = el("option", { value: m.organization.id, text: m.organization.name + " (" + m.roleName + ")" });
      if (self.organization && self.organization.id === m.organization.id) opt.setAttribute("selected", "");
      select.appendChild(opt);
    });
    select.addEventListener("change", function () {
      var id = select.value;
      var m = self.user.organizationMemberships.filter(function (x) { return x.organization.id === id; })[0];
      var target = id ? props.afterSelectOrganizationUrl : props.afterSelectPersonalUrl;
      if (typeof target === "function") target = target(m ? m.organization : null);
      if (target && m) target = target.replace(":slug", m.organization.slug).replace(":id", m.organization.id);
      self.setActive({ organization: id || null }).then(function () {
        location.assign(safeURL(target, location.pathname + location.search));
      });
    });
    var create = el("a", { href: safeURL(props.createOrganizationUrl, "/orgs"), text: "Create organization",
      "data-testid": "clerk-create-org", style: "margin-left:.5rem;font-size:.9rem" });
    node.appendChild(el("div", { class: "cl-organizationSwitcher", "data-testid": "clerk-org-switcher" }, [select, create]));
  };

  ["SignIn", "SignUp", "UserButton", "OrganizationSwitcher"].forEach(function (n) {
    Clerk.prototype["unmount" + n] = function (node) { if (node) node.textContent = ""; };
  });

  var pk = (script && script.getAttribute("data-clerk-publishable-key")) || window.__clerk_publishable_key || "";
  window.Clerk = new Clerk(pk);
})();
