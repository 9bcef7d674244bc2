package clerkemu

import (
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"
)

// The invitation page is plain server-rendered HTML: no script at all, so it
// needs nothing from the app's CSP and sets its own strict one. It takes the
// app's stylesheet (Config.Stylesheet), so it looks like the app. Its empty
// icon keeps browsers from asking the app for /favicon.ico, which is 404.
var invitationPage = template.Must(template.New("inv").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Join {{.OrgName}}</title>
<link rel="icon" href="data:,">
{{if .Stylesheet}}<link rel="stylesheet" href="{{.Stylesheet}}">{{else}}<style>
body{font-family:system-ui,sans-serif;margin:0}main{max-width:26rem;margin:3rem auto;padding:0 1rem}
label{display:block;margin:.75rem 0 .25rem}input{width:100%;padding:.5rem;box-sizing:border-box}
button{margin-top:1rem;width:100%;padding:.6rem;background:#4f46e5;color:#fff;border:0;border-radius:10px}
</style>{{end}}</head>
<body><main class="container emu-page"><section class="card" data-testid="clerk-accept-invitation">
{{if .Problem}}<h1>Invitation</h1><p class="alert error" data-testid="clerk-error">{{.Problem}}</p>
{{else}}<h1>Join {{.OrgName}}</h1>
<p>You were invited as <strong>{{.Role}}</strong> with <strong>{{.Email}}</strong>.</p>
{{if .Error}}<p class="alert error" role="alert" data-testid="clerk-error">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="token" value="{{.Token}}">
{{if .Existing}}<p class="muted">Enter the password of your account to accept.</p>
{{else}}<div class="field"><label for="first_name">First name</label><input id="first_name" name="first_name" autocomplete="given-name" value="{{.FirstName}}"></div>
<div class="field"><label for="last_name">Last name</label><input id="last_name" name="last_name" autocomplete="family-name" value="{{.LastName}}"></div>{{end}}
<div class="field"><label for="password">Password</label>
<input id="password" name="password" type="password" required minlength="8" autocomplete="{{if .Existing}}current-password{{else}}new-password{{end}}" data-testid="clerk-password"></div>
<button class="btn primary" type="submit" data-testid="clerk-submit">{{if .Existing}}Sign in and join{{else}}Create account and join{{end}}</button>
</form>
<p class="muted small">Development emulator: no email was sent.</p>{{end}}
</section></main></body></html>`))

type invitationView struct {
	Problem, OrgName, Role, Email, Token, Action, Error, FirstName, LastName, Stylesheet string
	Existing                                                                             bool
}

func (e *Emulator) renderInvitation(w http.ResponseWriter, status int, v invitationView) {
	v.Action = MountPath + "/accept-invitation"
	v.Stylesheet = e.cfg.Stylesheet
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	// The URL holds the invitation token: never send it to another origin.
	// (no-referrer would also make browsers send "Origin: null" on the form
	// post, which the same-origin check rightly refuses.)
	w.Header().Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	_ = invitationPage.Execute(w, v)
}

// invitationView loads what the page shows about a pending invitation.
func (e *Emulator) invitationView(r *http.Request, token string) (invitationView, int) {
	ctx := r.Context()
	inv, err := e.pendingInvitation(ctx, e.pool, token, "")
	var ce *clientError
	if errors.As(err, &ce) {
		return invitationView{Problem: ce.msg}, http.StatusNotFound
	}
	if err != nil {
		return invitationView{Problem: "Something went wrong."}, http.StatusInternalServerError
	}
	o, err := getOrg(ctx, e.pool, inv.OrgID)
	if err != nil {
		return invitationView{Problem: "This organization no longer exists."}, http.StatusNotFound
	}
	_, err = getUserByEmail(ctx, e.pool, inv.Email)
	return invitationView{OrgName: o.Name, Role: roleName(inv.Role), Email: inv.Email, Token: token, Existing: err == nil}, http.StatusOK
}

func (e *Emulator) handleInvitationPage(w http.ResponseWriter, r *http.Request) {
	v, status := e.invitationView(r, r.URL.Query().Get("token"))
	e.renderInvitation(w, status, v)
}

// handleAcceptInvitation signs the invitee in (or up), adds the membership,
// makes the organization active, sets the app's session cookies directly
// (the emulator shares the app's origin) and sends the browser on.
func (e *Emulator) handleAcceptInvitation(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		e.renderInvitation(w, http.StatusBadRequest, invitationView{Problem: "The form could not be read."})
		return
	}
	token, password := r.PostForm.Get("token"), r.PostForm.Get("password")
	ctx := r.Context()
	var cl *clientRow
	var inv *invitationRow
	err := e.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if inv, err = e.pendingInvitation(ctx, tx, token, " FOR UPDATE"); err != nil {
			return err
		}
		u, err := getUserByEmail(ctx, tx, inv.Email)
		if errors.Is(err, errNotFound) {
			u, err = e.createUser(ctx, tx, newUser{Email: inv.Email, Password: password,
				FirstName: strings.TrimSpace(r.PostForm.Get("first_name")), LastName: strings.TrimSpace(r.PostForm.Get("last_name"))})
		} else if err == nil && (u.PasswordHash == nil || bcrypt.CompareHashAndPassword([]byte(*u.PasswordHash), []byte(password)) != nil) {
			err = invalid("form_password_incorrect", "Password is incorrect. Try again.")
		}
		if err != nil {
			return err
		}
		if err := e.acceptInvitation(ctx, tx, inv, u.ID); err != nil {
			return err
		}
		if cl, err = e.ensureClient(ctx, tx, w, r); err != nil {
			return err
		}
		s, err := e.signInClient(ctx, tx, cl, u.ID)
		if err != nil {
			return err
		}
		return e.touchSession(ctx, tx, s, &inv.OrgID)
	})
	var ce *clientError
	if errors.As(err, &ce) {
		v, _ := e.invitationView(r, token)
		v.Error, v.FirstName, v.LastName = ce.msg, r.PostForm.Get("first_name"), r.PostForm.Get("last_name")
		e.renderInvitation(w, http.StatusUnprocessableEntity, v)
		return
	}
	if err != nil {
		e.log.Error("accept invitation", "err", err)
		e.renderInvitation(w, http.StatusInternalServerError, invitationView{Problem: "Something went wrong."})
		return
	}
	// Reload the client: the transaction changed its active session.
	cl, err = one[clientRow](ctx, e.pool, "SELECT id, active_session, updated_at FROM clerkemu.clients WHERE id = $1", cl.ID)
	var cookies []string
	if err == nil {
		cookies, err = e.clientCookies(ctx, e.pool, cl, "", "")
	}
	if err != nil {
		e.log.Error("accept invitation", "err", err)
		e.renderInvitation(w, http.StatusInternalServerError, invitationView{Problem: "Something went wrong."})
		return
	}
	for _, c := range cookies {
		w.Header().Add("Set-Cookie", c)
	}
	target, ok := e.safeRedirect(inv.RedirectURL)
	if !ok {
		target = e.origin + "/dashboard"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}
