package httpapi

import (
	"context"

	"aimg/internal/aimg"
	"aimg/internal/library"
)

// Private Folder Management: getSelfFolders, createSelfFolder,
// setSelfFolderProperties, deleteSelfFolder, addImagesToSelfFolder,
// removeImagesFromSelfFolder and the three Thumbnail calls. The Public
// Folder calls (public_folder_handlers.go) take the same inputs and
// handlers with library.Public.

// FolderBody is the spec's Folder.
type FolderBody struct {
	ID           string                `json:"id"`
	Name         string                `json:"name"`
	Description  string                `json:"description,omitempty"`
	UserID       string                `json:"userID"`
	IsPublic     bool                  `json:"isPublic" doc:"Whether it is a Public Folder (id p-…)."`
	ImageCount   int64                 `json:"imageCount" doc:"Live Items in the Folder."`
	SampleImages []aimg.ImageThumbnail `json:"sampleImages" doc:"The Folder's 4 newest Items (of a Public Folder: publicly visible ones)."`
	Thumbnails   []aimg.ImageThumbnail `json:"thumbnails" doc:"The Items chosen as Thumbnails (at most 4), in the order added."`
	CreatedDate  string                `json:"createdDate" doc:"ISO 8601."`
	UpdatedDate  string                `json:"updatedDate" doc:"ISO 8601: last renamed, or Items or Thumbnails added or removed."`
	Tags         []string              `json:"tags" doc:"The Folder's tags, by name."`
}

func toFolder(v library.Folder) FolderBody {
	f := v.Folder
	return FolderBody{ID: f.ID, Name: f.Name, Description: f.Description, UserID: f.UserID, IsPublic: f.Public(), ImageCount: f.ImageCount,
		SampleImages: v.Samples, Thumbnails: v.Thumbnails, CreatedDate: isoTime(f.CreatedAt), UpdatedDate: isoTime(f.UpdatedAt),
		Tags: tagList(f.Tags)}
}

type getSelfFoldersInput struct {
	Auth
	PageQuery
	FolderIDs string `query:"folderIDs" doc:"A comma-separated list of Folder ids: only those Folders."`
}

func (s *Server) getSelfFolders(ctx context.Context, c aimg.Caller, in *getSelfFoldersInput) (*PagedResponse[[]FolderBody], error) {
	p, err := parsePage(in.PageQuery)
	if err != nil {
		return nil, err
	}
	res, err := s.Library.Folders(ctx, c, SplitCommaList(in.FolderIDs), p)
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

type createSelfFolderInput struct {
	Auth
	Body struct {
		Name        string  `json:"name" doc:"Mandatory. The Folder's name (1..200 characters)."`
		Description *string `json:"description,omitempty" doc:"The Folder's description (at most 2,000 characters)."`
	}
}

func (s *Server) createFolder(kind library.FolderKind) func(context.Context, aimg.Caller, *createSelfFolderInput) (*Response[FolderBody], error) {
	return func(ctx context.Context, c aimg.Caller, in *createSelfFolderInput) (*Response[FolderBody], error) {
		f, err := s.Library.CreateFolder(ctx, c, kind, in.Body.Name, in.Body.Description)
		if err != nil {
			return nil, err
		}
		return reply(toFolder(f))
	}
}

type setSelfFolderPropertiesInput struct {
	Auth
	Body struct {
		FolderID          string  `json:"folderID" doc:"Mandatory. The Folder's id (Private: a UUID; Public: p- + UUID)."`
		FolderName        *string `json:"folderName,omitempty" doc:"The new name."`
		FolderDescription *string `json:"folderDescription,omitempty" doc:"The new description; an empty string removes it."`
	}
}

func (s *Server) setFolderProperties(kind library.FolderKind) func(context.Context, aimg.Caller, *setSelfFolderPropertiesInput) (*Response[FolderBody], error) {
	return func(ctx context.Context, c aimg.Caller, in *setSelfFolderPropertiesInput) (*Response[FolderBody], error) {
		f, err := s.Library.SetFolderProperties(ctx, c, kind, in.Body.FolderID, in.Body.FolderName, in.Body.FolderDescription)
		if err != nil {
			return nil, err
		}
		return reply(toFolder(f))
	}
}

type deleteSelfFolderInput struct {
	Auth
	FolderID string `query:"folderID" doc:"The Folder's id (Private: a UUID; Public: p- + UUID). Mandatory."`
}

// FolderSuccess is deleteSelfFolder's payload.
type FolderSuccess struct {
	Success bool `json:"success"`
}

func (s *Server) deleteFolder(kind library.FolderKind) func(context.Context, aimg.Caller, *deleteSelfFolderInput) (*Response[FolderSuccess], error) {
	return func(ctx context.Context, c aimg.Caller, in *deleteSelfFolderInput) (*Response[FolderSuccess], error) {
		if err := s.Library.DeleteFolder(ctx, c, kind, in.FolderID); err != nil {
			return nil, err
		}
		return reply(FolderSuccess{Success: true})
	}
}

type folderItemsInput struct {
	Auth
	Body struct {
		FolderID string     `json:"folderID" doc:"Mandatory. The Folder's id (Private: a UUID; Public: p- + UUID)."`
		ImageIDs StringList `json:"imageIDs" doc:"Mandatory. The Items' ids (at most 1,000), as a JSON array or one comma-separated string."`
	}
}

// FolderItemsPayload is the payload of addImagesToSelfFolder and
// removeImagesFromSelfFolder.
type FolderItemsPayload struct {
	Success bool          `json:"success" doc:"Whether at least one Item changed."`
	Items   []ItemOutcome `json:"items" doc:"Each Item's outcome, in the order sent (a repeated id once): why it was skipped when success is false."`
}

// folderItemsHandler is addImagesTo…Folder (add) and
// removeImagesFrom…Folder of kind.
func (s *Server) folderItemsHandler(kind library.FolderKind, add bool) func(context.Context, aimg.Caller, *folderItemsInput) (*Response[FolderItemsPayload], error) {
	return func(ctx context.Context, c aimg.Caller, in *folderItemsInput) (*Response[FolderItemsPayload], error) {
		call := s.Library.RemoveFromFolder
		if add {
			call = s.Library.AddToFolder
		}
		res, err := call(ctx, c, kind, in.Body.FolderID, in.Body.ImageIDs)
		if err != nil {
			return nil, err
		}
		return reply(FolderItemsPayload{Success: res.Success, Items: outcomes(res.Items)})
	}
}

// ThumbnailsPayload is the payload of the three Thumbnail calls.
type ThumbnailsPayload struct {
	Success  bool          `json:"success" doc:"Whether at least one Thumbnail changed."`
	Modified []string      `json:"modified" doc:"The Items added, removed or set by this call."`
	Actual   []string      `json:"actual" doc:"The Folder's Thumbnails after the call."`
	Items    []ItemOutcome `json:"items" doc:"Each Item's outcome, in the order sent."`
}

func (s *Server) thumbnailHandler(kind library.FolderKind, op string) func(context.Context, aimg.Caller, *folderItemsInput) (*Response[ThumbnailsPayload], error) {
	return func(ctx context.Context, c aimg.Caller, in *folderItemsInput) (*Response[ThumbnailsPayload], error) {
		res, err := s.Library.ChangeThumbnails(ctx, c, kind, in.Body.FolderID, op, in.Body.ImageIDs)
		if err != nil {
			return nil, err
		}
		return reply(ThumbnailsPayload{Success: res.Success, Modified: res.Modified, Actual: res.Actual, Items: outcomes(res.Items)})
	}
}
