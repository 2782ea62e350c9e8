package web

import (
	"fmt"
	"mime"
	"net/http"
)

// Request bodies: every form is bounded at maxFormBytes, except the upload
// routes (the profile picture, the Create page's source image), which have
// the API's image budget. The bound is applied before the CSRF check reads
// the form, so that an upload over its budget is told which budget it is.

// bodyBudget is an upload route's body bound, and what its 413 calls the body.
type bodyBudget struct {
	bytes int64
	what  string // "The picture"
}

// budgetOf is the body budget of the route at path.
func (s *Server) budgetOf(path string) bodyBudget {
	if b, ok := s.bodyBudgets[path]; ok {
		return b
	}
	return bodyBudget{maxFormBytes, "The form"}
}

// bodyBudget is the body bound of the route at path.
func (s *Server) bodyBudget(path string) int64 { return s.budgetOf(path).bytes }

// limitBodies bounds each body by its route's budget. It is the surface's
// only body limit (Surface sets none).
func (s *Server) limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.bodyBudget(r.URL.Path)
		if r.ContentLength > n {
			writePlainError(w, r, http.StatusRequestEntityTooLarge, s.tooLarge(r))
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, n)
		}
		next.ServeHTTP(w, r)
	})
}

// tooLarge says which budget r's body is over.
func (s *Server) tooLarge(r *http.Request) string {
	b := s.budgetOf(r.URL.Path)
	if _, upload := s.bodyBudgets[r.URL.Path]; upload {
		return fmt.Sprintf("%s is larger than the upload budget of %s; choose a smaller file.", b.what, byteSize(b.bytes))
	}
	return fmt.Sprintf("%s is larger than %s.", b.what, byteSize(b.bytes))
}

// parseForm reads a urlencoded or multipart form (within the route's
// budget, in memory: the budget bounds it).
func (s *Server) parseForm(r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		return r.ParseMultipartForm(s.bodyBudget(r.URL.Path))
	}
	return r.ParseForm()
}

// byteSize is n in the largest binary unit that divides it.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
