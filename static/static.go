// Package static embeds the CSS, JavaScript and images and serves them under
// content-hashed names (app.3f9c2a1b.css), so they can be cached for a year
// and a deploy still reaches every browser at once.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
)

//go:embed css js vendor img
var files embed.FS

// URLPrefix is where assets are served.
const URLPrefix = "/static/"

type manifest struct {
	hashed  map[string]string // logical name → hashed name
	logical map[string]string // hashed name → logical name
}

// load hashes every embedded file once, on first use.
var load = sync.OnceValue(func() manifest {
	m := manifest{hashed: map[string]string{}, logical: map[string]string{}}
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(p)
		h := strings.TrimSuffix(p, ext) + "." + hex.EncodeToString(sum[:])[:10] + ext
		m.hashed[p] = h
		m.logical[h] = p
		return nil
	})
	return m
})

// Path returns the URL of an asset by its logical name, e.g. "css/app.css".
// An unknown name panics: it is a typo in a template, caught by any test that
// renders the page.
func Path(name string) string {
	h, ok := load().hashed[name]
	if !ok {
		panic("static: unknown asset " + name)
	}
	return URLPrefix + h
}

// Handler serves hashed asset names with a year-long immutable cache. Logical
// names and anything else are 404, which keeps the served set exact and
// leaves no room for path tricks.
func Handler(c echo.Context) error {
	name := strings.TrimPrefix(c.Request().URL.Path, URLPrefix)
	logical, ok := load().logical[name]
	if !ok {
		return echo.ErrNotFound
	}
	b, err := files.ReadFile(logical)
	if err != nil {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	ctype := mime.TypeByExtension(path.Ext(logical))
	if ctype == "" {
		ctype = http.DetectContentType(b)
	}
	return c.Blob(http.StatusOK, ctype, b)
}
