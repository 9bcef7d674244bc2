package clerksync

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// permanentError is a fault that retrying cannot fix: the event is recorded
// as failed and answered with 2xx.
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

func permanentf(format string, args ...any) error {
	return &permanentError{msg: fmt.Sprintf(format, args...)}
}

// isPermanent reports whether err is a permanent fault: one of ours, or a
// database error that says the data itself is unacceptable (SQLSTATE class
// 22, data exception, and class 23, integrity violation). A unique violation
// (23505) is the exception: it comes from two deliveries racing for the same
// row, and the retry succeeds.
func isPermanent(err error) bool {
	var pe *permanentError
	if errors.As(err, &pe) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && len(pgErr.Code) == 5 {
		class := pgErr.Code[:2]
		return class == "22" || (class == "23" && pgErr.Code != "23505")
	}
	return false
}
