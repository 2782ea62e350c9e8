package web

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"aimg/internal/aimg"
)

// The admin pages (docs/decisions.md "Web UI: admin pages"). The admin key
// is entered once on /admin; the account service then marks the browser's
// session as admin in the store (the key is in no cookie and no page), and
// only the pages below give their Caller Admin = true, for a marked
// session only. Every other page keeps the visitor's own Caller.

func (s *Server) adminPages(page route) {
	page("GET /admin", s.adminHome)
	page("POST /admin", s.enterAdminKey)
	admin := func(pattern string, h pageHandler) { page(pattern, s.asAdmin(h)) }
	admin("POST /admin/signout", s.adminSignOut)
	admin("GET /admin/approvals", s.approvalsPage)
	admin("POST /admin/approvals", s.setApproval)
	admin("GET /admin/reports", s.reportsPage)
	admin("POST /admin/reports/close", s.closeReports)
	admin("GET /admin/reports/csv", s.reportsCSV)
	admin("GET /admin/users", s.usersPage)
	admin("POST /admin/users/abuse", s.setAbuseLevel)
	admin("POST /admin/users/tier", s.setAdminTier)
	admin("POST /admin/users/picture", s.setPictureBan)
	admin("GET /admin/workers", s.workersPage)
	admin("POST /admin/workers", s.createWorkerKey)
	admin("POST /admin/workers/revoke", s.revokeWorkerKey)
	admin("GET /admin/queues", s.queuesPage)
}

// errNotAdmin refuses an admin page to a session without the mark.
var errNotAdmin = aimg.Errorf(aimg.CodeForbidden, "Enter the admin key on the Admin page first")

// adminMarked tells whether the caller's session carries the admin mark.
func (s *Server) adminMarked(r *http.Request, c aimg.Caller) (bool, error) {
	if c.Session == nil {
		return false, nil
	}
	return s.Accounts.IsAdminSession(r.Context(), c.Session.ID)
}

// asAdmin runs h with an admin Caller for a marked session; otherwise a
// page goes to the key form and a form post is refused (403).
func (s *Server) asAdmin(h pageHandler) pageHandler {
	return func(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
		ok, err := s.adminMarked(r, c)
		if err != nil {
			s.fail(w, r, c, err)
			return
		}
		if !ok {
			if r.Method == http.MethodGet {
				seeOther(w, r, "/admin")
				return
			}
			s.fail(w, r, c, errNotAdmin)
			return
		}
		c.Admin = true
		h(w, r, c)
	}
}

// adminHome is the key form, or for a marked session the list of admin pages.
type adminHome struct {
	Admin bool
}

func (s *Server) adminHome(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	ok, err := s.adminMarked(r, c)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin", s.newView(r, c, "Admin", &adminHome{Admin: ok}))
}

// enterAdminKey checks the key (constant time, rate limited per client
// address against guessing) and puts the new, marked session in the cookie.
func (s *Server) enterAdminKey(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	sess, err := s.Accounts.EnterAdminKey(r.Context(), c, r.PostFormValue("adminKey"))
	if err != nil {
		if e, ok := errors.AsType[*aimg.Error](err); ok && e.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
		}
		s.render(w, r, statusOf(err), "admin", s.newView(r, c, "Admin", &adminHome{}).withError(err))
		return
	}
	s.setSession(w, r, sess.ID)
	seeOther(w, r, "/admin")
}

// adminSignOut drops the mark; the session (and a signed-in account) stays.
func (s *Server) adminSignOut(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	if err := s.Accounts.EndAdminSession(r.Context(), c.Session.ID); err != nil {
		s.fail(w, r, c, err)
		return
	}
	seeOther(w, r, "/admin")
}
