package httpapi

import (
	"context"

	"aimg/internal/aimg"
)

// Public Folder Management: getPublicFolders (anyone); the eight calls that
// change Public Folders are folder_handlers.go's with library.Public.
// Common Folder Management: moveItemsBetweenFolders.

// GetPublicFoldersRateLimit limits getPublicFolders per client address
// (config rateLimits; docs/security.md).
const GetPublicFoldersRateLimit = "getPublicFolders:ip"

type getPublicFoldersInput struct {
	Auth
	PageQuery
	UserID    string `query:"userID" doc:"Only this User's Public Folders (the current User's id for one's own)."`
	FolderIDs string `query:"folderIDs" doc:"A comma-separated list of Public Folder ids (p-…): only those Folders."`
}

func (s *Server) getPublicFolders(ctx context.Context, c aimg.Caller, in *getPublicFoldersInput) (*PagedResponse[[]FolderBody], error) {
	if !c.Admin {
		if err := s.Accounts.Allow(ctx, GetPublicFoldersRateLimit, c.ClientIP); err != nil {
			return nil, err
		}
	}
	p, err := parsePage(in.PageQuery)
	if err != nil {
		return nil, err
	}
	res, err := s.Library.PublicFolders(ctx, c, in.UserID, SplitCommaList(in.FolderIDs), p)
	if err != nil {
		return nil, err
	}
	out := &PagedResponse[[]FolderBody]{}
	out.Body.Payload = make([]FolderBody, len(res.Folders))
	for i, f := range res.Folders {
		out.Body.Payload[i] = toFolder(f)
	}
	out.Body.Metadata = pageMetadata(p, len(res.Folders), res.Next, &res.Total)
	return out, nil
}

type moveItemsBetweenFoldersInput struct {
	Auth
	Body struct {
		SourceFolderID      *string    `json:"sourceFolderID" required:"false" nullable:"true" doc:"The Folder the Items are in (Private or Public); null, absent or root: the root Folder."`
		DestinationFolderID *string    `json:"destinationFolderID" required:"false" nullable:"true" doc:"The Folder to move them to (Private or Public); null, absent or root: the root Folder."`
		ImageIDs            StringList `json:"imageIDs" doc:"Mandatory. The Items' ids (at most 1,000), as a JSON array or one comma-separated string."`
	}
}

func (s *Server) moveItemsBetweenFolders(ctx context.Context, c aimg.Caller, in *moveItemsBetweenFoldersInput) (*Response[[]ItemOutcome], error) {
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	res, err := s.Library.MoveBetweenFolders(ctx, c, deref(in.Body.SourceFolderID), deref(in.Body.DestinationFolderID), in.Body.ImageIDs)
	if err != nil {
		return nil, err
	}
	return reply(outcomes(res.Items))
}
