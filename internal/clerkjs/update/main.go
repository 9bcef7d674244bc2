// Command update fetches the ClerkJS and @clerk/ui browser bundles from the
// npm registry into internal/clerkjs/dist and pins them in
// internal/clerkjs/manifest.json. Run it from the repository:
//
//	go run ./internal/clerkjs/update                             # restore the pinned versions
//	go run ./internal/clerkjs/update -clerk-js 6.41.0 -ui 1.37.0 # upgrade (pick a @clerk/ui release of the same day)
//
// Restoring refuses a tarball whose integrity differs from the one pinned;
// upgrading trusts the registry's published sha512 integrity and records
// it. NPM_CONFIG_REGISTRY selects another registry, as for npm.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/saasstarter/saas/internal/clerkjs"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	current, err := clerkjs.Pinned()
	if err != nil {
		return err
	}
	cjs, _ := current.Package(clerkjs.ClerkJSPackage)
	ui, _ := current.Package(clerkjs.UIPackage)
	clerkJSVersion := flag.String("clerk-js", cjs.Version, "exact version of "+clerkjs.ClerkJSPackage)
	uiVersion := flag.String("ui", ui.Version, "exact version of "+clerkjs.UIPackage)
	flag.Parse()

	root, err := packageDir()
	if err != nil {
		return err
	}
	registry := os.Getenv("NPM_CONFIG_REGISTRY")
	if registry == "" {
		registry = clerkjs.DefaultRegistry
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Minute}

	var next clerkjs.Manifest
	for _, want := range []struct {
		pinned  clerkjs.Package
		version string
	}{{cjs, *clerkJSVersion}, {ui, *uiVersion}} {
		integrity := ""
		if want.version == want.pinned.Version {
			integrity = want.pinned.Integrity
		}
		f, err := clerkjs.Fetch(ctx, client, registry, want.pinned.Name, want.version, want.pinned.Dir, want.pinned.Entry, integrity)
		if err != nil {
			return err
		}
		if err := writeDir(filepath.Join(root, "dist", f.Package.Dir), f.Files); err != nil {
			return err
		}
		next.Packages = append(next.Packages, f.Package)
		fmt.Printf("%s@%s: %d files (%s)\n", f.Package.Name, f.Package.Version, len(f.Files), f.Package.Integrity)
	}
	b, err := json.MarshalIndent(next, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, clerkjs.ManifestFile), append(b, '\n'), 0o644)
}

// writeDir replaces dir's files with files.
func writeDir(dir string, files map[string][]byte) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// packageDir is internal/clerkjs of the repository the command runs in.
func packageDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "internal", "clerkjs"), nil
		}
	}
	return "", errors.New("update: run it inside the repository (no go.mod found)")
}
