package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

// The public feed of a tag gives the same Items by either plan: from the
// tag's rows while the tag is rare, along the public feed's index once it
// is common; a tag in use nowhere gives an empty page.
func TestListPublicItemsByTag(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		u := &aimg.User{ID: uuid.NewString(), Domain: "localhost", Email: "ada@example.com", Username: "ada",
			Roles: []string{aimg.RoleUser}, CreatedAt: t0, UpdatedAt: t0}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		folder := "p-" + uuid.NewString()
		if err := st.CreateFolder(ctx, &aimg.Folder{ID: folder, UserID: u.ID, Name: "gallery", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		var items []*aimg.Item
		for i := range 5 {
			at := t0.Add(time.Duration(i) * time.Second)
			it := &aimg.Item{ID: uuid.NewString(), UserID: u.ID, BatchID: uuid.NewString(), MType: aimg.MTypeImage,
				MediaType: "StaticImage", Status: aimg.StatusCompleted, ModelID: "f222", FileID: uuid.NewString(),
				PublicApprovalStatus: aimg.ApprovalApproved, IsPublic: i != 3, FolderID: folder, FolderAddedAt: &at,
				CreatedAt: at, UpdatedAt: at, CompletedAt: &at}
			items = append(items, it)
		}
		if err := st.InsertItems(ctx, items); err != nil {
			t.Fatal(err)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if err := st.ExecForTest(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exec(`INSERT INTO tags (name, usage_count, created_at) VALUES ('fox', 0, 0), ('owl', 0, 0)`)
		for _, i := range []int{0, 2, 3, 4} { // 3 is private
			exec(`INSERT INTO item_tags (item_id, tag) VALUES ($1, 'fox')`, items[i].ID)
		}
		want := []string{items[4].ID, items[2].ID, items[0].ID}
		feed := func(what, tag string, p aimg.Page, want ...string) {
			t.Helper()
			page, err := st.ListPublicItems(ctx, aimg.PublicFilter{Tag: tag}, p)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range page.Items {
				got = append(got, it.ID)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: %v, want %v", what, got, want)
			}
		}
		for _, usage := range []int{4, store.RareTagUsage + 1} {
			exec(`UPDATE tags SET usage_count = $1 WHERE name = 'fox'`, usage)
			feed("the tag's feed", "fox", aimg.Page{Limit: 10}, want...)
			feed("its second page", "fox", aimg.Page{Limit: 10, Index: items[2].CreatedAt.UnixMilli()}, want[2:]...)
		}
		feed("a tag in use nowhere", "owl", aimg.Page{Limit: 10})
		feed("an unknown tag", "cat", aimg.Page{Limit: 10})
	})
}
