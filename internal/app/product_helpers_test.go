package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// productSeed is the seed of a started app once its webhooks are applied: the
// Clerk ids of the organisations by slug, and a token per productSeed user for
// each of their organisations (tok["dave@example.test/globex"]).
type productSeed struct {
	org map[string]string
	tok map[string]string
}

// seedProduct waits for the seed's webhooks and mints a session token for every
// productSeed membership (the emulator's v1 or v2 claims, as the app was
// started).
func seedProduct(t *testing.T, ta *testApp) productSeed {
	t.Helper()
	ta.synced(t)
	var list struct {
		Data []struct {
			ID   string `json:"id"`
			Slug string `json:"slug"`
		} `json:"data"`
	}
	bapi(t, ta.Server, http.MethodGet, "/organizations?limit=100", nil, &list)
	s := productSeed{org: map[string]string{}, tok: map[string]string{}}
	for _, o := range list.Data {
		s.org[o.Slug] = o.ID
	}
	for _, m := range []string{"alice@acme.test/acme", "bob@acme.test/acme", "carol@globex.test/globex",
		"dave@example.test/acme", "dave@example.test/globex"} {
		email, slug, _ := strings.Cut(m, "/")
		s.tok[m] = sessionToken(t, ta.Server, email, s.org[slug])
	}
	return s
}

// hreq is one HTTP call: a token (bearer), extra headers and a body.
type hreq struct {
	method, path, token, body string
	header                    map[string]string
}

// sendReq performs r against the app without following redirects.
func sendReq(t *testing.T, ta *testApp, r hreq) (*http.Response, []byte) {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	req, err := http.NewRequest(r.method, ta.URL+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.body != "" {
		if strings.HasPrefix(r.body, "{") {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

// pageReq is sendReq for an HTML response, parsed.
func pageReq(t *testing.T, ta *testApp, r hreq) (*http.Response, *goquery.Document) {
	t.Helper()
	res, body := sendReq(t, ta, r)
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return res, doc
}

// jsonObject decodes a JSON body into a generic value.
func jsonObject(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", body, err)
	}
	return v
}

// hxHeaders is the header set of an HTMX hreq.
var hxHeaders = map[string]string{"HX-Request": "true"}

// textsOf returns the trimmed text of every selected element.
func textsOf(doc *goquery.Document, sel string) []string {
	var out []string
	doc.Find(sel).Each(func(_ int, s *goquery.Selection) { out = append(out, strings.TrimSpace(s.Text())) })
	return out
}

// sessionTokenNoOrg creates a user with no organisation and returns a
// session token for them.
func sessionTokenNoOrg(t *testing.T, ta *testApp) string {
	t.Helper()
	email := "loner" + strconv.FormatInt(time.Now().UnixNano(), 36) + "@example.test"
	bapi(t, ta.Server, http.MethodPost, "/users", map[string]any{"email_address": []string{email}, "password": "correct-horse-battery", "first_name": "Lone"}, nil)
	return sessionToken(t, ta.Server, email, "")
}
