package web

import (
	"html/template"
	"net/http"

	"aimg/internal/account"
	"aimg/internal/aimg"
)

// The account pages (docs/decisions.md "Web UI: account pages"): profile
// picture, username, password, email change and deletion at /account;
// premium plans, gift cards and payments at /account/premium; app
// passwords at /account/app-passwords; external sign-in at
// /signin/{provider}. Every form goes to the service method the API's
// handler calls (httpapi account_self.go, billing_handlers.go,
// payment_handlers.go, app_password_handlers.go, auth_handlers.go).

func (s *Server) accountPages(page route) {
	page("GET /account", s.accountHome)
	page("POST /account/username", s.setUsername)
	page("POST /account/password", s.setPassword)
	page("POST /account/email/code", s.emailCode)
	page("POST /account/email", s.setEmail)
	page("POST /account/delete", s.deleteAccount)
	s.pictureRoutes(page)
	s.premiumPages(page)
	s.appPasswordPages(page)
	s.externalSignIn(page)
}

// accountView is what account.html shows.
type accountView struct {
	Email, Username string
	Picture         template.URL
	HasPassword     bool
	Identities      []string // the providers linked to the account, by name
	Flash           string
	NewEmail        string // the email change's code step: the code went there
	CodeSent        string
	MaxPictureBytes int64
	MaxPictureSize  string
}

// signedInOr sends a visitor who is not signed in to the sign-in page and
// reports false.
func signedInOr(w http.ResponseWriter, r *http.Request, c aimg.Caller) bool {
	if c.SignedIn() {
		return true
	}
	seeOther(w, r, "/signin")
	return false
}

func (s *Server) accountHome(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	if !signedInOr(w, r, c) {
		return
	}
	s.accountPage(w, r, c, nil, nil)
}

// accountPage renders /account, with err at its field (and the status of
// err) when a form failed; step is the email change's code step.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, c aimg.Caller, err error, step *accountView) {
	if !c.SignedIn() {
		s.fail(w, r, c, aimg.ErrUnauthenticated)
		return
	}
	u := c.User
	d := &accountView{Email: u.Email, Username: u.Username, Picture: pictureURL(u.ProfilePicture), HasPassword: u.PasswordHash != "",
		MaxPictureBytes: s.bodyBudget(picturePath), MaxPictureSize: byteSize(s.bodyBudget(picturePath))}
	if step != nil {
		d.NewEmail, d.CodeSent = step.NewEmail, step.CodeSent
	}
	ids, ierr := s.Accounts.Identities(r.Context(), u.ID)
	if ierr != nil {
		s.fail(w, r, c, ierr)
		return
	}
	for _, id := range ids {
		d.Identities = append(d.Identities, account.ProviderNames[id.Provider])
	}
	if err == nil {
		d.Flash = s.takeFlash(w, r, c)
	}
	v := s.newView(r, c, "Account", d)
	v.Scripts = []string{"account.js"}
	s.renderAfter(w, r, "account", v, err)
}

// saved ends a successful account form: the flash, then /account.
func (s *Server) saved(w http.ResponseWriter, r *http.Request, c aimg.Caller, msg string) {
	s.setFlash(w, r, c, msg)
	seeOther(w, r, "/account")
}

func (s *Server) setUsername(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	name := r.PostFormValue("username")
	self, err := s.Accounts.SetSelfProperties(r.Context(), c, account.Properties{Username: &name})
	if err != nil {
		s.accountPage(w, r, c, err, nil)
		return
	}
	s.saved(w, r, c, "Username saved: "+self.User.Username)
}

func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("password2") {
		s.accountPage(w, r, c, aimg.Invalid("password2", "the two passwords differ"), nil)
		return
	}
	if _, err := s.Accounts.SetSelfProperties(r.Context(), c, account.Properties{Password: &pw}); err != nil {
		s.accountPage(w, r, c, err, nil)
		return
	}
	s.saved(w, r, c, "Password changed. Your other sessions and your app passwords were ended.")
}

// emailCode is the email change's first step: a code to the new email
// (requestOTP with signUp=true, as the API's setSelfUserProperties asks).
func (s *Server) emailCode(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	if !c.SignedIn() {
		s.fail(w, r, c, aimg.ErrUnauthenticated)
		return
	}
	email := r.PostFormValue("email")
	msg, err := s.Accounts.RequestOTP(r.Context(), c, email, true)
	if err != nil {
		s.accountPage(w, r, c, err, nil)
		return
	}
	s.accountPage(w, r, c, nil, &accountView{NewEmail: email, CodeSent: msg})
}

func (s *Server) setEmail(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	email, otp := r.PostFormValue("email"), r.PostFormValue("otp")
	self, err := s.Accounts.SetSelfProperties(r.Context(), c, account.Properties{Email: &email, OTP: &otp})
	if err != nil {
		step := &accountView{NewEmail: email, CodeSent: "Enter the code from the email again, or ask for a new one."}
		s.accountPage(w, r, c, err, step)
		return
	}
	s.saved(w, r, c, "Email changed to "+self.User.Email+".")
}

// deleteConfirmation is what the person types to confirm the deletion.
const deleteConfirmation = "DELETE"

func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	if !c.SignedIn() {
		s.fail(w, r, c, aimg.ErrUnauthenticated)
		return
	}
	if r.PostFormValue("confirm") != deleteConfirmation {
		s.accountPage(w, r, c, aimg.Invalid("confirm", "type %s to confirm that the account is to be deleted", deleteConfirmation), nil)
		return
	}
	if _, err := s.Accounts.DeleteUser(r.Context(), c, "", r.PostFormValue("deleteItems") == "on"); err != nil {
		s.accountPage(w, r, c, err, nil)
		return
	}
	s.clearSession(w, r)
	seeOther(w, r, "/signup")
}
