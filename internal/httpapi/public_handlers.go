package httpapi

import (
	"context"
	"strconv"
	"strings"

	"aimg/internal/aimg"
	"aimg/internal/library"
)

// The public side: getPublicCreations, getLatestItems, getSampleItems;
// the Admin's getItems and migrateLibrary.

// publicFeedLimit is the rate limit of the public feeds per client address
// (Admins are not limited).
const publicFeedLimit = "publicFeeds:ip"

func (s *Server) allowPublicFeed(ctx context.Context, c aimg.Caller) error {
	if c.Admin {
		return nil
	}
	return s.Accounts.Allow(ctx, publicFeedLimit, c.ClientIP)
}

type publicCreationsInput struct {
	Auth
	PageQuery
	UserID   string `query:"userID" doc:"Only this User's publicly visible Items; absent = every User."`
	MType    string `query:"mtype" doc:"image or video; absent = both."`
	FolderID string `query:"folderID" doc:"Only this Public Folder's Items (a p-… id); absent = every Public Folder."`
}

func (s *Server) getPublicCreations(ctx context.Context, c aimg.Caller, in *publicCreationsInput) (*PagedResponse[[]Image], error) {
	if err := s.allowPublicFeed(ctx, c); err != nil {
		return nil, err
	}
	p, err := parsePage(in.PageQuery)
	if err != nil {
		return nil, err
	}
	res, err := s.Library.PublicCreations(ctx, c, aimg.PublicFilter{
		UserID: strings.TrimSpace(in.UserID), FolderID: strings.TrimSpace(in.FolderID), MType: in.MType,
	}, p)
	if err != nil {
		return nil, err
	}
	return pagedImages(p, res, &res.Total), nil
}

type latestItemsInput struct {
	Auth
	PageQuery
}

func (s *Server) getLatestItems(ctx context.Context, c aimg.Caller, in *latestItemsInput) (*PagedResponse[[]Image], error) {
	if err := s.allowPublicFeed(ctx, c); err != nil {
		return nil, err
	}
	p, err := parsePage(in.PageQuery)
	if err != nil {
		return nil, err
	}
	res, err := s.Library.LatestItems(ctx, c, p)
	if err != nil {
		return nil, err
	}
	out := pagedImages(p, res, nil)
	for i := range out.Body.Payload {
		out.Body.Payload[i] = sampleImage(out.Body.Payload[i])
	}
	return out, nil
}

type sampleItemsInput struct {
	Auth
	Limit string `query:"limit" doc:"1..100 Items, default 20."`
}

func (s *Server) getSampleItems(ctx context.Context, c aimg.Caller, in *sampleItemsInput) (*Response[[]Image], error) {
	if err := s.allowPublicFeed(ctx, c); err != nil {
		return nil, err
	}
	limit := 0
	if v := strings.TrimSpace(in.Limit); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, aimg.Invalid("limit", "must be 1 to %d", library.MaxSampleLimit)
		}
		limit = n
	}
	views, err := s.Library.SampleItems(ctx, c, limit)
	if err != nil {
		return nil, err
	}
	images := make([]Image, len(views))
	for i, v := range views {
		images[i] = sampleImage(toImage(v))
	}
	return reply(images)
}

// sampleImage is the part of an Image that getSampleItems and
// getLatestItems return ("not all properties"): what a gallery tile shows,
// without the Folder, the owner's approval state or the caller's reactions.
func sampleImage(img Image) Image {
	return Image{
		ID: img.ID, UserID: img.UserID, URL: img.URL, ViewCount: img.ViewCount, LikeCount: img.LikeCount,
		DislikeCount: img.DislikeCount, CompletedDate: img.CompletedDate, CompletedTimestamp: img.CompletedTimestamp,
		MType: img.MType, MediaType: img.MediaType, Tags: img.Tags, IsPublic: img.IsPublic, IsPubliclyVisible: img.IsPubliclyVisible,
	}
}

type itemsInput struct {
	Auth
	PageQuery
	ItemFilterQuery
	UserID string `query:"userID" doc:"Only this User's Items; absent = every User."`
}

func (s *Server) getItems(ctx context.Context, c aimg.Caller, in *itemsInput) (*PagedResponse[[]Image], error) {
	p, err := parsePage(in.PageQuery)
	if err != nil {
		return nil, err
	}
	f, err := in.filter()
	if err != nil {
		return nil, err
	}
	res, err := s.Library.AllItems(ctx, c, strings.TrimSpace(in.UserID), f, p)
	if err != nil {
		return nil, err
	}
	return pagedImages(p, res, nil), nil
}

// pagedImages renders a page of Items with its metadata; total nil leaves
// totalCount out.
func pagedImages(p aimg.Page, res library.Creations, total *int64) *PagedResponse[[]Image] {
	images := make([]Image, len(res.Items))
	for i, v := range res.Items {
		images[i] = toImage(v)
	}
	out := &PagedResponse[[]Image]{}
	out.Body.Payload = images
	out.Body.Metadata = pageMetadata(p, len(images), res.Next, total)
	return out
}

// queryBool parses an optional boolean query parameter ("" = nil).
func queryBool(field, v string) (*bool, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, aimg.Invalid(field, "must be true or false")
	}
	return &b, nil
}

type migrateLibraryInput struct {
	Auth
	Body struct {
		SourceUserID      string `json:"sourceUserID" doc:"The User whose library moves (may be disabled). Mandatory."`
		DestinationUserID string `json:"destinationUserID" doc:"The User who receives it (must not be disabled). Mandatory."`
	}
}

// MigrateResult is migrateLibrary's answer.
type MigrateResult struct {
	Success bool   `json:"success"`
	Message string `json:"message" doc:"How many Items and Folders moved."`
}

func (s *Server) migrateLibrary(ctx context.Context, c aimg.Caller, in *migrateLibraryInput) (*Response[MigrateResult], error) {
	moved, err := s.Library.MigrateLibrary(ctx, c, strings.TrimSpace(in.Body.SourceUserID), strings.TrimSpace(in.Body.DestinationUserID))
	if err != nil {
		return nil, err
	}
	return reply(MigrateResult{Success: true,
		Message: "Moved " + strconv.FormatInt(moved.Items, 10) + " Items and " + strconv.FormatInt(moved.Folders, 10) + " Folders"})
}
