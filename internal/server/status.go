package server

import (
	"net/http"

	"aimg/internal/aimg"
)

// Status is the HTTP status of an application error code, the same on
// every surface.
func Status(code aimg.Code) int {
	switch code {
	case aimg.CodeInvalid:
		return http.StatusBadRequest
	case aimg.CodeUnauthorized:
		return http.StatusUnauthorized
	case aimg.CodeForbidden:
		return http.StatusForbidden
	case aimg.CodeNotFound:
		return http.StatusNotFound
	case aimg.CodeConflict:
		return http.StatusConflict
	case aimg.CodeGone:
		return http.StatusGone
	case aimg.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case aimg.CodeRateLimited:
		return http.StatusTooManyRequests
	case aimg.CodeUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}
