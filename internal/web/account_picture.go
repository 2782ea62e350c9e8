package web

import (
	"io"
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
	s.bodyBudgets[picturePath] = bodyBudget{s.Config.Service.HTTP.MaxImageBodyBytes, "The picture"}
	page("POST "+picturePath, s.setPicture)
	page("POST /account/picture/remove", s.removePicture)
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
