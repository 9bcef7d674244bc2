package clerkjs

import (
	"net/http"
	"path"
	"strings"
)

// ServeHTTP serves /npm/<package>@<version>/dist/<file> below whatever
// prefix the caller stripped, as Clerk's Frontend API serves its bundles.
// The exact version is immutable and cached for a year; the major version
// (Clerk's snippets load @clerk/clerk-js@6) briefly, as it moves on an
// upgrade. ClerkJS and @clerk/ui load their chunks from the exact version's
// directory whichever path loaded them.
func (b *Bundles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, version, file, ok := parseBundlePath(r.URL.Path)
	var content []byte
	if ok {
		content, ok = b.File(name, version, file)
	}
	if !ok {
		http.Error(w, b.notServed(r.URL.Path), http.StatusNotFound)
		return
	}
	h := w.Header()
	p, _ := b.manifest.Package(name)
	h.Set("ETag", `"`+p.Files[file]+`"`)
	if version == p.Version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	if path.Ext(file) == ".js" {
		h.Set("Content-Type", "text/javascript; charset=utf-8")
	} else {
		h.Set("Content-Type", "text/plain; charset=utf-8")
	}
	// Clerk's snippet loads the bundles with crossorigin="anonymous".
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("X-Content-Type-Options", "nosniff")
	if match := r.Header.Get("If-None-Match"); match != "" && match == h.Get("ETag") {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(content)
}

// notServed says which versions are served, for a request for another.
func (b *Bundles) notServed(p string) string {
	var pins []string
	for _, pkg := range b.manifest.Packages {
		pins = append(pins, pkg.Name+"@"+pkg.Version)
	}
	return p + " is not served: the pinned bundles are " + strings.Join(pins, " and ") + "\n"
}

// parseBundlePath splits /npm/@scope/name@version/dist/file.
func parseBundlePath(p string) (name, version, file string, ok bool) {
	rest, ok := strings.CutPrefix(p, "/npm/")
	if !ok {
		return "", "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 4 || !strings.HasPrefix(parts[0], "@") || parts[2] != "dist" || parts[3] == "" {
		return "", "", "", false
	}
	pkg, version, ok := strings.Cut(parts[1], "@")
	if !ok || pkg == "" || version == "" {
		return "", "", "", false
	}
	return parts[0] + "/" + pkg, version, parts[3], true
}
