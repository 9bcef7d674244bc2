package app_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestDashboard(t *testing.T) {
	t.Parallel()
	ta := start(t)
	s := seedProduct(t, ta)
	res, doc := pageReq(t, ta, hreq{path: "/dashboard", token: s.tok["alice@acme.test/acme"]})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got := textsOf(doc, `[data-testid="dashboard"] [data-testid="org-name"]`); !slices.Equal(got, []string{"Acme"}) {
		t.Errorf("org name = %q", got)
	}
	if got := textsOf(doc, `[data-testid="plan-badge"]`); !slices.Equal(got, []string{"enterprise"}) {
		t.Errorf("plan = %q", got)
	}
	if got := textsOf(doc, `[data-testid="stat-members"]`); !slices.Equal(got, []string{"3"}) {
		t.Errorf("members = %q", got)
	}
	t.Log(textsOf(doc, `[data-testid="activity-row"]`))
}

// TestProjectsPagesHTMX: create, rename and delete answer HTMX with the
// fragment to swap (no layout) and plain forms with a 303 back to the page.
func TestProjectsPagesHTMX(t *testing.T) {
	t.Parallel()
	ta := start(t)
	s := seedProduct(t, ta)
	alice := s.tok["alice@acme.test/acme"]

	res, doc := pageReq(t, ta, hreq{method: "POST", path: "/projects", token: alice, header: hxHeaders, body: "name=Fragment&return=dashboard"})
	if res.StatusCode != http.StatusOK || doc.Find("header.site-header").Length() != 0 || doc.Find(`section#projects [data-testid="project-row"]`).Length() != 1 {
		t.Fatalf("HTMX create = %d, want the projects section alone", res.StatusCode)
	}
	id, _ := doc.Find(`[data-testid="project-row"]`).Attr("data-project-id")

	res, doc = pageReq(t, ta, hreq{method: "POST", path: "/projects/" + id + "/rename", token: alice, header: hxHeaders, body: "name=Renamed"})
	if res.StatusCode != http.StatusOK || strings.TrimSpace(doc.Find(`li[data-testid="project-row"] [data-testid="project-name"]`).Text()) != "Renamed" {
		t.Fatalf("HTMX rename = %d, want the row", res.StatusCode)
	}
	res, body := sendReq(t, ta, hreq{method: "POST", path: "/projects/" + id + "/rename", token: alice, header: hxHeaders, body: "name="})
	if res.StatusCode != http.StatusBadRequest || res.Header.Get("HX-Retarget") != "#flash" {
		t.Errorf("HTMX rename to empty = %d %s", res.StatusCode, body)
	}
	// The delete answers with the section: the new count, no row, a notice
	// that takes the focus; from the dashboard, the Projects statistic too,
	// swapped out of band.
	res, doc = pageReq(t, ta, hreq{method: "POST", path: "/projects/" + id + "/delete", token: alice, header: hxHeaders, body: "return=dashboard"})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("HTMX delete = %d", res.StatusCode)
	}
	if got := textsOf(doc, `section#projects [data-testid="projects-total"]`); !slices.Equal(got, []string{"0"}) {
		t.Errorf("projects count after delete = %q", got)
	}
	if doc.Find(`[data-testid="project-row"]`).Length() != 0 {
		t.Error("the deleted project is still listed")
	}
	if got := textsOf(doc, `[data-testid="projects-notice"][data-autofocus]`); !slices.Equal(got, []string{"Project “Renamed” deleted."}) {
		t.Errorf("notice = %q", got)
	}
	if got := textsOf(doc, `#stat-projects[hx-swap-oob="true"]`); !slices.Equal(got, []string{"0"}) {
		t.Errorf("out-of-band Projects statistic = %q", got)
	}

	res, _ = sendReq(t, ta, hreq{method: "POST", path: "/projects", token: alice, body: "name=Plain&return=projects"})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/projects" {
		t.Errorf("plain create = %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = sendReq(t, ta, hreq{method: "POST", path: "/projects", token: alice, body: "name=&return=https://evil.example"})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/projects" {
		t.Errorf("plain create with a bad name = %d %q, want 303 /projects with a flash", res.StatusCode, res.Header.Get("Location"))
	}
	// Bob (member) sees the list without the forms.
	_, doc = pageReq(t, ta, hreq{path: "/projects", token: s.tok["bob@acme.test/acme"]})
	if doc.Find(`[data-testid="project-row"]`).Length() != 1 || doc.Find(`[data-testid="project-create"], [data-testid="project-rename"], [data-testid="project-delete"]`).Length() != 0 {
		t.Error("a member without permissions is offered the project forms")
	}
}
