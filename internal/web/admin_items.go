package web

import (
	"cmp"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"aimg/internal/aimg"
	"aimg/internal/library"
)

// The approval queue (getItems with publicApprovalStatus=pending,
// setPublicApprovalStatus) and the report queues (getReportQueues,
// getReports, closeReports, downloadReportsForEpoch).

// adminPageSize is how many Items or reports an admin list page holds.
const adminPageSize = 48

// pendingItem is one Item of the approval queue.
type pendingItem struct {
	ID, Prompt, UserID, FileURL string
	Thumb                       image
	Created                     string
}

type approvalsPage struct {
	Items []pendingItem
	More  string
	Done  string
}

// pageIndex reads ?before= (a paginationIndex, Unix ms).
func pageIndex(r *http.Request) (int64, error) {
	b := r.URL.Query().Get("before")
	if b == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(b, 10, 64)
	if err != nil || n < 0 {
		return 0, aimg.Invalid("before", "must be a paginationIndex (Unix ms)")
	}
	return n, nil
}

func (s *Server) approvalsPage(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	s.renderApprovals(w, r, c, http.StatusOK, nil)
}

// renderApprovals shows the queue, with err (a failed action) on top.
func (s *Server) renderApprovals(w http.ResponseWriter, r *http.Request, c aimg.Caller, status int, err error) {
	before, perr := pageIndex(r)
	if perr != nil {
		s.fail(w, r, c, perr)
		return
	}
	list, lerr := s.Library.AllItems(r.Context(), c, "", aimg.ItemFilter{Approval: aimg.ApprovalPending},
		aimg.Page{Limit: adminPageSize, Index: before})
	if lerr != nil {
		s.fail(w, r, c, lerr)
		return
	}
	p := &approvalsPage{Done: doneMessage(r)}
	for _, v := range list.Items {
		it := v.Item
		p.Items = append(p.Items, pendingItem{ID: it.ID, Prompt: cmp.Or(it.Prompt, altText(it, nil)), UserID: it.UserID, FileURL: v.URL,
			Thumb: s.imageOf(it.FileID, thumbSize, "fill"), Created: it.CreatedAt.UTC().Format("2 Jan 2006 15:04 UTC")})
	}
	if list.Next != nil {
		p.More = "/admin/approvals?before=" + strconv.FormatInt(*list.Next, 10)
	}
	v := s.newView(r, c, "Approval queue", p)
	if err != nil {
		v.Error = publicMessage(err)
	}
	s.render(w, r, status, "admin_approvals", v)
}

// chosen is a list form's choice: one row's button (name "one", value
// "<action>:<id>") or the selected rows' ids with the action button pressed.
func chosen(r *http.Request, actionField string) (action string, ids []string) {
	if one := r.PostFormValue("one"); one != "" {
		if a, id, ok := strings.Cut(one, ":"); ok {
			return a, []string{id}
		}
	}
	return r.PostFormValue(actionField), r.PostForm["id"]
}

func (s *Server) setApproval(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	status, ids := chosen(r, "publicApprovalStatus")
	res, err := s.Library.SetPublicApprovalStatus(r.Context(), c, ids, status)
	if err == nil {
		err = firstItemError(res)
	}
	if err != nil {
		s.renderApprovals(w, r, c, statusOf(err), err)
		return
	}
	seeOther(w, r, "/admin/approvals?"+url.Values{"done": {status}, "n": {strconv.Itoa(len(res))}}.Encode())
}

// firstItemError is the first Item's outcome that failed, named by its id.
func firstItemError(res []library.ItemResult) error {
	for _, o := range res {
		if o.Err != nil {
			return aimg.Errorf(aimg.ErrorCode(o.Err), "Item %s: %s", o.ID, o.Message())
		}
	}
	return nil
}

// doneMessages are the notices a post/redirect/get may show (?done=, ?n=):
// fixed texts, so that a link cannot make an admin page say anything else.
var doneMessages = map[string]string{
	aimg.ApprovalApproved: "Approved: %d.", aimg.ApprovalRejected: "Rejected: %d.",
	aimg.ReportAccepted: "Reports accepted (their Items deleted): %d.", aimg.ReportDeclined: "Reports declined: %d.",
	"abuse": "Abuse level set.", "tier": "Premium tier saved.", "picture": "Profile picture ban saved.",
	"revoked": "Worker key revoked; Jobs back in their queues: %d.",
}

func doneMessage(r *http.Request) string {
	msg, ok := doneMessages[r.URL.Query().Get("done")]
	if !ok {
		return ""
	}
	if strings.Contains(msg, "%d") {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		return strings.Replace(msg, "%d", strconv.Itoa(n), 1)
	}
	return msg
}

// reportRow is one report as the reports page lists it.
type reportRow struct {
	library.ReportView
	Thumb    image
	Reported string
}

type reportsPage struct {
	Queues        []string
	Queue, Status string
	Statuses      []string
	Reports       []reportRow
	Total         int64
	More          string
	CSV           string // the page's reports as CSV
	Done          string
}

var reportStatuses = []string{aimg.ReportPending, aimg.ReportAccepted, aimg.ReportDeclined, aimg.ReportAutomaticallyDeclined}

func (s *Server) reportsPage(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	s.renderReports(w, r, c, http.StatusOK, nil)
}

// renderReports lists the reports of ?queue= (all) and ?status= (pending).
func (s *Server) renderReports(w http.ResponseWriter, r *http.Request, c aimg.Caller, status int, err error) {
	q := r.URL.Query()
	p := &reportsPage{Queues: s.Library.ReportQueues(c), Queue: q.Get("queue"), Status: q.Get("status"),
		Statuses: reportStatuses, Done: doneMessage(r)}
	if p.Status == "" {
		p.Status = aimg.ReportPending
	}
	before, perr := pageIndex(r)
	if perr != nil {
		s.fail(w, r, c, perr)
		return
	}
	rq := library.ReportQuery{Statuses: []string{p.Status}}
	if p.Queue != "" {
		rq.Queues = []string{p.Queue}
	}
	list, lerr := s.Library.Reports(r.Context(), c, rq, aimg.Page{Limit: adminPageSize, Index: before})
	if lerr != nil {
		s.fail(w, r, c, lerr)
		return
	}
	p.Total = list.Total
	var ids []string
	for _, v := range list.Reports {
		row := reportRow{ReportView: v, Reported: v.CreatedAt.UTC().Format("2 Jan 2006 15:04 UTC")}
		if v.Item != nil {
			row.Thumb = s.imageOf(v.Item.FileID, thumbSize, "fill")
		}
		p.Reports = append(p.Reports, row)
		ids = append(ids, v.ID)
	}
	if len(ids) > 0 {
		p.CSV = "/admin/reports/csv?" + url.Values{"ids": {strings.Join(ids, ",")}}.Encode()
	}
	if list.Next != nil {
		p.More = "/admin/reports?" + url.Values{"queue": {p.Queue}, "status": {p.Status},
			"before": {strconv.FormatInt(*list.Next, 10)}}.Encode()
	}
	v := s.newView(r, c, "Reports", p)
	if err != nil {
		v.Error = publicMessage(err)
	}
	s.render(w, r, status, "admin_reports", v)
}

func (s *Server) closeReports(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	status, ids := chosen(r, "reportStatus")
	res, err := s.Library.CloseReports(r.Context(), c, ids, status, r.PostFormValue("additionalInformation"),
		r.PostFormValue("closeRelatedReports") == "on")
	if err == nil {
		for _, o := range res {
			if o.Err != nil {
				err = aimg.Errorf(aimg.ErrorCode(o.Err), "Report %s: %s", o.ID, o.Message())
				break
			}
		}
	}
	back := url.Values{"queue": {r.PostFormValue("queue")}, "status": {r.PostFormValue("status")}}
	if err != nil {
		r.URL.RawQuery = back.Encode()
		s.renderReports(w, r, c, statusOf(err), err)
		return
	}
	back.Set("done", status)
	back.Set("n", strconv.Itoa(len(res)))
	seeOther(w, r, "/admin/reports?"+back.Encode())
}

// reportsCSV is downloadReportsForEpoch: the same call, the same file, as
// an attachment (?ids=, comma-separated).
func (s *Server) reportsCSV(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	var ids []string
	for id := range strings.SplitSeq(r.URL.Query().Get("ids"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	res, err := s.Library.DownloadReports(r.Context(), c, ids)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": library.ReportsCSVName(s.Now())}))
	_ = library.WriteReportsCSV(w, res)
}
