package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
)

type tagsAnswer struct {
	Success   bool     `json:"success"`
	Modified  []string `json:"modified"`
	Actual    []string `json:"actual"`
	OverLimit []string `json:"overLimit"`
}

type apiTag struct {
	Name       string `json:"name"`
	UsageCount int64  `json:"usageCount"`
}

func tagCall(t *testing.T, srv *testsupport.Server, op, session string, body map[string]any) *testsupport.Envelope {
	t.Helper()
	return srv.Post(t, "/api/"+op, session, body)
}

func tagOK(t *testing.T, srv *testsupport.Server, op, session string, body map[string]any) tagsAnswer {
	t.Helper()
	env := tagCall(t, srv, op, session, body)
	testsupport.ExpectOK(t, env)
	var a tagsAnswer
	env.Decode(t, &a)
	return a
}

func tagsList(t *testing.T, srv *testsupport.Server, query string) ([]apiTag, pageMeta) {
	t.Helper()
	env := srv.Get(t, "/api/getTagsList?"+query, "")
	testsupport.ExpectOK(t, env)
	var tags []apiTag
	env.Decode(t, &tags)
	var m pageMeta
	if err := json.Unmarshal(env.Metadata, &m); err != nil {
		t.Fatal(err)
	}
	return tags, m
}

// wantUsage checks every tag's usage_count against a recount from
// item_tags and folder_tags, and the named tags' counts.
func wantUsage(t *testing.T, srv *testsupport.Server, want map[string]int64) {
	t.Helper()
	got, err := srv.App.Store.TagUsageRecount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for name, u := range got {
		if u.Stored != u.Recount {
			t.Errorf("tag %q: usage_count %d, recount %d", name, u.Stored, u.Recount)
		}
	}
	for name, n := range want {
		if got[name].Stored != n {
			t.Errorf("tag %q: usage %d, want %d", name, got[name].Stored, n)
		}
	}
}

func itemTags(t *testing.T, srv *testsupport.Server, session, id string) []string {
	t.Helper()
	env := srv.Get(t, "/api/getItem?imageID="+id, session)
	testsupport.ExpectOK(t, env)
	var img apiImage
	env.Decode(t, &img)
	return img.Tags
}

// add, remove and set on an own Item; every Item view shows the tags;
// getTagsList counts them.
func TestTagsOnItem(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		it, other := apiItem(a.UserID, 0), apiItem(a.UserID, time.Second)
		putItems(t, srv, it, other)

		ans := tagOK(t, srv, "addTagsToItem", a.SessionID, map[string]any{"imageID": it.ID, "tags": []string{"Fox", "red", "fox"}})
		if !ans.Success || !slices.Equal(ans.Modified, []string{"fox", "red"}) || !slices.Equal(ans.Actual, []string{"fox", "red"}) || ans.OverLimit != nil {
			t.Fatalf("add: %+v", ans)
		}
		// A comma-separated string is accepted too; carried tags are not modified again.
		ans = tagOK(t, srv, "addTagsToItem", a.SessionID, map[string]any{"imageID": it.ID, "tags": "red, autumn"})
		if !ans.Success || !slices.Equal(ans.Modified, []string{"autumn"}) || !slices.Equal(ans.Actual, []string{"autumn", "fox", "red"}) {
			t.Fatalf("add string: %+v", ans)
		}
		ans = tagOK(t, srv, "addTagsToItem", a.SessionID, map[string]any{"imageID": it.ID, "tags": []string{"fox"}})
		if ans.Success || len(ans.Modified) != 0 || len(ans.Actual) != 3 {
			t.Fatalf("add again: %+v", ans)
		}
		tagOK(t, srv, "addTagsToItem", a.SessionID, map[string]any{"imageID": other.ID, "tags": []string{"fox"}})
		wantUsage(t, srv, map[string]int64{"fox": 2, "red": 1, "autumn": 1})

		// Every view of the Item shows its tags.
		if got := itemTags(t, srv, a.SessionID, it.ID); !slices.Equal(got, []string{"autumn", "fox", "red"}) {
			t.Fatalf("getItem tags %v", got)
		}
		env := srv.Get(t, "/api/getItemDetails?imageID="+it.ID, a.SessionID)
		testsupport.ExpectOK(t, env)
		var info apiImage
		env.Decode(t, &info)
		if !slices.Equal(info.Tags, []string{"autumn", "fox", "red"}) {
			t.Fatalf("getItemDetails tags %v", info.Tags)
		}
		imgs, _ := creations(t, srv, a.SessionID, "")
		byID := map[string][]string{}
		for _, img := range imgs {
			byID[img.ID] = img.Tags
		}
		if !slices.Equal(byID[it.ID], []string{"autumn", "fox", "red"}) || !slices.Equal(byID[other.ID], []string{"fox"}) {
			t.Fatalf("getMyCreations tags %v", byID)
		}
		env = srv.Get(t, "/api/getBatchItems?batchID="+it.BatchID, a.SessionID)
		testsupport.ExpectOK(t, env)
		var batch []apiImage
		env.Decode(t, &batch)
		if len(batch) != 1 || !slices.Equal(batch[0].Tags, []string{"autumn", "fox", "red"}) {
			t.Fatalf("getBatchItems %+v", batch)
		}

		ans = tagOK(t, srv, "removeTagsFromItem", a.SessionID, map[string]any{"imageID": it.ID, "tags": []string{"RED", "nothere"}})
		if !ans.Success || !slices.Equal(ans.Modified, []string{"red"}) || !slices.Equal(ans.Actual, []string{"autumn", "fox"}) {
			t.Fatalf("remove: %+v", ans)
		}
		ans = tagOK(t, srv, "removeTagsFromItem", a.SessionID, map[string]any{"imageID": it.ID, "tags": []string{"red"}})
		if ans.Success || len(ans.Modified) != 0 {
			t.Fatalf("remove again: %+v", ans)
		}
		ans = tagOK(t, srv, "setTagsForItem", a.SessionID, map[string]any{"imageID": it.ID, "tags": []string{"winter", "fox"}})
		if !ans.Success || !slices.Equal(ans.Actual, []string{"fox", "winter"}) {
			t.Fatalf("set: %+v", ans)
		}
		wantUsage(t, srv, map[string]int64{"fox": 2, "red": 0, "autumn": 0, "winter": 1})
		// An empty set clears the Item's tags.
		ans = tagOK(t, srv, "setTagsForItem", a.SessionID, map[string]any{"imageID": it.ID, "tags": []string{}})
		if !ans.Success || len(ans.Actual) != 0 || ans.Actual == nil {
			t.Fatalf("set empty: %+v", ans)
		}
		if got := itemTags(t, srv, a.SessionID, it.ID); got == nil || len(got) != 0 {
			t.Fatalf("tags after clearing: %v", got)
		}
		wantUsage(t, srv, map[string]int64{"fox": 1, "winter": 0})
		// Tags with no use are not listed.
		tags, meta := tagsList(t, srv, "")
		if fmt.Sprint(tags) != "[{fox 1}]" || *meta.TotalCount != 1 {
			t.Fatalf("getTagsList %v total %v", tags, *meta.TotalCount)
		}

		// Missing pieces are 400s naming the field.
		testsupport.ExpectError(t, tagCall(t, srv, "addTagsToItem", a.SessionID, map[string]any{"tags": []string{"x"}}), 400, "imageID")
		testsupport.ExpectError(t, tagCall(t, srv, "addTagsToItem", a.SessionID, map[string]any{"imageID": it.ID, "tags": []string{}}), 400, "tags")
		testsupport.ExpectError(t, tagCall(t, srv, "addTagsToItem", a.SessionID, map[string]any{"imageID": it.ID}), 400, "tags")
		testsupport.ExpectError(t, tagCall(t, srv, "addTagsToItem", "", map[string]any{"imageID": it.ID, "tags": []string{"x"}}), 401, "")
	})
}

// Names are lower-cased, then checked against the spec's expression, whose
// "$-_" is the range from '$' to '_'.
func TestTagNames(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		it := apiItem(a.UserID, 0)
		putItems(t, srv, it)
		good := []string{"ABC", strings.Repeat("x", 32), "a.b+c!d*e'f(g)h", "$", "%&,-/", ":;<=>?@", "[\\]^_", "0-9"}
		ans := tagOK(t, srv, "setTagsForItem", a.SessionID, map[string]any{"imageID": it.ID, "tags": good})
		want := []string{"$", "%&,-/", "0-9", ":;<=>?@", "[\\]^_", "a.b+c!d*e'f(g)h", "abc", strings.Repeat("x", 32)}
		if !slices.Equal(ans.Actual, want) {
			t.Fatalf("actual %q\nwant   %q", ans.Actual, want)
		}
		for _, bad := range []string{strings.Repeat("y", 33), "a b", "#", "`", "{", "~", "é", `"`, "ta\tb", "|"} {
			env := tagCall(t, srv, "addTagsToItem", a.SessionID, map[string]any{"imageID": it.ID, "tags": []string{"fine", bad}})
			testsupport.ExpectError(t, env, 400, "tags: "+aimg.Quote(bad)+" is not a valid tag")
		}
		if got := itemTags(t, srv, a.SessionID, it.ID); !slices.Equal(got, want) {
			t.Fatalf("a refused call changed the tags: %q", got)
		}
		wantUsage(t, srv, map[string]int64{"fine": 0, "abc": 1})
	})
}

// At most 50 tags per Item: an add past 50 adds what fits and names the
// rest in overLimit; a set of 51 is refused whole.
func TestTagLimit(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		it := apiItem(a.UserID, 0)
		putItems(t, srv, it)
		names := func(from, to int) []string {
			var out []string
			for i := from; i < to; i++ {
				out = append(out, fmt.Sprintf("t%02d", i))
			}
			return out
		}
		tagOK(t, srv, "addTagsToItem", a.SessionID, map[string]any{"imageID": it.ID, "tags": names(0, 48)})
		ans := tagOK(t, srv, "addTagsToItem", a.SessionID, map[string]any{"imageID": it.ID, "tags": append([]string{"t00"}, names(48, 53)...)})
		if !ans.Success || !slices.Equal(ans.Modified, names(48, 50)) || !slices.Equal(ans.OverLimit, names(50, 53)) || len(ans.Actual) != 50 {
			t.Fatalf("add past 50: %+v", ans)
		}
		ans = tagOK(t, srv, "addTagsToItem", a.SessionID, map[string]any{"imageID": it.ID, "tags": []string{"t60"}})
		if ans.Success || !slices.Equal(ans.OverLimit, []string{"t60"}) || len(ans.Actual) != 50 {
			t.Fatalf("add to a full Item: %+v", ans)
		}
		testsupport.ExpectError(t, tagCall(t, srv, "setTagsForItem", a.SessionID, map[string]any{"imageID": it.ID, "tags": names(0, 51)}), 400, "tags: at most 50")
		if got := itemTags(t, srv, a.SessionID, it.ID); !slices.Equal(got, names(0, 50)) {
			t.Fatalf("tags %v", got)
		}
		ans = tagOK(t, srv, "setTagsForItem", a.SessionID, map[string]any{"imageID": it.ID, "tags": names(10, 60)})
		if !slices.Equal(ans.Actual, names(10, 60)) {
			t.Fatalf("set 50: %+v", ans)
		}
		wantUsage(t, srv, map[string]int64{"t00": 0, "t59": 1, "t60": 0})
	})
}

// Another user's Item or Folder is not found and stays untouched; only
// live completed Items are tagged.
func TestTagsCrossUserAndItemState(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		itA := apiItem(a.UserID, 0)
		queued := apiItem(a.UserID, time.Second)
		queued.Status, queued.CompletedAt, queued.FileID = aimg.StatusQueued, nil, ""
		deleted := apiItem(a.UserID, 2*time.Second)
		now := itemTime.Add(time.Hour)
		deleted.DeletedAt = &now
		putItems(t, srv, itA, queued, deleted)
		f := createFolder(t, srv, a.SessionID, "mine")
		tagOK(t, srv, "addTagsToItem", a.SessionID, map[string]any{"imageID": itA.ID, "tags": []string{"keep"}})
		tagOK(t, srv, "addTagsToItem", a.SessionID, map[string]any{"folderID": f.ID, "tags": []string{"keep"}})

		for _, op := range []string{"addTagsToItem", "removeTagsFromItem", "setTagsForItem"} {
			testsupport.ExpectError(t, tagCall(t, srv, op, b.SessionID, map[string]any{"imageID": itA.ID, "tags": []string{"keep", "bob"}}), 404, "Item not found")
			testsupport.ExpectError(t, tagCall(t, srv, op, b.SessionID, map[string]any{"folderID": f.ID, "tags": []string{"keep", "bob"}}), 404, "Folder not found")
			// folderID wins over imageID.
			testsupport.ExpectError(t, tagCall(t, srv, op, b.SessionID, map[string]any{"folderID": f.ID, "imageID": uuid.NewString(), "tags": []string{"bob"}}), 404, "Folder not found")
		}
		testsupport.ExpectError(t, tagCall(t, srv, "addTagsToItem", a.SessionID, map[string]any{"imageID": uuid.NewString(), "tags": []string{"x"}}), 404, "Item not found")
		testsupport.ExpectError(t, tagCall(t, srv, "addTagsToItem", a.SessionID, map[string]any{"folderID": uuid.NewString(), "tags": []string{"x"}}), 404, "Folder not found")
		testsupport.ExpectError(t, tagCall(t, srv, "addTagsToItem", a.SessionID, map[string]any{"folderID": "p-" + uuid.NewString(), "tags": []string{"x"}}), 404, "Folder not found")
		testsupport.ExpectError(t, tagCall(t, srv, "addTagsToItem", a.SessionID, map[string]any{"folderID": "nope", "tags": []string{"x"}}), 400, "folderID")
		testsupport.ExpectError(t, tagCall(t, srv, "addTagsToItem", a.SessionID, map[string]any{"imageID": queued.ID, "tags": []string{"x"}}), 409, "Only completed Items can be tagged")
		testsupport.ExpectError(t, tagCall(t, srv, "addTagsToItem", a.SessionID, map[string]any{"imageID": deleted.ID, "tags": []string{"x"}}), 410, "Item is deleted")
		// A guest may tag its own Items but has no Folders.
		guestSession, clock := uuid.NewString(), srv.Clock.Now()
		guest := &aimg.User{ID: uuid.NewString(), Domain: "localhost", IsGuest: true, CreatedAt: itemTime, UpdatedAt: itemTime}
		if _, err := srv.App.Store.GuestSession(context.Background(), &aimg.Session{ID: guestSession, CreatedAt: clock, LastSeenAt: clock}, guest, clock.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		gi := apiItem(guest.ID, 0)
		putItems(t, srv, gi)
		if ans := tagOK(t, srv, "addTagsToItem", guestSession, map[string]any{"imageID": gi.ID, "tags": []string{"guest"}}); !ans.Success {
			t.Fatalf("guest: %+v", ans)
		}
		testsupport.ExpectError(t, tagCall(t, srv, "addTagsToItem", guestSession, map[string]any{"folderID": f.ID, "tags": []string{"x"}}), 401, "Sign in")
		testsupport.ExpectError(t, tagCall(t, srv, "addTagsToItem", guestSession, map[string]any{"imageID": itA.ID, "tags": []string{"x"}}), 404, "Item not found")

		if got := itemTags(t, srv, a.SessionID, itA.ID); !slices.Equal(got, []string{"keep"}) {
			t.Fatalf("A's Item tags %v", got)
		}
		if got := folderByID(t, srv, a.SessionID, f.ID).Tags; !slices.Equal(got, []string{"keep"}) {
			t.Fatalf("A's Folder tags %v", got)
		}
		wantUsage(t, srv, map[string]int64{"keep": 2, "bob": 0, "x": 0, "guest": 1})
	})
}

// A Folder's tags: shown on the Folder, counted in usage, gone with it.
func TestTagsOnFolder(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		it := apiItem(a.UserID, 0)
		putItems(t, srv, it)
		f := createFolder(t, srv, a.SessionID, "one")
		if f.Tags == nil || len(f.Tags) != 0 {
			t.Fatalf("new Folder tags %v", f.Tags)
		}
		ans := tagOK(t, srv, "addTagsToItem", a.SessionID, map[string]any{"folderID": f.ID, "imageID": it.ID, "tags": []string{"sea", "sky"}})
		if !slices.Equal(ans.Actual, []string{"sea", "sky"}) {
			t.Fatalf("folder add %+v", ans)
		}
		if got := itemTags(t, srv, a.SessionID, it.ID); len(got) != 0 {
			t.Fatalf("the Item got the Folder's tags: %v", got)
		}
		tagOK(t, srv, "addTagsToItem", a.SessionID, map[string]any{"imageID": it.ID, "tags": []string{"sea"}})
		if got := folderByID(t, srv, a.SessionID, f.ID).Tags; !slices.Equal(got, []string{"sea", "sky"}) {
			t.Fatalf("Folder tags %v", got)
		}
		wantUsage(t, srv, map[string]int64{"sea": 2, "sky": 1})
		testsupport.ExpectOK(t, srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: "/api/deleteSelfFolder?folderID=" + f.ID, SessionID: a.SessionID}))
		wantUsage(t, srv, map[string]int64{"sea": 1, "sky": 0})
	})
}

// deleteItems clears the Items' tags; restoring brings none back.
func TestDeleteItemsClearsTags(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		x, y := apiItem(a.UserID, 0), apiItem(a.UserID, time.Second)
		putItems(t, srv, x, y)
		tagOK(t, srv, "addTagsToItem", a.SessionID, map[string]any{"imageID": x.ID, "tags": []string{"one", "two"}})
		tagOK(t, srv, "addTagsToItem", a.SessionID, map[string]any{"imageID": y.ID, "tags": []string{"two"}})
		bulkOK(t, deleteItems(t, srv, a.SessionID, "", idsQuery(x.ID)), 1)
		wantUsage(t, srv, map[string]int64{"one": 0, "two": 1})
		if tags, meta := tagsList(t, srv, ""); fmt.Sprint(tags) != "[{two 1}]" || *meta.TotalCount != 1 {
			t.Fatalf("getTagsList after delete: %v", tags)
		}
		bulkOK(t, srv.AdminPost(t, "/api/restoreItems", map[string]any{"imageIDs": []string{x.ID}}), 1)
		if got := itemTags(t, srv, a.SessionID, x.ID); len(got) != 0 {
			t.Fatalf("restored Item has tags %v", got)
		}
		wantUsage(t, srv, map[string]int64{"one": 0, "two": 1})
	})
}

// getTagsList: most used first, ties by name; filter; exact totalCount;
// pages by skipCount under one paginationIndex; no session needed.
func TestGetTagsList(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		var items []*aimg.Item
		for i := range 4 {
			items = append(items, apiItem(a.UserID, time.Duration(i)*time.Second))
		}
		putItems(t, srv, items...)
		// usage: d 4, b 3, a 2, c 2, e 1, f 1, g 1
		for i, it := range items {
			tags := []string{"d"}
			if i < 3 {
				tags = append(tags, "b")
			}
			if i < 2 {
				tags = append(tags, "c", "a")
			}
			tags = append(tags, []string{"e", "f", "g", "d"}[i])
			tagOK(t, srv, "setTagsForItem", a.SessionID, map[string]any{"imageID": it.ID, "tags": tags})
		}
		all := "[{d 4} {b 3} {a 2} {c 2} {e 1} {f 1} {g 1}]"
		if tags, meta := tagsList(t, srv, ""); fmt.Sprint(tags) != all || *meta.TotalCount != 7 || meta.NextPaginationIndex != nil {
			t.Fatalf("all: %v %+v", tags, meta)
		}
		tags, meta := tagsList(t, srv, "limit=3")
		if fmt.Sprint(tags) != "[{d 4} {b 3} {a 2}]" || *meta.TotalCount != 7 || meta.NextPaginationIndex == nil {
			t.Fatalf("page 1: %v %+v", tags, meta)
		}
		var got []apiTag
		for skip := 0; ; skip += 3 {
			page, m := tagsList(t, srv, fmt.Sprintf("limit=3&skipCount=%d&paginationIndex=%s", skip, *meta.NextPaginationIndex))
			got = append(got, page...)
			if m.NextPaginationIndex == nil {
				break
			}
			if skip > 10 {
				t.Fatal("no end")
			}
		}
		if fmt.Sprint(got) != all {
			t.Fatalf("pages: %v", got)
		}
		// A bound before every tag's first use lists none (totalCount ignores it).
		if tags, meta := tagsList(t, srv, "paginationIndex=1"); len(tags) != 0 || *meta.TotalCount != 7 {
			t.Fatalf("bound 1: %v %+v", tags, meta)
		}
		if tags, _ := tagsList(t, srv, "reversePagination=true&limit=2"); fmt.Sprint(tags) != "[{g 1} {f 1}]" {
			t.Fatalf("reversed: %v", tags)
		}
		if tags, meta := tagsList(t, srv, "tags=C,a,zzz"); fmt.Sprint(tags) != "[{a 2} {c 2}]" || *meta.TotalCount != 2 {
			t.Fatalf("filtered: %v %+v", tags, meta)
		}
		testsupport.ExpectError(t, srv.Get(t, "/api/getTagsList?limit=101", ""), 400, "limit")
		testsupport.ExpectError(t, srv.Get(t, "/api/getTagsList?tags=a%20b", ""), 400, "tags")
	})
}

// getTagsList is limited per client address.
func TestGetTagsListRateLimited(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	var last *testsupport.Envelope
	for range 200 {
		if last = srv.Get(t, "/api/getTagsList", ""); last.Status != http.StatusOK {
			break
		}
	}
	testsupport.ExpectError(t, last, 429, "Too many requests")
}

// Concurrent adds and removes on shared Items and Folders from several
// goroutines leave usageCount equal to a recount of the base tables.
func TestTagUsageConcurrent(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		var items []*aimg.Item
		for i := range 4 {
			items = append(items, apiItem(a.UserID, time.Duration(i)*time.Second))
		}
		putItems(t, srv, items...)
		f := createFolder(t, srv, a.SessionID, "shared")
		targets := []map[string]any{{"folderID": f.ID}}
		for _, it := range items {
			targets = append(targets, map[string]any{"imageID": it.ID})
		}
		names := []string{"p", "q", "r", "s", "t", "u"}
		ops := []string{"addTagsToItem", "removeTagsFromItem", "setTagsForItem"}
		// Two more tagged Items are deleted while the calls run, and a second
		// tagged Folder: their tags go in the same transactions.
		doomed := []*aimg.Item{apiItem(a.UserID, time.Minute), apiItem(a.UserID, time.Minute+time.Second)}
		putItems(t, srv, doomed...)
		f2 := createFolder(t, srv, a.SessionID, "doomed")
		for _, it := range doomed {
			targets = append(targets, map[string]any{"imageID": it.ID})
			tagOK(t, srv, "setTagsForItem", a.SessionID, map[string]any{"imageID": it.ID, "tags": []string{"p", "q", "r", "s"}})
		}
		targets = append(targets, map[string]any{"folderID": f2.ID})
		tagOK(t, srv, "setTagsForItem", a.SessionID, map[string]any{"folderID": f2.ID, "tags": []string{"s", "t", "u"}})
		var wg sync.WaitGroup
		errs := make(chan string, 200)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, it := range doomed {
				if env := deleteItems(t, srv, a.SessionID, "", idsQuery(it.ID)); env.Status != http.StatusOK {
					errs <- string(env.Raw)
				}
			}
			env := srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: "/api/deleteSelfFolder?folderID=" + f2.ID, SessionID: a.SessionID})
			if env.Status != http.StatusOK {
				errs <- string(env.Raw)
			}
		}()
		for g := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 15 {
					body := map[string]any{}
					for k, v := range targets[(g+i)%len(targets)] {
						body[k] = v
					}
					// Overlapping sets in different orders.
					var tags []string
					for j := range 3 {
						tags = append(tags, names[(g*7+i*3+j*5)%len(names)])
					}
					if g%2 == 1 {
						slices.Reverse(tags)
					}
					body["tags"] = tags
					env := srv.Post(t, "/api/"+ops[(g+i)%3], a.SessionID, body)
					switch {
					case env.Status == http.StatusOK:
					case env.Status == http.StatusGone && slices.ContainsFunc(doomed, func(it *aimg.Item) bool { return it.ID == body["imageID"] }):
					case env.Status == http.StatusNotFound && body["folderID"] == f2.ID:
					default:
						errs <- string(env.Raw)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		left, err := srv.App.Store.ItemTags(context.Background(), []string{doomed[0].ID, doomed[1].ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 0 {
			t.Fatalf("deleted Items still carry tags: %v", left)
		}
		wantUsage(t, srv, nil)
		// The list agrees with the recount.
		got, err := srv.App.Store.TagUsageRecount(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		tags, meta := tagsList(t, srv, "")
		var n int64
		for _, tg := range tags {
			if got[tg.Name].Recount != tg.UsageCount {
				t.Errorf("%s: listed %d, recount %d", tg.Name, tg.UsageCount, got[tg.Name].Recount)
			}
			n++
		}
		if *meta.TotalCount != n {
			t.Errorf("totalCount %d, listed %d", *meta.TotalCount, n)
		}
	})
}
