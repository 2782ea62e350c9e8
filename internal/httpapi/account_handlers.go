package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"aimg/internal/account"
	"aimg/internal/aimg"
)

// SelfUser is the spec's SelfUser. Fields owned by later features (tier
// details, subscriptions, Item counts) are present with zero values.
type SelfUser struct {
	SessionID            string         `json:"sessionID"`
	UserID               string         `json:"userID"`
	Email                string         `json:"email"`
	Username             string         `json:"username"`
	IsAuthenticated      bool           `json:"isAuthenticated"`
	IsAtLeast18Confirmed bool           `json:"isAtLeast18Confirmed"`
	ProfilePicture       *string        `json:"profilePicture,omitempty" doc:"Only when profilePicture=true was requested."`
	Tier                 int            `json:"tier"`
	TierExpiration       *string        `json:"tierExpiration,omitempty"`
	MerchantProcessor    string         `json:"merchantProcessor"`
	Subscriptions        []Subscription `json:"subscriptions"`
	ItemCount            int64          `json:"itemCount"`
	RootFolderItemCount  int64          `json:"rootFolderItemCount"`
}

// Subscription is the spec's Subscription (filled by billing).
type Subscription struct {
	MerchantProcessor     string             `json:"merchantProcessor"`
	Tier                  int                `json:"tier"`
	TierExpiration        *string            `json:"tierExpiration,omitempty"`
	NextBillingDate       *string            `json:"nextBillingDate,omitempty"`
	ProductID             string             `json:"productID"`
	PayerID               string             `json:"payerID,omitempty"`
	TransactionID         string             `json:"transactionID,omitempty"`
	AdditionalInformation string             `json:"additionalInformation,omitempty"`
	Price                 *SubscriptionPrice `json:"price,omitempty"`
}

// SubscriptionPrice is Subscription.price, only with extendedPriceInfo.
type SubscriptionPrice struct {
	Type         string  `json:"type"`
	Period       string  `json:"period"`
	Currency     string  `json:"currency"`
	CurrencyType string  `json:"currencyType"`
	Value        float64 `json:"value"`
}

// LoginProvider is the spec's LoginProvider.
type LoginProvider struct {
	ProviderType string `json:"providerType"`
	ProviderID   string `json:"providerId"`
	UserID       string `json:"userId,omitempty"`
}

// ArchivedEmail is the spec's ArchivedEmail.
type ArchivedEmail struct {
	Email        string `json:"email"`
	ArchivedDate string `json:"archivedDate"`
}

// PublicUser is what getUser shows to everyone.
type PublicUser struct {
	UserID         string `json:"userID"`
	Username       string `json:"username"`
	ProfilePicture string `json:"profilePicture,omitempty"`
}

// AdminUser is what getUser shows to Admins. As the spec says,
// profilePicture here tells whether one is set.
type AdminUser struct {
	UserID                string          `json:"userID"`
	Username              string          `json:"username"`
	Email                 string          `json:"email"`
	CreatedDate           string          `json:"createdDate"`
	UpdatedDate           string          `json:"updatedDate"`
	DeletedDate           *string         `json:"deletedDate"`
	IsDisabled            bool            `json:"isDisabled" doc:"Deleted, or abuse level 9."`
	IsGuest               bool            `json:"isGuest"`
	IsAtLeast18Confirmed  bool            `json:"isAtLeast18Confirmed"`
	Tier                  int             `json:"tier"`
	TierExpiration        *string         `json:"tierExpiration"`
	MerchantProcessor     string          `json:"merchantProcessor"`
	Subscriptions         []Subscription  `json:"subscriptions"`
	FlaggedImagesCount    int64           `json:"flaggedImagesCount"`
	HighHeatImagesCount   int64           `json:"highHeatImagesCount"`
	RefList               []string        `json:"refList"`
	RS                    string          `json:"rs"`
	LoginProviders        []LoginProvider `json:"loginProviders"`
	ConnectProviders      []LoginProvider `json:"connectProviders"`
	Abuse                 int             `json:"abuse"`
	ProfilePicture        bool            `json:"profilePicture"`
	ProfilePictureBanned  bool            `json:"profilePictureBanned"`
	ArchivedEmails        []ArchivedEmail `json:"archivedEmails"`
	ItemCount             int64           `json:"itemCount"`
	PublicItemCount       int64           `json:"publicItemCount"`
	RootFolderItemCount   int64           `json:"rootFolderItemCount"`
	AdditionalInformation string          `json:"additionalInformation"`
	Roles                 []string        `json:"roles"`
}

// userTimeISO formats like JavaScript's toISOString.
func userTimeISO(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func userTimeISOPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := userTimeISO(*t)
	return &s
}

// selfReply answers with the SelfUser of self.
func (s *Server) selfReply(ctx context.Context, self *account.Self, withPicture bool) (*Response[SelfUser], error) {
	counts, err := s.Accounts.ItemCounts(ctx, self.User)
	if err != nil {
		return nil, err
	}
	out := s.selfUser(self, withPicture)
	out.ItemCount, out.RootFolderItemCount = counts.Items, counts.RootFolderItems
	return reply(out)
}

func (s *Server) selfUser(self *account.Self, withPicture bool) SelfUser {
	out := SelfUser{SessionID: self.Session.ID, Subscriptions: []Subscription{}}
	if u := self.User; u != nil {
		out.UserID = u.ID
		out.Email = u.Email
		out.Username = u.Username
		out.IsAtLeast18Confirmed = u.IsAtLeast18Confirmed
		out.IsAuthenticated = self.Session.Authenticated && !u.IsGuest
		out.Tier = u.EffectiveTier(s.Now())
		out.TierExpiration = userTimeISOPtr(u.TierExpiration)
		out.MerchantProcessor = u.MerchantProcessor
		if withPicture {
			pic := u.ProfilePicture
			out.ProfilePicture = &pic
		}
	} else if withPicture {
		empty := ""
		out.ProfilePicture = &empty
	}
	return out
}

func loginProviders(u *aimg.User) []LoginProvider {
	list := []LoginProvider{}
	if u.PasswordHash != "" {
		list = append(list, LoginProvider{ProviderType: "internal", ProviderID: "Password"})
	}
	if u.OTPLogin {
		list = append(list, LoginProvider{ProviderType: "internal", ProviderID: "OTP"})
	}
	return list
}

func (s *Server) adminUser(u *aimg.User) AdminUser {
	archived := make([]ArchivedEmail, 0, len(u.ArchivedEmails))
	for _, a := range u.ArchivedEmails {
		archived = append(archived, ArchivedEmail{Email: a.Email, ArchivedDate: userTimeISO(a.ArchivedAt)})
	}
	refList, roles := u.RefList, u.Roles
	if refList == nil {
		refList = []string{}
	}
	if roles == nil {
		roles = []string{}
	}
	return AdminUser{
		UserID: u.ID, Username: u.Username, Email: u.Email,
		CreatedDate: userTimeISO(u.CreatedAt), UpdatedDate: userTimeISO(u.UpdatedAt), DeletedDate: userTimeISOPtr(u.DeletedAt),
		IsDisabled: u.Disabled(), IsGuest: u.IsGuest, IsAtLeast18Confirmed: u.IsAtLeast18Confirmed,
		Tier: u.EffectiveTier(s.Now()), TierExpiration: userTimeISOPtr(u.TierExpiration), MerchantProcessor: u.MerchantProcessor,
		Subscriptions: []Subscription{}, RefList: refList, RS: u.RS,
		LoginProviders: loginProviders(u), ConnectProviders: []LoginProvider{},
		Abuse: u.Abuse, ProfilePicture: u.ProfilePicture != "", ProfilePictureBanned: u.ProfilePictureBanned,
		ArchivedEmails: archived, AdditionalInformation: u.AdditionalInformation, Roles: roles,
	}
}

// Inputs.

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

type authenticateUserInput struct {
	Auth
	Body struct {
		Email                string `json:"email" required:"true"`
		Password             string `json:"password,omitempty"`
		OTP                  string `json:"otp,omitempty"`
		IsAtLeast18Confirmed bool   `json:"isAtLeast18Confirmed,omitempty"`
	}
}

type signOutInput struct {
	Auth
}

type requestOTPInput struct {
	Auth
	Body struct {
		Email  string `json:"email" required:"true"`
		SignUp bool   `json:"signUp,omitempty" doc:"true on sign-up forms: an already registered email is a 409."`
	}
}

type getSelfUserInput struct {
	Auth
	IsAtLeast18Confirmed optionalBool `query:"isAtLeast18Confirmed"`
	ProfilePicture       bool         `query:"profilePicture"`
	ExtendedPriceInfo    bool         `query:"extendedPriceInfo" doc:"Accepted; prices come with billing."`
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

type setProfilePictureInput struct {
	Auth
	Body struct {
		ProfilePicture string `json:"profilePicture" required:"true" doc:"A base64 data URI (PNG, JPEG, GIF, WebP), or \"\" to remove."`
	}
}

type setProfilePictureBannedInput struct {
	Auth
	Body struct {
		UserID               string `json:"userID,omitempty"`
		Email                string `json:"email,omitempty"`
		ProfilePictureBanned *bool  `json:"profilePictureBanned,omitempty"`
	}
}

type setAdditionalInformationInput struct {
	Auth
	Body struct {
		UserID                string `json:"userID,omitempty"`
		Email                 string `json:"email,omitempty"`
		AdditionalInformation string `json:"additionalInformation,omitempty"`
	}
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

type getUserInput struct {
	Auth
	UserID   string `query:"userID"`
	Email    string `query:"email"`
	Username string `query:"username"`
}

type deleteUserInput struct {
	Auth
	UserID      string `query:"userID" doc:"Admins only: the User to delete."`
	DeleteItems bool   `query:"deleteItems"`
}

type setAbuseLevelInput struct {
	Auth
	Body struct {
		UserID string   `json:"userID,omitempty"`
		Email  string   `json:"email,omitempty"`
		Abuse  *float64 `json:"abuse,omitempty" doc:"0 to 9; absent or invalid returns the current level."`
	}
}

// Payloads.

type profilePicturePayload struct {
	ProfilePicture string `json:"profilePicture"`
}

type profilePictureBannedPayload struct {
	ProfilePictureBanned bool `json:"profilePictureBanned"`
}

type additionalInformationPayload struct {
	AdditionalInformation string `json:"additionalInformation"`
}

type kvpPayload struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type abusePayload struct {
	Abuse int `json:"abuse"`
}

const tagUsers = "User Management"

// registerAccountRoutes registers the "User Management" operations.
func (s *Server) registerAccountRoutes() {
	huma.Register(s.api, s.op(http.MethodPost, "createUser", "Create a User", tagUsers),
		func(ctx context.Context, in *createUserInput) (*Response[SelfUser], error) {
			c, err := s.caller(ctx, in.Auth, sessionCreate)
			if err != nil {
				return nil, err
			}
			b := in.Body
			self, err := s.Accounts.CreateUser(ctx, c, account.NewUser{
				Email: b.Email, Username: b.Username, Password: b.Password, OTP: b.OTP,
				IsAtLeast18Confirmed: b.IsAtLeast18Confirmed, RefList: b.RefList, RS: b.RS,
			})
			if err != nil {
				return nil, err
			}
			infoFrom(ctx).userID = self.User.ID
			return s.selfReply(ctx, self, false)
		})

	huma.Register(s.api, s.op(http.MethodPost, "authenticateUser", "Sign a User in", tagUsers),
		func(ctx context.Context, in *authenticateUserInput) (*Response[SelfUser], error) {
			c, err := s.caller(ctx, in.Auth, sessionCreate)
			if err != nil {
				return nil, err
			}
			b := in.Body
			self, err := s.Accounts.Authenticate(ctx, c, account.Credentials{
				Email: b.Email, Password: b.Password, OTP: b.OTP, IsAtLeast18Confirmed: b.IsAtLeast18Confirmed,
			})
			if err != nil {
				return nil, err
			}
			infoFrom(ctx).userID = self.User.ID
			return s.selfReply(ctx, self, false)
		})

	huma.Register(s.api, s.op(http.MethodPost, "signOutUser", "Sign the current User out", tagUsers),
		func(ctx context.Context, in *signOutInput) (*Response[Success], error) {
			// No s.caller here: signing out only asks whether a stored
			// session has this id (an unknown one is not created).
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
		})

	huma.Register(s.api, s.op(http.MethodPost, "requestOTP", "Email a one-time password and magic link", tagUsers),
		func(ctx context.Context, in *requestOTPInput) (*Response[Success], error) {
			c, err := s.caller(ctx, in.Auth, sessionOptional)
			if err != nil {
				return nil, err
			}
			msg, err := s.Accounts.RequestOTP(ctx, c, in.Body.Email, in.Body.SignUp)
			if err != nil {
				return nil, err
			}
			return reply(Success{Success: true, Message: msg})
		})

	huma.Register(s.api, s.op(http.MethodGet, "getSelfUser", "Get the current User", tagUsers),
		func(ctx context.Context, in *getSelfUserInput) (*Response[SelfUser], error) {
			c, err := s.caller(ctx, in.Auth, sessionCreate)
			if err != nil {
				return nil, err
			}
			self, err := s.Accounts.SelfUser(ctx, c, in.IsAtLeast18Confirmed.ptr())
			if err != nil {
				return nil, err
			}
			return s.selfReply(ctx, self, in.ProfilePicture)
		})

	huma.Register(s.api, s.op(http.MethodPost, "setSelfUserProperties", "Change the current User's properties", tagUsers),
		func(ctx context.Context, in *setSelfUserPropertiesInput) (*Response[SelfUser], error) {
			c, err := s.caller(ctx, in.Auth, sessionRequired)
			if err != nil {
				return nil, err
			}
			b := in.Body
			self, err := s.Accounts.SetSelfProperties(ctx, c, account.Properties{
				Username: b.Username, Password: b.Password, Email: b.Email, OTP: b.OTP,
				IsAtLeast18Confirmed: b.IsAtLeast18Confirmed,
			})
			if err != nil {
				return nil, err
			}
			return s.selfReply(ctx, self, false)
		})

	pictureOp := s.op(http.MethodPost, "setSelfUserProfilePicture", "Set or remove the current User's profile picture", tagUsers)
	pictureOp.MaxBodyBytes = s.Config.Service.HTTP.MaxImageBodyBytes
	huma.Register(s.api, pictureOp,
		func(ctx context.Context, in *setProfilePictureInput) (*Response[profilePicturePayload], error) {
			c, err := s.caller(ctx, in.Auth, sessionRequired)
			if err != nil {
				return nil, err
			}
			pic, err := s.Accounts.SetProfilePicture(ctx, c, in.Body.ProfilePicture)
			if err != nil {
				return nil, err
			}
			return reply(profilePicturePayload{ProfilePicture: pic})
		})

	huma.Register(s.api, s.accountAdminOp(http.MethodPost, "setProfilePictureBanned", "Ban or unban a User's profile picture (Admin)"),
		func(ctx context.Context, in *setProfilePictureBannedInput) (*Response[[]profilePictureBannedPayload], error) {
			c, err := s.admin(ctx, in.Auth)
			if err != nil {
				return nil, err
			}
			b := in.Body
			banned, err := s.Accounts.SetProfilePictureBanned(ctx, c, account.Target{UserID: b.UserID, Email: b.Email}, b.ProfilePictureBanned)
			if err != nil {
				return nil, err
			}
			return reply([]profilePictureBannedPayload{{ProfilePictureBanned: banned}})
		})

	huma.Register(s.api, s.accountAdminOp(http.MethodPost, "setUserAdditionalInformation", "Set the notes on a User (Admin)"),
		func(ctx context.Context, in *setAdditionalInformationInput) (*Response[[]additionalInformationPayload], error) {
			c, err := s.admin(ctx, in.Auth)
			if err != nil {
				return nil, err
			}
			b := in.Body
			info, err := s.Accounts.SetAdditionalInformation(ctx, c, account.Target{UserID: b.UserID, Email: b.Email}, b.AdditionalInformation)
			if err != nil {
				return nil, err
			}
			return reply([]additionalInformationPayload{{AdditionalInformation: info}})
		})

	huma.Register(s.api, s.op(http.MethodGet, "getUserKVP", "Get a value of the current User", tagUsers),
		func(ctx context.Context, in *kvpKeyInput) (*Response[kvpPayload], error) {
			c, err := s.caller(ctx, in.Auth, sessionRequired)
			if err != nil {
				return nil, err
			}
			v, err := s.Accounts.UserKVP(ctx, c, in.Key)
			if err != nil {
				return nil, err
			}
			return reply(kvpPayload{Key: in.Key, Value: v})
		})

	huma.Register(s.api, s.op(http.MethodPost, "setUserKVP", "Set a value of the current User", tagUsers),
		func(ctx context.Context, in *setKVPInput) (*Response[kvpPayload], error) {
			c, err := s.caller(ctx, in.Auth, sessionRequired)
			if err != nil {
				return nil, err
			}
			if err := s.Accounts.SetUserKVP(ctx, c, in.Body.Key, in.Body.Value); err != nil {
				return nil, err
			}
			return reply(kvpPayload{Key: in.Body.Key, Value: in.Body.Value})
		})

	huma.Register(s.api, s.op(http.MethodDelete, "deleteUserKVP", "Delete a value of the current User", tagUsers),
		func(ctx context.Context, in *kvpKeyInput) (*Response[Success], error) {
			c, err := s.caller(ctx, in.Auth, sessionRequired)
			if err != nil {
				return nil, err
			}
			ok, err := s.Accounts.DeleteUserKVP(ctx, c, in.Key)
			if err != nil {
				return nil, err
			}
			return reply(Success{Success: ok})
		})

	getUserOp := s.op(http.MethodGet, "getUser", "Get a User (extended for Admins)", tagUsers)
	getUserOp.Description = "Everyone: userID, username, profilePicture (data URI) of a live User by userID. " +
		"Admins (X-Administration-Key): lookup by userID, email or username, deleted Users too, and the extended fields " +
		"(profilePicture is then a boolean, as the spec says)."
	huma.Register(s.api, getUserOp,
		func(ctx context.Context, in *getUserInput) (*Response[any], error) {
			c, err := s.caller(ctx, in.Auth, sessionOptional)
			if err != nil {
				return nil, err
			}
			u, err := s.Accounts.GetUser(ctx, c, account.Lookup{UserID: in.UserID, Email: in.Email, Username: in.Username})
			if err != nil {
				return nil, err
			}
			if c.Admin {
				counts, err := s.Accounts.ItemCounts(ctx, u)
				if err != nil {
					return nil, err
				}
				view := s.adminUser(u)
				view.ItemCount, view.RootFolderItemCount = counts.Items, counts.RootFolderItems
				return reply[any](view)
			}
			return reply[any](PublicUser{UserID: u.ID, Username: u.Username, ProfilePicture: u.ProfilePicture})
		})

	huma.Register(s.api, s.op(http.MethodGet, "generateStrongPassword", "Generate a password that satisfies the rule", tagUsers),
		func(ctx context.Context, _ *struct{}) (*Response[string], error) {
			p, err := account.GenerateStrongPassword()
			if err != nil {
				return nil, aimg.Internal(err)
			}
			return reply(p)
		})

	huma.Register(s.api, s.op(http.MethodDelete, "deleteUser", "Delete the current User (Admins: any User)", tagUsers),
		func(ctx context.Context, in *deleteUserInput) (*Response[Success], error) {
			c, err := s.caller(ctx, in.Auth, sessionRequired)
			if err != nil {
				return nil, err
			}
			ok, err := s.Accounts.DeleteUser(ctx, c, in.UserID, in.DeleteItems)
			if err != nil {
				return nil, err
			}
			if !ok {
				return reply(Success{Success: false, Message: "The User was already deleted"})
			}
			return reply(Success{Success: true})
		})

	huma.Register(s.api, s.accountAdminOp(http.MethodPost, "setUserAbuseLevel", "Set or read a User's abuse level (Admin)"),
		func(ctx context.Context, in *setAbuseLevelInput) (*Response[abusePayload], error) {
			c, err := s.admin(ctx, in.Auth)
			if err != nil {
				return nil, err
			}
			b := in.Body
			level, err := s.Accounts.SetAbuseLevel(ctx, c, account.Target{UserID: b.UserID, Email: b.Email}, b.Abuse)
			if err != nil {
				return nil, err
			}
			return reply(abusePayload{Abuse: level})
		})
}

// accountAdminOp is an operation that requires the X-Administration-Key.
func (s *Server) accountAdminOp(method, name, summary string) huma.Operation {
	op := s.op(method, name, summary, tagUsers)
	op.Security = []map[string][]string{{"adminKey": {}}}
	return op
}
