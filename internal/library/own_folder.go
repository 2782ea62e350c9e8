package library

import (
	"context"

	"aimg/internal/aimg"
)

// OwnFolder is one of the caller's Folders of either kind, by id (the web
// UI's Folder page): anyone else's Folder is "Folder not found", as every
// Folder call answers it; anonymous sessions and guests have none.
func (s *Service) OwnFolder(ctx context.Context, c aimg.Caller, id string) (Folder, error) {
	userID, err := folderOwner(c)
	if err != nil {
		return Folder{}, err
	}
	if err := checkAnyFolderID("folderID", id); err != nil {
		return Folder{}, err
	}
	return s.folder(ctx, c, userID, id)
}
