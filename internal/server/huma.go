package server

import (
	"sync"

	"github.com/danielgtaylor/huma/v2"
)

// HumaErrorFunc builds a surface's error from what huma reports; hctx is nil
// when huma asks for an example (to describe the error schema).
type HumaErrorFunc func(hctx huma.Context, status int, msg string, errs ...error) huma.StatusError

type humaErrorsKey struct{}

var (
	installHumaHook sync.Once
	// exampleErrors answers huma's request for an example error (status 0,
	// to describe the error schema): the first surface that registered.
	exampleErrors HumaErrorFunc
)

// UseHumaErrors makes huma build api's errors with f, and only api's (call it
// before registering api's operations: huma binds middleware then): huma
// takes its error constructors from package variables, so they are replaced
// once by a dispatcher that asks the request's surface, found in the
// context, and falls back to huma's own for any other API. A limit: huma
// describes the error schema of every API with one example, the first
// surface's.
func UseHumaErrors(api huma.API, f HumaErrorFunc) {
	installHumaHook.Do(func() {
		exampleErrors = f
		fallback, fallbackCtx := huma.NewError, huma.NewErrorWithContext
		huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
			if status == 0 {
				return exampleErrors(nil, status, msg, errs...)
			}
			return fallback(status, msg, errs...)
		}
		huma.NewErrorWithContext = func(hctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
			if f, ok := hctx.Context().Value(humaErrorsKey{}).(HumaErrorFunc); ok {
				return f(hctx, status, msg, errs...)
			}
			return fallbackCtx(hctx, status, msg, errs...)
		}
	})
	api.UseMiddleware(func(hctx huma.Context, next func(huma.Context)) {
		next(huma.WithValue(hctx, humaErrorsKey{}, f))
	})
}
