package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
)

// The bytes of a getMyCreations page are pinned: the spec's Image shape in
// the AIMG envelope, field order and omissions included, so a change to
// how the listing is read or encoded cannot change what clients get.
func TestMyCreationsJSONIsPinned(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		u := testsupport.SignUp(t, srv, "pinned@example.com")
		liked, tagged, queued := apiItem(u.UserID, 0), apiItem(u.UserID, time.Second), apiItem(u.UserID, 2*time.Second)
		for i, it := range []*aimg.Item{liked, tagged, queued} {
			it.ID = []string{"00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b", "00000000-0000-4000-8000-00000000000c"}[i]
			it.BatchID, it.FileID = "batch-1", "file-"+it.ID[len(it.ID)-1:]
		}
		queued.Status, queued.CompletedAt, queued.FileID, queued.MType, queued.MediaType = aimg.StatusQueued, nil, "", aimg.MTypeVideo, "Video"
		putItems(t, srv, liked, tagged, queued)
		testsupport.ExpectOK(t, srv.Post(t, "/api/likeItems", u.SessionID, map[string]any{"imageIDs": []string{liked.ID}}))
		testsupport.ExpectOK(t, srv.Post(t, "/api/addTagsToItem", u.SessionID, map[string]any{"imageID": tagged.ID, "tags": []string{"red", "fox"}}))

		env := srv.Do(t, testsupport.Req{Method: http.MethodGet, Path: "/api/getMyCreations?limit=3", SessionID: u.SessionID})
		got := strings.NewReplacer(u.UserID, "USER", srv.URL, "BASE").Replace(string(env.Raw))
		const want = `{"hasError":false,"payload":[{"id":"00000000-0000-4000-8000-00000000000c","userID":"USER","batchID":"batch-1","url":"","viewCount":0,"likeCount":0,"dislikeCount":0,"mtype":"video","mediaType":"Video","tags":[],"isLiked":false,"isDisliked":false,"isPublic":false,"isPubliclyVisible":false,"publicApprovalStatus":"none"},{"id":"00000000-0000-4000-8000-00000000000b","userID":"USER","batchID":"batch-1","url":"http://127.0.0.1:8080/api/getFile?id=file-b","viewCount":0,"likeCount":0,"dislikeCount":0,"completedDate":1767323047500,"completedTimestamp":"2026-01-02T03:04:07.500Z","mtype":"image","mediaType":"StaticImage","tags":["fox","red"],"isLiked":false,"isDisliked":false,"isPublic":false,"isPubliclyVisible":false,"publicApprovalStatus":"none"},{"id":"00000000-0000-4000-8000-00000000000a","userID":"USER","batchID":"batch-1","url":"http://127.0.0.1:8080/api/getFile?id=file-a","viewCount":0,"likeCount":1,"dislikeCount":0,"completedDate":1767323046500,"completedTimestamp":"2026-01-02T03:04:06.500Z","mtype":"image","mediaType":"StaticImage","tags":[],"isLiked":true,"isDisliked":false,"isPublic":false,"isPubliclyVisible":false,"publicApprovalStatus":"none"}],"metadata":{"paginationIndex":"0","nextPaginationIndex":null,"reversePagination":false,"skipCount":0,"limit":3,"count":3,"totalCount":3}}` + "\n"
		if got != want {
			t.Fatalf("getMyCreations body:\n%s\nwant\n%s", got, want)
		}
	})
}
