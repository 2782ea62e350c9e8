package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
)

func setProps(t *testing.T, srv *testsupport.Server, session string, body any) *testsupport.Envelope {
	t.Helper()
	return srv.Post(t, "/api/setItemProperties", session, body)
}

func setApproval(t *testing.T, srv *testsupport.Server, ids any, status string) *testsupport.Envelope {
	t.Helper()
	return srv.AdminPost(t, "/api/setPublicApprovalStatus", map[string]any{"imageIDs": ids, "publicApprovalStatus": status})
}

// approvalItem is a completed Item of userID in the given approval state.
func approvalItem(userID string, offset time.Duration, status string, public bool) *aimg.Item {
	it := apiItem(userID, offset)
	it.PublicApprovalStatus, it.IsPublic = status, public
	return it
}

// wantState checks the stored isPublic and publicApprovalStatus.
func wantState(t *testing.T, srv *testsupport.Server, id, status string, public bool) {
	t.Helper()
	it := storedItem(t, srv, id)
	if it.PublicApprovalStatus != status || it.IsPublic != public {
		t.Fatalf("%s: stored %s/isPublic %v, want %s/isPublic %v", id, it.PublicApprovalStatus, it.IsPublic, status, public)
	}
}

type approvalState struct {
	status string
	public bool
}

var approvalStates = []approvalState{
	{aimg.ApprovalNone, false}, {aimg.ApprovalPending, false}, {aimg.ApprovalApproved, true},
	{aimg.ApprovalApproved, false}, {aimg.ApprovalRejected, false},
}

// The owner's state machine: from every state, each request the owner may
// send is allowed (with the resulting state) or refused with its reason,
// leaving the Item as it was. The answer is the Item as getItem shows it.
func TestSetItemPropertiesOwnerStateMachine(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		const final = "publicApprovalStatus: the Item is already approved or rejected"
		const notApproved = "isPublic: only an approved Item can be made public"
		type want struct {
			status string
			public bool
			err    string // "" = allowed
		}
		reqs := []map[string]any{
			{"publicApprovalStatus": "none"}, {"publicApprovalStatus": "pending"},
			{"isPublic": true}, {"isPublic": false},
			{"publicApprovalStatus": "pending", "isPublic": true},
		}
		table := map[approvalState][]want{
			{"none", false}:     {{"none", false, ""}, {"pending", false, ""}, {err: notApproved}, {"none", false, ""}, {err: notApproved}},
			{"pending", false}:  {{"none", false, ""}, {"pending", false, ""}, {err: notApproved}, {"pending", false, ""}, {err: notApproved}},
			{"approved", true}:  {{err: final}, {err: final}, {"approved", true, ""}, {"approved", false, ""}, {err: final}},
			{"approved", false}: {{err: final}, {err: final}, {"approved", true, ""}, {"approved", false, ""}, {err: final}},
			{"rejected", false}: {{err: final}, {err: final}, {err: notApproved}, {"rejected", false, ""}, {err: final}},
		}
		n := 0
		for _, from := range approvalStates {
			for i, req := range reqs {
				n++
				it := approvalItem(a.UserID, time.Duration(n)*time.Second, from.status, from.public)
				putItems(t, srv, it)
				body := map[string]any{"imageID": it.ID}
				for k, v := range req {
					body[k] = v
				}
				w := table[from][i]
				env := setProps(t, srv, a.SessionID, body)
				if w.err != "" {
					if env.Status != 409 || !strings.Contains(env.ErrorMessage, w.err) {
						t.Fatalf("%v %v: status %d %q, want 409 %q", from, req, env.Status, env.ErrorMessage, w.err)
					}
					wantState(t, srv, it.ID, from.status, from.public)
					continue
				}
				testsupport.ExpectOK(t, env)
				var img apiImage
				env.Decode(t, &img)
				if img.ID != it.ID || img.IsPublic != w.public || img.PublicApprovalStatus == nil || *img.PublicApprovalStatus != w.status || img.IsPubliclyVisible {
					t.Fatalf("%v %v: answered %s isPublic %v status %v visible %v, want %s %v", from, req, img.ID, img.IsPublic, img.PublicApprovalStatus, img.IsPubliclyVisible, w.status, w.public)
				}
				wantState(t, srv, it.ID, w.status, w.public)
			}
		}
		// approved and rejected are the Admins' values: a 400 naming the field.
		it := approvalItem(a.UserID, time.Hour, aimg.ApprovalPending, false)
		putItems(t, srv, it)
		for _, v := range []string{"approved", "rejected", "public", ""} {
			testsupport.ExpectError(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": it.ID, "publicApprovalStatus": v}), 400, "publicApprovalStatus")
		}
		wantState(t, srv, it.ID, aimg.ApprovalPending, false)
	})
}

// The Admins' state machine: approving needs a pending (or rejected) Item
// and makes it public; rejecting a pending or approved Item makes it
// private; the rest is refused per Item with the reason.
func TestSetPublicApprovalStatusStateMachine(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		type want struct {
			status string
			public bool
			err    string
		}
		const notSubmitted = "Item was not submitted for approval"
		table := map[approvalState][2]want{ // [approved, rejected]
			{"none", false}:     {{err: notSubmitted}, {err: notSubmitted}},
			{"pending", false}:  {{"approved", true, ""}, {"rejected", false, ""}},
			{"approved", true}:  {{err: "Item is already approved"}, {"rejected", false, ""}},
			{"approved", false}: {{err: "Item is already approved"}, {"rejected", false, ""}},
			{"rejected", false}: {{"approved", true, ""}, {err: "Item is already rejected"}},
		}
		n := 0
		for _, from := range approvalStates {
			for i, to := range []string{"approved", "rejected"} {
				n++
				it := approvalItem(a.UserID, time.Duration(n)*time.Second, from.status, from.public)
				putItems(t, srv, it)
				w := table[from][i]
				wantResult(t, bulkOK(t, setApproval(t, srv, it.ID, to), 1), it.ID, w.err)
				if w.err != "" {
					wantState(t, srv, it.ID, from.status, from.public)
				} else {
					wantState(t, srv, it.ID, w.status, w.public)
				}
			}
		}
		// The owner sees the Admin's decision; after approval the owner may
		// toggle isPublic, and an Admin may still reject the Item.
		it := approvalItem(a.UserID, time.Hour, aimg.ApprovalNone, false)
		putItems(t, srv, it)
		testsupport.ExpectOK(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": it.ID, "publicApprovalStatus": "pending"}))
		wantResult(t, bulkOK(t, setApproval(t, srv, []string{it.ID}, "approved"), 1), it.ID, "")
		wantShown(t, srv, a.SessionID, it.ID, "approved", true)
		testsupport.ExpectOK(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": it.ID, "isPublic": false}))
		wantShown(t, srv, a.SessionID, it.ID, "approved", false)
		testsupport.ExpectOK(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": it.ID, "isPublic": true}))
		wantResult(t, bulkOK(t, setApproval(t, srv, it.ID, "rejected"), 1), it.ID, "")
		wantShown(t, srv, a.SessionID, it.ID, "rejected", false)
		testsupport.ExpectError(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": it.ID, "isPublic": true}), 409, "isPublic")
	})
}

// wantShown checks isPublic and publicApprovalStatus in getItem and
// getMyCreations for the owner, and that another user is not shown the
// status (the Item is not publicly visible: no Public Folders yet).
func wantShown(t *testing.T, srv *testsupport.Server, session, id, status string, public bool) {
	t.Helper()
	env := srv.Get(t, "/api/getItem?imageID="+id, session)
	testsupport.ExpectOK(t, env)
	var img apiImage
	env.Decode(t, &img)
	if img.IsPublic != public || img.PublicApprovalStatus == nil || *img.PublicApprovalStatus != status {
		t.Fatalf("getItem %s: isPublic %v status %v, want %v %s", id, img.IsPublic, img.PublicApprovalStatus, public, status)
	}
	imgs, _ := creations(t, srv, session, "limit=100")
	found := false
	for _, c := range imgs {
		if c.ID == id {
			found = true
			if c.IsPublic != public || c.PublicApprovalStatus == nil || *c.PublicApprovalStatus != status {
				t.Fatalf("getMyCreations %s: isPublic %v status %v, want %v %s", id, c.IsPublic, c.PublicApprovalStatus, public, status)
			}
		}
	}
	if !found {
		t.Fatalf("getMyCreations does not list %s", id)
	}
	env = srv.Do(t, testsupport.Req{Method: http.MethodGet, Path: "/api/getItem?imageID=" + id, AdminKey: testsupport.AdminKey})
	testsupport.ExpectOK(t, env)
	img = apiImage{}
	env.Decode(t, &img)
	if img.PublicApprovalStatus == nil || *img.PublicApprovalStatus != status || img.IsPublic != public {
		t.Fatalf("getItem by an Admin %s: isPublic %v status %v, want %v %s", id, img.IsPublic, img.PublicApprovalStatus, public, status)
	}
}

// At most 50 live pending Items per user, counted exactly: 60 parallel
// requests on 60 Items with 45 already pending let exactly 5 through; a
// deleted pending Item does not count; withdrawing one frees a place.
func TestSetItemPropertiesPendingLimit(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		var pending, fresh []*aimg.Item
		for i := range 45 {
			pending = append(pending, approvalItem(a.UserID, time.Duration(i)*time.Second, aimg.ApprovalPending, false))
		}
		gone := approvalItem(a.UserID, time.Minute, aimg.ApprovalPending, false)
		deletedAt := itemTime.Add(time.Hour)
		gone.DeletedAt = &deletedAt
		for i := range 60 {
			fresh = append(fresh, approvalItem(a.UserID, time.Hour+time.Duration(i)*time.Second, aimg.ApprovalNone, false))
		}
		putItems(t, srv, append(append(pending, gone), fresh...)...)

		var wg sync.WaitGroup
		status := make([]int, len(fresh))
		msgs := make([]string, len(fresh))
		for i, it := range fresh {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status[i], msgs[i] = propsCall(srv, a.SessionID, map[string]any{"imageID": it.ID, "publicApprovalStatus": "pending"})
			}()
		}
		wg.Wait()
		ok := 0
		for i := range fresh {
			switch {
			case status[i] == 200:
				ok++
			case status[i] != 409 || !strings.Contains(msgs[i], "at most 50 Items"):
				t.Fatalf("request %d: status %d %q, want 200 or 409 at most 50", i, status[i], msgs[i])
			}
		}
		if ok != 5 {
			t.Fatalf("%d requests went through, want exactly 5", ok)
		}
		var left *aimg.Item
		for _, it := range fresh {
			if storedItem(t, srv, it.ID).PublicApprovalStatus == aimg.ApprovalNone {
				left = it
			}
		}
		testsupport.ExpectError(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": left.ID, "publicApprovalStatus": "pending"}), 409, "at most 50")
		testsupport.ExpectOK(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": pending[0].ID, "publicApprovalStatus": "none"}))
		testsupport.ExpectOK(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": left.ID, "publicApprovalStatus": "pending"}))
		// An Admin's decision frees a place too.
		wantResult(t, bulkOK(t, setApproval(t, srv, pending[1].ID, "rejected"), 1), pending[1].ID, "")
		testsupport.ExpectOK(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": pending[0].ID, "publicApprovalStatus": "pending"}))
	})
}

// Abuse level 1 refuses new approval requests (withdrawing still works);
// level 2 also refuses isPublic true, and an Admin's approval then leaves
// the Item private; isPublic false stays allowed.
func TestApprovalAbuseLevels(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		none, pend, approved := approvalItem(a.UserID, 0, "none", false), approvalItem(a.UserID, time.Second, "pending", false),
			approvalItem(a.UserID, 2*time.Second, "approved", false)
		pend2 := approvalItem(a.UserID, 3*time.Second, "pending", false)
		putItems(t, srv, none, pend, approved, pend2)
		setAbuse := func(level int) {
			t.Helper()
			testsupport.ExpectOK(t, srv.AdminPost(t, "/api/setUserAbuseLevel", map[string]any{"userID": a.UserID, "abuse": level}))
		}
		setAbuse(1)
		testsupport.ExpectError(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": none.ID, "publicApprovalStatus": "pending"}), 403, "cannot submit Items for approval")
		wantState(t, srv, none.ID, "none", false)
		testsupport.ExpectOK(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": pend.ID, "publicApprovalStatus": "none"}))
		testsupport.ExpectOK(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": approved.ID, "isPublic": true}))
		wantState(t, srv, approved.ID, "approved", true)

		setAbuse(2)
		testsupport.ExpectError(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": none.ID, "publicApprovalStatus": "pending"}), 403, "cannot submit")
		testsupport.ExpectOK(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": approved.ID, "isPublic": false}))
		testsupport.ExpectError(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": approved.ID, "isPublic": true}), 403, "isPublic: this account cannot make Items public")
		wantState(t, srv, approved.ID, "approved", false)
		wantResult(t, bulkOK(t, setApproval(t, srv, pend2.ID, "approved"), 1), pend2.ID, "")
		wantState(t, srv, pend2.ID, "approved", false)

		setAbuse(0)
		testsupport.ExpectOK(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": pend2.ID, "isPublic": true}))
		wantState(t, srv, pend2.ID, "approved", true)
	})
}

// Nobody changes another user's Item: a private one is "Item not found"
// (it does not leak), for a signed-in user, a guest and an anonymous
// session; a guest may withdraw but not submit; queued and deleted Items
// are refused with the reason; unknown ids are per-Item "Item not found"
// for Admins.
func TestApprovalOwnershipAndItemState(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		adas := approvalItem(a.UserID, 0, "approved", false)
		queued := approvalItem(a.UserID, time.Second, "pending", false)
		queued.Status, queued.CompletedAt, queued.FileID = aimg.StatusQueued, nil, ""
		deleted := approvalItem(a.UserID, 2*time.Second, "pending", false)
		gone := itemTime.Add(time.Hour)
		deleted.DeletedAt = &gone
		session, now := uuid.NewString(), srv.Clock.Now()
		guest := &aimg.User{ID: uuid.NewString(), Domain: "localhost", IsGuest: true, CreatedAt: itemTime, UpdatedAt: itemTime}
		if _, err := srv.App.Store.GuestSession(t.Context(), &aimg.Session{ID: session, CreatedAt: now, LastSeenAt: now}, guest, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		guests := approvalItem(guest.ID, 0, "none", false)
		guestsPending := approvalItem(guest.ID, time.Second, "pending", false)
		putItems(t, srv, adas, queued, deleted, guests, guestsPending)

		for _, s := range []string{b.SessionID, session, uuid.NewString()} {
			for _, body := range []map[string]any{{"isPublic": true}, {"isPublic": false}, {"publicApprovalStatus": "none"}} {
				body["imageID"] = adas.ID
				testsupport.ExpectError(t, setProps(t, srv, s, body), 404, "Item not found")
			}
		}
		wantState(t, srv, adas.ID, "approved", false)
		testsupport.ExpectError(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": guests.ID, "isPublic": false}), 404, "Item not found")
		testsupport.ExpectError(t, setProps(t, srv, session, map[string]any{"imageID": guests.ID, "publicApprovalStatus": "pending"}), 403, "sign in")
		testsupport.ExpectOK(t, setProps(t, srv, session, map[string]any{"imageID": guestsPending.ID, "publicApprovalStatus": "none"}))
		// An Admin's key gives nothing extra on setItemProperties.
		env := srv.Do(t, testsupport.Req{Method: http.MethodPost, Path: "/api/setItemProperties", SessionID: b.SessionID, AdminKey: testsupport.AdminKey,
			Body: map[string]any{"imageID": adas.ID, "isPublic": true}})
		testsupport.ExpectError(t, env, 404, "Item not found")

		testsupport.ExpectError(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": queued.ID, "publicApprovalStatus": "none"}), 409, "Only completed Items")
		testsupport.ExpectError(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": deleted.ID, "publicApprovalStatus": "none"}), 410, "Item is deleted")
		wantState(t, srv, queued.ID, "pending", false)
		wantState(t, srv, deleted.ID, "pending", false)

		unknown := uuid.NewString()
		got := bulkOK(t, setApproval(t, srv, strings.Join([]string{queued.ID, deleted.ID, unknown, "x\xff", queued.ID}, ","), "approved"), 4)
		wantResult(t, got, queued.ID, "Only completed Items can be made public")
		wantResult(t, got, deleted.ID, "Item is deleted")
		wantResult(t, got, unknown, "Item not found")
		wantState(t, srv, queued.ID, "pending", false)
		wantState(t, srv, deleted.ID, "pending", false)
		// setPublicApprovalStatus is for Admins only.
		env = srv.Post(t, "/api/setPublicApprovalStatus", a.SessionID, map[string]any{"imageIDs": queued.ID, "publicApprovalStatus": "approved"})
		if env.Status != 403 {
			t.Fatalf("setPublicApprovalStatus without the key: status %d, want 403", env.Status)
		}
	})
}

// Bad input is a 400 naming the field, never a 500, and changes nothing.
func TestApprovalBadInput(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		it := approvalItem(a.UserID, 0, "pending", false)
		putItems(t, srv, it)
		for _, c := range []struct {
			body  any
			field string
		}{
			{map[string]any{}, "imageID"},
			{map[string]any{"imageID": ""}, "imageID"},
			{map[string]any{"imageID": it.ID}, "isPublic"},
			{map[string]any{"imageID": it.ID, "isPublic": "yes"}, "isPublic"},
			{map[string]any{"imageID": it.ID, "publicApprovalStatus": 3}, "publicApprovalStatus"},
			{map[string]any{"imageID": 7, "isPublic": true}, "imageID"},
			{`{"imageID": `, "body"},
		} {
			env := setProps(t, srv, a.SessionID, c.body)
			if env.Status != 400 || !strings.Contains(env.ErrorMessage, c.field) {
				t.Fatalf("setItemProperties %v: status %d %q, want 400 naming %s", c.body, env.Status, env.ErrorMessage, c.field)
			}
		}
		many := make([]string, 1001)
		for i := range many {
			many[i] = uuid.NewString()
		}
		many[0] = it.ID
		for _, c := range []struct {
			body  any
			field string
		}{
			{map[string]any{"publicApprovalStatus": "approved"}, "imageIDs"},
			{map[string]any{"imageIDs": " , ", "publicApprovalStatus": "approved"}, "imageIDs"},
			{map[string]any{"imageIDs": many, "publicApprovalStatus": "approved"}, "imageIDs"},
			{map[string]any{"imageIDs": 5, "publicApprovalStatus": "approved"}, "imageIDs"},
			{map[string]any{"imageIDs": it.ID}, "publicApprovalStatus"},
			{map[string]any{"imageIDs": it.ID, "publicApprovalStatus": "pending"}, "publicApprovalStatus"},
			{map[string]any{"imageIDs": it.ID, "publicApprovalStatus": "none"}, "publicApprovalStatus"},
			{map[string]any{"imageIDs": it.ID, "publicApprovalStatus": true}, "publicApprovalStatus"},
		} {
			env := srv.AdminPost(t, "/api/setPublicApprovalStatus", c.body)
			if env.Status != 400 || !strings.Contains(env.ErrorMessage, c.field) {
				t.Fatalf("setPublicApprovalStatus %v: status %d %q, want 400 naming %s", c.body, env.Status, env.ErrorMessage, c.field)
			}
		}
		bulkOK(t, setApproval(t, srv, many[1:], "approved"), 1000) // exactly the limit
		wantState(t, srv, it.ID, "pending", false)
		testsupport.ExpectError(t, srv.Post(t, "/api/setItemProperties", "", map[string]any{"imageID": it.ID, "isPublic": false}), 401, "")
	})
}

// propsCall is setItemProperties for goroutines: the status and the
// error message (or the transport error as message, status 0).
func propsCall(srv *testsupport.Server, session string, body any) (int, string) {
	j, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/setItemProperties", bytes.NewReader(j))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Session-ID", session)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var env struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return resp.StatusCode, fmt.Sprintf("not an envelope: %v", err)
	}
	return resp.StatusCode, env.ErrorMessage
}
