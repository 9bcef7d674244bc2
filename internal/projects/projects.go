// Package projects is the example org-scoped resource behind both the HTMX
// pages and the JSON API. Every operation acts on the caller's active
// organisation (from the session's claims) through queries that join the
// caller's live membership; a project id of another organisation simply
// matches no row. Permission checks are route guards (tenant.RequireAny).
package projects

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/audit"
	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/tenant"
)

// Limits on names and pages.
const (
	MaxNameLength = 100
	DefaultLimit  = 50
	MaxLimit      = 100
)

// Public messages.
const (
	MsgNotFound     = "Project not found"
	MsgNameRequired = "Name is required"
	MsgNameTooLong  = "Name is too long (at most 100 characters)"
	MsgNameInvalid  = "Name contains characters that are not allowed"
	MsgBadCursor    = "Invalid cursor"
	MsgBadLimit     = "Invalid limit"
)

// Project is one project.
type Project struct {
	ID        int64
	Name      string
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func project(id int64, name, by string, created, updated pgtype.Timestamptz) Project {
	return Project{ID: id, Name: name, CreatedBy: by, CreatedAt: created.Time, UpdatedAt: updated.Time}
}

// Service runs the operations on a pool.
type Service struct {
	Pool *pgxpool.Pool
}

// ValidateName trims a name and checks it: 1 to MaxNameLength characters of
// valid UTF-8 without control characters (PostgreSQL refuses NUL, and the
// others have no business in a display name).
func ValidateName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", apperr.New(apperr.Invalid, MsgNameRequired)
	case !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", apperr.New(apperr.Invalid, MsgNameInvalid)
	case utf8.RuneCountInString(name) > MaxNameLength:
		return "", apperr.New(apperr.Invalid, MsgNameTooLong)
	}
	return name, nil
}

// ListParams select a page of projects.
type ListParams struct {
	// Query filters by name, matched literally (% and _ are not wildcards).
	Query string
	// Cursor continues a previous page; it is only valid in the organisation
	// that issued it.
	Cursor string
	Limit  int
}

// Page is a page of projects.
type Page struct {
	Projects   []Project
	TotalCount int64
	// NextCursor continues the list; empty on the last page.
	NextCursor string
}

// List returns a page of the active organisation's projects, newest first.
func (s *Service) List(ctx context.Context, a *auth.Auth, p ListParams) (Page, error) {
	limit := p.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return Page{}, apperr.New(apperr.Invalid, MsgBadLimit)
	}
	after, err := decodeCursor(a.OrgID, p.Cursor)
	if err != nil {
		return Page{}, err
	}
	pattern := ""
	if p.Query != "" {
		pattern = "%" + escapeLike(p.Query) + "%"
	}
	q := store.New(s.Pool)
	rows, err := q.ListProjects(ctx, store.ListProjectsParams{
		UserClerkID: a.UserID, OrgClerkID: a.OrgID, AfterID: after, Pattern: pattern, MaxRows: int32(limit + 1),
	})
	if err != nil {
		return Page{}, err
	}
	if len(rows) == 0 && after == 0 {
		// An empty first page: make sure it is empty because there are no
		// projects, not because the caller's membership is gone.
		if err := tenant.Diagnose(ctx, q, a); err != nil {
			return Page{}, err
		}
	}
	page := Page{Projects: make([]Project, 0, min(len(rows), limit))}
	for i, r := range rows {
		if i == limit {
			page.NextCursor = encodeCursor(a.OrgID, page.Projects[limit-1].ID)
			break
		}
		page.Projects = append(page.Projects, project(r.ID, r.Name, r.CreatedBy, r.CreatedAt, r.UpdatedAt))
	}
	if page.TotalCount, err = q.CountProjects(ctx, store.CountProjectsParams{
		UserClerkID: a.UserID, OrgClerkID: a.OrgID, Pattern: pattern,
	}); err != nil {
		return Page{}, err
	}
	return page, nil
}

// Get returns one project of the active organisation.
func (s *Service) Get(ctx context.Context, a *auth.Auth, id int64) (Project, error) {
	r, err := store.New(s.Pool).GetProject(ctx, store.GetProjectParams{UserClerkID: a.UserID, OrgClerkID: a.OrgID, ID: id})
	if err != nil {
		return Project{}, notFound(err)
	}
	return project(r.ID, r.Name, r.CreatedBy, r.CreatedAt, r.UpdatedAt), nil
}

// Create adds a project to the active organisation and audits it.
func (s *Service) Create(ctx context.Context, a *auth.Auth, name string) (Project, error) {
	name, err := ValidateName(name)
	if err != nil {
		return Project{}, err
	}
	var p Project
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		r, err := q.CreateProject(ctx, store.CreateProjectParams{Name: name, UserClerkID: a.UserID, OrgClerkID: a.OrgID})
		if errors.Is(err, pgx.ErrNoRows) {
			if err := tenant.Diagnose(ctx, q, a); err != nil {
				return err
			}
			return apperr.Wrap(apperr.NotFound, tenant.MsgOrgNotFound, tenant.ErrNotSynced)
		}
		if err != nil {
			return err
		}
		p = project(r.ID, r.Name, r.CreatedBy, r.CreatedAt, r.UpdatedAt)
		return audit.Record(ctx, q, a, audit.Entry{OrgID: a.OrgID, Action: audit.ProjectCreated,
			Target: strconv.FormatInt(p.ID, 10), Details: map[string]string{"name": p.Name}})
	})
	return p, err
}

// Rename changes a project's name and audits it.
func (s *Service) Rename(ctx context.Context, a *auth.Auth, id int64, name string) (Project, error) {
	name, err := ValidateName(name)
	if err != nil {
		return Project{}, err
	}
	var p Project
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		r, err := q.RenameProject(ctx, store.RenameProjectParams{Name: name, UserClerkID: a.UserID, OrgClerkID: a.OrgID, ID: id})
		if err != nil {
			return notFound(err)
		}
		p = project(r.ID, r.Name, r.CreatedBy, r.CreatedAt, r.UpdatedAt)
		return audit.Record(ctx, q, a, audit.Entry{OrgID: a.OrgID, Action: audit.ProjectRenamed,
			Target: strconv.FormatInt(p.ID, 10), Details: map[string]string{"name": p.Name}})
	})
	return p, err
}

// Delete removes a project and audits it. It returns the name the project
// had, for the confirmation shown to the person.
func (s *Service) Delete(ctx context.Context, a *auth.Auth, id int64) (name string, err error) {
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		r, err := q.DeleteProject(ctx, store.DeleteProjectParams{UserClerkID: a.UserID, OrgClerkID: a.OrgID, ID: id})
		if err != nil {
			return notFound(err)
		}
		name = r.Name
		return audit.Record(ctx, q, a, audit.Entry{OrgID: a.OrgID, Action: audit.ProjectDeleted,
			Target: strconv.FormatInt(r.ID, 10), Details: map[string]string{"name": r.Name}})
	})
	return name, err
}

// notFound turns "no row" into the public 404; the same answer whether the
// project does not exist, belongs to another organisation, or the caller is
// no longer a member, so nothing about other tenants leaks.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.New(apperr.NotFound, MsgNotFound)
	}
	return err
}

// escapeLike makes s match literally inside an ILIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Cursors name the organisation they were issued in, so a cursor replayed
// in another organisation is refused (checklist T-09) instead of silently
// paging through nothing. They are not secret: forging one for your own
// organisation only skips ahead in your own list.
func encodeCursor(org string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(org + ":" + strconv.FormatInt(id, 10)))
}

func decodeCursor(org, cursor string) (int64, error) {
	if cursor == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	bad := apperr.New(apperr.Invalid, MsgBadCursor)
	if err != nil {
		return 0, bad
	}
	o, idText, ok := strings.Cut(string(raw), ":")
	if !ok || o != org {
		return 0, bad
	}
	id, ok := tenant.ParseID(idText)
	if !ok {
		return 0, bad
	}
	return id, nil
}
