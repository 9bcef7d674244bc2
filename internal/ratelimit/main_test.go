package ratelimit_test

import (
	"os"
	"testing"

	"github.com/saasstarter/saas/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }
