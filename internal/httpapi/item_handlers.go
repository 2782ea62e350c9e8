package httpapi

import (
	"context"

	"aimg/internal/aimg"
	"aimg/internal/library"
)

// Image is the spec's Image.
type Image struct {
	ID                   string   `json:"id"`
	UserID               string   `json:"userID,omitempty"`
	BatchID              string   `json:"batchID,omitempty"`
	URL                  string   `json:"url" doc:"Absolute URL of the Item's File; empty until the Item is completed."`
	ViewCount            int64    `json:"viewCount"`
	LikeCount            int64    `json:"likeCount"`
	DislikeCount         int64    `json:"dislikeCount"`
	CompletedDate        *int64   `json:"completedDate,omitempty"`
	CompletedTimestamp   *string  `json:"completedTimestamp,omitempty"`
	MType                string   `json:"mtype"`
	MediaType            string   `json:"mediaType"`
	Tags                 []string `json:"tags"`
	IsLiked              bool     `json:"isLiked"`
	IsDisliked           bool     `json:"isDisliked"`
	IsPublic             bool     `json:"isPublic"`
	IsPubliclyVisible    bool     `json:"isPubliclyVisible"`
	PublicApprovalStatus *string  `json:"publicApprovalStatus,omitempty" doc:"Only for the owner and Admins."`
	FolderID             *string  `json:"folderID,omitempty"`
	FolderAddedDate      *int64   `json:"folderAddedDate,omitempty"`
	FolderAddedTimestamp *string  `json:"folderAddedTimestamp,omitempty"`
}

// ImageInfo is the spec's ImageInfo.
type ImageInfo struct {
	ID                    string                      `json:"id"`
	UserID                string                      `json:"userID,omitempty"`
	BatchID               string                      `json:"batchID,omitempty"`
	Username              string                      `json:"username,omitempty"`
	ProfilePicture        string                      `json:"profilePicture,omitempty"`
	URL                   string                      `json:"url" doc:"Absolute URL of the Item's File; empty until the Item is completed."`
	ViewCount             int64                       `json:"viewCount"`
	LikeCount             int64                       `json:"likeCount"`
	DislikeCount          int64                       `json:"dislikeCount"`
	CompletedDate         *int64                      `json:"completedDate,omitempty"`
	CompletedTimestamp    *string                     `json:"completedTimestamp,omitempty"`
	Prompt                string                      `json:"prompt"`
	NegPrompt             string                      `json:"negprompt,omitempty"`
	GeneratorVersion      string                      `json:"generatorVersion"`
	WorkflowTemplateName  string                      `json:"workflowTemplateName,omitempty"`
	WorkflowRunParameters []aimg.WorkflowRunParameter `json:"workflowRunParameters,omitempty"`
	ModelName             string                      `json:"modelName"`
	ModelID               string                      `json:"modelID"`
	Steps                 int                         `json:"steps"`
	Seed                  int64                       `json:"seed"`
	Subseed               int64                       `json:"subseed"`
	SubseedStrength       float64                     `json:"subseed_strength"`
	Lora                  []string                    `json:"lora"`
	LoraStrength          []float64                   `json:"lora_strength"`
	Sampler               string                      `json:"sampler"`
	CFGScale              float64                     `json:"cfgscale"`
	RestoreFaces          bool                        `json:"restoreFaces"`
	Height                int                         `json:"height"`
	Width                 int                         `json:"width"`
	MType                 string                      `json:"mtype"`
	Tags                  []string                    `json:"tags"`
	IsLiked               bool                        `json:"isLiked"`
	IsDisliked            bool                        `json:"isDisliked"`
	IsPublic              bool                        `json:"isPublic"`
	IsPubliclyVisible     bool                        `json:"isPubliclyVisible"`
	PublicApprovalStatus  *string                     `json:"publicApprovalStatus,omitempty" doc:"Only for the owner and Admins."`
	FolderID              *string                     `json:"folderID,omitempty"`
}

func toImage(v library.View) Image {
	it := v.Item
	img := Image{
		ID: it.ID, UserID: it.UserID, BatchID: it.BatchID, URL: v.URL,
		ViewCount: it.ViewCount, LikeCount: it.LikeCount, DislikeCount: it.DislikeCount,
		MType: it.MType, MediaType: it.MediaType, Tags: tagList(v.Tags), IsLiked: v.Liked, IsDisliked: v.Disliked,
		IsPublic: it.IsPublic, IsPubliclyVisible: v.PubliclyVisible, FolderID: optional(it.FolderID),
	}
	img.CompletedDate, img.CompletedTimestamp = msAndISO(it.CompletedAt)
	if it.FolderID != "" {
		img.FolderAddedDate, img.FolderAddedTimestamp = msAndISO(it.FolderAddedAt)
	}
	if v.ShowApproval {
		img.PublicApprovalStatus = &it.PublicApprovalStatus
	}
	return img
}

func toImageInfo(d library.Details) ImageInfo {
	it, p := d.Item, d.Item.Params
	info := ImageInfo{
		ID: it.ID, UserID: it.UserID, BatchID: it.BatchID, Username: d.OwnerName, ProfilePicture: d.OwnerPicture,
		URL: d.URL, ViewCount: it.ViewCount, LikeCount: it.LikeCount, DislikeCount: it.DislikeCount,
		Prompt: it.Prompt, NegPrompt: it.NegPrompt, GeneratorVersion: it.GeneratorVersion,
		ModelName: d.ModelName, ModelID: it.ModelID,
		Steps: p.Steps, Seed: p.Seed, Subseed: p.Subseed, SubseedStrength: p.SubseedStrength,
		Lora: p.Lora, LoraStrength: p.LoraStrength, Sampler: p.Sampler, CFGScale: p.CFGScale,
		RestoreFaces: p.RestoreFaces, Height: p.Height, Width: p.Width, MType: it.MType, Tags: tagList(d.Tags),
		IsLiked: d.Liked, IsDisliked: d.Disliked, IsPublic: it.IsPublic, IsPubliclyVisible: d.PubliclyVisible, FolderID: optional(it.FolderID),
	}
	if info.GeneratorVersion == "" {
		info.GeneratorVersion = "1"
	}
	if info.GeneratorVersion == "2" { // workflow fields only for the workflows system
		info.WorkflowTemplateName = it.WorkflowTemplateName
		info.WorkflowRunParameters = it.WorkflowRunParameters
	}
	if info.Lora == nil {
		info.Lora = []string{}
	}
	if info.LoraStrength == nil {
		info.LoraStrength = []float64{}
	}
	info.CompletedDate, info.CompletedTimestamp = msAndISO(it.CompletedAt)
	if d.ShowApproval {
		info.PublicApprovalStatus = &it.PublicApprovalStatus
	}
	return info
}

// tagList is a tags field: [] rather than null when there are none.
func tagList(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return tags
}

type itemInput struct {
	Auth
	ImageID string `query:"imageID" doc:"The Item's id. Mandatory."`
}

type lastCompletedInput struct {
	Auth
	MType string `query:"mtype" doc:"image or video; absent = both."`
}

type myCreationsInput struct {
	Auth
	PageQuery
	ItemFilterQuery
}

// ItemFilterQuery is the filters of getMyCreations and getItems.
type ItemFilterQuery struct {
	MType                string `query:"mtype" doc:"image or video; absent = both."`
	FolderID             string `query:"folderID" doc:"A Folder id, or root for the Items outside any Folder; absent = all."`
	IsPublic             string `query:"isPublic" doc:"true or false; absent = both."`
	PublicApprovalStatus string `query:"publicApprovalStatus" doc:"none, pending, approved or rejected; absent = all (pending: the review queue)."`
}

func (q ItemFilterQuery) filter() (aimg.ItemFilter, error) {
	isPublic, err := queryBool("isPublic", q.IsPublic)
	return aimg.ItemFilter{MType: q.MType, FolderID: q.FolderID, IsPublic: isPublic, Approval: q.PublicApprovalStatus}, err
}

type batchItemsInput struct {
	Auth
	BatchID string `query:"batchID" doc:"The batch id. Mandatory."`
}

// allowOpenItem takes a token of library.OpenItemRateLimit for a caller
// without a User.
func (s *Server) allowOpenItem(ctx context.Context, c aimg.Caller) error {
	if c.User != nil || c.Admin {
		return nil
	}
	return s.Accounts.Allow(ctx, library.OpenItemRateLimit, c.ClientIP)
}

func (s *Server) getItem(ctx context.Context, c aimg.Caller, in *itemInput) (*Response[Image], error) {
	if err := s.allowOpenItem(ctx, c); err != nil {
		return nil, err
	}
	v, err := s.Library.GetItem(ctx, c, in.ImageID)
	if err != nil {
		return nil, err
	}
	return reply(toImage(v))
}

func (s *Server) getItemDetails(ctx context.Context, c aimg.Caller, in *itemInput) (*Response[ImageInfo], error) {
	if err := s.allowOpenItem(ctx, c); err != nil {
		return nil, err
	}
	d, err := s.Library.GetItemDetails(ctx, c, in.ImageID)
	if err != nil {
		return nil, err
	}
	return reply(toImageInfo(d))
}

func (s *Server) getLastCompletedItem(ctx context.Context, c aimg.Caller, in *lastCompletedInput) (*Response[Image], error) {
	v, err := s.Library.LastCompleted(ctx, c, in.MType)
	if err != nil {
		return nil, err
	}
	return reply(toImage(v))
}

func (s *Server) getMyCreations(ctx context.Context, c aimg.Caller, in *myCreationsInput) (*PagedResponse[[]Image], error) {
	p, err := parsePage(in.PageQuery)
	if err != nil {
		return nil, err
	}
	f, err := in.filter()
	if err != nil {
		return nil, err
	}
	res, err := s.Library.MyCreations(ctx, c, f, p)
	if err != nil {
		return nil, err
	}
	return pagedImages(p, res, &res.Total), nil
}

func (s *Server) getBatchItems(ctx context.Context, c aimg.Caller, in *batchItemsInput) (*Response[[]ImageInfo], error) {
	ds, err := s.Library.BatchItems(ctx, c, in.BatchID)
	if err != nil {
		return nil, err
	}
	infos := make([]ImageInfo, len(ds))
	for i, d := range ds {
		infos[i] = toImageInfo(d)
	}
	return reply(infos)
}
