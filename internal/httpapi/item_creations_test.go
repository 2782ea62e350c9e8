package httpapi_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
)

func TestMyCreationsPagination(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		u := testsupport.SignUp(t, srv, "pages@example.com")
		var all []*aimg.Item
		for i := range 23 {
			all = append(all, apiItem(u.UserID, time.Duration(i/3)*time.Millisecond)) // batches of 3 in one ms
		}
		putItems(t, srv, all...)
		newest := itemIDs(all)
		slices.Reverse(newest)

		for _, limit := range []int{1, 3, 4, 22, 23, 24} {
			var seen []string
			q := fmt.Sprintf("limit=%d", limit)
			for page := 0; ; page++ {
				imgs, meta := creations(t, srv, u.SessionID, q)
				seen = append(seen, imageIDs(imgs)...)
				if meta.Limit != limit || *meta.TotalCount != 23 {
					t.Fatalf("meta %+v", meta)
				}
				if meta.NextPaginationIndex == nil {
					break
				}
				if len(imgs) != limit || page > 30 {
					t.Fatalf("page %d of %d Items with a next index", page, len(imgs))
				}
				q = fmt.Sprintf("limit=%d&paginationIndex=%s", limit, *meta.NextPaginationIndex)
			}
			if !slices.Equal(seen, newest) {
				t.Fatalf("limit %d forward: %v\nwant %v", limit, seen, newest)
			}

			seen = nil
			q = fmt.Sprintf("limit=%d&reversePagination=true", limit)
			for {
				imgs, meta := creations(t, srv, u.SessionID, q)
				seen = append(seen, imageIDs(imgs)...)
				if !meta.ReversePagination {
					t.Fatalf("meta %+v", meta)
				}
				if meta.NextPaginationIndex == nil {
					break
				}
				q = fmt.Sprintf("limit=%d&reversePagination=true&paginationIndex=%s", limit, *meta.NextPaginationIndex)
			}
			if !slices.Equal(seen, itemIDs(all)) {
				t.Fatalf("limit %d reverse: %v\nwant %v", limit, seen, itemIDs(all))
			}
		}

		// skipCount jumps to a page; the metadata echoes the request.
		imgs, meta := creations(t, srv, u.SessionID, "limit=5&skipCount=20")
		if !slices.Equal(imageIDs(imgs), newest[20:]) || meta.SkipCount != 20 || meta.NextPaginationIndex != nil {
			t.Fatalf("skip: %v %+v", imageIDs(imgs), meta)
		}
		imgs, meta = creations(t, srv, u.SessionID, "limit=5&skipCount=5")
		if !slices.Equal(imageIDs(imgs), newest[5:10]) || meta.NextPaginationIndex == nil {
			t.Fatalf("skip 5: %v %+v", imageIDs(imgs), meta)
		}
		// The next index is the created_at of the last Item returned.
		idx := fmt.Sprint(all[3].CreatedAt.UnixMilli())
		imgs, meta = creations(t, srv, u.SessionID, "limit=2&paginationIndex="+idx)
		if !slices.Equal(imageIDs(imgs), []string{all[2].ID, all[1].ID}) || meta.PaginationIndex != idx ||
			*meta.NextPaginationIndex != fmt.Sprint(all[1].CreatedAt.UnixMilli()) {
			t.Fatalf("from %s: %v %+v", idx, imageIDs(imgs), meta)
		}
		if _, meta := creations(t, srv, u.SessionID, "limit=1000"); meta.Limit != 1000 || meta.Count != 23 {
			t.Fatalf("limit 1000: %+v", meta)
		}
	})
}

// A guest's Items move to the account it signs up or signs in with.
func TestGuestItemsMoveOnSignIn(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		ctx := context.Background()
		st := srv.App.Store
		existing := testsupport.SignUp(t, srv, "existing@example.com")
		putItems(t, srv, apiItem(existing.UserID, 0))

		for _, signIn := range []bool{false, true} {
			session := uuid.NewString()
			now := srv.Clock.Now()
			guest := &aimg.User{ID: uuid.NewString(), Domain: "localhost", IsGuest: true, CreatedAt: itemTime, UpdatedAt: itemTime}
			if _, err := st.GuestSession(ctx, &aimg.Session{ID: session, CreatedAt: now, LastSeenAt: now}, guest, now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			mine := []*aimg.Item{apiItem(guest.ID, 0), apiItem(guest.ID, time.Second)}
			putItems(t, srv, mine...)
			if imgs, _ := creations(t, srv, session, ""); len(imgs) != 2 {
				t.Fatalf("guest lists %d Items", len(imgs))
			}

			var env *testsupport.Envelope
			var userID string
			if signIn {
				env = srv.Post(t, "/api/authenticateUser", session, map[string]any{"email": existing.Email, "password": testsupport.TestPassword})
				userID = existing.UserID
			} else {
				env = srv.Post(t, "/api/createUser", session, map[string]any{"email": "new@example.com", "password": testsupport.TestPassword})
			}
			testsupport.ExpectOK(t, env)
			var self testsupport.SelfUser
			env.Decode(t, &self)
			if userID == "" {
				userID = self.UserID
			}
			imgs, meta := creations(t, srv, self.SessionID, "")
			for _, it := range mine {
				if !slices.Contains(imageIDs(imgs), it.ID) {
					t.Fatalf("signIn=%v: guest Item %s not in the account's creations %v", signIn, it.ID, imageIDs(imgs))
				}
			}
			for _, im := range imgs {
				if im.UserID != userID {
					t.Fatalf("Item %s owned by %s, want %s", im.ID, im.UserID, userID)
				}
			}
			if *meta.TotalCount != int64(len(imgs)) {
				t.Fatalf("totalCount %d for %d Items", *meta.TotalCount, len(imgs))
			}
		}
		if imgs, _ := creations(t, srv, existing.SessionID, ""); len(imgs) != 3 {
			t.Fatalf("existing account lists %d Items, want 3", len(imgs))
		}
	})
}
