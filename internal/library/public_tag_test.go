package library_test

import (
	"context"
	"strings"
	"testing"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

// The public feed by tag (the web UI's filter): only publicly visible
// Items that carry the tag, whoever asks; a bad tag is refused naming it.
func TestPublicCreationsByTag(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		items := w.items(t)
		owner := w.callers[callerOwner]
		for _, state := range []string{statePublished, statePrivate, stateApproved, statePending} {
			if _, err := w.lib.ChangeTags(ctx, owner, aimg.TagAdd, items[state].ID, "", []string{"fox"}); err != nil {
				t.Fatalf("tag %s: %v", state, err)
			}
		}
		tagged := items[statePublished]
		other := w.items(t)[statePublished] // published, without the tag
		for _, caller := range callers {
			res, err := w.lib.PublicCreations(ctx, w.callers[caller], aimg.PublicFilter{Tag: "Fox"}, aimg.Page{Limit: 100})
			if err != nil {
				t.Fatalf("%s: %v", caller, err)
			}
			if len(res.Items) != 1 || res.Items[0].Item.ID != tagged.ID || res.Next != nil {
				t.Fatalf("%s: %d Items, want only %s (not %s)", caller, len(res.Items), tagged.ID, other.ID)
			}
		}
		anon := w.callers[callerAnon]
		if res, err := w.lib.PublicCreations(ctx, anon, aimg.PublicFilter{Tag: "cat"}, aimg.Page{Limit: 100}); err != nil || len(res.Items) != 0 {
			t.Fatalf("another tag: %d Items, %v", len(res.Items), err)
		}
		if _, err := w.lib.PublicCreations(ctx, anon, aimg.PublicFilter{Tag: "#"}, aimg.Page{Limit: 100}); aimg.ErrorCode(err) != aimg.CodeInvalid || !strings.HasPrefix(err.Error(), "tag: ") {
			t.Fatalf("a bad tag: %v", err)
		}
		if _, err := w.lib.PublicCreations(ctx, anon, aimg.PublicFilter{Tag: "fox", UserID: w.owner.ID}, aimg.Page{Limit: 100}); aimg.ErrorCode(err) != aimg.CodeInvalid {
			t.Fatalf("a tag with a user: %v", err)
		}
	})
}
