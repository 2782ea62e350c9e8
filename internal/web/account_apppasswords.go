package web

import (
	"net/http"

	"aimg/internal/aimg"
)

// /account/app-passwords: the caller's app passwords for Nextcloud clients
// (createAppPassword, getAppPasswords, revokeAppPassword). A new one is
// shown once, on the answer to the form that made it: the one answer that
// is not a redirect, so that the secret is in no URL and no cookie.

const appPasswordsPath = "/account/app-passwords"

func (s *Server) appPasswordPages(page route) {
	page("GET "+appPasswordsPath, s.appPasswordsPage)
	page("POST "+appPasswordsPath, s.createAppPassword)
	page("POST "+appPasswordsPath+"/{id}/revoke", s.revokeAppPassword)
}

// appPasswordsView is what apppasswords.html shows.
type appPasswordsView struct {
	List    []appPasswordRow
	Created *appPasswordRow // just made: its secret is shown this once
	Secret  string
	Login   string // what the client signs in with beside the app password
	Name    string // the name typed, kept after an error
	Flash   string
}

type appPasswordRow struct{ ID, Name, Created, LastUsed string }

func (s *Server) appPasswordsPage(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	if !signedInOr(w, r, c) {
		return
	}
	s.appPasswords(w, r, c, http.StatusOK, &appPasswordsView{Flash: s.takeFlash(w, r, c)}, nil)
}

// appPasswords renders the page with d, and err at its field.
func (s *Server) appPasswords(w http.ResponseWriter, r *http.Request, c aimg.Caller, status int, d *appPasswordsView, err error) {
	list, lerr := s.Accounts.AppPasswords(r.Context(), c)
	if lerr != nil {
		s.fail(w, r, c, lerr)
		return
	}
	for _, p := range list {
		d.List = append(d.List, appPasswordRow{ID: p.ID, Name: p.Name, Created: day(&p.CreatedAt), LastUsed: day(p.LastUsedAt)})
	}
	d.Login = c.User.Email
	if c.User.Username != "" {
		d.Login = c.User.Username
	}
	v := s.newView(r, c, "App passwords", d)
	if err != nil {
		status = statusOf(err)
		v.withError(err)
	}
	s.render(w, r, status, "apppasswords", v)
}

func (s *Server) createAppPassword(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	name := r.PostFormValue("name")
	p, secret, err := s.Accounts.CreateAppPassword(r.Context(), c, name)
	if aimg.ErrorCode(err) == aimg.CodeUnauthorized {
		s.fail(w, r, c, err)
		return
	}
	if err != nil {
		s.appPasswords(w, r, c, 0, &appPasswordsView{Name: name}, err)
		return
	}
	created := &appPasswordRow{ID: p.ID, Name: p.Name, Created: day(&p.CreatedAt)}
	s.appPasswords(w, r, c, http.StatusCreated, &appPasswordsView{Created: created, Secret: secret}, nil)
}

func (s *Server) revokeAppPassword(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	if err := s.Accounts.RevokeAppPassword(r.Context(), c, r.PathValue("id")); err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.setFlash(w, r, c, "App password revoked.")
	seeOther(w, r, appPasswordsPath)
}
