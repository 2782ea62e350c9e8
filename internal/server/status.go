package server

import (
	"net/http"

	"aimg/internal/aimg"
)

// statuses is the one table of application error codes and their HTTP
// statuses, the same on every surface.
var statuses = []struct {
	code   aimg.Code
	status int
}{
	{aimg.CodeInvalid, http.StatusBadRequest},
	{aimg.CodeUnauthorized, http.StatusUnauthorized},
	{aimg.CodeForbidden, http.StatusForbidden},
	{aimg.CodeNotFound, http.StatusNotFound},
	{aimg.CodeConflict, http.StatusConflict},
	{aimg.CodeGone, http.StatusGone},
	{aimg.CodeTooLarge, http.StatusRequestEntityTooLarge},
	{aimg.CodeRateLimited, http.StatusTooManyRequests},
	{aimg.CodeUnavailable, http.StatusServiceUnavailable},
}

// Status is the HTTP status of an application error code (500 for
// internal and unknown codes).
func Status(code aimg.Code) int {
	for _, s := range statuses {
		if s.code == code {
			return s.status
		}
	}
	return http.StatusInternalServerError
}

// Code is the application error code of an HTTP status, for errors that
// the shared middleware reports as a status (CodeInternal for the rest).
func Code(status int) aimg.Code {
	for _, s := range statuses {
		if s.status == status {
			return s.code
		}
	}
	return aimg.CodeInternal
}
