package web

import (
	"net/http"

	"aimg/internal/account"
	"aimg/internal/aimg"
)

// Sign up and sign in (docs/decisions.md "Web UI: signing in"): by email
// one-time password (the code, or the email's magic link), or by password.
// Every form goes to the account service as createUser, requestOTP and
// authenticateUser do; a sign-in rotates the session into the cookie.

// authForm is what the sign-in and sign-up pages show.
type authForm struct {
	Email    string
	Username string
	CodeSent string // requestOTP's answer: the code step is shown
	Magic    bool   // arrived by the magic link: email and code are filled in
	OTP      string
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	s.render(w, r, http.StatusOK, "signin", s.newView(r, c, "Sign in", &authForm{}))
}

func (s *Server) signUpPage(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	s.render(w, r, http.StatusOK, "signup", s.newView(r, c, "Sign up", &authForm{}))
}

// signInOTP and signUpOTP email a code, then show the code step.
func (s *Server) signInOTP(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	s.requestOTP(w, r, c, "signin", "Sign in", false)
}

func (s *Server) signUpOTP(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	s.requestOTP(w, r, c, "signup", "Sign up", true)
}

func (s *Server) requestOTP(w http.ResponseWriter, r *http.Request, c aimg.Caller, page, title string, signUp bool) {
	f := &authForm{Email: r.PostFormValue("email")}
	msg, err := s.Accounts.RequestOTP(r.Context(), c, f.Email, signUp)
	if err != nil {
		s.render(w, r, statusOf(err), page, s.newView(r, c, title, f).withError(err))
		return
	}
	f.CodeSent = msg
	s.render(w, r, http.StatusOK, page, s.newView(r, c, title, f))
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	f := &authForm{Email: r.PostFormValue("email"), OTP: r.PostFormValue("otp")}
	self, err := s.Accounts.Authenticate(r.Context(), c, account.Credentials{
		Email: f.Email, Password: r.PostFormValue("password"), OTP: f.OTP,
		IsAtLeast18Confirmed: r.PostFormValue("isAtLeast18Confirmed") == "on",
	})
	if err != nil {
		if f.OTP != "" {
			f.CodeSent = "Enter the code from the email again, or ask for a new one."
		}
		s.render(w, r, statusOf(err), "signin", s.newView(r, c, "Sign in", f).withError(err))
		return
	}
	s.setSession(w, r, self.Session.ID)
	seeOther(w, r, "/create")
}

func (s *Server) signUp(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	f := &authForm{Email: r.PostFormValue("email"), Username: r.PostFormValue("username"), OTP: r.PostFormValue("otp")}
	self, err := s.Accounts.CreateUser(r.Context(), c, account.NewUser{
		Email: f.Email, Username: f.Username, Password: r.PostFormValue("password"), OTP: f.OTP,
		IsAtLeast18Confirmed: r.PostFormValue("isAtLeast18Confirmed") == "on",
	})
	if err != nil {
		if f.OTP != "" {
			f.CodeSent = "Check the fields below; the code stays valid until it is used."
		}
		s.render(w, r, statusOf(err), "signup", s.newView(r, c, "Sign up", f).withError(err))
		return
	}
	s.setSession(w, r, self.Session.ID)
	seeOther(w, r, "/create")
}

// magicLink is the landing page of the OTP email's link
// (PublicURL/login?b=<base64url {"email","otp"}>). It signs in only when
// the person presses the button: a GET changes nothing, so link scanners
// in mail systems do not use the code up, and the sign-in form carries the
// CSRF token like every other.
func (s *Server) magicLink(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	email, otp, err := account.ParseMagicLink(r.URL.Query().Get("b"))
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, http.StatusOK, "signin", s.newView(r, c, "Sign in", &authForm{Email: email, OTP: otp, Magic: true}))
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	if c.Session != nil {
		if _, err := s.Accounts.SignOut(r.Context(), c.Session.ID); err != nil {
			s.fail(w, r, c, err)
			return
		}
	}
	s.clearSession(w, r)
	seeOther(w, r, "/signin")
}
