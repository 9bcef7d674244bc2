package browsertest_test

import (
	"os"
	"testing"

	"github.com/saasstarter/saas/internal/browsertest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.Close()
	os.Exit(code)
}
