package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
)

type outcome struct {
	ID      string  `json:"id"`
	Success bool    `json:"success"`
	Message *string `json:"message"`
}

// reactOK posts a reaction call that must answer 200 and returns the outcomes by id.
func reactOK(t *testing.T, srv *testsupport.Server, op, session string, ids any) map[string]outcome {
	t.Helper()
	env := srv.Post(t, "/api/"+op, session, map[string]any{"imageIDs": ids})
	testsupport.ExpectOK(t, env)
	var list []outcome
	env.Decode(t, &list)
	out := map[string]outcome{}
	for _, o := range list {
		out[o.ID] = o
	}
	return out
}

// reactCall is reactOK for goroutines: it reports failures as errors.
func reactCall(srv *testsupport.Server, op, session string, ids []string) (map[string]outcome, error) {
	body, _ := json.Marshal(map[string]any{"imageIDs": ids})
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/"+op, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Session-ID", session)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var env struct {
		Payload []outcome `json:"payload"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: status %d, decode %v", op, resp.StatusCode, err)
	}
	out := map[string]outcome{}
	for _, o := range env.Payload {
		out[o.ID] = o
	}
	return out, nil
}

// wantResult checks one Item's outcome: success when msg is "", else that message.
func wantResult(t *testing.T, got map[string]outcome, id, msg string) {
	t.Helper()
	o, ok := got[id]
	switch {
	case !ok:
		t.Fatalf("no outcome for %s in %v", id, got)
	case msg == "" && (!o.Success || o.Message != nil):
		t.Fatalf("%s: %+v, want success without a message", id, o)
	case msg != "" && (o.Success || o.Message == nil || *o.Message != msg):
		t.Fatalf("%s: %+v, want failure %q", id, o, msg)
	}
}

type reactionView struct {
	IsLiked      *bool  `json:"isLiked"`
	IsDisliked   *bool  `json:"isDisliked"`
	LikeCount    *int64 `json:"likeCount"`
	DislikeCount *int64 `json:"dislikeCount"`
}

// wantView checks what getItem and getItemDetails say of the Item to session.
func wantView(t *testing.T, srv *testsupport.Server, session, id string, liked, disliked bool, likes, dislikes int64) {
	t.Helper()
	for _, op := range []string{"getItem", "getItemDetails"} {
		env := srv.Get(t, "/api/"+op+"?imageID="+id, session)
		testsupport.ExpectOK(t, env)
		var v reactionView
		env.Decode(t, &v)
		if v.IsLiked == nil || v.IsDisliked == nil || v.LikeCount == nil || v.DislikeCount == nil {
			t.Fatalf("%s: a reaction field is missing: %s", op, env.Payload)
		}
		if likes < 0 { // counts not checked
			likes, dislikes = *v.LikeCount, *v.DislikeCount
		}
		if *v.IsLiked != liked || *v.IsDisliked != disliked || *v.LikeCount != likes || *v.DislikeCount != dislikes {
			t.Fatalf("%s %s: isLiked %v isDisliked %v likes %d dislikes %d; want %v %v %d %d", op, id,
				*v.IsLiked, *v.IsDisliked, *v.LikeCount, *v.DislikeCount, liked, disliked, likes, dislikes)
		}
	}
}

// publicItem is a completed Item anyone may see: isPublic in a Public
// Folder (set directly: Folders have no endpoints yet).
func publicItem(userID string, offset time.Duration) *aimg.Item {
	it := apiItem(userID, offset)
	it.IsPublic, it.PublicApprovalStatus, it.FolderID = true, aimg.ApprovalApproved, "p-"+uuid.NewString()
	added := itemTime
	it.FolderAddedAt = &added
	return it
}

// The four endpoints on the caller's own Items: a like replaces a dislike and
// the reverse, isLiked/isDisliked and the counts follow on getItem,
// getItemDetails and getMyCreations, and each Item that cannot change says
// why (not completed, deleted, unknown id, already liked, not liked) while
// the others change.
func TestReactionsOwnItems(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		done, other := apiItem(a.UserID, 0), apiItem(a.UserID, time.Second)
		queued := apiItem(a.UserID, 2*time.Second)
		queued.Status, queued.CompletedAt, queued.FileID = aimg.StatusQueued, nil, ""
		deleted := apiItem(a.UserID, 3*time.Second)
		gone := itemTime.Add(time.Hour)
		deleted.DeletedAt = &gone
		putItems(t, srv, done, other, queued, deleted)
		unknown := uuid.NewString()

		got := reactOK(t, srv, "likeItems", a.SessionID, []string{done.ID, queued.ID, deleted.ID, unknown, "not-an-id", done.ID})
		if len(got) != 5 {
			t.Fatalf("%d outcomes, want one per distinct id: %v", len(got), got)
		}
		wantResult(t, got, done.ID, "")
		wantResult(t, got, queued.ID, "Only completed Items can be liked or disliked")
		wantResult(t, got, deleted.ID, "Item is deleted")
		wantResult(t, got, unknown, "Item not found")
		wantResult(t, got, "not-an-id", "Item not found")
		wantView(t, srv, a.SessionID, done.ID, true, false, 1, 0)
		wantView(t, srv, a.SessionID, other.ID, false, false, 0, 0)
		for _, id := range []string{queued.ID, deleted.ID} {
			if it, _ := srv.App.Store.ItemByID(context.Background(), id); it.LikeCount != 0 {
				t.Fatalf("refused Item %s has %d likes", id, it.LikeCount)
			}
		}
		wantResult(t, reactOK(t, srv, "likeItems", a.SessionID, []string{done.ID}), done.ID, "Item is already liked")

		// A comma-separated list works too; the dislike replaces the like.
		got = reactOK(t, srv, "dislikeItems", a.SessionID, done.ID+", "+other.ID)
		wantResult(t, got, done.ID, "")
		wantResult(t, got, other.ID, "")
		wantView(t, srv, a.SessionID, done.ID, false, true, 0, 1)
		imgs, _ := creations(t, srv, a.SessionID, "")
		for _, img := range imgs {
			if img.ID == done.ID && (img.IsLiked == nil || *img.IsLiked) {
				t.Fatalf("getMyCreations: %s isLiked %v after the dislike", img.ID, img.IsLiked)
			}
		}
		var page []reactionView
		env := srv.Get(t, "/api/getMyCreations", a.SessionID)
		env.Decode(t, &page)
		disliked := 0
		for _, v := range page {
			if *v.IsDisliked {
				disliked++
			}
		}
		if disliked != 2 {
			t.Fatalf("getMyCreations shows %d disliked Items, want 2: %s", disliked, env.Payload)
		}

		wantResult(t, reactOK(t, srv, "unlikeItems", a.SessionID, []string{done.ID}), done.ID, "Item is not liked")
		wantResult(t, reactOK(t, srv, "undislikeItems", a.SessionID, []string{done.ID}), done.ID, "")
		wantResult(t, reactOK(t, srv, "undislikeItems", a.SessionID, []string{done.ID}), done.ID, "Item is not disliked")
		wantView(t, srv, a.SessionID, done.ID, false, false, 0, 0)
		wantResult(t, reactOK(t, srv, "likeItems", a.SessionID, []string{other.ID}), other.ID, "")
		wantView(t, srv, a.SessionID, other.ID, true, false, 1, 0)
		wantResult(t, reactOK(t, srv, "unlikeItems", a.SessionID, []string{other.ID}), other.ID, "")
		wantView(t, srv, a.SessionID, other.ID, false, false, 0, 0)
	})
}

// User B cannot like, dislike or unlike user A's private Item, not even
// with the admin key: each call says "Item not found" for it (the Item's
// existence is not revealed) and A's counts do not move; a publicly visible
// Item of A's B may like.
func TestReactionsOtherUsersItems(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		private, public := apiItem(a.UserID, 0), publicItem(a.UserID, time.Second)
		putItems(t, srv, private, public)

		for _, op := range []string{"likeItems", "dislikeItems", "unlikeItems", "undislikeItems"} {
			wantResult(t, reactOK(t, srv, op, b.SessionID, []string{private.ID}), private.ID, "Item not found")
		}
		wantView(t, srv, a.SessionID, private.ID, false, false, 0, 0)
		// The admin key gives B no extra reach: Admins react as their session's user.
		env := srv.Do(t, testsupport.Req{Method: http.MethodPost, Path: "/api/likeItems", SessionID: b.SessionID,
			AdminKey: testsupport.AdminKey, Body: map[string]any{"imageIDs": []string{private.ID}}})
		testsupport.ExpectOK(t, env)
		var list []outcome
		env.Decode(t, &list)
		if len(list) != 1 || list[0].Success || list[0].Message == nil || *list[0].Message != "Item not found" {
			t.Fatalf("admin key on another user's private Item: %s", env.Payload)
		}
		wantView(t, srv, a.SessionID, private.ID, false, false, 0, 0)

		got := reactOK(t, srv, "likeItems", b.SessionID, []string{private.ID, public.ID})
		wantResult(t, got, private.ID, "Item not found")
		wantResult(t, got, public.ID, "")
		wantView(t, srv, b.SessionID, public.ID, true, false, 1, 0)
		wantView(t, srv, a.SessionID, public.ID, false, false, 1, 0) // isLiked is the caller's own
		wantView(t, srv, a.SessionID, private.ID, false, false, 0, 0)
	})
}

// At abuse level 4 a user can no longer like or dislike (403, nothing
// changes) but may still take a reaction back; level 3 still may react.
func TestReactionsAbuseLevel(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		x, y := apiItem(a.UserID, 0), apiItem(a.UserID, time.Second)
		putItems(t, srv, x, y)
		setAbuse := func(level int) {
			t.Helper()
			testsupport.ExpectOK(t, srv.AdminPost(t, "/api/setUserAbuseLevel", map[string]any{"userID": a.UserID, "abuse": level}))
		}
		setAbuse(3)
		wantResult(t, reactOK(t, srv, "likeItems", a.SessionID, []string{x.ID}), x.ID, "")
		setAbuse(4)
		for _, op := range []string{"likeItems", "dislikeItems"} {
			env := srv.Post(t, "/api/"+op, a.SessionID, map[string]any{"imageIDs": []string{x.ID, y.ID}})
			testsupport.ExpectError(t, env, 403, "cannot like or dislike")
		}
		wantView(t, srv, a.SessionID, x.ID, true, false, 1, 0)
		wantView(t, srv, a.SessionID, y.ID, false, false, 0, 0)
		wantResult(t, reactOK(t, srv, "unlikeItems", a.SessionID, []string{x.ID}), x.ID, "")
		wantView(t, srv, a.SessionID, x.ID, false, false, 0, 0)
	})
}

// Bad lists are a 400 naming imageIDs, never a 500, and change nothing:
// more than 1,000 ids, none, a missing field, a value of the wrong type,
// a malformed body.
func TestReactionsBadInput(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		x := apiItem(a.UserID, 0)
		putItems(t, srv, x)
		many := make([]string, 1001)
		many[0] = x.ID
		for i := 1; i < len(many); i++ {
			many[i] = uuid.NewString()
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/likeItems", a.SessionID, map[string]any{"imageIDs": many}), 400, "imageIDs")
		testsupport.ExpectError(t, srv.Post(t, "/api/likeItems", a.SessionID, map[string]any{"imageIDs": strings.Join(many, ",")}), 400, "imageIDs")
		wantView(t, srv, a.SessionID, x.ID, false, false, 0, 0)
		got := reactOK(t, srv, "likeItems", a.SessionID, many[:1000]) // exactly the limit is fine
		wantResult(t, got, x.ID, "")
		wantResult(t, got, many[999], "Item not found")

		for _, body := range []any{
			map[string]any{"imageIDs": []string{}},
			map[string]any{"imageIDs": " , "},
			map[string]any{},
			map[string]any{"imageIDs": 42},
			map[string]any{"imageIDs": []any{1, 2}},
			`{"imageIDs": [`,
		} {
			env := srv.Post(t, "/api/dislikeItems", a.SessionID, body)
			if env.Status != 400 {
				t.Fatalf("body %v: status %d (%s), want 400", body, env.Status, env.Raw)
			}
			want := "imageIDs"
			if _, malformed := body.(string); malformed {
				want = "body"
			}
			if !strings.Contains(env.ErrorMessage, want) {
				t.Fatalf("body %v: %q does not name %s", body, env.ErrorMessage, want)
			}
		}
		wantView(t, srv, a.SessionID, x.ID, true, false, 1, 0)
		testsupport.ExpectError(t, srv.Post(t, "/api/likeItems", "", map[string]any{"imageIDs": []string{x.ID}}), 401, "")
	})
}

// A guest (a session without an account) may react to its own Items like
// any user; an anonymous session that owns nothing sees nothing to react to.
func TestReactionsGuests(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		ctx := context.Background()
		a := testsupport.SignUp(t, srv, "ada@example.com")
		adas := apiItem(a.UserID, 0)
		session, now := uuid.NewString(), srv.Clock.Now()
		guest := &aimg.User{ID: uuid.NewString(), Domain: "localhost", IsGuest: true, CreatedAt: itemTime, UpdatedAt: itemTime}
		if _, err := srv.App.Store.GuestSession(ctx, &aimg.Session{ID: session, CreatedAt: now, LastSeenAt: now}, guest, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		mine := apiItem(guest.ID, 0)
		putItems(t, srv, adas, mine)

		got := reactOK(t, srv, "likeItems", session, []string{mine.ID, adas.ID})
		wantResult(t, got, mine.ID, "")
		wantResult(t, got, adas.ID, "Item not found")
		wantView(t, srv, session, mine.ID, true, false, 1, 0)

		anonymous := uuid.NewString()
		wantResult(t, reactOK(t, srv, "likeItems", anonymous, []string{mine.ID}), mine.ID, "Item not found")
		wantView(t, srv, session, mine.ID, true, false, 1, 0)
	})
}

// Counts stay exact under concurrent requests: 12 users call the four
// endpoints at random, in parallel, on 3 publicly visible Items (overlapping
// lists in varying order); afterwards each Item's likeCount and dislikeCount
// equal a recount of the reactions, and each user's isLiked/isDisliked is
// what its last successful call said.
func TestReactionsConcurrentRequests(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		owner := testsupport.SignUp(t, srv, "owner@example.com")
		items := []*aimg.Item{publicItem(owner.UserID, 0), publicItem(owner.UserID, time.Second), publicItem(owner.UserID, 2*time.Second)}
		putItems(t, srv, items...)
		const users, calls = 12, 15
		sessions := make([]string, users)
		for u := range users {
			sessions[u] = testsupport.SignUp(t, srv, fmt.Sprintf("u%d@example.com", u)).SessionID
		}
		ops := []string{"likeItems", "unlikeItems", "dislikeItems", "undislikeItems"}
		states := make([]map[string]string, users)
		var wg sync.WaitGroup
		errs := make(chan error, users)
		for u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(u), 11))
				state := map[string]string{}
				for range calls {
					op := ops[rng.IntN(len(ops))]
					var ids []string
					for _, p := range rng.Perm(len(items))[:1+rng.IntN(len(items))] {
						ids = append(ids, items[p].ID)
					}
					got, err := reactCall(srv, op, sessions[u], ids)
					if err != nil {
						errs <- err
						return
					}
					for _, id := range ids {
						if !got[id].Success {
							continue
						}
						switch op {
						case "likeItems":
							state[id] = "like"
						case "dislikeItems":
							state[id] = "dislike"
						default:
							delete(state, id)
						}
					}
				}
				states[u] = state
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for _, it := range items {
			var likes, dislikes int64
			for u := range users {
				kind := states[u][it.ID]
				wantView(t, srv, sessions[u], it.ID, kind == "like", kind == "dislike", -1, -1)
			}
			l, d, err := srv.App.Store.ReactionCounts(context.Background(), it.ID)
			if err != nil {
				t.Fatal(err)
			}
			for u := range users {
				switch states[u][it.ID] {
				case "like":
					likes++
				case "dislike":
					dislikes++
				}
			}
			if l != likes || d != dislikes {
				t.Fatalf("item %s: recount %d/%d, the calls' outcomes say %d/%d", it.ID, l, d, likes, dislikes)
			}
			wantView(t, srv, owner.SessionID, it.ID, false, false, likes, dislikes)
		}
	})
}
