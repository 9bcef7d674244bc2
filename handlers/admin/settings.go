package admin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/organization"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/audit"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/views/pages"
)

// Plans are the plans an admin can choose. The plan lives in the
// organisation's public metadata, which the session-token template copies
// into the org_plan claim.
var Plans = []string{"free", "pro", "enterprise"}

// Features are the feature flags an admin can toggle; they go to
// public_metadata.features and from there into the feature_flags claim.
var Features = []string{"export", "audit", "sso", "beta"}

var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// orgMetadata is the part of the organisation's public metadata the
// settings own. The logo is a URL in metadata because Clerk's own logo is a
// file upload, which a URL field cannot feed.
type orgMetadata struct {
	Plan     string   `json:"plan"`
	Features []string `json:"features"`
	LogoURL  string   `json:"logo_url"`
}

// current is the organisation's settings as the database has them.
func (s scope) current() pages.SettingsForm {
	var md orgMetadata
	// Metadata is whatever Clerk holds; fields of an unexpected type are
	// shown as empty rather than failing the page.
	_ = json.Unmarshal(s.PublicMetadata, &md)
	feats := slices.Clone(md.Features)
	slices.Sort(feats)
	return pages.SettingsForm{Name: s.Name, Slug: s.Slug, LogoURL: md.LogoURL, Plan: s.Plan, Features: feats}
}

// fingerprint identifies a set of settings, so a poll can ask "has the
// database reached these?" without the values travelling in the URL.
func fingerprint(f pages.SettingsForm) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{f.Name, f.Slug, f.LogoURL, f.Plan, strings.Join(f.Features, ",")}, "\x00")))
	return hex.EncodeToString(sum[:8])
}

func (h *Handlers) settings(c echo.Context) error {
	s, err := h.scopeOf(c)
	if err != nil {
		return err
	}
	return h.renderSettings(c, s, c.QueryParam("expect"), false)
}

func (h *Handlers) renderSettings(c echo.Context, s scope, expect string, focus bool) error {
	form := s.current()
	p := pages.SettingsPage{Frame: s.frame(c, pages.TabSettings), Form: form, Plans: Plans, Features: Features}
	if expect != "" {
		p.Status = pages.SettingsStatus{State: "saved", Focus: focus}
		if fingerprint(form) != expect {
			p.Status.State = "late"
			if n, ok := tries(c); ok {
				p.Status.State = "pending"
				p.Status.PollURL = routes.AdminSettings + "?expect=" + url.QueryEscape(expect) + "&try=" + strconv.Itoa(n)
			}
		}
	}
	return h.Render.Page(c, http.StatusOK, "Settings", pages.AdminSettings(p))
}

// parseSettings reads and checks the form.
func parseSettings(c echo.Context) (pages.SettingsForm, error) {
	f := pages.SettingsForm{
		Name:    strings.TrimSpace(c.FormValue("name")),
		Slug:    strings.TrimSpace(c.FormValue("slug")),
		LogoURL: strings.TrimSpace(c.FormValue("logo_url")),
		Plan:    c.FormValue("plan"),
	}
	form, err := c.FormParams()
	if err != nil {
		return f, apperr.New(apperr.Invalid, "The form could not be read")
	}
	for _, feat := range form["features"] {
		if !slices.Contains(Features, feat) {
			return f, apperr.New(apperr.Invalid, "Unknown feature flag")
		}
		if !slices.Contains(f.Features, feat) {
			f.Features = append(f.Features, feat)
		}
	}
	slices.Sort(f.Features)
	switch {
	case f.Name == "" || len([]rune(f.Name)) > 100:
		return f, apperr.New(apperr.Invalid, "The name is required (at most 100 characters)")
	case !slugRE.MatchString(f.Slug) || len(f.Slug) > 60:
		return f, apperr.New(apperr.Invalid, "The slug may hold only lowercase letters, digits and single dashes")
	case !slices.Contains(Plans, f.Plan):
		return f, apperr.New(apperr.Invalid, "Choose a plan from the list")
	}
	if f.LogoURL != "" {
		// Only absolute https (or http, for local development) URLs: the logo
		// is rendered as an <img src>, and templ refuses other schemes anyway.
		u, err := url.Parse(f.LogoURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(f.LogoURL) > 500 {
			return f, apperr.New(apperr.Invalid, "The logo URL must be an absolute https:// address")
		}
	}
	return f, nil
}

func (h *Handlers) saveSettings(c echo.Context) error {
	s, err := h.scopeOf(c)
	if err != nil {
		return err
	}
	want, err := parseSettings(c)
	if err != nil {
		return err
	}
	have := s.current()
	ctx := c.Request().Context()
	changed := map[string]any{}
	if want.Name != have.Name || want.Slug != have.Slug {
		_, err := organization.NewClient(h.Clerk).Update(ctx, s.ClerkID, &organization.UpdateParams{
			Name: clerk.String(want.Name), Slug: clerk.String(want.Slug),
		})
		if err != nil {
			return clerkError(err, "Could not save the name and slug")
		}
		changed["name"], changed["slug"] = want.Name, want.Slug
	}
	if want.Plan != have.Plan || want.LogoURL != have.LogoURL || !slices.Equal(want.Features, have.Features) {
		features := want.Features
		if features == nil {
			features = []string{}
		}
		// UpdateMetadata merges at the top level, so other keys an
		// integrator keeps in public metadata survive.
		raw, err := json.Marshal(orgMetadata{Plan: want.Plan, Features: features, LogoURL: want.LogoURL})
		if err != nil {
			return err
		}
		msg := json.RawMessage(raw)
		if _, err := organization.NewClient(h.Clerk).UpdateMetadata(ctx, s.ClerkID, &organization.UpdateMetadataParams{PublicMetadata: &msg}); err != nil {
			return clerkError(err, "Could not save the plan and feature flags")
		}
		changed["plan"], changed["features"], changed["logo_url"] = want.Plan, features, want.LogoURL
	}
	if len(changed) == 0 {
		return h.done(c, routes.AdminSettings, "Nothing to change.", func() error {
			return h.renderSettings(c, s, fingerprint(have), true)
		})
	}
	h.record(c, s, audit.Entry{Action: "organization.settings_updated", TargetOrg: s.ClerkID, Details: changed})
	expect := fingerprint(want)
	return h.done(c, routes.AdminSettings+"?expect="+expect, "Settings sent to Clerk.", func() error {
		return h.renderSettings(c, s, expect, true)
	})
}
