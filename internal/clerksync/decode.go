package clerksync

import (
	"encoding/json"
	"strings"
	"time"
)

// The data shapes of the events we apply (clerk.md §6.2), decoded
// tolerantly: unknown fields are ignored, null reads as empty, and timestamps
// accept anything (see clerkTime). Only a JSON type mismatch fails.

type userData struct {
	ID                    string `json:"id"`
	FirstName             string `json:"first_name"`
	LastName              string `json:"last_name"`
	ImageURL              string `json:"image_url"`
	PrimaryEmailAddressID string `json:"primary_email_address_id"`
	EmailAddresses        []struct {
		ID           string `json:"id"`
		EmailAddress string `json:"email_address"`
	} `json:"email_addresses"`
	PublicMetadata json.RawMessage `json:"public_metadata"`
	CreatedAt      clerkTime       `json:"created_at"`
	UpdatedAt      clerkTime       `json:"updated_at"`
}

type orgData struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	Slug           string          `json:"slug"`
	ImageURL       string          `json:"image_url"`
	PublicMetadata json.RawMessage `json:"public_metadata"`
	CreatedAt      clerkTime       `json:"created_at"`
	UpdatedAt      clerkTime       `json:"updated_at"`
}

type membershipData struct {
	ID             string    `json:"id"`
	Role           string    `json:"role"`
	Permissions    []string  `json:"permissions"`
	Organization   *orgData  `json:"organization"`
	CreatedAt      clerkTime `json:"created_at"`
	UpdatedAt      clerkTime `json:"updated_at"`
	PublicUserData *struct {
		UserID     string `json:"user_id"`
		FirstName  string `json:"first_name"`
		LastName   string `json:"last_name"`
		ImageURL   string `json:"image_url"`
		Identifier string `json:"identifier"`
	} `json:"public_user_data"`
}

type invitationData struct {
	ID                     string    `json:"id"`
	EmailAddress           string    `json:"email_address"`
	Role                   string    `json:"role"`
	Status                 string    `json:"status"`
	OrganizationID         string    `json:"organization_id"`
	PublicOrganizationData *orgData  `json:"public_organization_data"`
	CreatedAt              clerkTime `json:"created_at"`
	UpdatedAt              clerkTime `json:"updated_at"`
}

type sessionData struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	UpdatedAt clerkTime `json:"updated_at"`
}

// userRow is a user as the database stores it; webhooks and reconcile both
// produce it, so both go through the same upsert.
type userRow struct {
	ClerkID, Email, FirstName, LastName, ImageURL string
	Metadata                                      []byte
	CreatedAt, UpdatedAt                          time.Time
}

// orgRow is an organisation as the database stores it.
type orgRow struct {
	ClerkID, Name, Slug, ImageURL, Plan string
	Metadata                            []byte
	CreatedAt, UpdatedAt                time.Time
}

// membershipRow is a membership with enough of its user and organisation to
// create stubs for them.
type membershipRow struct {
	ClerkID, Role        string
	Permissions          []string
	User                 userRow
	Org                  orgRow
	CreatedAt, UpdatedAt time.Time
	// DeletedAt is set for a membership that no longer exists.
	DeletedAt time.Time
}

// decodeData unmarshals an event's data, turning any failure into a
// permanent fault.
func decodeData(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return permanentf("event has no data")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return permanentf("undecodable data: %v", err)
	}
	return nil
}

// firstNonZero returns the first non-zero time, so that an event without
// updated_at is still ordered by something.
func firstNonZero(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func (d userData) row(fallback time.Time) (userRow, error) {
	id, err := cleanID("user", d.ID)
	if err != nil {
		return userRow{}, err
	}
	meta, err := metadata(d.PublicMetadata)
	if err != nil {
		return userRow{}, err
	}
	// The primary address, else the first one: users signed up by phone or
	// OAuth may have none, which is fine.
	var email string
	for _, e := range d.EmailAddresses {
		if email == "" || e.ID == d.PrimaryEmailAddressID {
			email = e.EmailAddress
		}
		if e.ID == d.PrimaryEmailAddressID {
			break
		}
	}
	return userRow{
		ClerkID:   id,
		Email:     clean(strings.TrimSpace(email), maxShort),
		FirstName: clean(d.FirstName, maxText),
		LastName:  clean(d.LastName, maxText),
		ImageURL:  clean(d.ImageURL, maxURL),
		Metadata:  meta,
		CreatedAt: d.CreatedAt.Time,
		UpdatedAt: firstNonZero(d.UpdatedAt.Time, d.CreatedAt.Time, fallback),
	}, nil
}

func (d orgData) row(fallback time.Time) (orgRow, error) {
	id, err := cleanID("organization", d.ID)
	if err != nil {
		return orgRow{}, err
	}
	meta, err := metadata(d.PublicMetadata)
	if err != nil {
		return orgRow{}, err
	}
	return orgRow{
		ClerkID:   id,
		Name:      clean(d.Name, maxText),
		Slug:      clean(d.Slug, maxShort),
		ImageURL:  clean(d.ImageURL, maxURL),
		Plan:      planOf(meta),
		Metadata:  meta,
		CreatedAt: d.CreatedAt.Time,
		UpdatedAt: firstNonZero(d.UpdatedAt.Time, d.CreatedAt.Time, fallback),
	}, nil
}

func (d membershipData) row(fallback time.Time) (membershipRow, error) {
	id, err := cleanID("membership", d.ID)
	if err != nil {
		return membershipRow{}, err
	}
	if d.Organization == nil {
		return membershipRow{}, permanentf("membership %s has no organization", id)
	}
	org, err := d.Organization.row(time.Time{})
	if err != nil {
		return membershipRow{}, err
	}
	if d.PublicUserData == nil {
		return membershipRow{}, permanentf("membership %s has no public_user_data", id)
	}
	pu := d.PublicUserData
	uid, err := cleanID("membership user", pu.UserID)
	if err != nil {
		return membershipRow{}, err
	}
	user := userRow{
		ClerkID:   uid,
		FirstName: clean(pu.FirstName, maxText),
		LastName:  clean(pu.LastName, maxText),
		ImageURL:  clean(pu.ImageURL, maxURL),
	}
	// The identifier is the user's primary identifier: an email address for
	// most users, but it may be a phone number or username.
	if strings.Contains(pu.Identifier, "@") {
		user.Email = clean(strings.TrimSpace(pu.Identifier), maxShort)
	}
	perms := make([]string, 0, len(d.Permissions))
	for _, p := range d.Permissions {
		if p = clean(p, maxShort); p != "" {
			perms = append(perms, p)
		}
	}
	return membershipRow{
		ClerkID:     id,
		Role:        normalizeRole(d.Role),
		Permissions: perms,
		User:        user,
		Org:         org,
		CreatedAt:   d.CreatedAt.Time,
		UpdatedAt:   firstNonZero(d.UpdatedAt.Time, d.CreatedAt.Time, fallback),
	}, nil
}
