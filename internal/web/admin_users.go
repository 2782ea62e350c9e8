package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"aimg/internal/account"
	"aimg/internal/aimg"
	"aimg/internal/billing"
)

// Users: find one (getUser with the admin key: by id, email or username),
// set the abuse level (setUserAbuseLevel), grant or end an admin-provided
// premium tier (setAdminProvidedPremiumTier), ban the profile picture
// (setProfilePictureBanned).

type usersPage struct {
	Query  string
	User   *aimg.User
	Levels []int
	Done   string
	// The tier form as submitted (shown back after an error).
	ProductID, Tier, Until, Info string
}

// lookup is what the search box names: an id, an email or a username.
func lookup(q string) account.Lookup {
	q = strings.TrimSpace(q)
	switch {
	case q == "":
		return account.Lookup{}
	case uuid.Validate(q) == nil:
		return account.Lookup{UserID: strings.ToLower(q)}
	case strings.Contains(q, "@"):
		return account.Lookup{Email: q}
	default:
		return account.Lookup{Username: q}
	}
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	s.renderUser(w, r, c, r.URL.Query().Get("q"), http.StatusOK, nil, &usersPage{ProductID: aimg.ProviderAdmin, Tier: "1"})
}

// renderUser shows the search and, when q finds one, the user and its
// forms; err (a failed action) goes next to its field.
func (s *Server) renderUser(w http.ResponseWriter, r *http.Request, c aimg.Caller, q string, status int, err error, p *usersPage) {
	p.Query, p.Done = q, doneMessage(r)
	for i := range aimg.MaxAbuse + 1 {
		p.Levels = append(p.Levels, i)
	}
	v := s.newView(r, c, "Users", p)
	if l := lookup(q); l != (account.Lookup{}) {
		u, lerr := s.Accounts.GetUser(r.Context(), c, l)
		switch {
		case aimg.IsNotFound(lerr):
			v.Fields["q"] = "No user has the id, email or username " + aimg.Quote(q)
			status = max(status, http.StatusNotFound)
		case aimg.ErrorCode(lerr) == aimg.CodeInvalid:
			v.Fields["q"] = publicMessage(lerr)
			status = max(status, http.StatusBadRequest)
		case lerr != nil:
			s.fail(w, r, c, lerr)
			return
		default:
			p.User = u
		}
	}
	if err != nil {
		v.withError(err)
	}
	s.render(w, r, status, "admin_users", v)
}

// userAction runs an action on the form's user, then shows the user again.
func (s *Server) userAction(w http.ResponseWriter, r *http.Request, c aimg.Caller, done string, p *usersPage,
	act func(t account.Target) error) {
	id := r.PostFormValue("userID")
	if err := act(account.Target{UserID: id}); err != nil {
		if p == nil {
			p = &usersPage{ProductID: aimg.ProviderAdmin, Tier: "1"}
		}
		s.renderUser(w, r, c, id, statusOf(err), err, p)
		return
	}
	seeOther(w, r, "/admin/users?"+url.Values{"q": {id}, "done": {done}}.Encode())
}

func (s *Server) setAbuseLevel(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	s.userAction(w, r, c, "abuse", nil, func(t account.Target) error {
		level, err := strconv.ParseFloat(r.PostFormValue("abuse"), 64)
		if err != nil || level < 0 || level > aimg.MaxAbuse || level != float64(int(level)) {
			return aimg.Invalid("abuse", "must be a whole number from 0 to %d", aimg.MaxAbuse)
		}
		_, err = s.Accounts.SetAbuseLevel(r.Context(), c, t, &level)
		return err
	})
}

func (s *Server) setPictureBan(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	s.userAction(w, r, c, "picture", nil, func(t account.Target) error {
		banned := r.PostFormValue("banned") == "true"
		_, err := s.Accounts.SetProfilePictureBanned(r.Context(), c, t, &banned)
		return err
	})
}

// setAdminTier grants (isActive=true) or ends the admin-provided tier of
// the user, named to the billing service by the user's email as the API's
// callers name it.
func (s *Server) setAdminTier(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	p := &usersPage{ProductID: r.PostFormValue("productId"), Tier: r.PostFormValue("tier"),
		Until: r.PostFormValue("deactivationDate"), Info: r.PostFormValue("additionalInformation")}
	s.userAction(w, r, c, "tier", p, func(t account.Target) error {
		u, err := s.Accounts.GetUser(r.Context(), c, account.Lookup{UserID: t.UserID})
		if err != nil {
			return err
		}
		if u.Email == "" {
			return aimg.Invalid("email", "this user has no email (a guest record): premium tiers are granted to accounts")
		}
		tier, err := strconv.Atoi(strings.TrimSpace(p.Tier))
		if err != nil {
			return aimg.Invalid("tier", "must be a whole number from 1 to %d", aimg.MaxTier)
		}
		active := r.PostFormValue("isActive") == "true"
		_, err = s.Billing.SetAdminTier(r.Context(), c, billing.AdminTier{ProductID: p.ProductID, Email: u.Email,
			Tier: &tier, IsActive: &active, DeactivationDate: p.Until, AdditionalInformation: p.Info})
		return err
	})
}
