package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

func TestFiles(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		created := time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
		f := &aimg.File{ID: "a.png", Name: "cat.png", ContentType: "image/png", Size: 42, Checksum: "ab12",
			ChecksumAlgorithm: aimg.ChecksumSHA256, CustomMetadata: json.RawMessage(`{"k":1}`),
			BlobKey: "files/a.png/x/original.png", CreatedAt: created}
		if err := st.CreateFile(ctx, f); err != nil {
			t.Fatal(err)
		}
		got, err := st.FileByID(ctx, "a.png")
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != f.Name || got.Size != 42 || got.OwnerID != "" || string(got.CustomMetadata) != `{"k":1}` ||
			!got.CreatedAt.Equal(created) || got.BlobKey != f.BlobKey || got.Checksum != "ab12" {
			t.Fatalf("read back %+v", got)
		}
		if err := st.CreateFile(ctx, f); aimg.ErrorCode(err) != aimg.CodeConflict {
			t.Fatalf("duplicate id: %v, want conflict", err)
		}
		if _, err := st.FileByID(ctx, "nope"); !aimg.IsNotFound(err) {
			t.Fatalf("unknown id: %v", err)
		}

		for _, k := range []string{"files/a.png/x/1x1-fit.png", "files/a.png/x/2x2-fill.png", "files/a.png/x/1x1-fit.png"} {
			if err := st.AddFileVariant(ctx, "a.png", k, created); err != nil {
				t.Fatalf("add variant %s: %v", k, err)
			}
		}
		if err := st.AddFileVariant(ctx, "nope", "files/nope/v", created); !aimg.IsNotFound(err) {
			t.Fatalf("variant of an unknown file: %v, want not found", err)
		}
		keys, err := st.FileVariantKeys(ctx, "a.png")
		if err != nil || len(keys) != 2 {
			t.Fatalf("variants = %v, %v", keys, err)
		}

		del, variants, err := st.DeleteFile(ctx, "a.png")
		if err != nil || del.BlobKey != f.BlobKey || len(variants) != 2 {
			t.Fatalf("delete = %+v %v %v", del, variants, err)
		}
		if _, err := st.FileByID(ctx, "a.png"); !aimg.IsNotFound(err) {
			t.Fatalf("after delete: %v", err)
		}
		if _, _, err := st.DeleteFile(ctx, "a.png"); !aimg.IsNotFound(err) {
			t.Fatalf("second delete: %v", err)
		}
		// The id can be used again, and the old variants are gone.
		f.OwnerID = "user-1"
		if err := st.CreateFile(ctx, f); err != nil {
			t.Fatal(err)
		}
		if keys, _ := st.FileVariantKeys(ctx, "a.png"); len(keys) != 0 {
			t.Fatalf("variants after re-create = %v", keys)
		}
		if got, _ := st.FileByID(ctx, "a.png"); got.OwnerID != "user-1" {
			t.Fatalf("owner = %q", got.OwnerID)
		}
	})
}
