package app_test

import (
	"net/http"
	"slices"
	"testing"
)

func TestDashboard(t *testing.T) {
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
