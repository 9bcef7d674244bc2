package clerkemu

import (
	"crypto/sha256"
	"fmt"
	"net/http"
)

// drawAvatar serves a deterministic avatar for a user or organisation id:
// a rounded square in a colour derived from the id. It stands in for the
// images Clerk hosts on its CDN.
func drawAvatar(w http.ResponseWriter, file string) {
	sum := sha256.Sum256([]byte(file))
	hue := int(sum[0])*360/256 + int(sum[1])%8
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="hsl(%d 60%% 52%%)"/><circle cx="32" cy="26" r="11" fill="hsl(%d 70%% 88%%)"/><path d="M12 56c3-11 11-16 20-16s17 5 20 16z" fill="hsl(%d 70%% 88%%)"/></svg>`, hue, hue, hue)
}
