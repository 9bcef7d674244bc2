package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/projects"
	"github.com/saasstarter/saas/internal/tenant"
)

// Project is the JSON form of a project.
type Project struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func projectJSON(p projects.Project) Project {
	return Project{ID: p.ID, Name: p.Name, CreatedBy: p.CreatedBy, CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC()}
}

// nameBody is the body of create and rename: {"name": "..."}.
type nameBody struct {
	Name *string `json:"name"`
}

// readName decodes {"name"} strictly: JSON only, no unknown fields, one
// object.
func readName(c echo.Context) (string, error) {
	var b nameBody
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(&b)
	if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
		return "", err // 413 from the error handler
	}
	if err != nil || dec.More() {
		return "", apperr.New(apperr.Invalid, `Body must be {"name": "..."}`)
	}
	if b.Name == nil {
		return "", apperr.New(apperr.Invalid, projects.MsgNameRequired)
	}
	return *b.Name, nil
}

// projectID validates the :id before any database call (checklist A-08).
func projectID(c echo.Context) (int64, error) {
	id, ok := tenant.ParseID(c.Param("id"))
	if !ok {
		return 0, apperr.New(apperr.NotFound, projects.MsgNotFound)
	}
	return id, nil
}

func (h *Handlers) listProjects(c echo.Context) error {
	ctx := c.Request().Context()
	p := projects.ListParams{Query: c.QueryParam("q"), Cursor: c.QueryParam("cursor")}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return apperr.New(apperr.Invalid, projects.MsgBadLimit)
		}
		p.Limit = n
	}
	page, err := h.Projects.List(ctx, auth.From(ctx), p)
	if err != nil {
		return err
	}
	out := List[Project]{Data: make([]Project, 0, len(page.Projects)), TotalCount: page.TotalCount, NextCursor: page.NextCursor}
	for _, pr := range page.Projects {
		out.Data = append(out.Data, projectJSON(pr))
	}
	return c.JSON(http.StatusOK, out)
}

func (h *Handlers) createProject(c echo.Context) error {
	ctx := c.Request().Context()
	name, err := readName(c)
	if err != nil {
		return err
	}
	p, err := h.Projects.Create(ctx, auth.From(ctx), name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, projectJSON(p))
}

func (h *Handlers) getProject(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := projectID(c)
	if err != nil {
		return err
	}
	p, err := h.Projects.Get(ctx, auth.From(ctx), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, projectJSON(p))
}

func (h *Handlers) renameProject(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := projectID(c)
	if err != nil {
		return err
	}
	name, err := readName(c)
	if err != nil {
		return err
	}
	p, err := h.Projects.Rename(ctx, auth.From(ctx), id, name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, projectJSON(p))
}

// deleteProject answers like Clerk's Backend API does for deletions.
func (h *Handlers) deleteProject(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := projectID(c)
	if err != nil {
		return err
	}
	if _, err := h.Projects.Delete(ctx, auth.From(ctx), id); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": id, "deleted": true})
}
