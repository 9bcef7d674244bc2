package identityfile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/saasstarter/saas/db/store"
)

// MaxLine is the longest line Import reads. Clerk caps each metadata field
// at 8 KB, so a real record is far shorter.
const MaxLine = 1 << 20

// ImportOptions say what Import maps.
type ImportOptions struct {
	// Provider names the new provider: each line's external_ids[Provider]
	// is that provider's id of the record. Clerk replaces the app's Clerk
	// ids (a move to another Clerk instance); any other valid name is
	// recorded in external_identities.
	Provider string
	// DryRun checks and applies everything in the transaction, then rolls
	// it back: the report says what would change.
	DryRun bool
}

// Tally is what an import did to one type of record.
type Tally struct {
	// Added records had no id at the provider before; Changed had another
	// one; Unchanged already had this one.
	Added, Changed, Unchanged int
}

func (t Tally) total() int { return t.Added + t.Changed + t.Unchanged }

// Report is what Import did, or would do in a dry run.
type Report struct {
	Provider                                       string
	DryRun                                         bool
	Users, Organizations, Memberships, Invitations Tally
}

// String is one line per type, e.g. "users: 4 (2 added, 1 changed, 1
// unchanged)", after a line saying whether anything was written.
func (r Report) String() string {
	var b strings.Builder
	if r.DryRun {
		fmt.Fprintf(&b, "dry run: nothing was written; importing would map these %s ids:\n", r.Provider)
	} else {
		fmt.Fprintf(&b, "imported %s ids:\n", r.Provider)
	}
	for _, k := range []struct {
		name string
		t    Tally
	}{{"users", r.Users}, {"organisations", r.Organizations}, {"memberships", r.Memberships}, {"invitations", r.Invitations}} {
		fmt.Fprintf(&b, "  %s: %d (%d added, %d changed, %d unchanged)\n", k.name, k.t.total(), k.t.Added, k.t.Changed, k.t.Unchanged)
	}
	return b.String()
}

// LineError is a line Import refused; no line of the file was applied.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

func (e *LineError) Unwrap() error { return e.Err }

// Import reads an identity file from r and maps the provider's ids onto the
// existing rows, in one transaction: a malformed line, a record that names
// no row, a row named twice, or an id another row already has at the
// provider stops it with a *LineError, and nothing is written. It never
// creates or deletes users, organisations, memberships or invitations, and
// never touches business data (projects, the audit log, usage).
//
// Import holds one map entry per record to spot rows named twice (about 40
// bytes each: two million records take some 70 MB); everything else
// streams.
func Import(ctx context.Context, pool *pgxpool.Pool, r io.Reader, opt ImportOptions) (Report, error) {
	rep := Report{Provider: opt.Provider, DryRun: opt.DryRun}
	if !ValidProvider(opt.Provider) {
		return rep, fmt.Errorf("provider %q: want lower-case letters, digits, - or _, starting with a letter (at most 32)", opt.Provider)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return rep, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	imp := &importer{q: store.New(tx), provider: opt.Provider, rep: &rep, seen: map[*kind]map[int64]int32{}}

	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
	n := 0
	for sc.Scan() {
		n++
		if err := imp.line(ctx, n, sc.Bytes()); err != nil {
			return rep, &LineError{Line: n, Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return rep, &LineError{Line: n + 1, Err: fmt.Errorf("longer than %d bytes", MaxLine)}
		}
		return rep, err
	}
	if imp.records == 0 {
		return rep, errors.New("the file has no records")
	}
	if opt.DryRun {
		return rep, nil
	}
	return rep, tx.Commit(ctx)
}

type importer struct {
	q        *store.Queries
	provider string
	rep      *Report
	seen     map[*kind]map[int64]int32 // the line of each row, by type and id
	records  int
}

// record is what Import reads from a line, whatever its type.
type record struct {
	*kind
	id    int64
	ids   map[string]string
	email string // users only
}

// matched is a row a record names: its id and current Clerk id.
type matched struct {
	id      int64
	clerkID string
}

// kind is what Import does with one type of record.
type kind struct {
	name  string // external_identities.kind
	noun  string // for messages
	tally func(*Report) *Tally
	// match finds the live rows a line names by id, else Clerk id, else
	// email (users only); setClerkID is the import of provider "clerk".
	match      func(ctx context.Context, q *store.Queries, id int64, clerkID, email string) ([]matched, error)
	setClerkID func(ctx context.Context, q *store.Queries, id int64, v string) error
}

var (
	userKind = &kind{name: "user", noun: "user", tally: func(r *Report) *Tally { return &r.Users },
		match: func(ctx context.Context, q *store.Queries, id int64, clerkID, email string) ([]matched, error) {
			rows, err := q.MatchUser(ctx, store.MatchUserParams{ID: id, ClerkID: clerkID, Email: email})
			return rowsOf(rows, err, func(r store.MatchUserRow) matched { return matched{r.ID, r.ClerkID} })
		},
		setClerkID: func(ctx context.Context, q *store.Queries, id int64, v string) error {
			return q.SetUserClerkID(ctx, store.SetUserClerkIDParams{ID: id, ClerkID: v})
		}}
	organizationKind = &kind{name: "organization", noun: "organisation", tally: func(r *Report) *Tally { return &r.Organizations },
		match: func(ctx context.Context, q *store.Queries, id int64, clerkID, _ string) ([]matched, error) {
			rows, err := q.MatchOrganization(ctx, store.MatchOrganizationParams{ID: id, ClerkID: clerkID})
			return rowsOf(rows, err, func(r store.MatchOrganizationRow) matched { return matched{r.ID, r.ClerkID} })
		},
		setClerkID: func(ctx context.Context, q *store.Queries, id int64, v string) error {
			return q.SetOrganizationClerkID(ctx, store.SetOrganizationClerkIDParams{ID: id, ClerkID: v})
		}}
	membershipKind = &kind{name: "membership", noun: "membership", tally: func(r *Report) *Tally { return &r.Memberships },
		match: func(ctx context.Context, q *store.Queries, id int64, clerkID, _ string) ([]matched, error) {
			rows, err := q.MatchMembership(ctx, store.MatchMembershipParams{ID: id, ClerkID: clerkID})
			return rowsOf(rows, err, func(r store.MatchMembershipRow) matched { return matched{r.ID, r.ClerkID} })
		},
		setClerkID: func(ctx context.Context, q *store.Queries, id int64, v string) error {
			return q.SetMembershipClerkID(ctx, store.SetMembershipClerkIDParams{ID: id, ClerkID: v})
		}}
	invitationKind = &kind{name: "invitation", noun: "invitation", tally: func(r *Report) *Tally { return &r.Invitations },
		match: func(ctx context.Context, q *store.Queries, id int64, clerkID, _ string) ([]matched, error) {
			rows, err := q.MatchInvitation(ctx, store.MatchInvitationParams{ID: id, ClerkID: clerkID})
			return rowsOf(rows, err, func(r store.MatchInvitationRow) matched { return matched{r.ID, r.ClerkID} })
		},
		setClerkID: func(ctx context.Context, q *store.Queries, id int64, v string) error {
			return q.SetInvitationClerkID(ctx, store.SetInvitationClerkIDParams{ID: id, ClerkID: v})
		}}
)

func rowsOf[R any](rows []R, err error, conv func(R) matched) ([]matched, error) {
	out := make([]matched, 0, len(rows))
	for _, r := range rows {
		out = append(out, conv(r))
	}
	return out, err
}

func (imp *importer) line(ctx context.Context, n int, b []byte) error {
	rec, err := imp.decode(n, b)
	if err != nil || rec.kind == nil { // a header
		return err
	}
	imp.records++
	ext, err := externalID(rec.ids, imp.provider)
	if err != nil {
		return err
	}
	clerkRef := ""
	if imp.provider != Clerk {
		clerkRef = rec.ids[Clerk]
	}
	id, current, err := imp.find(ctx, rec, clerkRef)
	if err != nil {
		return err
	}
	seen := imp.seen[rec.kind]
	if seen == nil {
		seen = map[int64]int32{}
		imp.seen[rec.kind] = seen
	}
	if prev, ok := seen[id]; ok {
		return fmt.Errorf("%s %d is also on line %d", rec.noun, id, prev)
	}
	seen[id] = int32(n)

	tally := rec.tally(imp.rep)
	if imp.provider == Clerk {
		if current == ext {
			tally.Unchanged++
			return nil
		}
		if err := rec.setClerkID(ctx, imp.q, id, ext); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("clerk id %q of %s %d is already another %s's", ext, rec.noun, id, rec.noun)
			}
			return err
		}
		tally.Changed++
		return nil
	}

	owner, err := imp.q.FindExternalIdentity(ctx, store.FindExternalIdentityParams{Provider: imp.provider, Kind: rec.name, ExternalID: ext})
	switch {
	case err == nil && owner != id:
		return fmt.Errorf("%s id %q of %s %d is already %s %d's", imp.provider, ext, rec.noun, id, rec.noun, owner)
	case err != nil && !errors.Is(err, pgx.ErrNoRows):
		return err
	}
	prev, err := imp.q.GetExternalIdentity(ctx, store.GetExternalIdentityParams{Kind: rec.name, AppID: id, Provider: imp.provider})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		tally.Added++
	case err != nil:
		return err
	case prev == ext:
		tally.Unchanged++
		return nil
	default:
		tally.Changed++
	}
	return imp.q.PutExternalIdentity(ctx, store.PutExternalIdentityParams{Kind: rec.name, AppID: id, Provider: imp.provider, ExternalID: ext})
}

// decode parses one line strictly: one JSON object of a known type with
// only that type's fields. A header is allowed as the first line only, and
// returns a record with no kind.
func (imp *importer) decode(n int, b []byte) (record, error) {
	var probe struct {
		Type string `json:"type"`
	}
	// Unmarshal also refuses anything after the object.
	if err := json.Unmarshal(b, &probe); err != nil {
		return record{}, fmt.Errorf("not a JSON object: %v", err)
	}
	switch probe.Type {
	case TypeHeader:
		var h Header
		if err := strict(b, &h); err != nil {
			return record{}, err
		}
		if n != 1 {
			return record{}, errors.New("a header is only allowed on the first line")
		}
		if h.Format != Format || h.Version != Version {
			return record{}, fmt.Errorf("format %q version %d: this program reads %q version %d", h.Format, h.Version, Format, Version)
		}
		return record{}, nil
	case TypeUser:
		var u User
		err := strict(b, &u)
		return record{kind: userKind, id: u.ID, ids: u.ExternalIDs, email: u.Email}, err
	case TypeOrganization:
		var o Organization
		err := strict(b, &o)
		return record{kind: organizationKind, id: o.ID, ids: o.ExternalIDs}, err
	case TypeMembership:
		var m Membership
		err := strict(b, &m)
		return record{kind: membershipKind, id: m.ID, ids: m.ExternalIDs}, err
	case TypeInvitation:
		var i Invitation
		err := strict(b, &i)
		return record{kind: invitationKind, id: i.ID, ids: i.ExternalIDs}, err
	case "":
		return record{}, errors.New(`no "type"`)
	default:
		return record{}, fmt.Errorf("unknown type %q", probe.Type)
	}
}

// strict decodes a JSON object (decode has checked that b is exactly one)
// with no field v does not define.
func strict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// externalID is the provider's id on a line: present, at most 255 bytes,
// with no surrounding space or control characters.
func externalID(ids map[string]string, provider string) (string, error) {
	v, ok := ids[provider]
	switch {
	case !ok || v == "":
		return "", fmt.Errorf("no external_ids.%s", provider)
	case len(v) > 255:
		return "", fmt.Errorf("external_ids.%s is longer than 255 bytes", provider)
	case strings.TrimSpace(v) != v || strings.ContainsFunc(v, unicode.IsControl):
		return "", fmt.Errorf("external_ids.%s %q has surrounding space or control characters", provider, v)
	}
	return v, nil
}

// find finds the live row a record names, by id, else by its Clerk id,
// else (users) by email, and returns its id and current Clerk id. With
// both an id and a Clerk id, they must agree: a file made from another
// database names other rows by the same ids.
func (imp *importer) find(ctx context.Context, rec record, clerkRef string) (int64, string, error) {
	if rec.id < 0 {
		return 0, "", fmt.Errorf("id %d is not an id", rec.id)
	}
	by := ""
	switch {
	case rec.id > 0:
		by = fmt.Sprintf("id %d", rec.id)
	case clerkRef != "":
		by = fmt.Sprintf("clerk id %q", clerkRef)
	case rec.kind == userKind && rec.email != "":
		by = fmt.Sprintf("email %q", rec.email)
	default:
		if imp.provider == Clerk {
			return 0, "", fmt.Errorf("the %s has no id to match it by (with --provider clerk, give its id)", rec.noun)
		}
		return 0, "", fmt.Errorf("the %s has no id, external_ids.clerk or email to match it by", rec.noun)
	}
	rows, err := rec.match(ctx, imp.q, rec.id, clerkRef, rec.email)
	if err != nil {
		return 0, "", err
	}
	switch len(rows) {
	case 0:
		return 0, "", fmt.Errorf("no %s with %s in this database (or it was deleted)", rec.noun, by)
	case 1:
	default:
		return 0, "", fmt.Errorf("%s matches more than one %s: give its id", by, rec.noun)
	}
	if rec.id > 0 && clerkRef != "" && rows[0].clerkID != clerkRef {
		return 0, "", fmt.Errorf("%s %d has clerk id %q here, the line says %q: is the file from another database?",
			rec.noun, rec.id, rows[0].clerkID, clerkRef)
	}
	return rows[0].id, rows[0].clerkID, nil
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
