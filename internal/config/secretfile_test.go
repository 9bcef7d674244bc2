package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLocalSessionSecretFileChecks: the development session secret is
// created private, reused while it stays private, and refused with one line
// saying what to do when other users can read it or it is not ours (issue
// 14, item 10).
func TestLocalSessionSecretFileChecks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "session-secret")
	key, err := localSessionSecret(dir)
	if err != nil || len(key) < minSecretLen {
		t.Fatalf("first use: %q %v", key, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("created file: %v %v", fi, err)
	}
	refused := func(t *testing.T, want string) {
		t.Helper()
		_, err := localSessionSecret(dir)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("error %v, want one line containing %q", err, want)
		}
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o602} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		refused(t, "chmod 600 "+path)
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if again, err := localSessionSecret(dir); err != nil || string(again) != string(key) {
		t.Fatalf("private file not reused: %q %v", again, err)
	}
	t.Run("ErrOtherOwner", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "session-secret")
		if os.Getuid() == 0 {
			if err := os.WriteFile(other, []byte(strings.Repeat("k", 64)), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(other, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		} else {
			// Not root: a file of root's stands in for someone else's.
			other = "/etc/passwd"
		}
		if _, err := readPrivateFile(other); err == nil || !strings.Contains(err.Error(), "belongs to another user") {
			t.Fatalf("file of another user: %v", err)
		}
	})
	t.Run("ErrNotARegularFile", func(t *testing.T) {
		d := t.TempDir()
		if err := os.Mkdir(filepath.Join(d, "session-secret"), 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := localSessionSecret(d); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("directory: %v", err)
		}
	})
}
