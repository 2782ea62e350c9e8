package httpapi

import (
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/server"
)

// checkSessionHeader answers 400 for an X-Session-ID that is not a UUID, on
// every AIMG endpoint (DECISIONS.md "Sessions").
func checkSessionHeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get("X-Session-ID"); id != "" && strings.HasPrefix(r.URL.Path, "/api/") {
			if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
				writeError(w, r, http.StatusBadRequest, "X-Session-ID: must be a UUID")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// requireAdminFirst answers 401/403 before huma reads an admin operation's
// body, so that a stranger cannot make the server read (or store) one.
func (s *Server) requireAdminFirst(ctx huma.Context, next func(huma.Context)) {
	a := Auth{SessionID: ctx.Header("X-Session-ID"), AdminKey: ctx.Header("X-Administration-Key")}
	ok, err := s.Accounts.CheckAdminKey(ctx.Context(), a.AdminKey, server.Info(ctx.Context()).ClientIP)
	if err == nil && ok {
		next(ctx)
		return
	}
	if err == nil {
		a.AdminKey = "" // counted once, here: admin answers as for no key
		if _, err = s.admin(ctx.Context(), a); err == nil {
			err = aimg.ErrAdminRequired // admin never accepts a caller without the key
		}
	}
	_ = huma.WriteErr(s.api, ctx, statusOf(aimg.ErrorCode(err)), err.Error(), err)
}
