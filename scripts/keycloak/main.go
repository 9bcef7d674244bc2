// Command keycloak is the worked example of docs/MIGRATION.md: it moves the
// identity file of `web export-identities` into Keycloak and brings
// Keycloak's ids back for `web import-identities --provider keycloak`.
//
//	go run ./scripts/keycloak realm identities.jsonl > partial-import.json
//	  # POST it to /admin/realms/{realm}/partialImport (or Realm settings →
//	  # Action → Partial import), then fetch what Keycloak made:
//	  #   GET /admin/realms/{realm}/users?briefRepresentation=false&max=…  > users.json
//	  #   GET /admin/realms/{realm}/groups?briefRepresentation=false&max=… > groups.json
//	go run ./scripts/keycloak ids identities.jsonl users.json groups.json > keycloak.jsonl
//	web import-identities --provider keycloak --dry-run keycloak.jsonl
//
// The mapping: a user becomes a Keycloak user (username and email the
// email, marked verified, the app's and Clerk's ids and the public metadata
// as attributes); an organisation becomes a top-level group named by its
// slug, with one subgroup per role ("admin", "member", custom roles), and
// a membership puts the user in the role's subgroup, so a Group Membership
// mapper with full paths puts "/acme/admin" in the token. Keycloak's
// partial import has no invitations: they are listed on standard error, to
// send again from the new provider. Passwords are not in the file (see
// docs/MIGRATION.md): users set one through "Forgot password?", or an
// execute-actions email (UPDATE_PASSWORD) sent after the import.
//
// Keycloak drops user attributes its user profile does not declare: declare
// app_user_id, clerk_id and public_metadata in Realm settings → User
// profile, or set the unmanaged attribute policy to "Admin can edit", before
// importing. This program was checked against the formats Keycloak
// documents, not against a running Keycloak.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/saasstarter/saas/internal/identityfile"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "keycloak:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 2 && args[0] == "realm":
		f, err := readFile(args[1])
		if err != nil {
			return err
		}
		return json.NewEncoder(stdout).Encode(partialImport(f, stderr))
	case len(args) == 4 && args[0] == "ids":
		f, err := readFile(args[1])
		if err != nil {
			return err
		}
		var users []kcUser
		var groups []kcGroup
		if err := readJSON(args[2], &users); err != nil {
			return err
		}
		if err := readJSON(args[3], &groups); err != nil {
			return err
		}
		return writeIDs(f, users, groups, stdout)
	default:
		return errors.New("usage: keycloak realm FILE | keycloak ids FILE users.json groups.json")
	}
}

// file is an identity file, read whole: this example is for the sizes a
// partial import (one JSON document) can take anyway.
type file struct {
	users       []identityfile.User
	orgs        []identityfile.Organization
	memberships []identityfile.Membership
	invitations []identityfile.Invitation
}

func readFile(name string) (file, error) {
	var f file
	in, err := os.Open(name)
	if err != nil {
		return f, err
	}
	defer in.Close()
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, identityfile.MaxLine)
	for n := 1; sc.Scan(); n++ {
		var probe struct{ Type string }
		if err := json.Unmarshal(sc.Bytes(), &probe); err != nil {
			return f, fmt.Errorf("%s:%d: %v", name, n, err)
		}
		var err error
		switch probe.Type {
		case identityfile.TypeUser:
			var u identityfile.User
			err = json.Unmarshal(sc.Bytes(), &u)
			f.users = append(f.users, u)
		case identityfile.TypeOrganization:
			var o identityfile.Organization
			err = json.Unmarshal(sc.Bytes(), &o)
			f.orgs = append(f.orgs, o)
		case identityfile.TypeMembership:
			var m identityfile.Membership
			err = json.Unmarshal(sc.Bytes(), &m)
			f.memberships = append(f.memberships, m)
		case identityfile.TypeInvitation:
			var i identityfile.Invitation
			err = json.Unmarshal(sc.Bytes(), &i)
			f.invitations = append(f.invitations, i)
		}
		if err != nil {
			return f, fmt.Errorf("%s:%d: %v", name, n, err)
		}
	}
	return f, sc.Err()
}

func readJSON(name string, v any) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	return nil
}

// The parts of Keycloak's representations this example writes and reads
// (PartialImportRepresentation, UserRepresentation, GroupRepresentation).
type (
	kcPartialImport struct {
		IfResourceExists string    `json:"ifResourceExists"`
		Users            []kcUser  `json:"users"`
		Groups           []kcGroup `json:"groups"`
	}
	kcUser struct {
		ID               string              `json:"id,omitempty"`
		Username         string              `json:"username"`
		Email            string              `json:"email"`
		EmailVerified    bool                `json:"emailVerified"`
		FirstName        string              `json:"firstName,omitempty"`
		LastName         string              `json:"lastName,omitempty"`
		Enabled          bool                `json:"enabled"`
		CreatedTimestamp int64               `json:"createdTimestamp,omitempty"`
		Attributes       map[string][]string `json:"attributes,omitempty"`
		Groups           []string            `json:"groups,omitempty"`
	}
	kcGroup struct {
		ID         string              `json:"id,omitempty"`
		Name       string              `json:"name"`
		Path       string              `json:"path,omitempty"`
		Attributes map[string][]string `json:"attributes,omitempty"`
		SubGroups  []kcGroup           `json:"subGroups,omitempty"`
	}
)

// Attribute names that carry the app's ids into Keycloak and back.
const (
	attrUserID = "app_user_id"
	attrOrgID  = "app_organization_id"
)

// partialImport maps the file onto a Keycloak partial import. Existing
// users and groups are skipped, so it can be run again after a failure.
func partialImport(f file, warn io.Writer) kcPartialImport {
	out := kcPartialImport{IfResourceExists: "SKIP", Users: []kcUser{}, Groups: []kcGroup{}}
	slugOf := map[int64]string{}
	roles := map[int64][]string{}
	for _, m := range f.memberships {
		r := strings.TrimPrefix(m.Role, "org:")
		if !slices.Contains(roles[m.OrganizationID], r) {
			roles[m.OrganizationID] = append(roles[m.OrganizationID], r)
		}
	}
	for _, o := range f.orgs {
		slugOf[o.ID] = o.Slug
		g := kcGroup{Name: o.Slug, Attributes: map[string][]string{
			attrOrgID: {strconv.FormatInt(o.ID, 10)}, "clerk_id": {o.ExternalIDs[identityfile.Clerk]},
			"name": {o.Name}, "plan": {o.Plan}, "public_metadata": {string(o.PublicMetadata)},
		}}
		slices.Sort(roles[o.ID])
		for _, r := range roles[o.ID] {
			g.SubGroups = append(g.SubGroups, kcGroup{Name: r})
		}
		out.Groups = append(out.Groups, g)
	}
	groupsOf := map[int64][]string{}
	for _, m := range f.memberships {
		groupsOf[m.UserID] = append(groupsOf[m.UserID], "/"+slugOf[m.OrganizationID]+"/"+strings.TrimPrefix(m.Role, "org:"))
	}
	for _, u := range f.users {
		if u.Email == "" {
			fmt.Fprintf(warn, "user %d has no email; left out (Keycloak needs a username)\n", u.ID)
			continue
		}
		out.Users = append(out.Users, kcUser{
			Username: strings.ToLower(u.Email), Email: u.Email, EmailVerified: true,
			FirstName: u.FirstName, LastName: u.LastName, Enabled: true,
			CreatedTimestamp: u.CreatedAt.UnixMilli(),
			Attributes: map[string][]string{
				attrUserID: {strconv.FormatInt(u.ID, 10)}, "clerk_id": {u.ExternalIDs[identityfile.Clerk]},
				"public_metadata": {string(u.PublicMetadata)},
			},
			Groups: groupsOf[u.ID],
		})
	}
	for _, i := range f.invitations {
		fmt.Fprintf(warn, "invitation %d: invite %s to %s as %s again from Keycloak\n", i.ID, i.Email, slugOf[i.OrganizationID], i.Role)
	}
	return out
}

// writeIDs writes an import file for `web import-identities --provider
// keycloak`: one line per user and organisation Keycloak has, found by the
// app's id in its attributes. Memberships are group memberships in
// Keycloak, which have no ids of their own.
func writeIDs(f file, users []kcUser, groups []kcGroup, w io.Writer) error {
	userIDs, orgIDs := map[int64]string{}, map[int64]string{}
	for _, u := range users {
		if id, err := attrID(u.Attributes, attrUserID); err == nil {
			userIDs[id] = u.ID
		}
	}
	for _, g := range groups {
		if id, err := attrID(g.Attributes, attrOrgID); err == nil {
			orgIDs[id] = g.ID
		}
	}
	enc := json.NewEncoder(w)
	var missing []string
	for _, u := range f.users {
		kc, ok := userIDs[u.ID]
		if !ok {
			missing = append(missing, "user "+strconv.FormatInt(u.ID, 10))
			continue
		}
		if err := enc.Encode(map[string]any{"type": identityfile.TypeUser, "id": u.ID, "external_ids": map[string]string{"keycloak": kc}}); err != nil {
			return err
		}
	}
	for _, o := range f.orgs {
		kc, ok := orgIDs[o.ID]
		if !ok {
			missing = append(missing, "organisation "+strconv.FormatInt(o.ID, 10))
			continue
		}
		if err := enc.Encode(map[string]any{"type": identityfile.TypeOrganization, "id": o.ID, "external_ids": map[string]string{"keycloak": kc}}); err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("not in Keycloak's lists (import them, or fetch more with max=…): %s", strings.Join(missing, ", "))
	}
	return nil
}

func attrID(attrs map[string][]string, name string) (int64, error) {
	if len(attrs[name]) != 1 {
		return 0, fmt.Errorf("no %s", name)
	}
	return strconv.ParseInt(attrs[name][0], 10, 64)
}
