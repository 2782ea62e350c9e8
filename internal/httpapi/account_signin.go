package httpapi

import (
	"context"

	"aimg/internal/account"
	"aimg/internal/aimg"
	"aimg/internal/server"
)

// Signing up, in and out.

type createUserInput struct {
	Auth
	Body struct {
		Email                string     `json:"email" required:"true" doc:"The email of the User."`
		Username             string     `json:"username,omitempty" doc:"3 to 32 characters of A-Z a-z 0-9 _ . -"`
		Password             string     `json:"password,omitempty"`
		OTP                  string     `json:"otp,omitempty" doc:"The 6-digit one-time password from requestOTP."`
		IsAtLeast18Confirmed bool       `json:"isAtLeast18Confirmed,omitempty"`
		RefList              StringList `json:"refList,omitempty"`
		RS                   string     `json:"rs,omitempty"`
	}
}

func (s *Server) createUser(ctx context.Context, c aimg.Caller, in *createUserInput) (*Response[SelfUser], error) {
	b := in.Body
	self, err := s.Accounts.CreateUser(ctx, c, account.NewUser{
		Email: b.Email, Username: b.Username, Password: b.Password, OTP: b.OTP,
		IsAtLeast18Confirmed: b.IsAtLeast18Confirmed, RefList: b.RefList, RS: b.RS,
	})
	if err != nil {
		return nil, err
	}
	server.Info(ctx).UserID = self.User.ID
	return s.selfReply(ctx, self, false)
}

type authenticateUserInput struct {
	Auth
	Body struct {
		Email                string `json:"email" required:"true"`
		Password             string `json:"password,omitempty"`
		OTP                  string `json:"otp,omitempty"`
		IsAtLeast18Confirmed bool   `json:"isAtLeast18Confirmed,omitempty"`
	}
}

func (s *Server) authenticateUser(ctx context.Context, c aimg.Caller, in *authenticateUserInput) (*Response[SelfUser], error) {
	b := in.Body
	self, err := s.Accounts.Authenticate(ctx, c, account.Credentials{
		Email: b.Email, Password: b.Password, OTP: b.OTP, IsAtLeast18Confirmed: b.IsAtLeast18Confirmed,
	})
	if err != nil {
		return nil, err
	}
	server.Info(ctx).UserID = self.User.ID
	return s.selfReply(ctx, self, false)
}

type signOutInput struct {
	Auth
}

// signOutUser resolves nothing (ownSession): signing out only asks whether a
// stored session has this id (an unknown one is not created).
func (s *Server) signOutUser(ctx context.Context, _ aimg.Caller, in *signOutInput) (*Response[Success], error) {
	if in.SessionID == "" {
		return nil, aimg.ErrUnauthenticated
	}
	ok, err := s.Accounts.SignOut(ctx, in.SessionID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return reply(Success{Success: false, Message: "There was no session to sign out of"})
	}
	return reply(Success{Success: true, Message: "Signed out"})
}

type requestOTPInput struct {
	Auth
	Body struct {
		Email  string `json:"email" required:"true"`
		SignUp bool   `json:"signUp,omitempty" doc:"true on sign-up forms: an already registered email is a 409."`
	}
}

func (s *Server) requestOTP(ctx context.Context, c aimg.Caller, in *requestOTPInput) (*Response[Success], error) {
	msg, err := s.Accounts.RequestOTP(ctx, c, in.Body.Email, in.Body.SignUp)
	if err != nil {
		return nil, err
	}
	return reply(Success{Success: true, Message: msg})
}
