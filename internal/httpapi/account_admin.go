package httpapi

import (
	"context"

	"aimg/internal/account"
	"aimg/internal/aimg"
)

// What Admins do to Users, and getUser (public, extended for Admins).

type setProfilePictureBannedInput struct {
	Auth
	Body struct {
		UserID               string `json:"userID,omitempty"`
		Email                string `json:"email,omitempty"`
		ProfilePictureBanned *bool  `json:"profilePictureBanned,omitempty"`
	}
}

type profilePictureBannedPayload struct {
	ProfilePictureBanned bool `json:"profilePictureBanned"`
}

func (s *Server) setProfilePictureBanned(ctx context.Context, c aimg.Caller, in *setProfilePictureBannedInput) (*Response[[]profilePictureBannedPayload], error) {
	b := in.Body
	banned, err := s.Accounts.SetProfilePictureBanned(ctx, c, account.Target{UserID: b.UserID, Email: b.Email}, b.ProfilePictureBanned)
	if err != nil {
		return nil, err
	}
	return reply([]profilePictureBannedPayload{{ProfilePictureBanned: banned}})
}

type setAdditionalInformationInput struct {
	Auth
	Body struct {
		UserID                string `json:"userID,omitempty"`
		Email                 string `json:"email,omitempty"`
		AdditionalInformation string `json:"additionalInformation,omitempty"`
	}
}

type additionalInformationPayload struct {
	AdditionalInformation string `json:"additionalInformation"`
}

func (s *Server) setUserAdditionalInformation(ctx context.Context, c aimg.Caller, in *setAdditionalInformationInput) (*Response[[]additionalInformationPayload], error) {
	b := in.Body
	info, err := s.Accounts.SetAdditionalInformation(ctx, c, account.Target{UserID: b.UserID, Email: b.Email}, b.AdditionalInformation)
	if err != nil {
		return nil, err
	}
	return reply([]additionalInformationPayload{{AdditionalInformation: info}})
}

type setAbuseLevelInput struct {
	Auth
	Body struct {
		UserID string   `json:"userID,omitempty"`
		Email  string   `json:"email,omitempty"`
		Abuse  *float64 `json:"abuse,omitempty" doc:"0 to 9; absent or invalid returns the current level."`
	}
}

type abusePayload struct {
	Abuse int `json:"abuse"`
}

func (s *Server) setUserAbuseLevel(ctx context.Context, c aimg.Caller, in *setAbuseLevelInput) (*Response[abusePayload], error) {
	b := in.Body
	level, err := s.Accounts.SetAbuseLevel(ctx, c, account.Target{UserID: b.UserID, Email: b.Email}, b.Abuse)
	if err != nil {
		return nil, err
	}
	return reply(abusePayload{Abuse: level})
}

type getUserInput struct {
	Auth
	UserID   string `query:"userID"`
	Email    string `query:"email"`
	Username string `query:"username"`
}

const getUserDoc = "Everyone: userID, username, profilePicture (data URI) of a live User by userID. " +
	"Admins (X-Administration-Key): lookup by userID, email or username, deleted Users too, and the extended fields " +
	"(profilePicture is then a boolean, as the spec says)."

func (s *Server) getUser(ctx context.Context, c aimg.Caller, in *getUserInput) (*Response[any], error) {
	u, err := s.Accounts.GetUser(ctx, c, account.Lookup{UserID: in.UserID, Email: in.Email, Username: in.Username})
	if err != nil {
		return nil, err
	}
	if !c.Admin {
		return reply[any](PublicUser{UserID: u.ID, Username: u.Username, ProfilePicture: u.ProfilePicture})
	}
	counts, err := s.Accounts.ItemCounts(ctx, u)
	if err != nil {
		return nil, err
	}
	view := s.adminUser(u)
	if view.Subscriptions, err = s.subscriptions(ctx, u.ID, true); err != nil {
		return nil, err
	}
	ids, err := s.Accounts.Identities(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		view.LoginProviders = append(view.LoginProviders, LoginProvider{ProviderType: "oauth",
			ProviderID: account.ProviderNames[id.Provider], UserID: id.ProviderUserID})
	}
	if view.ConnectProviders, err = s.boostyConnections(ctx, u.ID); err != nil {
		return nil, err
	}
	if view.ConnectProviders == nil {
		view.ConnectProviders = []LoginProvider{}
	}
	view.ItemCount, view.RootFolderItemCount, view.PublicItemCount = counts.Items, counts.RootFolderItems, counts.PublicItems
	if view.FlaggedImagesCount, view.HighHeatImagesCount, err = s.Library.ReportCounts(ctx, u.ID); err != nil {
		return nil, err
	}
	return reply[any](view)
}
