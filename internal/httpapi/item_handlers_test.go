package httpapi_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
)

var itemTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// apiItem is a completed image Item of userID created at itemTime+offset.
func apiItem(userID string, offset time.Duration) *aimg.Item {
	created := itemTime.Add(offset)
	done := created.Add(1500 * time.Millisecond)
	return &aimg.Item{
		ID: uuid.NewString(), UserID: userID, BatchID: uuid.NewString(), MType: aimg.MTypeImage,
		MediaType: "StaticImage", Status: aimg.StatusCompleted, ModelID: "f222", Prompt: "a red fox",
		NegPrompt: "blurry",
		Params: aimg.GenerationParams{Steps: 20, Seed: 42, Subseed: 7, SubseedStrength: 0.5, Sampler: "Euler a",
			CFGScale: 7, Width: 512, Height: 768},
		FileID: uuid.NewString(), CreatedAt: created, UpdatedAt: created, CompletedAt: &done,
	}
}

func putItems(t *testing.T, srv *testsupport.Server, items ...*aimg.Item) {
	t.Helper()
	if err := srv.App.Store.InsertItems(context.Background(), items); err != nil {
		t.Fatalf("insert items: %v", err)
	}
}

// apiImage is the subset of Image/ImageInfo the tests read, with raw presence checks.
type apiImage struct {
	ID                   string    `json:"id"`
	UserID               string    `json:"userID"`
	BatchID              string    `json:"batchID"`
	URL                  string    `json:"url"`
	CompletedDate        *int64    `json:"completedDate"`
	CompletedTimestamp   *string   `json:"completedTimestamp"`
	MType                string    `json:"mtype"`
	MediaType            string    `json:"mediaType"`
	Tags                 []string  `json:"tags"`
	IsLiked              *bool     `json:"isLiked"`
	IsPublic             bool      `json:"isPublic"`
	IsPubliclyVisible    bool      `json:"isPubliclyVisible"`
	PublicApprovalStatus *string   `json:"publicApprovalStatus"`
	FolderID             *string   `json:"folderID"`
	FolderAddedDate      *int64    `json:"folderAddedDate"`
	FolderAddedTimestamp *string   `json:"folderAddedTimestamp"`
	Username             string    `json:"username"`
	Prompt               string    `json:"prompt"`
	NegPrompt            string    `json:"negprompt"`
	GeneratorVersion     string    `json:"generatorVersion"`
	ModelName            string    `json:"modelName"`
	ModelID              string    `json:"modelID"`
	Steps                int       `json:"steps"`
	Seed                 int64     `json:"seed"`
	SubseedStrength      float64   `json:"subseed_strength"`
	Lora                 []string  `json:"lora"`
	LoraStrength         []float64 `json:"lora_strength"`
	Sampler              string    `json:"sampler"`
	CFGScale             float64   `json:"cfgscale"`
	Width                int       `json:"width"`
	Height               int       `json:"height"`
}

type pageMeta struct {
	PaginationIndex     string  `json:"paginationIndex"`
	NextPaginationIndex *string `json:"nextPaginationIndex"`
	ReversePagination   bool    `json:"reversePagination"`
	SkipCount           int     `json:"skipCount"`
	Limit               int     `json:"limit"`
	Count               int     `json:"count"`
	TotalCount          *int64  `json:"totalCount"`
}

func creations(t *testing.T, srv *testsupport.Server, session, query string) ([]apiImage, pageMeta) {
	t.Helper()
	env := srv.Get(t, "/api/getMyCreations?"+query, session)
	testsupport.ExpectOK(t, env)
	var imgs []apiImage
	env.Decode(t, &imgs)
	var meta pageMeta
	if err := json.Unmarshal(env.Metadata, &meta); err != nil {
		t.Fatalf("metadata %s: %v", env.Metadata, err)
	}
	if meta.Count != len(imgs) || imgs == nil {
		t.Fatalf("count %d for %d Items (payload %s)", meta.Count, len(imgs), env.Payload)
	}
	return imgs, meta
}

func imageIDs(imgs []apiImage) []string {
	out := make([]string, len(imgs))
	for i, im := range imgs {
		out[i] = im.ID
	}
	return out
}

func itemIDs(items []*aimg.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

func TestItemEndpoints(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		alice := testsupport.SignUp(t, srv, "alice@example.com")
		bob := testsupport.SignUp(t, srv, "bob@example.com")
		aliceName := testsupport.Self(t, srv, alice.SessionID).Username

		img := apiItem(alice.UserID, 0)
		img.Params.Lora, img.Params.LoraStrength = []string{"detail"}, []float64{0.8}
		vid := apiItem(alice.UserID, time.Second)
		vid.MType, vid.MediaType = aimg.MTypeVideo, "Video"
		queued := apiItem(alice.UserID, 2*time.Second)
		queued.Status, queued.CompletedAt, queued.FileID = aimg.StatusQueued, nil, ""
		public := apiItem(alice.UserID, 3*time.Second)
		added := itemTime.Add(time.Hour)
		public.FolderID, public.FolderAddedAt = "p-"+uuid.NewString(), &added
		public.IsPublic, public.PublicApprovalStatus = true, aimg.ApprovalApproved
		gone := apiItem(alice.UserID, 4*time.Second)
		gone.DeletedAt = &added
		putItems(t, srv, img, vid, queued, public, gone)

		t.Run("getItem", func(t *testing.T) {
			env := srv.Get(t, "/api/getItem?imageID="+img.ID, alice.SessionID)
			testsupport.ExpectOK(t, env)
			var got apiImage
			env.Decode(t, &got)
			wantURL := srv.App.Config.PublicURL + "/api/getFile?id=" + url.QueryEscape(img.FileID)
			if got.ID != img.ID || got.UserID != alice.UserID || got.BatchID != img.BatchID || got.URL != wantURL ||
				got.MType != "image" || got.MediaType != "StaticImage" || got.Tags == nil || len(got.Tags) != 0 ||
				got.IsLiked == nil || *got.IsLiked || got.IsPublic || got.IsPubliclyVisible || got.FolderID != nil ||
				got.PublicApprovalStatus == nil || *got.PublicApprovalStatus != "none" {
				t.Fatalf("getItem = %s", env.Payload)
			}
			if got.CompletedDate == nil || *got.CompletedDate != img.CompletedAt.UnixMilli() ||
				got.CompletedTimestamp == nil || *got.CompletedTimestamp != "2026-01-02T03:04:06.500Z" {
				t.Fatalf("completed = %v %v", got.CompletedDate, got.CompletedTimestamp)
			}
			if !strings.HasPrefix(got.URL, "http") {
				t.Fatalf("url %q is not absolute", got.URL)
			}

			env = srv.Get(t, "/api/getItem?imageID="+queued.ID, alice.SessionID)
			testsupport.ExpectOK(t, env)
			got = apiImage{}
			env.Decode(t, &got)
			if got.URL != "" || got.CompletedDate != nil || got.CompletedTimestamp != nil {
				t.Fatalf("queued Item = %s", env.Payload)
			}

			// Someone else sees only the publicly visible Item, without its approval status.
			env = srv.Get(t, "/api/getItem?imageID="+public.ID, bob.SessionID)
			testsupport.ExpectOK(t, env)
			got = apiImage{}
			env.Decode(t, &got)
			if !got.IsPubliclyVisible || !got.IsPublic || got.PublicApprovalStatus != nil || got.FolderID == nil ||
				*got.FolderID != public.FolderID || got.FolderAddedDate == nil || *got.FolderAddedDate != added.UnixMilli() ||
				got.FolderAddedTimestamp == nil {
				t.Fatalf("public Item for another user = %s", env.Payload)
			}
			testsupport.ExpectError(t, srv.Get(t, "/api/getItem?imageID="+img.ID, bob.SessionID), 404, "Item not found")
			testsupport.ExpectError(t, srv.Get(t, "/api/getItem?imageID="+gone.ID, alice.SessionID), 404, "Item not found")
			testsupport.ExpectError(t, srv.Get(t, "/api/getItem?imageID="+uuid.NewString(), alice.SessionID), 404, "Item not found")
			testsupport.ExpectError(t, srv.Get(t, "/api/getItem", alice.SessionID), 400, "imageID")
			testsupport.ExpectError(t, srv.Get(t, "/api/getItem?imageID="+img.ID, ""), 401, "")
			testsupport.ExpectError(t, srv.Get(t, "/api/getItem?imageID="+img.ID, "not-a-uuid"), 400, "X-Session-ID")
			// A fresh guest session sees nothing private either.
			testsupport.ExpectError(t, srv.Get(t, "/api/getItem?imageID="+img.ID, uuid.NewString()), 404, "Item not found")

			// Admins see every Item with its approval status.
			env = srv.AdminGet(t, "/api/getItem?imageID="+img.ID)
			testsupport.ExpectOK(t, env)
			got = apiImage{}
			env.Decode(t, &got)
			if got.ID != img.ID || got.PublicApprovalStatus == nil {
				t.Fatalf("admin getItem = %s", env.Payload)
			}
		})

		t.Run("getItemDetails", func(t *testing.T) {
			env := srv.Get(t, "/api/getItemDetails?imageID="+img.ID, alice.SessionID)
			testsupport.ExpectOK(t, env)
			var got apiImage
			env.Decode(t, &got)
			model, _ := srv.App.Config.Service.Model("f222")
			if got.ID != img.ID || got.Username != aliceName || got.Prompt != "a red fox" || got.NegPrompt != "blurry" ||
				got.GeneratorVersion != "1" || got.ModelID != "f222" || got.ModelName != model.Name || got.ModelName == "" ||
				got.Steps != 20 || got.Seed != 42 || got.SubseedStrength != 0.5 || got.Sampler != "Euler a" ||
				got.CFGScale != 7 || got.Width != 512 || got.Height != 768 || got.MType != "image" ||
				!slices.Equal(got.Lora, []string{"detail"}) || !slices.Equal(got.LoraStrength, []float64{0.8}) ||
				got.Tags == nil || got.PublicApprovalStatus == nil || got.URL == "" {
				t.Fatalf("getItemDetails = %s", env.Payload)
			}
			// lora and lora_strength are arrays even when none was used.
			env = srv.Get(t, "/api/getItemDetails?imageID="+vid.ID, alice.SessionID)
			testsupport.ExpectOK(t, env)
			if !strings.Contains(string(env.Payload), `"lora":[]`) || !strings.Contains(string(env.Payload), `"lora_strength":[]`) {
				t.Fatalf("no lora: %s", env.Payload)
			}
			env = srv.Get(t, "/api/getItemDetails?imageID="+public.ID, bob.SessionID)
			testsupport.ExpectOK(t, env)
			got = apiImage{}
			env.Decode(t, &got)
			if got.Username != aliceName || got.PublicApprovalStatus != nil {
				t.Fatalf("public details for another user = %s", env.Payload)
			}
			testsupport.ExpectError(t, srv.Get(t, "/api/getItemDetails?imageID="+img.ID, bob.SessionID), 404, "Item not found")
			testsupport.ExpectError(t, srv.Get(t, "/api/getItemDetails?imageID="+uuid.NewString(), bob.SessionID), 404, "Item not found")
			testsupport.ExpectError(t, srv.Get(t, "/api/getItemDetails", alice.SessionID), 400, "imageID")
			testsupport.ExpectError(t, srv.Get(t, "/api/getItemDetails?imageID="+img.ID, ""), 401, "")
			testsupport.ExpectError(t, srv.Get(t, "/api/getItemDetails?imageID="+img.ID, "123"), 400, "X-Session-ID")
		})

		t.Run("getLastCompletedItem", func(t *testing.T) {
			for query, want := range map[string]string{"": public.ID, "?mtype=image": public.ID, "?mtype=video": vid.ID} {
				env := srv.Get(t, "/api/getLastCompletedItem"+query, alice.SessionID)
				testsupport.ExpectOK(t, env)
				var got apiImage
				env.Decode(t, &got)
				if got.ID != want {
					t.Errorf("last completed %q = %s, want %s", query, got.ID, want)
				}
			}
			testsupport.ExpectError(t, srv.Get(t, "/api/getLastCompletedItem?mtype=gif", alice.SessionID), 400, "mtype")
			testsupport.ExpectError(t, srv.Get(t, "/api/getLastCompletedItem", bob.SessionID), 404, "No completed Item")
			testsupport.ExpectError(t, srv.Get(t, "/api/getLastCompletedItem", uuid.NewString()), 404, "No completed Item")
			testsupport.ExpectError(t, srv.Get(t, "/api/getLastCompletedItem", ""), 401, "")
			testsupport.ExpectError(t, srv.Get(t, "/api/getLastCompletedItem", "x"), 400, "X-Session-ID")
		})

		t.Run("getBatchItems", func(t *testing.T) {
			batch := uuid.NewString()
			var items []*aimg.Item
			for range 4 {
				it := apiItem(alice.UserID, time.Minute) // one batch: same requested time
				it.BatchID = batch
				items = append(items, it)
			}
			putItems(t, srv, items...)
			env := srv.Get(t, "/api/getBatchItems?batchID="+batch, alice.SessionID)
			testsupport.ExpectOK(t, env)
			var got []apiImage
			env.Decode(t, &got)
			if !slices.Equal(imageIDs(got), itemIDs(items)) {
				t.Fatalf("batch = %v, want %v", imageIDs(got), itemIDs(items))
			}
			for _, g := range got {
				if g.Username != aliceName || g.Prompt == "" || g.BatchID != batch {
					t.Fatalf("batch Item = %+v", g)
				}
			}
			testsupport.ExpectError(t, srv.Get(t, "/api/getBatchItems?batchID="+batch, bob.SessionID), 404, "Batch not found")
			testsupport.ExpectError(t, srv.Get(t, "/api/getBatchItems?batchID="+uuid.NewString(), alice.SessionID), 404, "Batch not found")
			testsupport.ExpectError(t, srv.Get(t, "/api/getBatchItems", alice.SessionID), 400, "batchID")
			testsupport.ExpectError(t, srv.Get(t, "/api/getBatchItems?batchID="+batch, ""), 401, "")
			testsupport.ExpectError(t, srv.Get(t, "/api/getBatchItems?batchID="+batch, "nope"), 400, "X-Session-ID")
			env = srv.AdminGet(t, "/api/getBatchItems?batchID="+batch)
			testsupport.ExpectOK(t, env)
			got = nil
			env.Decode(t, &got)
			if len(got) != 4 {
				t.Fatalf("admin batch = %s", env.Payload)
			}
		})

		t.Run("getMyCreations filters and counts", func(t *testing.T) {
			imgs, meta := creations(t, srv, alice.SessionID, "")
			if len(imgs) != 8 || meta.TotalCount == nil || *meta.TotalCount != 8 || meta.PaginationIndex != "0" ||
				meta.NextPaginationIndex != nil || meta.Limit != 100 || meta.SkipCount != 0 || meta.ReversePagination {
				t.Fatalf("all: %d Items, meta %+v", len(imgs), meta)
			}
			if imgs[7].ID != img.ID || imgs[4].ID != public.ID {
				t.Fatalf("order: %v", imageIDs(imgs))
			}
			cases := []struct {
				query string
				want  []string
				total int64
			}{
				{"mtype=video", []string{vid.ID}, 8},
				{"folderID=root", nil, 7}, // checked by length below
				{"folderID=" + public.FolderID, []string{public.ID}, 1},
				{"folderID=" + public.FolderID + "&mtype=video", []string{}, 1},
				{"isPublic=true", []string{public.ID}, 8},
				{"publicApprovalStatus=approved", []string{public.ID}, 8},
				{"publicApprovalStatus=pending", []string{}, 8},
				{"folderID=root&mtype=image&isPublic=false&limit=2", []string{}, 7},
			}
			for _, c := range cases {
				imgs, meta := creations(t, srv, alice.SessionID, c.query)
				if meta.TotalCount == nil || *meta.TotalCount != c.total {
					t.Errorf("%s: totalCount %v, want %d", c.query, meta.TotalCount, c.total)
				}
				switch c.query {
				case "folderID=root":
					if len(imgs) != 7 || slices.Contains(imageIDs(imgs), public.ID) {
						t.Errorf("root: %v", imageIDs(imgs))
					}
				case "folderID=root&mtype=image&isPublic=false&limit=2":
					if len(imgs) != 2 || meta.NextPaginationIndex == nil || imgs[0].MType != "image" {
						t.Errorf("%s: %v meta %+v", c.query, imageIDs(imgs), meta)
					}
				default:
					if !slices.Equal(imageIDs(imgs), c.want) {
						t.Errorf("%s: %v, want %v", c.query, imageIDs(imgs), c.want)
					}
				}
			}
			for _, c := range []struct{ query, field string }{
				{"limit=0", "limit"}, {"limit=1001", "limit"}, {"limit=ten", "limit"}, {"limit=-1", "limit"},
				{"skipCount=-1", "skipCount"}, {"skipCount=x", "skipCount"},
				{"paginationIndex=-5", "paginationIndex"}, {"paginationIndex=1e3", "paginationIndex"},
				{"reversePagination=maybe", "reversePagination"}, {"mtype=gif", "mtype"},
				{"publicApprovalStatus=maybe", "publicApprovalStatus"}, {"isPublic=perhaps", "isPublic"},
			} {
				testsupport.ExpectError(t, srv.Get(t, "/api/getMyCreations?"+c.query, alice.SessionID), 400, c.field)
			}
			testsupport.ExpectError(t, srv.Get(t, "/api/getMyCreations", ""), 401, "")
			testsupport.ExpectError(t, srv.Get(t, "/api/getMyCreations", "zzz"), 400, "X-Session-ID")

			// Bob sees none of Alice's Items; a fresh anonymous session owns nothing.
			imgs, meta = creations(t, srv, bob.SessionID, "")
			if len(imgs) != 0 || *meta.TotalCount != 0 {
				t.Fatalf("bob: %v", imageIDs(imgs))
			}
			imgs, meta = creations(t, srv, uuid.NewString(), "")
			if len(imgs) != 0 || meta.TotalCount == nil || *meta.TotalCount != 0 || meta.NextPaginationIndex != nil {
				t.Fatalf("anonymous: %v %+v", imageIDs(imgs), meta)
			}
		})
	})
}
