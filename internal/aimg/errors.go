// Package aimg holds the domain types and the one application error type
// shared by every AIMG package. It imports neither net/http nor SQL.
package aimg

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an Error; the HTTP layer maps each Code to a status in one place.
type Code string

const (
	CodeInvalid      Code = "invalid"      // 400
	CodeUnauthorized Code = "unauthorized" // 401
	CodeForbidden    Code = "forbidden"    // 403
	CodeNotFound     Code = "not_found"    // 404
	CodeConflict     Code = "conflict"     // 409
	CodeGone         Code = "gone"         // 410
	CodeTooLarge     Code = "too_large"    // 413
	CodeRateLimited  Code = "rate_limited" // 429
	CodeUnavailable  Code = "unavailable"  // 503
	CodeInternal     Code = "internal"     // 500
)

// Error is the application error. Message is safe to show to clients; Err,
// when set, is the underlying cause and is only logged.
type Error struct {
	Code    Code
	Message string
	Field   string // the request field at fault, when there is one
	Err     error
	// RetryAfter, on a rate-limited error, is how long the client should wait.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error with a client-visible message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid reports a bad request field; the message names the field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected failure; clients see only "Internal error".
func Internal(err error) *Error {
	return &Error{Code: CodeInternal, Message: "Internal error", Err: err}
}

// Predefined errors that several packages return.
var (
	ErrNotFound        = Errorf(CodeNotFound, "Not found")
	ErrUnauthenticated = Errorf(CodeUnauthorized, "You are not signed in")
	ErrAdminRequired   = Errorf(CodeForbidden, "A valid X-Administration-Key is required")
)

// ErrorCode returns the Code of err, CodeInternal for errors that are not *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// IsNotFound tells whether err is (or wraps) a not-found Error.
func IsNotFound(err error) bool { return ErrorCode(err) == CodeNotFound }
