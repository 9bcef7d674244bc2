//go:build unix

package config

import (
	"io/fs"
	"os"
	"syscall"
)

// ownedByCurrentUser reports whether the file belongs to the user running
// the process.
func ownedByCurrentUser(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || int(st.Uid) == os.Getuid()
}
