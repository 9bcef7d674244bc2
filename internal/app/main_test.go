package app_test

import (
	"os"
	"testing"

	"github.com/saasstarter/saas/internal/browsertest"
)

// TestMain closes the browser tests' shared Chromium after the run.
func TestMain(m *testing.M) {
	os.Exit(browsertest.Main(m))
}
