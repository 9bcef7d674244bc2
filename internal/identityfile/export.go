package identityfile

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/saasstarter/saas/db/store"
)

// DefaultPageSize is how many rows Export reads per query.
const DefaultPageSize = 1000

// ExportOptions adjust Export.
type ExportOptions struct {
	// PageSize is the number of rows per query; default DefaultPageSize.
	PageSize int32
	// Progress, when set, is called after every page with the counts so
	// far, for a progress line on a terminal.
	Progress func(Counts)
	// Now stamps the header; default time.Now.
	Now func() time.Time
}

// Counts are the records of a file, by type.
type Counts struct {
	Users, Organizations, Memberships, Invitations int
}

// String is "4 users, 2 organisations, 5 memberships, 1 invitation".
func (c Counts) String() string {
	return fmt.Sprintf("%s, %s, %s, %s", plural(c.Users, "user"), plural(c.Organizations, "organisation"),
		plural(c.Memberships, "membership"), plural(c.Invitations, "invitation"))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Export writes the identity file to w. It reads in pages of PageSize rows
// by id (keyset pagination), so memory stays flat however many users there
// are, and inside one read-only repeatable-read transaction, so the file is
// one consistent snapshot even while webhooks keep arriving: no membership
// names a user the file lacks.
func Export(ctx context.Context, pool *pgxpool.Pool, w io.Writer, opt ExportOptions) (Counts, error) {
	if opt.PageSize <= 0 {
		opt.PageSize = DefaultPageSize
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	var counts Counts
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return counts, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only: nothing to undo
	q := store.New(tx)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	progress := func() {
		if opt.Progress != nil {
			opt.Progress(counts)
		}
	}

	if err := enc.Encode(Header{Type: TypeHeader, Format: Format, Version: Version, ExportedAt: opt.Now().UTC().Truncate(time.Second)}); err != nil {
		return counts, err
	}
	err = pages(ctx, opt.PageSize, &counts.Users, progress,
		func(after int64) ([]store.ExportUsersRow, error) {
			return q.ExportUsers(ctx, store.ExportUsersParams{AfterID: after, MaxRows: opt.PageSize})
		},
		func(r store.ExportUsersRow) (int64, error) {
			ids, err := externalIDs(r.ExternalIds, r.ClerkID)
			if err != nil {
				return 0, err
			}
			return r.ID, enc.Encode(User{Type: TypeUser, ID: r.ID, ExternalIDs: ids, Email: r.Email,
				FirstName: r.FirstName, LastName: r.LastName, ImageURL: r.ImageUrl,
				PublicMetadata: r.PublicMetadata, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)})
		})
	if err != nil {
		return counts, fmt.Errorf("users: %w", err)
	}
	err = pages(ctx, opt.PageSize, &counts.Organizations, progress,
		func(after int64) ([]store.ExportOrganizationsRow, error) {
			return q.ExportOrganizations(ctx, store.ExportOrganizationsParams{AfterID: after, MaxRows: opt.PageSize})
		},
		func(r store.ExportOrganizationsRow) (int64, error) {
			ids, err := externalIDs(r.ExternalIds, r.ClerkID)
			if err != nil {
				return 0, err
			}
			return r.ID, enc.Encode(Organization{Type: TypeOrganization, ID: r.ID, ExternalIDs: ids, Name: r.Name,
				Slug: r.Slug, ImageURL: r.ImageUrl, Plan: r.Plan, PublicMetadata: r.PublicMetadata,
				CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)})
		})
	if err != nil {
		return counts, fmt.Errorf("organisations: %w", err)
	}
	err = pages(ctx, opt.PageSize, &counts.Memberships, progress,
		func(after int64) ([]store.ExportMembershipsRow, error) {
			return q.ExportMemberships(ctx, store.ExportMembershipsParams{AfterID: after, MaxRows: opt.PageSize})
		},
		func(r store.ExportMembershipsRow) (int64, error) {
			ids, err := externalIDs(r.ExternalIds, r.ClerkID)
			if err != nil {
				return 0, err
			}
			return r.ID, enc.Encode(Membership{Type: TypeMembership, ID: r.ID, ExternalIDs: ids,
				OrganizationID: r.OrganizationID, UserID: r.UserID, Role: r.Role, Permissions: r.Permissions,
				CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)})
		})
	if err != nil {
		return counts, fmt.Errorf("memberships: %w", err)
	}
	err = pages(ctx, opt.PageSize, &counts.Invitations, progress,
		func(after int64) ([]store.ExportInvitationsRow, error) {
			return q.ExportInvitations(ctx, store.ExportInvitationsParams{AfterID: after, MaxRows: opt.PageSize})
		},
		func(r store.ExportInvitationsRow) (int64, error) {
			ids, err := externalIDs(r.ExternalIds, r.ClerkID)
			if err != nil {
				return 0, err
			}
			return r.ID, enc.Encode(Invitation{Type: TypeInvitation, ID: r.ID, ExternalIDs: ids,
				OrganizationID: r.OrganizationID, Email: r.Email, Role: r.Role, Status: r.Status,
				CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)})
		})
	if err != nil {
		return counts, fmt.Errorf("invitations: %w", err)
	}
	return counts, bw.Flush()
}

// pages reads rows after the last id written until a page comes back
// short, writing each row and counting it.
func pages[R any](ctx context.Context, size int32, n *int, progress func(),
	fetch func(after int64) ([]R, error), write func(R) (int64, error)) error {
	var after int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rows, err := fetch(after)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if after, err = write(r); err != nil {
				return err
			}
		}
		*n += len(rows)
		progress()
		if len(rows) < int(size) {
			return nil
		}
	}
}

// externalIDs is the record's ids at every provider: those imported before
// (a JSON object from external_identities) and Clerk's.
func externalIDs(others []byte, clerkID string) (map[string]string, error) {
	ids := map[string]string{}
	if err := json.Unmarshal(others, &ids); err != nil {
		return nil, err
	}
	ids[Clerk] = clerkID
	return ids, nil
}

func utc(t pgtype.Timestamptz) time.Time { return t.Time.UTC() }
