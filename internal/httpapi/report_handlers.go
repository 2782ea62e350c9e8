package httpapi

import (
	"context"
	"mime"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"aimg/internal/aimg"
	"aimg/internal/library"
)

// Item reports: reportItems, getReports, closeReports, getReportQueues,
// downloadReportsForEpoch (docs/decisions.md "Reports").

type reportItemsInput struct {
	Auth
	Body struct {
		ItemIDs               StringList `json:"itemIds" doc:"Mandatory. The Items' ids (at most 1,000), as a JSON array or one comma-separated string."`
		ReportQueue           string     `json:"reportQueue,omitempty" doc:"The report category, one of getReportQueues' (non-Admin) values, case-insensitive. Default: Not Specified."`
		AdditionalInformation string     `json:"additionalInformation,omitempty" doc:"What the reporter adds (at most 2,000 characters by default)."`
	}
}

// ReportItemOutcome is one Item's entry in reportItems' answer.
type ReportItemOutcome struct {
	ID       string  `json:"id" doc:"The Item's id, as sent."`
	ReportID *string `json:"reportId" doc:"The new report's id, or null if the Item was not reported."`
	Success  bool    `json:"success" doc:"Whether the Item was reported."`
	Message  string  `json:"message,omitempty" doc:"Why the Item was not reported, when success is false."`
}

func (s *Server) reportItems(ctx context.Context, c aimg.Caller, in *reportItemsInput) (*Response[[]ReportItemOutcome], error) {
	// Reports cost Admins' time: calls per account are limited (signedIn
	// guarantees c.User).
	if c.User != nil {
		if err := s.Accounts.Allow(ctx, "reportItems:user", c.User.ID); err != nil {
			return nil, err
		}
	}
	res, err := s.Library.ReportItems(ctx, c, in.Body.ItemIDs, in.Body.ReportQueue, in.Body.AdditionalInformation)
	if err != nil {
		return nil, err
	}
	out := make([]ReportItemOutcome, len(res))
	for i, r := range res {
		out[i] = ReportItemOutcome{ID: r.ID, Success: r.Err == nil, Message: r.Message()}
		if r.ReportID != "" {
			id := r.ReportID
			out[i].ReportID = &id
		}
	}
	return reply(out)
}

type getReportQueuesInput struct {
	Auth
}

func (s *Server) getReportQueues(_ context.Context, c aimg.Caller, _ *getReportQueuesInput) (*Response[[]string], error) {
	return reply(s.Library.ReportQueues(c))
}

type getReportsInput struct {
	Auth
	PageQuery
	ReportIDs     string `query:"reportIds" doc:"A comma-separated list of report ids (at most 1,000): only those reports."`
	ReportStatus  string `query:"reportStatus" doc:"A comma-separated list of statuses: pending, accepted, declined, automaticallyDeclined. Default: all."`
	ReportQueues  string `query:"reportQueues" doc:"A comma-separated list of queues (getReportQueues with the admin key): user queues match a report's own queue, system queues (multipleReports, highHeat) the reports of the Items now in them. Default: all."`
	CreatedAfter  string `query:"createdAfter" doc:"ISO 8601: reports submitted at or after this time. A date alone is its midnight UTC."`
	CreatedBefore string `query:"createdBefore" doc:"ISO 8601: reports submitted at or before this time. A date alone covers that whole day (UTC)."`
	AuthorID      string `query:"authorId" doc:"Only reports of Items of this User."`
}

// ItemReport is the spec's ItemReport.
type ItemReport struct {
	ItemID                        string                `json:"itemId"`
	ReporterID                    *string               `json:"reporterId,omitempty" doc:"Absent when the reporter's account no longer exists."`
	ReportID                      string                `json:"reportId"`
	ReportedDate                  string                `json:"reportedDate" doc:"ISO 8601."`
	ReportStatus                  string                `json:"reportStatus" doc:"pending, accepted, declined or automaticallyDeclined."`
	ReportQueues                  []string              `json:"reportQueues" doc:"The report's user queue, then the system queues its Item is in now."`
	ReportAdditionalInformation   string                `json:"reportAdditionalInformation,omitempty"`
	ApprovalAdditionalInformation string                `json:"approvalAdditionalInformation,omitempty"`
	ReportProcessedDate           *string               `json:"reportProcessedDate,omitempty" doc:"ISO 8601, once closed."`
	ApproverID                    string                `json:"approverId,omitempty" doc:"The user id of the session that closed the report with the admin key, when there was one."`
	DownloadCount                 int64                 `json:"downloadCount"`
	DownloadLastDate              *string               `json:"downloadLastDate,omitempty" doc:"ISO 8601."`
	ItemMetadata                  *ReportItemMetadata   `json:"itemMetadata,omitempty"`
	AuthorMetadata                *ReportAuthorMetadata `json:"authorMetadata,omitempty"`
}

// ReportItemMetadata is ItemReport.itemMetadata.
type ReportItemMetadata struct {
	RawPositivePrompt      string `json:"rawPositivePrompt"`
	FilteredPositivePrompt string `json:"filteredPositivePrompt"`
	RawNegativePrompt      string `json:"rawNegativePrompt"`
	FilteredNegativePrompt string `json:"filteredNegativePrompt"`
	WorkflowUsed           string `json:"workflowUsed,omitempty" doc:"The Workflow Template's name (API2 Items only)."`
	ModelID                string `json:"modelId"`
	URL                    string `json:"url,omitempty"`
}

// ReportAuthorMetadata is ItemReport.authorMetadata.
type ReportAuthorMetadata struct {
	UserID            string `json:"userId"`
	UserEmail         string `json:"userEmail,omitempty"`
	Username          string `json:"username"`
	FlaggedItemsCount int64  `json:"flaggedItemsCount" doc:"The author's Items with an accepted report."`
	Abuse             int    `json:"abuse" doc:"The author's abuse level (0..9)."`
	IsDisabled        bool   `json:"isDisabled" doc:"Deleted, or abuse level 9."`
}

func toItemReport(v library.ReportView) ItemReport {
	r := v.ReportedItem
	out := ItemReport{
		ItemID: r.ItemID, ReportID: r.ID, ReportedDate: isoTime(r.CreatedAt), ReportStatus: r.Status,
		ReportQueues: v.Queues, ReportAdditionalInformation: r.Info, ApprovalAdditionalInformation: r.ApprovalInfo,
		ReportProcessedDate: isoTimePtr(r.ProcessedAt), ApproverID: r.ApproverID, DownloadCount: r.DownloadCount,
		DownloadLastDate: isoTimePtr(r.DownloadLastAt),
	}
	if r.ReporterID != "" {
		id := r.ReporterID
		out.ReporterID = &id
	}
	if it := r.Item; it != nil {
		out.ItemMetadata = &ReportItemMetadata{
			RawPositivePrompt: it.RawPrompt, FilteredPositivePrompt: it.Prompt,
			RawNegativePrompt: it.RawNegPrompt, FilteredNegativePrompt: it.NegPrompt,
			WorkflowUsed: it.WorkflowTemplateName, ModelID: it.ModelID, URL: v.ItemURL,
		}
	}
	if u := r.Author; u != nil {
		out.AuthorMetadata = &ReportAuthorMetadata{UserID: u.ID, UserEmail: u.Email, Username: u.Username,
			FlaggedItemsCount: r.AuthorFlagged, Abuse: u.Abuse, IsDisabled: u.Disabled()}
	}
	return out
}

func (s *Server) getReports(ctx context.Context, c aimg.Caller, in *getReportsInput) (*PagedResponse[[]ItemReport], error) {
	p, err := parsePage(in.PageQuery)
	if err != nil {
		return nil, err
	}
	res, err := s.Library.Reports(ctx, c, library.ReportQuery{
		IDs: SplitCommaList(in.ReportIDs), Statuses: SplitCommaList(in.ReportStatus), Queues: SplitCommaList(in.ReportQueues),
		CreatedAfter: in.CreatedAfter, CreatedBefore: in.CreatedBefore, AuthorID: strings.TrimSpace(in.AuthorID),
	}, p)
	if err != nil {
		return nil, err
	}
	out := &PagedResponse[[]ItemReport]{}
	out.Body.Payload = make([]ItemReport, len(res.Reports))
	for i, r := range res.Reports {
		out.Body.Payload[i] = toItemReport(r)
	}
	out.Body.Metadata = pageMetadata(p, len(res.Reports), res.Next, &res.Total)
	return out, nil
}

type closeReportsInput struct {
	Auth
	Body struct {
		ReportIDs             StringList `json:"reportIds" doc:"Mandatory. The reports' ids (at most 1,000), as a JSON array or one comma-separated string."`
		ReportStatus          string     `json:"reportStatus" doc:"Mandatory. accepted (the Items are deleted, marked removed by report) or declined."`
		AdditionalInformation string     `json:"additionalInformation,omitempty" doc:"The Admin's note on the closure (at most 2,000 characters by default)."`
		CloseRelatedReports   bool       `json:"closeRelatedReports,omitempty" doc:"Also close the other pending reports of the same Items (listed after the named ones)."`
	}
}

// ReportCloseOutcome is one report's entry in closeReports' answer.
type ReportCloseOutcome struct {
	ID      string `json:"id" doc:"The report's id."`
	Success bool   `json:"success" doc:"Whether the report was closed."`
	Message string `json:"message,omitempty" doc:"Why the report was not closed, when success is false."`
}

func (s *Server) closeReports(ctx context.Context, c aimg.Caller, in *closeReportsInput) (*Response[[]ReportCloseOutcome], error) {
	b := in.Body
	res, err := s.Library.CloseReports(ctx, c, b.ReportIDs, b.ReportStatus, b.AdditionalInformation, b.CloseRelatedReports)
	if err != nil {
		return nil, err
	}
	out := make([]ReportCloseOutcome, len(res))
	for i, r := range res {
		out[i] = ReportCloseOutcome{ID: r.ID, Success: r.Err == nil, Message: r.Message()}
	}
	return reply(out)
}

type downloadReportsInput struct {
	Auth
	ReportIDs string `query:"reportIds" doc:"Mandatory. A comma-separated list of report ids (at most 1,000)."`
}

const downloadReportsDoc = "A CSV file (text/csv, UTF-8, RFC 4180, attachment) with a header row and one row per known report, " +
	"in the order of reportIds (unknown ids are left out; none known is 404). Each report's downloadCount is incremented " +
	"and downloadLastDate set in the same transaction; the row shows the values after this download. Text cells that " +
	"start with =, +, -, @, a tab or a carriage return are prefixed with ' so that spreadsheets do not run them as formulas."

func (s *Server) downloadReportsForEpoch(ctx context.Context, c aimg.Caller, in *downloadReportsInput) (*huma.StreamResponse, error) {
	res, err := s.Library.DownloadReports(ctx, c, SplitCommaList(in.ReportIDs))
	if err != nil {
		return nil, err
	}
	name := library.ReportsCSVName(s.Now())
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		_, rw := humago.Unwrap(hctx)
		h := rw.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		// Written as it goes: the rows are in memory once (res), not twice.
		// A write error here is the client going away; nothing to answer.
		_ = library.WriteReportsCSV(rw, res)
	}}, nil
}

// csvResponse documents a 200 that is a CSV file, not an envelope.
func csvResponse(_ *Server, op *huma.Operation) {
	op.Responses = map[string]*huma.Response{"200": {
		Description: "The CSV file.",
		Content:     map[string]*huma.MediaType{"text/csv": {Schema: &huma.Schema{Type: "string"}}},
	}}
}
