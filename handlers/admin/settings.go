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

	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/audit"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/views/pages"
)

var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// orgMetadata is the part of the organisation's public metadata the
// settings show. The logo is a URL in metadata because Clerk's own logo is a
// file upload, which a URL field cannot feed. The plan and features are
// read-only here: billing or the operators (/ops) set them, since they
// unlock paid features.
type orgMetadata struct {
	Plan     string   `json:"plan"`
	Features []string `json:"features"`
	LogoURL  string   `json:"logo_url"`
}

// logoMetadata is the one metadata key the settings write. Clerk merges
// metadata updates at the top level, so plan and features are untouched.
type logoMetadata struct {
	LogoURL string `json:"logo_url"`
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

// fingerprint identifies the settings an admin can change, so a poll can
// ask "has the database reached these?" without the values travelling in
// the URL.
func fingerprint(f pages.SettingsForm) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{f.Name, f.Slug, f.LogoURL}, "\x00")))
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
	p := pages.SettingsPage{Frame: s.frame(c, pages.TabSettings), Form: form}
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

// parseSettings reads and checks the form. A plan or feature flags in it
// are not read: they are not the admin's to set.
func parseSettings(c echo.Context) (pages.SettingsForm, error) {
	f := pages.SettingsForm{
		Name:    strings.TrimSpace(c.FormValue("name")),
		Slug:    strings.TrimSpace(c.FormValue("slug")),
		LogoURL: strings.TrimSpace(c.FormValue("logo_url")),
	}
	switch {
	case f.Name == "" || len([]rune(f.Name)) > 100:
		return f, apperr.New(apperr.Invalid, "The name is required (at most 100 characters)")
	case !slugRE.MatchString(f.Slug) || len(f.Slug) > 60:
		return f, apperr.New(apperr.Invalid, "The slug may hold only lowercase letters, digits and single dashes")
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
		if err := h.Directory.UpdateOrganization(ctx, s.ClerkID, want.Name, want.Slug); err != nil {
			return clerkError(err, "Could not save the name and slug")
		}
		// Each changed field with its previous value, so the audit log can
		// say "name Acme → Acme Inc".
		if want.Name != have.Name {
			changed["name"], changed["previous_name"] = want.Name, have.Name
		}
		if want.Slug != have.Slug {
			changed["slug"], changed["previous_slug"] = want.Slug, have.Slug
		}
	}
	if want.LogoURL != have.LogoURL {
		// UpdateMetadata merges at the top level, so the plan, the feature
		// flags and other keys an integrator keeps in public metadata survive.
		raw, err := json.Marshal(logoMetadata{LogoURL: want.LogoURL})
		if err != nil {
			return err
		}
		if err := h.Directory.MergeOrganizationMetadata(ctx, s.ClerkID, raw); err != nil {
			return clerkError(err, "Could not save the logo")
		}
		changed["logo_url"], changed["previous_logo_url"] = want.LogoURL, have.LogoURL
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
