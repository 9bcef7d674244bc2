package auth_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/saasstarter/saas/internal/auth"
)

// org describes a session's organisation state independently of the claim
// format, so the same scenario can be minted as a v1 and a v2 token.
type org struct {
	id, slug, role string   // role without "org:"
	perms          []string // org:<feature>:<action>
	plan           string   // scoped, e.g. "o:enterprise"
	features       []string // org features, unscoped
	pending        bool
}

// v1Claims uses the v1 org_* claims and the custom template claims
// org_plan and feature_flags (v1 has no pla/fea).
func v1Claims(c map[string]any, o org) {
	delete(c, "v")
	if o.id != "" {
		c["org_id"], c["org_slug"], c["org_role"], c["org_permissions"] = o.id, o.slug, "org:"+o.role, o.perms
	}
	if o.plan != "" {
		c["org_plan"] = o.plan
	}
	if feats := o.allFeatures(); feats != nil {
		c["feature_flags"] = feats
	}
	if o.pending {
		c["sts"] = "pending"
	}
}

// allFeatures are the org's features: the listed ones plus those its
// permissions belong to (in v2 every permission's feature is in fea).
func (o org) allFeatures() []string {
	feats := slices.Clone(o.features)
	for _, p := range o.perms {
		if f := strings.Split(p, ":")[1]; !slices.Contains(feats, f) {
			feats = append(feats, f)
		}
	}
	return feats
}

// v2Claims encodes the same state in v2: o.{id,slg,rol,per,fpm}, pla, fea,
// with fpm a bitmask per fea entry over per (bit 0 = per[0]). A user-scoped
// feature is appended to check it is not taken for an org feature.
func v2Claims(c map[string]any, o org) {
	c["v"] = 2
	var fea, per, fpm []string
	feats := o.allFeatures()
	for _, p := range o.perms {
		if action := strings.Split(p, ":")[2]; !slices.Contains(per, action) {
			per = append(per, action)
		}
	}
	for _, f := range feats {
		mask := 0
		for i, action := range per {
			if slices.Contains(o.perms, "org:"+f+":"+action) {
				mask |= 1 << i
			}
		}
		fea = append(fea, "o:"+f)
		fpm = append(fpm, strconv.Itoa(mask))
	}
	fea, fpm = append(fea, "u:personal"), append(fpm, "0")
	c["fea"] = strings.Join(fea, ",")
	if o.plan != "" {
		c["pla"] = o.plan
	}
	if o.id != "" {
		c["o"] = map[string]any{"id": o.id, "slg": o.slug, "rol": o.role, "per": strings.Join(per, ","), "fpm": strings.Join(fpm, ",")}
	}
	if o.pending {
		c["sts"] = "pending"
	}
}

// TestDecisionsSameForV1AndV2 is J-17 and A-06: one table of has() checks,
// run on v1 and v2 tokens of the same state, must give the same answers.
func TestDecisionsSameForV1AndV2(t *testing.T) {
	t.Parallel()
	checks := []auth.Check{
		0:  {Role: "org:admin"},
		1:  {Role: "admin"},
		2:  {Role: "org:member"},
		3:  {Permission: "org:projects:create"},
		4:  {Permission: "projects:create"},
		5:  {Permission: "org:projects:read"},
		6:  {Permission: "org:sys_memberships:manage"},
		7:  {Plan: "enterprise"},
		8:  {Plan: "o:enterprise"},
		9:  {Plan: "free"},
		10: {Feature: "beta"},
		11: {Feature: "projects"},
		12: {Role: "org:admin", Plan: "enterprise"},
		13: {Role: "org:admin", Plan: "free"},
		14: {Role: "org:member", Permission: "org:projects:create"},
		15: {},
		16: {Feature: "personal"},
		17: {Role: "org:admin", Permission: "org:projects:delete"},
	}
	scenarios := []struct {
		name string
		org  org
		want []int // indexes of checks that hold
	}{
		{"AdminEnterprise", org{id: "org_acme", slug: "acme", role: "admin", perms: []string{"org:projects:create", "org:projects:read"}, plan: "o:enterprise", features: []string{"beta"}},
			[]int{0, 1, 3, 4, 5, 7, 8, 10, 11, 12}},
		{"MemberFree", org{id: "org_globex", slug: "globex", role: "member", perms: []string{"org:projects:read"}, plan: "o:free"},
			[]int{2, 5, 9, 11}},
		{"NoOrgUserPlan", org{plan: "u:free"}, []int{9}},
		{"NoOrgNoPlan", org{}, nil},
		{"PendingWithOrgClaims", org{id: "org_acme", slug: "acme", role: "admin", perms: []string{"org:projects:create"}, plan: "o:enterprise", features: []string{"beta"}, pending: true}, nil},
	}
	f := pinned(t)
	for _, sc := range scenarios {
		for _, format := range []struct {
			name string
			mint func(map[string]any, org)
		}{{"V1", v1Claims}, {"V2", v2Claims}} {
			t.Run(sc.name+"/"+format.name, func(t *testing.T) {
				tok := f.token(t, func(c map[string]any) { format.mint(c, sc.org) })
				a, err := f.a.Verify(context.Background(), tok)
				if err != nil {
					t.Fatal(err)
				}
				for i, ch := range checks {
					if got, want := a.Has(ch), slices.Contains(sc.want, i); got != want {
						t.Errorf("check %d %+v = %v, want %v (auth %+v)", i, ch, got, want, a)
					}
				}
				if got, want := a.HasOrg(), sc.org.id != "" && !sc.org.pending; got != want {
					t.Errorf("HasOrg = %v, want %v", got, want)
				}
				if a.HasOrg() && (a.OrgSlug != sc.org.slug || a.OrgRole != "org:"+sc.org.role) {
					t.Errorf("org = %q %q", a.OrgSlug, a.OrgRole)
				}
			})
		}
	}
}

func TestCustomClaimsOverrideAndShapes(t *testing.T) {
	t.Parallel()
	f := pinned(t)
	verify := func(edit func(map[string]any)) *auth.Auth {
		t.Helper()
		a, err := f.a.Verify(context.Background(), f.token(t, edit))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	t.Run("OrgPlanWinsOverPla", func(t *testing.T) {
		a := verify(func(c map[string]any) { c["pla"] = "o:free"; c["org_plan"] = "enterprise" })
		if a.Plan != "enterprise" {
			t.Fatalf("plan %q", a.Plan)
		}
	})
	t.Run("FeatureFlagsCommaString", func(t *testing.T) {
		a := verify(func(c map[string]any) { c["fea"] = "o:old"; c["feature_flags"] = "beta, o:reports,,u:x" })
		if !slices.Equal(a.Features, []string{"beta", "reports", "x"}) {
			t.Fatalf("features %q", a.Features)
		}
	})
	t.Run("FeatureFlagsEmptyArrayWins", func(t *testing.T) {
		a := verify(func(c map[string]any) { c["fea"] = "o:old"; c["feature_flags"] = []string{} })
		if len(a.Features) != 0 {
			t.Fatalf("features %q", a.Features)
		}
	})
	t.Run("RejectsWrongTypedPlan", func(t *testing.T) {
		if _, err := f.a.Verify(context.Background(), f.token(t, func(c map[string]any) { c["org_plan"] = 3 })); err == nil {
			t.Fatal("accepted")
		}
	})
	t.Run("OperatorClaim", func(t *testing.T) {
		cases := map[string]struct {
			claim any
			act   bool
			want  bool
		}{
			"Absent":             {nil, false, false},
			"True":               {true, false, true},
			"StringTrue":         {"true", false, true},
			"False":              {false, false, false},
			"OtherString":        {"yes", false, false},
			"Object":             {map[string]any{"x": 1}, false, false},
			"ImpersonatedIsNone": {true, true, false},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				a := verify(func(c map[string]any) {
					if tc.claim != nil {
						c["operator"] = tc.claim
					}
					if tc.act {
						c["act"] = map[string]any{"sub": "user_support"}
					}
				})
				if a.Operator != tc.want {
					t.Fatalf("Operator = %v, want %v", a.Operator, tc.want)
				}
			})
		}
	})
	t.Run("V1RoleWithoutPrefixGetsOne", func(t *testing.T) {
		a := verify(func(c map[string]any) { c["org_id"], c["org_role"] = "org_1", "admin" })
		if a.OrgRole != "org:admin" || !a.HasRole("org:admin") {
			t.Fatalf("role %q", a.OrgRole)
		}
	})
}

func TestFromNeverNil(t *testing.T) {
	t.Parallel()
	a := auth.From(context.Background())
	if a == nil || a.SignedIn() || a.HasOrg() || a.Has(auth.Check{Plan: "free"}) {
		t.Fatalf("From(empty) = %+v", a)
	}
	a = auth.From(auth.NewContext(context.Background(), nil))
	if a == nil || a.SignedIn() {
		t.Fatal("nil Auth in context")
	}
	var none *auth.Auth
	if none.SignedIn() || none.HasOrg() || none.HasRole("org:admin") {
		t.Fatal("nil *Auth grants something")
	}
	m := &auth.Auth{UserID: "user_1", SessionID: "sess_1", Machine: &auth.Machine{ID: "mch_1"}}
	if m.SignedIn() {
		t.Fatal("a machine counts as a signed-in user")
	}
}
