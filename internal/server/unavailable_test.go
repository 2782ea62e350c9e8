package server

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"aimg/internal/aimg"
)

func TestAppErrorTellsConnectionFailuresFromBugs(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	cases := []struct {
		name string
		err  error
		want aimg.Code // "" = internal (nil)
	}{
		{"an application error keeps its code", aimg.Invalid("prompt", "too long"), aimg.CodeInvalid},
		{"a bug", errors.New("nil map"), ""},
		{"a SQL syntax error", &pgconn.PgError{Code: "42601"}, ""},
		{"a unique violation", fmt.Errorf("insert: %w", &pgconn.PgError{Code: "23505"}), ""},
		{"no rows", sql.ErrNoRows, ""},
		{"a cancelled request", context.Canceled, ""},
		{"a request deadline", context.DeadlineExceeded, ""},
		{"a connect its client gave up", &pgconn.ConnectError{}, aimg.CodeUnavailable},
		{"a refused connection", refused, aimg.CodeUnavailable},
		{"a refused connection wrapped as internal", aimg.Internal(fmt.Errorf("user: %w", refused)), aimg.CodeUnavailable},
		{"a connection cut mid-answer", io.ErrUnexpectedEOF, aimg.CodeUnavailable},
		{"a bad pooled connection", fmt.Errorf("query: %w", driver.ErrBadConn), aimg.CodeUnavailable},
		{"a closed connection", sql.ErrConnDone, aimg.CodeUnavailable},
		{"a server shutting down", &pgconn.PgError{Code: "57P01"}, aimg.CodeUnavailable},
		{"a server starting", &pgconn.PgError{Code: "57P03"}, aimg.CodeUnavailable},
		{"a connection exception", &pgconn.PgError{Code: "08006"}, aimg.CodeUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := AppError(c.err)
			switch {
			case c.want == "" && got != nil:
				t.Fatalf("AppError(%v) = %s, want nil (an internal error)", c.err, got.Code)
			case c.want != "" && (got == nil || got.Code != c.want):
				t.Fatalf("AppError(%v) = %v, want %s", c.err, got, c.want)
			case c.want == aimg.CodeUnavailable && (got.RetryAfter <= 0 || !errors.Is(got, c.err)):
				t.Fatalf("AppError(%v): Retry-After %s, cause kept %v", c.err, got.RetryAfter, errors.Is(got, c.err))
			}
		})
	}
}
