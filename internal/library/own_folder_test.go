package library_test

import (
	"context"
	"testing"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

// OwnFolder finds the caller's Folders of both kinds and nobody else's:
// another user's Folder is not found, a guest or an anonymous session is
// told to sign in, a malformed id names the field.
func TestOwnFolder(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		owner, other := w.callers[callerOwner], w.callers[callerOther]
		for _, id := range []string{w.publicFolder, w.folders[callerOwner]} {
			f, err := w.lib.OwnFolder(ctx, owner, id)
			if err != nil || f.Folder.ID != id || f.Folder.UserID != owner.User.ID {
				t.Fatalf("owner's Folder %s: %+v %v", id, f.Folder, err)
			}
			if _, err := w.lib.OwnFolder(ctx, other, id); aimg.ErrorCode(err) != aimg.CodeNotFound || err.Error() != "Folder not found" {
				t.Fatalf("another user's Folder %s: %v", id, err)
			}
		}
		for _, name := range []string{callerGuest, callerAnon} {
			if _, err := w.lib.OwnFolder(ctx, w.callers[name], w.publicFolder); aimg.ErrorCode(err) != aimg.CodeUnauthorized {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if _, err := w.lib.OwnFolder(ctx, owner, "nope"); aimg.ErrorCode(err) != aimg.CodeInvalid || err.Error()[:10] != "folderID: " {
			t.Fatalf("bad id: %v", err)
		}
	})
}
