package clerkjs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// TestEmbeddedBundlesVerify: the committed bundles match the manifest, and
// each package's entry, chunks and licence are there.
func TestEmbeddedBundlesVerify(t *testing.T) {
	t.Parallel()
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ClerkJSPackage, UIPackage} {
		p, ok := b.Manifest().Package(name)
		if !ok || p.License != "MIT" || !strings.HasPrefix(p.Integrity, "sha512-") {
			t.Fatalf("%s: %+v", name, p)
		}
		for _, f := range []string{p.Entry, "LICENSE"} {
			if _, ok := b.File(name, p.Version, f); !ok {
				t.Errorf("%s: %s not served", name, f)
			}
		}
		if len(p.Files) < 5 {
			t.Errorf("%s: only %d files; its lazily loaded chunks are missing", name, len(p.Files))
		}
	}
}

// testManifest pins one package with two files.
func testManifest(files map[string][]byte) Manifest {
	p := Package{Name: ClerkJSPackage, Version: "6.1.2", Dir: "clerk-js", Entry: "clerk.browser.js", Files: map[string]string{}}
	for f, content := range files {
		p.Files[f] = sum256(content)
	}
	return Manifest{Packages: []Package{p}}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	files := map[string][]byte{"clerk.browser.js": []byte("entry"), "1_clerk.browser_abcdef_6.1.2.js": []byte("chunk")}
	m := testManifest(files)
	good := fstest.MapFS{}
	for f, c := range files {
		good["clerk-js/"+f] = &fstest.MapFile{Data: c}
	}
	if _, err := Verify(good, m); err != nil {
		t.Fatal(err)
	}
	t.Run("ErrMissing", func(t *testing.T) {
		missing := fstest.MapFS{"clerk-js/clerk.browser.js": good["clerk-js/clerk.browser.js"]}
		_, err := Verify(missing, m)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "1_clerk.browser_abcdef_6.1.2.js (missing)") ||
			!strings.Contains(err.Error(), RestoreCommand) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("ErrCorrupt", func(t *testing.T) {
		edited := fstest.MapFS{"clerk-js/clerk.browser.js": &fstest.MapFile{Data: []byte("edited")},
			"clerk-js/1_clerk.browser_abcdef_6.1.2.js": good["clerk-js/1_clerk.browser_abcdef_6.1.2.js"]}
		_, err := Verify(edited, m)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "clerk.browser.js (its SHA-256 differs") {
			t.Fatalf("error = %v", err)
		}
	})
}

func TestParseManifest(t *testing.T) {
	t.Parallel()
	valid := `{"packages":[{"name":"@clerk/clerk-js","version":"6.1.2","dir":"a","entry":"e.js","files":{"e.js":"x"}},` +
		`{"name":"@clerk/ui","version":"1.2.3","dir":"b","entry":"u.js","files":{"u.js":"y"}}]}`
	if _, err := ParseManifest([]byte(valid)); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]string{
		"ErrNotJSON":      `{`,
		"ErrNoUI":         `{"packages":[{"name":"@clerk/clerk-js","version":"6.1.2","dir":"a","entry":"e.js","files":{"e.js":"x"}}]}`,
		"ErrMajorOnly":    strings.Replace(valid, `"6.1.2"`, `"6"`, 1),
		"ErrPathInName":   strings.Replace(valid, `"e.js":"x"`, `"e.js":"x","../x":"z"`, 1),
		"ErrEntryNotKept": strings.Replace(valid, `"files":{"e.js":"x"}`, `"files":{"f.js":"x"}`, 1),
	} {
		if _, err := ParseManifest([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	files := map[string][]byte{"clerk.browser.js": []byte("entry"), "LICENSE": []byte("MIT")}
	m := testManifest(files)
	fsys := fstest.MapFS{}
	for f, c := range files {
		fsys["clerk-js/"+f] = &fstest.MapFile{Data: c}
	}
	b, err := Verify(fsys, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path string
		status       int
		body, cache  string
	}{
		{"GET", "/npm/@clerk/clerk-js@6.1.2/dist/clerk.browser.js", 200, "entry", "public, max-age=31536000, immutable"},
		{"GET", "/npm/@clerk/clerk-js@6/dist/clerk.browser.js", 200, "entry", "public, max-age=300"},
		{"GET", "/npm/@clerk/clerk-js@6.1.2/dist/LICENSE", 200, "MIT", "public, max-age=31536000, immutable"},
		{"GET", "/npm/@clerk/clerk-js@6.1.3/dist/clerk.browser.js", 404, "", ""},
		{"GET", "/npm/@clerk/clerk-js@6.1.2/dist/other.js", 404, "", ""},
		{"GET", "/npm/@clerk/clerk-js@6.1.2/dist/../dist/clerk.browser.js", 404, "", ""},
		{"GET", "/npm/clerk-js@6.1.2/dist/clerk.browser.js", 404, "", ""},
		{"POST", "/npm/@clerk/clerk-js@6.1.2/dist/clerk.browser.js", 405, "", ""},
	} {
		rec := httptest.NewRecorder()
		b.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, rec.Code, tc.status)
			continue
		}
		if tc.status == 200 && (rec.Body.String() != tc.body || rec.Header().Get("Cache-Control") != tc.cache) {
			t.Errorf("%s %s: %q, %q", tc.method, tc.path, rec.Body.String(), rec.Header().Get("Cache-Control"))
		}
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/npm/@clerk/clerk-js@6.1.2/dist/clerk.browser.js", nil)
	req.Header.Set("If-None-Match", `"`+sum256([]byte("entry"))+`"`)
	b.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("revalidation: %d", rec.Code)
	}
}

// tarball builds an npm-style .tgz (files under package/).
func tarball(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: "package/" + name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func integrityOf(b []byte) string {
	sum := sha512.Sum512(b)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

// registry is a fake npm registry serving one version of one package.
func registry(t *testing.T, tgz []byte, integrity string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.EscapedPath() {
		case "/@clerk%2Fclerk-js/6.1.2":
			_ = json.NewEncoder(w).Encode(map[string]any{"license": "MIT",
				"dist": map[string]string{"tarball": srv.URL + "/clerk-js-6.1.2.tgz", "integrity": integrity}})
		case "/clerk-js-6.1.2.tgz":
			_, _ = w.Write(tgz)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetch(t *testing.T) {
	t.Parallel()
	tgz := tarball(t, map[string]string{
		"LICENSE":               "MIT License",
		"package.json":          "{}",
		"dist/clerk.browser.js": `s.h=()=>"abcdef0123456789"`,
		"dist/vendors_clerk.browser_abcdef_6.1.2.js": "chunk",
		"dist/10_clerk.browser_abcdef_6.1.2.js":      "chunk 10",
		"dist/vendors_clerk.native_999999_6.1.2.js":  "another build",
		"dist/clerk.js": "another entry",
	})
	ctx := context.Background()
	srv := registry(t, tgz, integrityOf(tgz))
	f, err := Fetch(ctx, srv.Client(), srv.URL, ClerkJSPackage, "6.1.2", "clerk-js", "clerk.browser.js", "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for name := range f.Files {
		got = append(got, name)
	}
	want := []string{"10_clerk.browser_abcdef_6.1.2.js", "LICENSE", "clerk.browser.js", "vendors_clerk.browser_abcdef_6.1.2.js"}
	slices.Sort(got)
	if strings.Join(got, ",") != strings.Join(want, ",") || f.Package.Integrity != integrityOf(tgz) ||
		f.Package.Files["LICENSE"] != sum256([]byte("MIT License")) || f.Package.License != "MIT" {
		t.Fatalf("fetched %v, %+v", got, f.Package)
	}

	t.Run("ErrIntegrity", func(t *testing.T) {
		other := registry(t, tgz, integrityOf([]byte("something else")))
		if _, err := Fetch(ctx, other.Client(), other.URL, ClerkJSPackage, "6.1.2", "clerk-js", "clerk.browser.js", ""); err == nil ||
			!strings.Contains(err.Error(), "sha512") {
			t.Fatalf("a tarball that does not match its integrity was accepted: %v", err)
		}
	})
	t.Run("ErrPinnedIntegrity", func(t *testing.T) {
		if _, err := Fetch(ctx, srv.Client(), srv.URL, ClerkJSPackage, "6.1.2", "clerk-js", "clerk.browser.js", integrityOf([]byte("pinned"))); err == nil ||
			!strings.Contains(err.Error(), "pins") {
			t.Fatalf("a republished version was accepted: %v", err)
		}
	})
	t.Run("ErrUnknownVersion", func(t *testing.T) {
		if _, err := Fetch(ctx, srv.Client(), srv.URL, ClerkJSPackage, "6.1.3", "clerk-js", "clerk.browser.js", ""); err == nil {
			t.Fatal("an unknown version was fetched")
		}
	})
}
