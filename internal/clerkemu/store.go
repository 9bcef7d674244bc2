package clerkemu

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// querier is what both the pool and a transaction provide.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type userRow struct {
	ID           string          `db:"id"`
	Email        string          `db:"email"`
	EmailID      string          `db:"email_id"`
	PasswordHash *string         `db:"password_hash"`
	FirstName    *string         `db:"first_name"`
	LastName     *string         `db:"last_name"`
	Username     *string         `db:"username"`
	ExternalID   *string         `db:"external_id"`
	PublicMD     json.RawMessage `db:"public_metadata"`
	PrivateMD    json.RawMessage `db:"private_metadata"`
	UnsafeMD     json.RawMessage `db:"unsafe_metadata"`
	Seeded       bool            `db:"seeded"`
	LastSignInAt *int64          `db:"last_sign_in_at"`
	LastActiveAt *int64          `db:"last_active_at"`
	CreatedAt    int64           `db:"created_at"`
	UpdatedAt    int64           `db:"updated_at"`

	Banned                    bool    `db:"banned"`
	Locked                    bool    `db:"locked"`
	Locale                    *string `db:"locale"`
	CreateOrganizationEnabled bool    `db:"create_organization_enabled"`
	CreateOrganizationsLimit  *int64  `db:"create_organizations_limit"`
	DeleteSelfEnabled         bool    `db:"delete_self_enabled"`
	LegalAcceptedAt           *int64  `db:"legal_accepted_at"`
	PasswordUpdatedAt         *int64  `db:"password_updated_at"`
}

type orgRow struct {
	ID                    string          `db:"id"`
	Name                  string          `db:"name"`
	Slug                  string          `db:"slug"`
	MaxAllowedMemberships int64           `db:"max_allowed_memberships"`
	PublicMD              json.RawMessage `db:"public_metadata"`
	PrivateMD             json.RawMessage `db:"private_metadata"`
	CreatedBy             string          `db:"created_by"`
	CreatedAt             int64           `db:"created_at"`
	UpdatedAt             int64           `db:"updated_at"`
	AdminDeleteEnabled    bool            `db:"admin_delete_enabled"`
	MembersCount          int64           `db:"members_count"`
	PendingInvitations    int64           `db:"pending_invitations_count"`
	// ImageID is the uploaded logo, if any (clerkemu.images).
	ImageID *string `db:"image_id"`
}

type membershipRow struct {
	ID        string          `db:"id"`
	OrgID     string          `db:"org_id"`
	UserID    string          `db:"user_id"`
	Role      string          `db:"role"`
	PublicMD  json.RawMessage `db:"public_metadata"`
	PrivateMD json.RawMessage `db:"private_metadata"`
	CreatedAt int64           `db:"created_at"`
	UpdatedAt int64           `db:"updated_at"`
}

type sessionRow struct {
	ID           string  `db:"id"`
	ClientID     string  `db:"client_id"`
	UserID       string  `db:"user_id"`
	Status       string  `db:"status"`
	ActiveOrgID  *string `db:"active_org_id"`
	LastActiveAt int64   `db:"last_active_at"`
	ExpireAt     int64   `db:"expire_at"`
	AbandonAt    int64   `db:"abandon_at"`
	CreatedAt    int64   `db:"created_at"`
	UpdatedAt    int64   `db:"updated_at"`
}

const (
	userCols = `id, email, email_id, password_hash, first_name, last_name, username, external_id,
		public_metadata, private_metadata, unsafe_metadata, seeded, last_sign_in_at, last_active_at, created_at, updated_at,
		banned, locked, locale, create_organization_enabled, create_organizations_limit, delete_self_enabled,
		legal_accepted_at, password_updated_at`
	orgCols = `o.id, o.name, o.slug, o.max_allowed_memberships, o.public_metadata, o.private_metadata,
		o.created_by, o.created_at, o.updated_at, o.admin_delete_enabled, o.image_id,
		(SELECT count(*) FROM clerkemu.memberships m WHERE m.org_id = o.id) AS members_count,
		(SELECT count(*) FROM clerkemu.invitations i WHERE i.org_id = o.id AND i.status = 'pending') AS pending_invitations_count`
	membershipCols = `id, org_id, user_id, role, public_metadata, private_metadata, created_at, updated_at`
	// membershipColsM is membershipCols qualified for a query over
	// memberships m joined with users u.
	membershipColsM = `m.id, m.org_id, m.user_id, m.role, m.public_metadata, m.private_metadata, m.created_at, m.updated_at`
	sessionCols     = `id, client_id, user_id, status, active_org_id, last_active_at, expire_at, abandon_at, created_at, updated_at`
)

func one[T any](ctx context.Context, q querier, sql string, args ...any) (*T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	v, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[T])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNotFound
	}
	return v, err
}

func many[T any](ctx context.Context, q querier, sql string, args ...any) ([]*T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[T])
}

func getUser(ctx context.Context, q querier, id string) (*userRow, error) {
	return one[userRow](ctx, q, "SELECT "+userCols+" FROM clerkemu.users WHERE id = $1", id)
}

func getUserByEmail(ctx context.Context, q querier, email string) (*userRow, error) {
	return one[userRow](ctx, q, "SELECT "+userCols+" FROM clerkemu.users WHERE lower(email) = lower($1)", email)
}

// getOrg finds an organization by id or, as Clerk's GET does, by slug.
func getOrg(ctx context.Context, q querier, idOrSlug string) (*orgRow, error) {
	return one[orgRow](ctx, q, "SELECT "+orgCols+" FROM clerkemu.organizations o WHERE o.id = $1 OR o.slug = $1", idOrSlug)
}

func getMembership(ctx context.Context, q querier, orgID, userID string) (*membershipRow, error) {
	return one[membershipRow](ctx, q, "SELECT "+membershipCols+" FROM clerkemu.memberships WHERE org_id = $1 AND user_id = $2", orgID, userID)
}

// userMemberships lists a user's memberships, oldest first, so "the user's
// first organization" is well defined.
func userMemberships(ctx context.Context, q querier, userID string) ([]*membershipRow, error) {
	return many[membershipRow](ctx, q, "SELECT "+membershipCols+" FROM clerkemu.memberships WHERE user_id = $1 ORDER BY created_at, id", userID)
}

func getSession(ctx context.Context, q querier, id string) (*sessionRow, error) {
	return one[sessionRow](ctx, q, "SELECT "+sessionCols+" FROM clerkemu.sessions WHERE id = $1", id)
}

// tx runs fn in a transaction and wakes the webhook sender after a commit,
// since fn may have queued events.
func (e *Emulator) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, e.pool, fn)
	if err == nil {
		e.kick()
	}
	return err
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// mergeMetadata applies Clerk's metadata merge: keys in patch replace those
// in base, nested objects merge recursively, and null deletes a key.
func mergeMetadata(base, patch json.RawMessage) (json.RawMessage, error) {
	var b, p map[string]any
	if len(base) > 0 {
		if err := json.Unmarshal(base, &b); err != nil {
			return nil, err
		}
	}
	if err := json.Unmarshal(patch, &p); err != nil || p == nil {
		return nil, errors.New("metadata must be a JSON object")
	}
	if b == nil {
		b = map[string]any{}
	}
	mergeMaps(b, p)
	return json.Marshal(b)
}

func mergeMaps(dst, src map[string]any) {
	for k, v := range src {
		switch v := v.(type) {
		case nil:
			delete(dst, k)
		case map[string]any:
			if d, ok := dst[k].(map[string]any); ok {
				mergeMaps(d, v)
				continue
			}
			dst[k] = v
		default:
			dst[k] = v
		}
	}
}

// objectOrEmpty validates that raw is a JSON object and returns "{}" when it
// is absent.
func objectOrEmpty(raw *json.RawMessage) (json.RawMessage, error) {
	if raw == nil || len(*raw) == 0 || string(*raw) == "null" {
		return json.RawMessage(`{}`), nil
	}
	var m map[string]any
	if err := json.Unmarshal(*raw, &m); err != nil {
		return nil, errors.New("metadata must be a JSON object")
	}
	return *raw, nil
}

// replaceMetadata is the PUT …/metadata rule: the given value replaces the
// stored one in full. It must be an object, or null (which Clerk stores as
// a JSON null).
func replaceMetadata(_, value json.RawMessage) (json.RawMessage, error) {
	if string(value) == "null" {
		return value, nil
	}
	var m map[string]any
	if err := json.Unmarshal(value, &m); err != nil {
		return nil, errors.New("metadata must be a JSON object")
	}
	return value, nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// metadataPatch is one metadata field of a …/metadata request.
type metadataPatch struct {
	name  string
	dst   *json.RawMessage
	patch opt[json.RawMessage]
}

// apply runs the endpoint's rule (mergeMetadata or replaceMetadata) when the
// field was sent.
func (p metadataPatch) apply(rule func(base, patch json.RawMessage) (json.RawMessage, error)) error {
	if !p.patch.Set {
		return nil
	}
	value := p.patch.V
	if p.patch.Null {
		value = json.RawMessage("null")
	}
	v, err := rule(*p.dst, value)
	if err != nil {
		return invalidParam("form_param_format_invalid", p.name, p.name+" must be a JSON object")
	}
	*p.dst = v
	return nil
}
