// Package components holds view pieces shared by several pages and returned
// alone as HTMX fragments.
package components

import (
	"strconv"
	"time"

	"github.com/saasstarter/saas/internal/routes"
)

// Project is one row of the projects list.
type Project struct {
	ID        int64
	Name      string
	CreatedAt time.Time
}

// ProjectsProps are the projects section of the dashboard and the projects
// page: the list, and the forms the caller's permissions allow.
type ProjectsProps struct {
	Projects []Project
	// Total is the number of projects in the organisation; the list may
	// show fewer.
	Total int64
	// CSRFToken goes into every form's _csrf field, for browsers without
	// JavaScript (htmx sends it as a header).
	CSRFToken string
	CanCreate bool
	CanManage bool
	// ReturnTo is where a plain form post lands afterwards: ReturnDashboard
	// or ReturnProjects.
	ReturnTo string
	// Notice confirms the action just taken ("Project … deleted."); it is
	// shown above the list and takes the focus.
	Notice string
}

// Values of ProjectsProps.ReturnTo, posted back in a hidden field and
// mapped to a fixed path (never used as a URL).
const (
	ReturnDashboard = "dashboard"
	ReturnProjects  = "projects"
)

// ProjectRowProps render one project row.
type ProjectRowProps struct {
	Project   Project
	CSRFToken string
	CanManage bool
	ReturnTo  string
}

func (p ProjectsProps) row(pr Project) ProjectRowProps {
	return ProjectRowProps{Project: pr, CSRFToken: p.CSRFToken, CanManage: p.CanManage, ReturnTo: p.ReturnTo}
}

func projectURL(id int64, action string) string {
	return routes.Projects + "/" + strconv.FormatInt(id, 10) + "/" + action
}

func rowID(id int64) string { return "project-" + strconv.FormatInt(id, 10) }

// returnPath is where a cancelled confirmation goes back to.
func returnPath(returnTo string) string {
	if returnTo == ReturnDashboard {
		return routes.Dashboard
	}
	return routes.Projects
}
