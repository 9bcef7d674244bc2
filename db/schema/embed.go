// Package schema embeds the versioned migrations (goose format). The same
// files are sqlc's schema input, so the generated code always matches them.
package schema

import "embed"

// FS holds every migration file in this directory.
//
//go:embed *.sql
var FS embed.FS
