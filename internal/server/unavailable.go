package server

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"aimg/internal/aimg"
)

// UnavailableRetryAfter is the Retry-After of an answer given while a
// dependency's connection is down: about how long a PostgreSQL restart or
// a failover takes to be noticed and reconnected.
const UnavailableRetryAfter = 2 * time.Second

// errDependencyDown is what clients are told instead of "Internal error"
// when the cause was a connection, not the request or a bug.
var errDependencyDown = &aimg.Error{Code: aimg.CodeUnavailable, RetryAfter: UnavailableRetryAfter,
	Message: "The service is temporarily unavailable (a database connection failed); try again later"}

// AppError is the application error to answer for err, or nil when err
// is an internal error (a bug: "Internal error", logged). It is err's own
// *aimg.Error, except that an internal error caused by a failed connection
// (the database restarting or unreachable: a refused or cut connection, a
// failed connect or pool acquire, a connect deadline, PostgreSQL's
// connection-exception and shutdown codes) becomes CodeUnavailable with
// Retry-After: 503, which clients and load balancers retry, not 500. The
// one place where every surface (API envelope, worker protocol, OCS)
// tells the two apart.
func AppError(err error) *aimg.Error {
	var ae *aimg.Error
	if errors.As(err, &ae) && ae.Code != aimg.CodeInternal {
		return ae
	}
	if ConnectionFailed(err) {
		e := *errDependencyDown
		e.Err = err
		return &e
	}
	return nil
}

// ConnectionFailed tells whether err was caused by a connection to a
// dependency failing rather than by what was sent over it: SQL errors,
// constraint violations, scan errors and context cancellations are not.
func ConnectionFailed(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) { // the client went away, not the dependency
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// 08: connection exception; 57P01..03: the server is shutting down
		// or starting (a restart); 53300: too many connections.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300"
	}
	var connectErr *pgconn.ConnectError
	var opErr *net.OpError
	return errors.As(err, &connectErr) || errors.As(err, &opErr) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		// A connection the server (or a proxy) closed mid-answer.
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
