// Package clerkjs holds the pinned browser bundles of Clerk's ClerkJS
// (@clerk/clerk-js) and prebuilt components (@clerk/ui), and serves them the
// way Clerk's Frontend API does, under /npm/<package>@<version>/dist/.
//
// The bundles are committed (dist/, each with its MIT licence) rather than
// downloaded on first run, so that `go run ./cmd/web` and every test work
// with no network at all. manifest.json pins each package by exact version,
// records the npm registry's sha512 integrity of the tarball it came from,
// and the SHA-256 of every file taken from it. Load checks every file
// against it, so a missing or edited file stops the emulator with one line
// that says how to restore it:
//
//	go run ./internal/clerkjs/update                            # restore the pinned files
//	go run ./internal/clerkjs/update -clerk-js 6.41.0 -ui 1.37.0 # upgrade
//
// In Clerk mode the app loads the same versions from the instance's
// Frontend API, so production runs the bundles the tests ran.
package clerkjs

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
)

// The npm package names of the two bundles.
const (
	ClerkJSPackage = "@clerk/clerk-js"
	UIPackage      = "@clerk/ui"
)

// RestoreCommand is what a developer runs to restore the pinned bundles.
const RestoreCommand = "go run ./internal/clerkjs/update"

// ManifestFile is the manifest's name, in this directory.
const ManifestFile = "manifest.json"

//go:embed manifest.json dist
var embedded embed.FS

// Package is one pinned npm package: where it came from and the files taken
// from its dist/ directory.
type Package struct {
	// Name is the npm name, e.g. @clerk/clerk-js.
	Name string `json:"name"`
	// Version is the exact version.
	Version string `json:"version"`
	// Dir is the package's directory under dist/ in this repository.
	Dir string `json:"dir"`
	// Entry is the browser bundle the page loads, e.g. clerk.browser.js.
	Entry string `json:"entry"`
	// License is the package's licence (its LICENSE file is kept in Dir).
	License string `json:"license"`
	// Tarball and Integrity are the registry's dist.tarball and
	// dist.integrity (sha512, Subresource Integrity format) of the version.
	Tarball   string `json:"tarball"`
	Integrity string `json:"integrity"`
	// Files maps each file kept from the package's dist/ directory (the
	// entry, its lazily loaded chunks, LICENSE) to its SHA-256, hex.
	Files map[string]string `json:"files"`
}

// Major is the package's major version, e.g. "6" for 6.40.0: Clerk's
// snippets load @clerk/clerk-js@6 and @clerk/ui@1.
func (p Package) Major() string {
	major, _, _ := strings.Cut(p.Version, ".")
	return major
}

// URLPath is the path of the package's entry bundle below a Frontend API
// URL, with the exact version: /npm/@clerk/clerk-js@6.40.0/dist/clerk.browser.js.
func (p Package) URLPath() string {
	return "/npm/" + p.Name + "@" + p.Version + "/dist/" + p.Entry
}

// Manifest lists the pinned packages.
type Manifest struct {
	Packages []Package `json:"packages"`
}

// Package returns the pinned package named name.
func (m Manifest) Package(name string) (Package, bool) {
	for _, p := range m.Packages {
		if p.Name == name {
			return p, true
		}
	}
	return Package{}, false
}

// ParseManifest parses and checks a manifest: both packages present, exact
// versions, and only plain file names.
func ParseManifest(b []byte) (Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("clerkjs: %s: %w", ManifestFile, err)
	}
	for _, name := range []string{ClerkJSPackage, UIPackage} {
		p, ok := m.Package(name)
		if !ok {
			return m, fmt.Errorf("clerkjs: %s does not pin %s", ManifestFile, name)
		}
		if strings.Count(p.Version, ".") != 2 || p.Dir == "" || p.Entry == "" || p.Files[p.Entry] == "" {
			return m, fmt.Errorf("clerkjs: %s: %s needs an exact version, a dir and its entry file", ManifestFile, name)
		}
		for f := range p.Files {
			if f == "" || strings.ContainsAny(f, "/\\") || strings.HasPrefix(f, ".") {
				return m, fmt.Errorf("clerkjs: %s: %s lists an invalid file name %q", ManifestFile, name, f)
			}
		}
	}
	return m, nil
}

// Pinned returns the embedded manifest: the versions the app loads in both
// modes. It fails only when manifest.json itself is broken.
var Pinned = sync.OnceValues(func() (Manifest, error) {
	b, err := embedded.ReadFile(ManifestFile)
	if err != nil {
		return Manifest{}, fmt.Errorf("clerkjs: %s is missing; restore it with git", ManifestFile)
	}
	return ParseManifest(b)
})

// Bundles are the verified files of the pinned packages, ready to serve.
type Bundles struct {
	manifest Manifest
	files    map[string]map[string][]byte // package name → file → content
}

// Manifest returns what the bundles were verified against.
func (b *Bundles) Manifest() Manifest { return b.manifest }

// ErrCorrupt reports a file that is missing or differs from the manifest.
var ErrCorrupt = errors.New("clerkjs: bundle file missing or corrupt")

// Verify reads every file the manifest lists from fsys (laid out as dist/
// is: <dir>/<file>) and checks its SHA-256. The error is one line that names
// the first bad file and the command that restores it.
func Verify(fsys fs.FS, m Manifest) (*Bundles, error) {
	b := &Bundles{manifest: m, files: map[string]map[string][]byte{}}
	for _, p := range m.Packages {
		b.files[p.Name] = map[string][]byte{}
		names := make([]string, 0, len(p.Files))
		for f := range p.Files {
			names = append(names, f)
		}
		sort.Strings(names)
		for _, f := range names {
			content, err := fs.ReadFile(fsys, path.Join(p.Dir, f))
			if err == nil {
				if sum256(content) != p.Files[f] {
					err = errors.New("its SHA-256 differs from " + ManifestFile)
				}
			}
			if err != nil {
				return nil, fmt.Errorf("%w: %s@%s dist/%s (%v); restore the pinned bundles with `%s`",
					ErrCorrupt, p.Name, p.Version, f, shortErr(err), RestoreCommand)
			}
			b.files[p.Name][f] = content
		}
	}
	return b, nil
}

func shortErr(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "missing"
	}
	return err.Error()
}

// Load verifies the embedded bundles once per process (reading and hashing
// them costs a few milliseconds, and every test app asks).
var Load = sync.OnceValues(func() (*Bundles, error) {
	m, err := Pinned()
	if err != nil {
		return nil, err
	}
	dist, err := fs.Sub(embedded, "dist")
	if err != nil {
		return nil, err
	}
	return Verify(dist, m)
})

// File returns a file of a pinned package. version may be the exact version
// or its major version (what Clerk's snippets ask for); any other version is
// not served.
func (b *Bundles) File(name, version, file string) ([]byte, bool) {
	p, ok := b.manifest.Package(name)
	if !ok || (version != p.Version && version != p.Major()) {
		return nil, false
	}
	content, ok := b.files[name][file]
	return content, ok
}

// sum256 is the hex SHA-256 the manifest records for a file.
func sum256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
