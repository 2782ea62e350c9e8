package web

import (
	"fmt"
	"io"
	"mime"
	"net/http"

	"aimg/internal/aimg"
	"aimg/internal/media"
)

// The profile picture arrives as a multipart upload. Its route gets the
// body budget of the API's setSelfUserProfilePicture (imageBody:
// http.maxImageBodyBytes) instead of maxFormBytes; the file then goes to
// the account service as the API's data URI does, so the service's size,
// pixel and decode budgets apply unchanged.

// picturePath is the upload's route.
const picturePath = "/account/picture"

func (s *Server) pictureRoutes(page route) {
	s.bodyBudgets[picturePath] = s.Config.Service.HTTP.MaxImageBodyBytes
	page("POST "+picturePath, s.setPicture)
	page("POST /account/picture/remove", s.removePicture)
}

// bodyBudget is the body bound of the route at path.
func (s *Server) bodyBudget(path string) int64 {
	if n, ok := s.bodyBudgets[path]; ok {
		return n
	}
	return maxFormBytes
}

// limitBodies bounds each body by its route's budget, before the CSRF
// check reads the form. It is the surface's only body limit (Surface sets
// none), so that an upload over its budget is told which budget it is.
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
	n := s.bodyBudget(r.URL.Path)
	if r.URL.Path == picturePath {
		return fmt.Sprintf("The picture is larger than the upload budget of %s; choose a smaller file.", byteSize(n))
	}
	return fmt.Sprintf("The form is larger than %s.", byteSize(n))
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

// pictureField is the form field, named as the service's errors name it.
const pictureField = "profilePicture"

func (s *Server) setPicture(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	f, _, err := r.FormFile(pictureField)
	if err != nil {
		s.accountPage(w, r, c, aimg.Invalid(pictureField, "choose an image file (PNG, JPEG, GIF or WebP)"), nil)
		return
	}
	defer f.Close()
	data, err := io.ReadAll(f) // in memory already, within the budget
	if err != nil {
		s.fail(w, r, c, aimg.Internal(err))
		return
	}
	if len(data) == 0 {
		s.accountPage(w, r, c, aimg.Invalid(pictureField, "the file is empty"), nil)
		return
	}
	// The decoder tells the format from the bytes; the type is a label.
	if _, err := s.Accounts.SetProfilePicture(r.Context(), c, media.DataURI(http.DetectContentType(data), data)); err != nil {
		s.accountPage(w, r, c, err, nil)
		return
	}
	s.setFlash(w, r, c, "Profile picture saved.")
	seeOther(w, r, "/account")
}

func (s *Server) removePicture(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	if _, err := s.Accounts.SetProfilePicture(r.Context(), c, ""); err != nil {
		s.accountPage(w, r, c, err, nil)
		return
	}
	s.setFlash(w, r, c, "Profile picture removed.")
	seeOther(w, r, "/account")
}
