package clerkemu

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Organization logos, uploaded through the Frontend API
// (organization.setLogo, what <OrganizationProfile/> and
// <CreateOrganization/> send) or the Backend API (PUT
// /v1/organizations/{id}/logo). The emulator keeps them in its own schema
// and serves them under /img/, where Clerk's image CDN would; an
// organization without one has a drawn avatar.

// maxLogoBytes is Clerk's limit for an uploaded image ("up to 10MB").
const maxLogoBytes = 10 << 20

// logoTypes are the formats Clerk's components accept for a logo. SVG is
// not among them, and is refused: an SVG can carry script.
var logoTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

var errLogoType = invalidParam("form_param_format_invalid", "file", "The logo must be a PNG, JPEG, GIF or WebP image.")

// orgImage is an organization's image URL, and whether it is an uploaded
// logo (has_image) rather than the drawn avatar.
func (e *Emulator) orgImage(o *orgRow) (string, bool) {
	if o.ImageID != nil {
		return e.issuer + "/img/" + *o.ImageID, true
	}
	return e.imageURL(o.ID), false
}

// publicOrgData is Clerk's public_organization_data of an organization.
func (e *Emulator) publicOrgData(o *orgRow) *publicOrgDataJSON {
	img, has := e.orgImage(o)
	return &publicOrgDataJSON{ID: o.ID, Name: o.Name, Slug: o.Slug, ImageURL: img, HasImage: has}
}

// readLogo reads an uploaded image as ClerkJS and the SDKs send it: a
// multipart form's file field, or the bytes themselves (ClerkJS sends a
// string, a data: URL, as application/octet-stream). The format is sniffed
// from the bytes, never taken from the request.
func readLogo(r *http.Request) (string, []byte, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, maxLogoBytes+1<<20)
	var data []byte
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxLogoBytes); err != nil {
			return "", nil, invalidParam("form_param_format_invalid", "file", "The upload could not be read, or is larger than 10 MB.")
		}
		for k := range r.MultipartForm.Value {
			if k != "uploader_user_id" {
				return "", nil, unsupportedParam(k)
			}
		}
		f, _, err := r.FormFile("file")
		if err != nil {
			return "", nil, invalidParam("form_param_missing", "file", "Upload an image file.")
		}
		defer f.Close()
		if data, err = io.ReadAll(io.LimitReader(f, maxLogoBytes+1)); err != nil {
			return "", nil, err
		}
	default:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return "", nil, invalidParam("form_param_format_invalid", "file", "The upload is larger than 10 MB.")
		}
		data = body
		if s, ok := strings.CutPrefix(string(body), "data:"); ok {
			meta, payload, found := strings.Cut(s, ",")
			if !found || !strings.HasSuffix(meta, ";base64") {
				return "", nil, errLogoType
			}
			if data, err = base64.StdEncoding.DecodeString(payload); err != nil {
				return "", nil, errLogoType
			}
		}
	}
	if len(data) == 0 {
		return "", nil, invalidParam("form_param_missing", "file", "Upload an image file.")
	}
	if len(data) > maxLogoBytes {
		return "", nil, invalidParam("form_param_format_invalid", "file", "The logo must be 10 MB or smaller.")
	}
	typ := http.DetectContentType(data)
	if !logoTypes[typ] {
		return "", nil, errLogoType
	}
	return typ, data, nil
}

// setOrgLogo stores an image and makes it the organization's logo,
// replacing (and deleting) any earlier one. The caller records the change.
func (e *Emulator) setOrgLogo(ctx context.Context, tx pgx.Tx, o *orgRow, contentType string, data []byte) error {
	id := newID("img")
	if _, err := tx.Exec(ctx, `INSERT INTO clerkemu.images (id, content_type, data, created_at) VALUES ($1, $2, $3, $4)`,
		id, contentType, data, e.nowMS()); err != nil {
		return err
	}
	return e.replaceOrgLogo(ctx, tx, o, &id)
}

// replaceOrgLogo points the organization at imageID (nil: none) and drops
// the image it had.
func (e *Emulator) replaceOrgLogo(ctx context.Context, tx pgx.Tx, o *orgRow, imageID *string) error {
	if _, err := tx.Exec(ctx, "UPDATE clerkemu.organizations SET image_id = $2 WHERE id = $1", o.ID, imageID); err != nil {
		return err
	}
	if o.ImageID != nil {
		if _, err := tx.Exec(ctx, "DELETE FROM clerkemu.images WHERE id = $1", *o.ImageID); err != nil {
			return err
		}
	}
	o.ImageID = imageID
	return nil
}

var avatarFile = regexp.MustCompile(`^(user|org)_[A-Za-z0-9]{1,64}\.svg$`)
var uploadedFile = regexp.MustCompile(`^img_[A-Za-z0-9]{1,64}$`)

// handleImage serves /img/{file}: an uploaded logo, or the drawn avatar of
// a user or organization id.
func (e *Emulator) handleImage(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	h := w.Header()
	// An image opened as a document runs nothing.
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	switch {
	case uploadedFile.MatchString(file):
		var ct string
		var data []byte
		err := e.pool.QueryRow(r.Context(), "SELECT content_type, data FROM clerkemu.images WHERE id = $1", file).Scan(&ct, &data)
		if errors.Is(err, pgx.ErrNoRows) {
			writeError(w, http.StatusNotFound, "resource_not_found", "not found")
			return
		}
		if err != nil {
			e.fail(w, r, err)
			return
		}
		h.Set("Content-Type", ct)
		// A new upload gets a new id, so an image never changes.
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		_, _ = w.Write(data)
	case avatarFile.MatchString(file):
		drawAvatar(w, file)
	default:
		writeError(w, http.StatusNotFound, "resource_not_found", "not found")
	}
}

// handleFrontendLogo is organization.setLogo for an admin: PUT uploads,
// DELETE removes (the drawn avatar returns).
func (e *Emulator) handleFrontendLogo(w http.ResponseWriter, r *http.Request) {
	var ct string
	var data []byte
	if r.Method == http.MethodPut {
		var err error
		if ct, data, err = readLogo(r); err != nil {
			e.fail(w, r, err)
			return
		}
	}
	e.changeOrg(w, r, func(ctx context.Context, tx pgx.Tx, o *orgRow) error {
		if data == nil {
			return e.replaceOrgLogo(ctx, tx, o, nil)
		}
		return e.setOrgLogo(ctx, tx, o, ct, data)
	})
}

// handleUploadOrgLogo is the Backend API's PUT /v1/organizations/{id}/logo
// (multipart, file and an optional uploader_user_id).
func (e *Emulator) handleUploadOrgLogo(w http.ResponseWriter, r *http.Request) {
	ct, data, err := readLogo(r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.updateOrg(w, r, func(ctx context.Context, tx pgx.Tx, o *orgRow) error {
		return e.setOrgLogo(ctx, tx, o, ct, data)
	})
}

// handleDeleteOrgLogo is the Backend API's DELETE …/logo.
func (e *Emulator) handleDeleteOrgLogo(w http.ResponseWriter, r *http.Request) {
	if err := decodeBody(r, &struct{}{}); err != nil {
		e.fail(w, r, err)
		return
	}
	e.updateOrg(w, r, func(ctx context.Context, tx pgx.Tx, o *orgRow) error {
		return e.replaceOrgLogo(ctx, tx, o, nil)
	})
}
