package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"aimg/internal/aimg"
	"aimg/internal/server"
)

// Envelope is the body of every AIMG JSON response (DECISIONS.md "Mounting and envelope").
type Envelope[T any] struct {
	HasError     bool    `json:"hasError"`
	ErrorMessage *string `json:"errorMessage,omitempty"`
	ErrorCode    *int    `json:"errorCode,omitempty"`
	Payload      T       `json:"payload"`
}

// PagedEnvelope is the envelope of paginated endpoints.
type PagedEnvelope[T any] struct {
	Envelope[T]
	Metadata Pagination `json:"metadata"`
}

// Pagination is the spec's PaginationMetadata.
type Pagination struct {
	PaginationIndex     string  `json:"paginationIndex"`
	NextPaginationIndex *string `json:"nextPaginationIndex"`
	ReversePagination   bool    `json:"reversePagination"`
	SkipCount           int     `json:"skipCount"`
	Limit               int     `json:"limit"`
	Count               int     `json:"count"`
	TotalCount          *int64  `json:"totalCount,omitempty"`
	ProLimitHit         *bool   `json:"proLimitHit,omitempty"`
}

// Response is a huma output with an envelope body.
type Response[T any] struct {
	Body Envelope[T]
}

// PagedResponse is a huma output with a paginated envelope body.
type PagedResponse[T any] struct {
	Body PagedEnvelope[T]
}

func reply[T any](payload T) (*Response[T], error) {
	return &Response[T]{Body: Envelope[T]{Payload: payload}}, nil
}

// Success is the payload of endpoints that answer {success, message}.
type Success struct {
	Success bool   `json:"success"`
	Message string `json:"message,omitempty"`
}

// errorBody is what an error response carries; it implements huma.StatusError
// so huma writes it as is.
type errorBody struct {
	status       int
	HasError     bool   `json:"hasError"`
	ErrorMessage string `json:"errorMessage"`
	ErrorCode    int    `json:"errorCode"`
	Payload      any    `json:"payload"`
}

func (e *errorBody) Error() string  { return e.ErrorMessage }
func (e *errorBody) GetStatus() int { return e.status }

// maxErrorMessageBytes caps every errorMessage: messages may quote what the
// client sent, and an echo must not grow with it.
const maxErrorMessageBytes = 1024

func newErrorBody(status int, msg string) *errorBody {
	if len(msg) > maxErrorMessageBytes {
		cut := maxErrorMessageBytes
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return &errorBody{status: status, HasError: true, ErrorMessage: msg, ErrorCode: status}
}

// statusOf maps an application error Code to its HTTP status: the one place
// where domain errors meet HTTP.
func statusOf(code aimg.Code) int { return server.Status(code) }

// toErrorBody turns anything a handler or huma reports into the envelope
// (huma calls it through server.UseHumaErrors; hctx is nil for huma's
// schema example). Internal errors are logged with the request id and
// hidden from the client; an error caused by the client going away is not a
// server error and is recorded as 499.
func toErrorBody(hctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
	ctx := context.Background()
	if hctx != nil {
		ctx = hctx.Context()
	}
	for _, err := range errs {
		if ae := server.AppError(err); ae != nil && ae.RetryAfter > 0 && hctx != nil {
			hctx.SetHeader("Retry-After", strconv.Itoa(int(math.Ceil(ae.RetryAfter.Seconds()))))
		}
	}
	if status == http.StatusUnsupportedMediaType {
		ct := ""
		if hctx != nil {
			ct = hctx.Header("Content-Type")
		}
		return newErrorBody(status, fmt.Sprintf("Content-Type: %q is not supported; send application/json", ct))
	}
	return errorBodyFor(ctx, status, msg, errs...)
}

func errorBodyFor(ctx context.Context, status int, msg string, errs ...error) *errorBody {
	for _, err := range errs {
		if ae := server.AppError(err); ae != nil {
			if st := statusOf(ae.Code); st != http.StatusInternalServerError {
				return newErrorBody(st, ae.Message)
			}
		}
		var ae *aimg.Error
		if errors.As(err, &ae) {
			return internalError(ctx, err)
		}
		var eb *errorBody
		if errors.As(err, &eb) {
			return eb
		}
	}
	switch {
	case status == http.StatusUnprocessableEntity || status == http.StatusBadRequest:
		return newErrorBody(http.StatusBadRequest, validationMessage(msg, errs))
	case status >= 500:
		return internalError(ctx, errors.Join(append([]error{errors.New(msg)}, errs...)...))
	default:
		return newErrorBody(status, capitalize(msg))
	}
}

// internalError logs err and answers "Internal error", unless the request
// failed because its client went away: that is no server fault.
func internalError(ctx context.Context, err error) *errorBody {
	if server.ClientGone(ctx) && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return newErrorBody(server.StatusClientClosedRequest, "Client closed request")
	}
	if log := server.Info(ctx).Log; log != nil {
		log.ErrorContext(ctx, "internal error", "request_id", server.Info(ctx).ID, "err", err)
	}
	return newErrorBody(http.StatusInternalServerError, "Internal error")
}

// validationMessage names each field at fault, e.g. "email: expected string".
func validationMessage(msg string, errs []error) string {
	var parts []string
	for _, err := range errs {
		var d *huma.ErrorDetail
		if errors.As(err, &d) {
			field := d.Location
			for _, p := range []string{"body.", "query.", "header.", "path."} {
				field = strings.TrimPrefix(field, p)
			}
			switch {
			case field == "body" && strings.Contains(d.Message, "unmarshal"):
				parts = append(parts, "body: malformed JSON: "+d.Message)
			case field != "":
				parts = append(parts, field+": "+d.Message)
			default:
				parts = append(parts, d.Message)
			}
			continue
		}
		if err != nil {
			parts = append(parts, err.Error())
		}
	}
	if len(parts) == 0 {
		return capitalize(msg)
	}
	return strings.Join(parts, "; ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// writeError writes an envelope outside huma (middleware, fallbacks).
func writeError(w http.ResponseWriter, _ *http.Request, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(newErrorBody(status, msg))
}
