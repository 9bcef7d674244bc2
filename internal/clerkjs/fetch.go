package clerkjs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// DefaultRegistry is the public npm registry.
const DefaultRegistry = "https://registry.npmjs.org"

// maxTarball bounds a download: the two packages are a few MB each.
const maxTarball = 64 << 20

// Fetched is a package version fetched from the registry: its manifest
// entry and the contents of the files it lists.
type Fetched struct {
	Package Package
	Files   map[string][]byte
}

// Fetch downloads name@version from an npm registry, checks the tarball
// against the registry's published sha512 integrity (and against
// wantIntegrity when set: restoring a pinned version must give the bytes it
// was pinned with), and keeps the browser bundle entry, the chunks it loads
// lazily and the package's LICENSE.
//
// The chunks are the dist/ files named <chunk>_<build>_<hash>_<version>.js
// whose build hash appears in the entry: each package ships several builds
// (browser, legacy, native, shared), and only the entry's own are loaded.
func Fetch(ctx context.Context, client *http.Client, registry, name, version, dir, entry, wantIntegrity string) (*Fetched, error) {
	meta, err := versionMetadata(ctx, client, registry, name, version)
	if err != nil {
		return nil, err
	}
	if wantIntegrity != "" && meta.Dist.Integrity != wantIntegrity {
		return nil, fmt.Errorf("clerkjs: %s@%s: the registry publishes integrity %s, %s pins %s", name, version, meta.Dist.Integrity, ManifestFile, wantIntegrity)
	}
	tgz, err := get(ctx, client, meta.Dist.Tarball)
	if err != nil {
		return nil, err
	}
	if err := checkIntegrity(tgz, meta.Dist.Integrity); err != nil {
		return nil, fmt.Errorf("clerkjs: %s@%s tarball: %w", name, version, err)
	}
	all, err := untar(tgz)
	if err != nil {
		return nil, fmt.Errorf("clerkjs: %s@%s tarball: %w", name, version, err)
	}
	main, ok := all["dist/"+entry]
	if !ok {
		return nil, fmt.Errorf("clerkjs: %s@%s has no dist/%s", name, version, entry)
	}
	license, ok := all["LICENSE"]
	if !ok {
		return nil, fmt.Errorf("clerkjs: %s@%s has no LICENSE", name, version)
	}
	f := &Fetched{
		Package: Package{Name: name, Version: version, Dir: dir, Entry: entry, License: meta.License,
			Tarball: meta.Dist.Tarball, Integrity: meta.Dist.Integrity, Files: map[string]string{}},
		Files: map[string][]byte{entry: main, "LICENSE": license},
	}
	chunk := regexp.MustCompile(`^dist/([A-Za-z0-9._-]+)_([0-9a-f]{6})_` + regexp.QuoteMeta(version) + `\.js$`)
	for p, content := range all {
		m := chunk.FindStringSubmatch(p)
		if m != nil && bytes.Contains(main, []byte(`"`+m[2])) {
			f.Files[path.Base(p)] = content
		}
	}
	if len(f.Files) < 3 {
		return nil, fmt.Errorf("clerkjs: %s@%s: found no chunks of dist/%s; has the package's layout changed?", name, version, entry)
	}
	for file, content := range f.Files {
		f.Package.Files[file] = sum256(content)
	}
	return f, nil
}

type versionMeta struct {
	License string `json:"license"`
	Dist    struct {
		Tarball   string `json:"tarball"`
		Integrity string `json:"integrity"`
	} `json:"dist"`
}

// versionMetadata is GET <registry>/<name>/<version>, the registry's
// document for one version.
func versionMetadata(ctx context.Context, client *http.Client, registry, name, version string) (*versionMeta, error) {
	body, err := get(ctx, client, strings.TrimRight(registry, "/")+"/"+url.PathEscape(name)+"/"+url.PathEscape(version))
	if err != nil {
		return nil, err
	}
	var meta versionMeta
	if err := json.Unmarshal(body, &meta); err != nil {
		return nil, fmt.Errorf("clerkjs: %s@%s: registry metadata: %w", name, version, err)
	}
	if meta.Dist.Tarball == "" || !strings.HasPrefix(meta.Dist.Integrity, "sha512-") {
		return nil, fmt.Errorf("clerkjs: %s@%s: the registry gives no tarball with a sha512 integrity", name, version)
	}
	return &meta, nil
}

func get(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("clerkjs: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("clerkjs: GET %s: %s", u, res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxTarball+1))
	if err != nil {
		return nil, fmt.Errorf("clerkjs: GET %s: %w", u, err)
	}
	if len(body) > maxTarball {
		return nil, fmt.Errorf("clerkjs: GET %s: larger than %d bytes", u, maxTarball)
	}
	return body, nil
}

// checkIntegrity compares data with a Subresource Integrity string
// ("sha512-<base64>"), as npm does.
func checkIntegrity(data []byte, integrity string) error {
	want, ok := strings.CutPrefix(integrity, "sha512-")
	if !ok {
		return fmt.Errorf("integrity %q is not sha512", integrity)
	}
	sum := sha512.Sum512(data)
	got := base64.StdEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return fmt.Errorf("sha512 is %s, the registry publishes %s", got, want)
	}
	return nil
}

// untar returns the regular files of an npm tarball by their path below its
// top directory (usually package/).
func untar(tgz []byte) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		_, rel, ok := strings.Cut(path.Clean(h.Name), "/")
		if !ok || strings.HasPrefix(rel, "../") {
			continue
		}
		content, err := io.ReadAll(io.LimitReader(tr, maxTarball))
		if err != nil {
			return nil, err
		}
		out[rel] = content
	}
}
