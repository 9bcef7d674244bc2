package identityfile_test

import (
	"os"
	"testing"

	"github.com/saasstarter/saas/internal/testdb"
)

// TestMain drops the tests' databases once they are all done.
func TestMain(m *testing.M) {
	os.Exit(testdb.Main(m))
}
