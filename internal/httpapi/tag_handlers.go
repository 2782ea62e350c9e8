package httpapi

import (
	"context"

	"aimg/internal/aimg"
	"aimg/internal/library"
)

// Tags Management: getTagsList, addTagsToItem, removeTagsFromItem,
// setTagsForItem.

// TagBody is the spec's Tag.
type TagBody struct {
	Name       string `json:"name"`
	UsageCount int64  `json:"usageCount" doc:"The number of live Items and Folders that carry the tag."`
}

type getTagsListInput struct {
	Auth
	PageQuery
	Tags string `query:"tags" doc:"A comma-separated list of tags: only those (at most 100)."`
}

func (s *Server) getTagsList(ctx context.Context, c aimg.Caller, in *getTagsListInput) (*PagedResponse[[]TagBody], error) {
	if !c.Admin {
		if err := s.Accounts.Allow(ctx, "getTagsList:ip", c.ClientIP); err != nil {
			return nil, err
		}
	}
	p, err := parsePage(in.PageQuery)
	if err != nil {
		return nil, err
	}
	res, err := s.Library.TagsList(ctx, SplitCommaList(in.Tags), p)
	if err != nil {
		return nil, err
	}
	out := &PagedResponse[[]TagBody]{}
	out.Body.Payload = make([]TagBody, len(res.Tags))
	for i, t := range res.Tags {
		out.Body.Payload[i] = TagBody{Name: t.Name, UsageCount: t.UsageCount}
	}
	out.Body.Metadata = pageMetadata(p, len(res.Tags), res.Next, &res.Total)
	return out, nil
}

type tagsInput struct {
	Auth
	Body struct {
		Tags     StringList `json:"tags" doc:"Mandatory. The tags, as a JSON array or one comma-separated string; lower-cased, then each must match ^[a-z0-9$-_\\.\\+!\\*'\\(\\)]{1,32}$."`
		ImageID  string     `json:"imageID,omitempty" doc:"The Item's id. imageID or folderID is mandatory."`
		FolderID string     `json:"folderID,omitempty" doc:"The Folder's id (wins over imageID): a Private Folder's UUID or a Public Folder's p- id."`
	}
}

// TagsPayload is the payload of addTagsToItem and removeTagsFromItem.
type TagsPayload struct {
	Success   bool     `json:"success" doc:"Whether at least one tag was added (removed)."`
	Modified  []string `json:"modified" doc:"The tags this call added (removed)."`
	Actual    []string `json:"actual" doc:"The tags carried after the call, by name."`
	OverLimit []string `json:"overLimit,omitempty" doc:"addTagsToItem: tags not added because the Item or Folder already carries 50."`
}

// SetTagsPayload is setTagsForItem's payload.
type SetTagsPayload struct {
	Success bool     `json:"success"`
	Actual  []string `json:"actual" doc:"The tags carried after the call, by name."`
}

func (s *Server) tagsHandler(op string) func(context.Context, aimg.Caller, *tagsInput) (*Response[TagsPayload], error) {
	return func(ctx context.Context, c aimg.Caller, in *tagsInput) (*Response[TagsPayload], error) {
		res, err := s.changeTags(ctx, c, op, in)
		if err != nil {
			return nil, err
		}
		p := TagsPayload{Success: res.Success, Modified: res.Modified, Actual: res.Actual}
		if len(res.OverLimit) > 0 {
			p.OverLimit = res.OverLimit
		}
		return reply(p)
	}
}

func (s *Server) setTagsForItem(ctx context.Context, c aimg.Caller, in *tagsInput) (*Response[SetTagsPayload], error) {
	res, err := s.changeTags(ctx, c, aimg.TagSet, in)
	if err != nil {
		return nil, err
	}
	return reply(SetTagsPayload{Success: res.Success, Actual: res.Actual})
}

func (s *Server) changeTags(ctx context.Context, c aimg.Caller, op string, in *tagsInput) (library.TagsResult, error) {
	tags := []string(in.Body.Tags)
	return s.Library.ChangeTags(ctx, c, op, in.Body.ImageID, in.Body.FolderID, tags)
}
