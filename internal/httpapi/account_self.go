package httpapi

import (
	"context"

	"aimg/internal/account"
	"aimg/internal/aimg"
)

// The current User: profile, picture, key-value pairs, deletion.

type getSelfUserInput struct {
	Auth
	IsAtLeast18Confirmed optionalBool `query:"isAtLeast18Confirmed"`
	ProfilePicture       bool         `query:"profilePicture"`
	ExtendedPriceInfo    bool         `query:"extendedPriceInfo" doc:"Include each subscription's price."`
}

func (s *Server) getSelfUser(ctx context.Context, c aimg.Caller, in *getSelfUserInput) (*Response[SelfUser], error) {
	self, err := s.Accounts.SelfUser(ctx, c, in.IsAtLeast18Confirmed.ptr())
	if err != nil {
		return nil, err
	}
	return s.selfReplyPrices(ctx, self, in.ProfilePicture, in.ExtendedPriceInfo)
}

type setSelfUserPropertiesInput struct {
	Auth
	Body struct {
		Username             *string `json:"username,omitempty"`
		Password             *string `json:"password,omitempty"`
		Email                *string `json:"email,omitempty"`
		OTP                  *string `json:"otp,omitempty" doc:"Mandatory to change the email: an OTP requested for the new email."`
		IsAtLeast18Confirmed *bool   `json:"isAtLeast18Confirmed,omitempty"`
	}
}

func (s *Server) setSelfUserProperties(ctx context.Context, c aimg.Caller, in *setSelfUserPropertiesInput) (*Response[SelfUser], error) {
	b := in.Body
	self, err := s.Accounts.SetSelfProperties(ctx, c, account.Properties{
		Username: b.Username, Password: b.Password, Email: b.Email, OTP: b.OTP,
		IsAtLeast18Confirmed: b.IsAtLeast18Confirmed,
	})
	if err != nil {
		return nil, err
	}
	return s.selfReply(ctx, self, false)
}

type setProfilePictureInput struct {
	Auth
	Body struct {
		ProfilePicture string `json:"profilePicture" required:"true" doc:"A base64 data URI (PNG, JPEG, GIF, WebP), or \"\" to remove."`
	}
}

type profilePicturePayload struct {
	ProfilePicture string `json:"profilePicture"`
}

func (s *Server) setSelfUserProfilePicture(ctx context.Context, c aimg.Caller, in *setProfilePictureInput) (*Response[profilePicturePayload], error) {
	pic, err := s.Accounts.SetProfilePicture(ctx, c, in.Body.ProfilePicture)
	if err != nil {
		return nil, err
	}
	return reply(profilePicturePayload{ProfilePicture: pic})
}

type kvpKeyInput struct {
	Auth
	Key string `query:"key" required:"true"`
}

type setKVPInput struct {
	Auth
	Body struct {
		Key   string `json:"key" required:"true"`
		Value string `json:"value" required:"true"`
	}
}

type kvpPayload struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (s *Server) getUserKVP(ctx context.Context, c aimg.Caller, in *kvpKeyInput) (*Response[kvpPayload], error) {
	v, err := s.Accounts.UserKVP(ctx, c, in.Key)
	if err != nil {
		return nil, err
	}
	return reply(kvpPayload{Key: in.Key, Value: v})
}

func (s *Server) setUserKVP(ctx context.Context, c aimg.Caller, in *setKVPInput) (*Response[kvpPayload], error) {
	if err := s.Accounts.SetUserKVP(ctx, c, in.Body.Key, in.Body.Value); err != nil {
		return nil, err
	}
	return reply(kvpPayload{Key: in.Body.Key, Value: in.Body.Value})
}

func (s *Server) deleteUserKVP(ctx context.Context, c aimg.Caller, in *kvpKeyInput) (*Response[Success], error) {
	ok, err := s.Accounts.DeleteUserKVP(ctx, c, in.Key)
	if err != nil {
		return nil, err
	}
	return reply(Success{Success: ok})
}

func (s *Server) generateStrongPassword(ctx context.Context, _ aimg.Caller, _ *struct{}) (*Response[string], error) {
	p, err := account.GenerateStrongPassword()
	if err != nil {
		return nil, aimg.Internal(err)
	}
	return reply(p)
}

type deleteUserInput struct {
	Auth
	UserID      string `query:"userID" doc:"Admins only: the User to delete."`
	DeleteItems bool   `query:"deleteItems"`
}

func (s *Server) deleteUser(ctx context.Context, c aimg.Caller, in *deleteUserInput) (*Response[Success], error) {
	ok, err := s.Accounts.DeleteUser(ctx, c, in.UserID, in.DeleteItems)
	if err != nil {
		return nil, err
	}
	if !ok {
		return reply(Success{Success: false, Message: "The User was already deleted"})
	}
	return reply(Success{Success: true})
}
