package app_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// orgID looks an organisation up by slug through the Backend API.
func admOrg(t testing.TB, ta *testApp, slug string) string {
	t.Helper()
	var o struct {
		ID string `json:"id"`
	}
	bapi(t, ta.Server, http.MethodGet, "/organizations/"+slug, nil, &o)
	return o.ID
}

// as is the header set of a same-origin request by email's session in the
// org with slug: a bearer token, and Sec-Fetch-Site: same-origin as a
// browser sends it (Echo's CSRF check lets same-origin requests through
// without a token, as it does for real browsers).
func admAs(t testing.TB, ta *testApp, email, slug string, extra ...string) map[string]string {
	t.Helper()
	var org string
	if slug != "" {
		org = admOrg(t, ta, slug)
	}
	h := bearer(sessionToken(t, ta.Server, email, org))
	h["Sec-Fetch-Site"] = "same-origin"
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return h
}

// htmx adds the HX-Request header to a header set.
func admHX(h map[string]string) map[string]string {
	out := map[string]string{"HX-Request": "true"}
	for k, v := range h {
		out[k] = v
	}
	return out
}

// admPost posts a form without following redirects.
func admPost(t *testing.T, target string, form url.Values, header map[string]string) *http.Response {
	t.Helper()
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range header {
		h[k] = v
	}
	return send(t, http.MethodPost, target, strings.NewReader(form.Encode()), h)
}

// wantStatus fails the test unless res has status want.
func admWant(t *testing.T, res *http.Response, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s = %d, want %d", res.Request.Method, res.Request.URL.Path, res.StatusCode, want)
	}
}

// dbString runs a query returning one text value against the app database.
func admDB(t testing.TB, ta *testApp, sql string, args ...any) string {
	t.Helper()
	var s string
	if err := ta.App.Pool().QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

// admCookie is the header set of a browser holding email's session cookie
// for the org with slug (no bearer token, so CSRF applies).
func admCookie(t testing.TB, ta *testApp, email, slug string) map[string]string {
	t.Helper()
	tok := sessionToken(t, ta.Server, email, admOrg(t, ta, slug))
	// __client_uat must not be newer than the token's iat; 1 is "long ago".
	return map[string]string{"Cookie": "__session=" + tok + "; __client_uat=1"}
}

// admCSRF loads page with a cookie session and returns the CSRF token of its
// forms and the header set that also carries the CSRF cookie, as a browser
// posting the form would send.
func admCSRF(t *testing.T, ta *testApp, page string, h map[string]string) (string, map[string]string) {
	t.Helper()
	res := get(t, ta.URL+page, h)
	admWant(t, res, http.StatusOK)
	var cookie string
	for _, c := range res.Cookies() {
		if c.Name == "_csrf" {
			cookie = c.Value
		}
	}
	tok, _ := parse(t, res).Find(`form[method="post"] input[name="_csrf"]`).First().Attr("value")
	if tok == "" || cookie == "" {
		t.Fatalf("no CSRF token on %s (field %q, cookie %q)", page, tok, cookie)
	}
	out := map[string]string{}
	for k, v := range h {
		out[k] = v
	}
	out["Cookie"] = h["Cookie"] + "; _csrf=" + cookie
	return tok, out
}

// admRows parses a response that is table rows (an htmx row swap): HTML
// parsers drop <tr> outside a table, so it is parsed inside one.
func admRows(t *testing.T, res *http.Response) *goquery.Document {
	t.Helper()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + string(body) + "</tbody></table>"))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}
