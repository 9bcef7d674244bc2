package clerkemu

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// DevPassword is the password of every seeded account. It is documented in
// the README and printed in the start-up banner: these accounts exist only
// on a developer's machine.
const DevPassword = "password"

// SeedAccount describes one seeded user, for the start-up banner and the
// sign-in page's account picker.
type SeedAccount struct {
	Email     string   `json:"email"`
	FirstName string   `json:"first_name"`
	LastName  string   `json:"last_name"`
	Orgs      []string `json:"orgs"` // "acme (admin)", …
}

type seedOrg struct {
	name, slug, metadata string
}

var seedOrgs = []seedOrg{
	{"Acme", "acme", `{"plan":"enterprise","features":["export","audit"]}`},
	{"Globex", "globex", `{"plan":"free","features":[]}`},
}

type seedMember struct{ slug, role string }

// seedUsers are the development accounts. Dave also operates the deployment:
// his public metadata holds operator: true, which the app's session-token
// template turns into the operator claim that opens /ops.
var seedUsers = []struct {
	email, first, last string
	member             []seedMember
	publicMD           string
}{
	{"alice@acme.test", "Alice", "Anders", []seedMember{{"acme", "org:admin"}}, ""},
	{"bob@acme.test", "Bob", "Baker", []seedMember{{"acme", "org:member"}}, ""},
	{"carol@globex.test", "Carol", "Chen", []seedMember{{"globex", "org:admin"}}, ""},
	{"dave@example.test", "Dave", "Dunn", []seedMember{{"acme", "org:member"}, {"globex", "org:admin"}}, `{"operator":true}`},
}

// SeedAccounts lists the accounts a fresh database is seeded with.
func SeedAccounts() []SeedAccount {
	out := make([]SeedAccount, 0, len(seedUsers))
	for _, u := range seedUsers {
		a := SeedAccount{Email: u.email, FirstName: u.first, LastName: u.last}
		for _, m := range u.member {
			a.Orgs = append(a.Orgs, fmt.Sprintf("%s (%s)", m.slug, roleName(m.role)))
		}
		out = append(out, a)
	}
	return out
}

// seed creates the development organizations and users once per database.
// Everything goes through the same functions as the API, so every row is
// announced by webhook and the app's database fills through its real sync
// path.
func (e *Emulator) seed(ctx context.Context) error {
	return e.tx(ctx, func(tx pgx.Tx) error {
		var seeded bool
		if err := tx.QueryRow(ctx, "SELECT seeded FROM clerkemu.instance FOR UPDATE").Scan(&seeded); err != nil || seeded {
			return err
		}
		orgIDs := map[string]string{}
		for _, o := range seedOrgs {
			row, err := e.createOrg(ctx, tx, newOrg{Name: o.name, Slug: o.slug, PublicMD: json.RawMessage(o.metadata)})
			if err != nil {
				return fmt.Errorf("organization %s: %w", o.slug, err)
			}
			orgIDs[o.slug] = row.ID
		}
		for _, s := range seedUsers {
			u, err := e.createUser(ctx, tx, newUser{Email: s.email, Password: DevPassword, FirstName: s.first, LastName: s.last,
				PublicMD: json.RawMessage(s.publicMD), Seeded: true})
			if err != nil {
				return fmt.Errorf("user %s: %w", s.email, err)
			}
			for _, m := range s.member {
				if _, err := e.addMember(ctx, tx, orgIDs[m.slug], u.ID, m.role, nil, nil); err != nil {
					return fmt.Errorf("membership %s in %s: %w", s.email, m.slug, err)
				}
			}
		}
		_, err := tx.Exec(ctx, "UPDATE clerkemu.instance SET seeded = true")
		return err
	})
}
