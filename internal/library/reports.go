package library

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/config"
)

// Item reports (DECISIONS.md "Items", docs/decisions.md "Reports"):
// signed-in users report Items they can see into a user queue; Admins list
// reports (also by system queue), close them (accepting deletes the Items)
// and download them as CSV for Epoch.

// MaxReportIDs is the most Items (reportItems) or reports (closeReports,
// getReports' reportIds, downloadReportsForEpoch) one call may name.
const MaxReportIDs = 1000

// ReportStore is the persistence reports need; *store.Store has it.
type ReportStore interface {
	CreateReports(ctx context.Context, nr aimg.NewReports) ([]aimg.ReportCreated, error)
	ListReports(ctx context.Context, f aimg.ReportFilter, rules aimg.ReportRules, p aimg.Page) (aimg.ReportPage, error)
	CloseReports(ctx context.Context, c aimg.ReportClosing) ([]aimg.ReportClosed, error)
	DownloadReports(ctx context.Context, ids []string, rules aimg.ReportRules, at time.Time) ([]*aimg.ReportedItem, error)
	ReportCounts(ctx context.Context, userID string, rules aimg.ReportRules) (flagged, highHeat int64, err error)
}

var (
	errReportOwnItem     = aimg.Errorf(aimg.CodeConflict, "You cannot report your own Item: delete it instead")
	errReportPending     = aimg.Errorf(aimg.CodeConflict, "You already have a pending report of this Item")
	errReportSignIn      = aimg.Errorf(aimg.CodeUnauthorized, "Sign in to report Items")
	errReportAbuse       = aimg.Errorf(aimg.CodeForbidden, "This account cannot report Items")
	errReportNotFound    = aimg.ErrReportNotFound
	errNoReportsForIDs   = aimg.Errorf(aimg.CodeNotFound, "reportIds: no report has these ids")
	errReportItemDeleted = aimg.Errorf(aimg.CodeGone, "Item is deleted")
)

// SetReports sets the report queues and the system queues' thresholds
// (config reports:); the app calls it once at start.
func (s *Service) SetReports(r config.Reports) { s.reports = r }

// ReportQueues is getReportQueues: the user queues, and for Admins the
// system queues after them.
func (s *Service) ReportQueues(c aimg.Caller) []string {
	out := slices.Clone(s.reports.Queues)
	if c.Admin {
		out = append(out, config.SystemQueues...)
	}
	return out
}

// ReportResult is one Item's entry in reportItems' answer.
type ReportResult struct {
	ID       string
	ReportID string // "" unless reported
	Err      error
}

// Message is why nothing was reported, safe to show ("" on success).
func (r ReportResult) Message() string { return safeMessage(r.Err, "Item not reported") }

func safeMessage(err error, fallback string) string {
	var e *aimg.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	}
	return fallback
}

// canReport is DECISIONS.md's rule for reporting one Item, on the locked
// row: an Item the caller may see as a user (publicly visible; not their
// own), not deleted, not protected, no pending report of the caller's.
func canReport(c aimg.Caller, it *aimg.Item, pending bool) error {
	switch {
	case owns(c, it) && it.DeletedAt != nil:
		return errReportItemDeleted
	case owns(c, it):
		return errReportOwnItem
	case !VisibleToUser(c, it):
		return errItemNotFound
	case it.DeletedAt != nil:
		return errReportItemDeleted
	case it.IsProtected:
		return aimg.ErrItemProtected
	case pending:
		return errReportPending
	}
	return nil
}

// checkInfo bounds an additionalInformation text.
func (s *Service) checkInfo(field, info string) error {
	if !utf8.ValidString(info) || utf8.RuneCountInString(info) > s.reports.MaxAdditionalInformation {
		return aimg.Invalid(field, "at most %d characters of UTF-8", s.reports.MaxAdditionalInformation)
	}
	return nil
}

// ReportItems is reportItems: ids (duplicates collapse to the first) each
// get an outcome; the reports are written in one transaction. Errors are
// for the whole call: not signed in, abuse level >= 4, bad input.
func (s *Service) ReportItems(ctx context.Context, c aimg.Caller, ids []string, queue, info string) ([]ReportResult, error) {
	if c.User == nil || c.User.IsGuest {
		return nil, errReportSignIn
	}
	if len(ids) == 0 {
		return nil, aimg.Invalid("itemIds", "is required: one or more Item ids")
	}
	if len(ids) > MaxReportIDs {
		return nil, aimg.Invalid("itemIds", "at most %d Items per call (got %d)", MaxReportIDs, len(ids))
	}
	switch q, ok := s.reports.UserQueue(queue); {
	case queue == "":
		queue = s.reports.DefaultQueue
	case ok:
		queue = q
	default:
		return nil, aimg.Invalid("reportQueue", "%s is not a report queue; one of: %s", aimg.Quote(queue), strings.Join(s.reports.Queues, ", "))
	}
	if err := s.checkInfo("additionalInformation", info); err != nil {
		return nil, err
	}
	if c.User.Abuse >= aimg.AbuseNoReportsOrLikes {
		return nil, errReportAbuse
	}
	query, at, items := distinctItemIDs(ids)
	out := make([]ReportResult, len(items))
	for i, r := range items {
		out[i] = ReportResult{ID: r.ID, Err: r.Err}
	}
	if len(query) == 0 {
		return out, nil
	}
	res, err := s.store.CreateReports(ctx, aimg.NewReports{
		ReporterID: c.User.ID, IDs: query, Queue: queue, Info: info, At: s.now(), NewID: uuid.NewString,
		Check: func(it *aimg.Item, pending bool) error { return canReport(c, it, pending) },
	})
	if err != nil {
		return nil, err
	}
	for i, r := range res {
		out[at[i]].Err, out[at[i]].ReportID = r.Err, r.ReportID
	}
	return out, nil
}

// ReportQuery is getReports' filters as sent (comma lists already split).
type ReportQuery struct {
	IDs           []string
	Statuses      []string
	Queues        []string
	CreatedAfter  string
	CreatedBefore string
	AuthorID      string
}

// ReportView is a report as Admins see it: ItemReport with its Item's URL
// and every queue it is in (its user queue, then system queues).
type ReportView struct {
	*aimg.ReportedItem
	ItemURL string
	Queues  []string
}

// ReportList is one page of getReports.
type ReportList struct {
	Reports []ReportView
	Next    *int64
	Total   int64
}

// parseReportTime reads an ISO 8601 time of a filter: RFC 3339 (with or
// without fractions; without a zone it is UTC) or a date alone, which for
// createdBefore means the end of that day (both bounds are inclusive).
func parseReportTime(field, v string, endOfDay bool) (*time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, v); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		if endOfDay {
			t = t.Add(24*time.Hour - time.Millisecond)
		}
		return &t, nil
	}
	return nil, aimg.Invalid(field, "%s is not an ISO 8601 date or time (e.g. 2026-12-01T10:00:00.000Z)", aimg.Quote(v))
}

func validReportID(id string) bool { return len(id) <= maxItemIDLen && utf8.ValidString(id) }

// Reports is getReports (Admins only).
func (s *Service) Reports(ctx context.Context, c aimg.Caller, q ReportQuery, p aimg.Page) (ReportList, error) {
	if !c.Admin {
		return ReportList{}, errAdminOnly
	}
	var f aimg.ReportFilter
	if len(q.IDs) > MaxReportIDs {
		return ReportList{}, aimg.Invalid("reportIds", "at most %d reports per call (got %d)", MaxReportIDs, len(q.IDs))
	}
	for _, id := range q.IDs {
		if validReportID(id) && !slices.Contains(f.IDs, id) {
			f.IDs = append(f.IDs, id)
		}
	}
	if len(q.IDs) > 0 && len(f.IDs) == 0 {
		return ReportList{Reports: []ReportView{}}, nil
	}
	for _, st := range q.Statuses {
		switch st {
		case aimg.ReportPending, aimg.ReportAccepted, aimg.ReportDeclined, aimg.ReportAutomaticallyDeclined:
			if !slices.Contains(f.Statuses, st) {
				f.Statuses = append(f.Statuses, st)
			}
		default:
			return ReportList{}, aimg.Invalid("reportStatus", "%s is not a report status; pending, accepted, declined or automaticallyDeclined", aimg.Quote(st))
		}
	}
	for _, name := range q.Queues {
		if sq, ok := config.SystemQueue(name); ok {
			f.SystemQueues = append(f.SystemQueues, sq)
		} else if uq, ok := s.reports.UserQueue(name); ok {
			f.Queues = append(f.Queues, uq)
		} else {
			return ReportList{}, aimg.Invalid("reportQueues", "%s is not a report queue (getReportQueues lists them)", aimg.Quote(name))
		}
	}
	var err error
	if f.After, err = parseReportTime("createdAfter", q.CreatedAfter, false); err != nil {
		return ReportList{}, err
	}
	if f.Before, err = parseReportTime("createdBefore", q.CreatedBefore, true); err != nil {
		return ReportList{}, err
	}
	if q.AuthorID != "" {
		if !validReportID(q.AuthorID) {
			return ReportList{Reports: []ReportView{}}, nil
		}
		f.AuthorID = q.AuthorID
	}
	page, err := s.store.ListReports(ctx, f, s.reports.Rules(), p)
	if err != nil {
		return ReportList{}, err
	}
	out := ReportList{Reports: make([]ReportView, len(page.Reports)), Next: page.Next, Total: page.Total}
	for i, r := range page.Reports {
		out.Reports[i] = s.reportView(r)
	}
	return out, nil
}

func (s *Service) reportView(r *aimg.ReportedItem) ReportView {
	v := ReportView{ReportedItem: r, Queues: append([]string{r.Queue}, r.SystemQueues...)}
	if it := r.Item; it != nil && it.Status == aimg.StatusCompleted && it.FileID != "" {
		v.ItemURL = s.files.URL(it.FileID)
	}
	return v
}

// ReportOutcome is one report's entry in closeReports' answer.
type ReportOutcome struct {
	ID  string
	Err error
}

// Message is why the report was not closed, safe to show ("" on success).
func (r ReportOutcome) Message() string { return safeMessage(r.Err, "Report not closed") }

// CloseReports is closeReports (Admins only): each named report (and with
// related, each other pending report of the same Items, listed after them)
// gets an outcome.
func (s *Service) CloseReports(ctx context.Context, c aimg.Caller, ids []string, status, info string, related bool) ([]ReportOutcome, error) {
	if !c.Admin {
		return nil, errAdminOnly
	}
	if len(ids) == 0 {
		return nil, aimg.Invalid("reportIds", "is required: one or more report ids")
	}
	if len(ids) > MaxReportIDs {
		return nil, aimg.Invalid("reportIds", "at most %d reports per call (got %d)", MaxReportIDs, len(ids))
	}
	switch status {
	case aimg.ReportAccepted, aimg.ReportDeclined:
	case "":
		return nil, aimg.Invalid("reportStatus", "is required: accepted or declined")
	default:
		return nil, aimg.Invalid("reportStatus", "must be accepted or declined")
	}
	if err := s.checkInfo("additionalInformation", info); err != nil {
		return nil, err
	}
	var out []ReportOutcome
	var query []string
	var at []int
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, ReportOutcome{ID: id})
		if !validReportID(id) {
			out[len(out)-1].Err = errReportNotFound
			continue
		}
		query = append(query, id)
		at = append(at, len(out)-1)
	}
	if len(query) == 0 {
		return out, nil
	}
	approver := ""
	if c.User != nil && !c.User.IsGuest {
		approver = c.User.ID
	}
	res, err := s.store.CloseReports(ctx, aimg.ReportClosing{
		IDs: query, Status: status, Info: info, ApproverID: approver, Related: related, At: s.now(),
	})
	if err != nil {
		return nil, err
	}
	for i, r := range res {
		if i < len(query) {
			out[at[i]].Err = r.Err
			continue
		}
		out = append(out, ReportOutcome{ID: r.ID, Err: r.Err})
	}
	return out, nil
}

// DownloadReports is downloadReportsForEpoch (Admins only): the reports of
// ids, in that order, each counted as downloaded once. Unknown ids are left
// out; none known is not found.
func (s *Service) DownloadReports(ctx context.Context, c aimg.Caller, ids []string) ([]ReportView, error) {
	if !c.Admin {
		return nil, errAdminOnly
	}
	if len(ids) == 0 {
		return nil, aimg.Invalid("reportIds", "is required: one or more report ids")
	}
	if len(ids) > MaxReportIDs {
		return nil, aimg.Invalid("reportIds", "at most %d reports per call (got %d)", MaxReportIDs, len(ids))
	}
	var query []string
	for _, id := range ids {
		if validReportID(id) && !slices.Contains(query, id) {
			query = append(query, id)
		}
	}
	if len(query) == 0 {
		return nil, errNoReportsForIDs
	}
	res, err := s.store.DownloadReports(ctx, query, s.reports.Rules(), s.now())
	if err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return nil, errNoReportsForIDs
	}
	out := make([]ReportView, len(res))
	for i, r := range res {
		out[i] = s.reportView(r)
	}
	return out, nil
}

// ReportCounts are getUser's flaggedImagesCount and highHeatImagesCount.
func (s *Service) ReportCounts(ctx context.Context, userID string) (flagged, highHeat int64, err error) {
	return s.store.ReportCounts(ctx, userID, s.reports.Rules())
}
