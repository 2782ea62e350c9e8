package httpapi

// The wire types of "User Management" and their conversions.

import (
	"context"

	"aimg/internal/account"
	"aimg/internal/aimg"
)

// SelfUser is the spec's SelfUser. tier, tierExpiration and
// merchantProcessor are those of the subscription that gives the tier.
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

// Subscription is the spec's Subscription.
type Subscription struct {
	MerchantProcessor     string             `json:"merchantProcessor"`
	Tier                  int                `json:"tier"`
	TierExpiration        *string            `json:"tierExpiration,omitempty"`
	NextBillingDate       *string            `json:"nextBillingDate,omitempty"`
	ProductID             string             `json:"productID"`
	PayerID               string             `json:"payerID,omitempty"`
	TransactionID         string             `json:"transactionID,omitempty"`
	AdditionalInformation string             `json:"additionalInformation,omitempty"`
	Price                 *SubscriptionPrice `json:"price,omitempty" doc:"Only with extendedPriceInfo=true."`
	Status                string             `json:"status" doc:"active, cancelled (runs to tierExpiration, does not renew) or expired."`
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
	FlaggedImagesCount    int64           `json:"flaggedImagesCount" doc:"The User's Items with an accepted report."`
	HighHeatImagesCount   int64           `json:"highHeatImagesCount" doc:"The User's live Items in the highHeat system queue."`
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

// selfReply answers with the SelfUser of self.
func (s *Server) selfReply(ctx context.Context, self *account.Self, withPicture bool) (*Response[SelfUser], error) {
	return s.selfReplyPrices(ctx, self, withPicture, false)
}

// selfReplyPrices is selfReply with the subscriptions' prices when withPrices.
func (s *Server) selfReplyPrices(ctx context.Context, self *account.Self, withPicture, withPrices bool) (*Response[SelfUser], error) {
	counts, err := s.Accounts.ItemCounts(ctx, self.User)
	if err != nil {
		return nil, err
	}
	out := s.selfUser(self, withPicture)
	out.ItemCount, out.RootFolderItemCount = counts.Items, counts.RootFolderItems
	if self.User != nil && !self.User.IsGuest {
		if out.Subscriptions, err = s.subscriptions(ctx, self.User.ID, withPrices); err != nil {
			return nil, err
		}
	}
	return reply(out)
}

// subscriptions is the user's Subscription list, newest first.
func (s *Server) subscriptions(ctx context.Context, userID string, withPrices bool) ([]Subscription, error) {
	subs, err := s.Billing.Subscriptions(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]Subscription, 0, len(subs))
	for _, sub := range subs {
		v := Subscription{MerchantProcessor: sub.Provider, Tier: sub.Tier, TierExpiration: isoTimePtr(sub.ExpiresAt),
			NextBillingDate: isoTimePtr(sub.NextBillingAt), ProductID: sub.ProductID, PayerID: sub.PayerID,
			TransactionID: sub.TransactionID, AdditionalInformation: sub.AdditionalInformation, Status: sub.Status}
		if withPrices && sub.Price != nil {
			p := sub.Price
			v.Price = &SubscriptionPrice{Type: p.Type, Period: p.Period, Currency: p.Currency, CurrencyType: p.CurrencyType, Value: p.Value}
		}
		out = append(out, v)
	}
	return out, nil
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
		out.TierExpiration = isoTimePtr(u.TierExpiration)
		out.MerchantProcessor = merchantProcessor(u, out.Tier)
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

// merchantProcessor is the provider of the subscription giving the tier;
// "" once the tier has lapsed (before the sweeper has marked it expired).
func merchantProcessor(u *aimg.User, tier int) string {
	if tier == 0 {
		return ""
	}
	return u.MerchantProcessor
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
		archived = append(archived, ArchivedEmail{Email: a.Email, ArchivedDate: isoTime(a.ArchivedAt)})
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
		CreatedDate: isoTime(u.CreatedAt), UpdatedDate: isoTime(u.UpdatedAt), DeletedDate: isoTimePtr(u.DeletedAt),
		IsDisabled: u.Disabled(), IsGuest: u.IsGuest, IsAtLeast18Confirmed: u.IsAtLeast18Confirmed,
		Tier: u.EffectiveTier(s.Now()), TierExpiration: isoTimePtr(u.TierExpiration), MerchantProcessor: merchantProcessor(u, u.EffectiveTier(s.Now())),
		Subscriptions: []Subscription{}, RefList: refList, RS: u.RS,
		LoginProviders: loginProviders(u), ConnectProviders: []LoginProvider{},
		Abuse: u.Abuse, ProfilePicture: u.ProfilePicture != "", ProfilePictureBanned: u.ProfilePictureBanned,
		ArchivedEmails: archived, AdditionalInformation: u.AdditionalInformation, Roles: roles,
	}
}
