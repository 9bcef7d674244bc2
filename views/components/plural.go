package components

import "strconv"

// Count writes n with its noun in the right number: "1 member", "2 members".
func Count(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}
