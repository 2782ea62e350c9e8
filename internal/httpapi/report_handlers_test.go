package httpapi_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/config"
	"aimg/internal/ratelimit"

	"aimg/internal/testsupport"
)

type reportOutcome struct {
	ID       string  `json:"id"`
	ReportID *string `json:"reportId"`
	Success  bool    `json:"success"`
	Message  *string `json:"message"`
}

type apiReport struct {
	ItemID                        string   `json:"itemId"`
	ReporterID                    *string  `json:"reporterId"`
	ReportID                      string   `json:"reportId"`
	ReportedDate                  string   `json:"reportedDate"`
	ReportStatus                  string   `json:"reportStatus"`
	ReportQueues                  []string `json:"reportQueues"`
	ReportAdditionalInformation   string   `json:"reportAdditionalInformation"`
	ApprovalAdditionalInformation string   `json:"approvalAdditionalInformation"`
	ReportProcessedDate           *string  `json:"reportProcessedDate"`
	ApproverID                    string   `json:"approverId"`
	DownloadCount                 int64    `json:"downloadCount"`
	DownloadLastDate              *string  `json:"downloadLastDate"`
	ItemMetadata                  *struct {
		RawPositivePrompt      string `json:"rawPositivePrompt"`
		FilteredPositivePrompt string `json:"filteredPositivePrompt"`
		RawNegativePrompt      string `json:"rawNegativePrompt"`
		FilteredNegativePrompt string `json:"filteredNegativePrompt"`
		ModelID                string `json:"modelId"`
		URL                    string `json:"url"`
	} `json:"itemMetadata"`
	AuthorMetadata *struct {
		UserID            string `json:"userId"`
		UserEmail         string `json:"userEmail"`
		Username          string `json:"username"`
		FlaggedItemsCount int64  `json:"flaggedItemsCount"`
		Abuse             int    `json:"abuse"`
		IsDisabled        bool   `json:"isDisabled"`
	} `json:"authorMetadata"`
}

func reportItems(t *testing.T, srv *testsupport.Server, session string, body map[string]any) *testsupport.Envelope {
	t.Helper()
	return srv.Post(t, "/api/reportItems", session, body)
}

// reportOK reports ids as session into queue and returns the outcomes by id.
func reportOK(t *testing.T, srv *testsupport.Server, session, queue string, ids ...string) map[string]reportOutcome {
	t.Helper()
	body := map[string]any{"itemIds": ids}
	if queue != "" {
		body["reportQueue"] = queue
	}
	env := reportItems(t, srv, session, body)
	testsupport.ExpectOK(t, env)
	var list []reportOutcome
	env.Decode(t, &list)
	out := map[string]reportOutcome{}
	for _, o := range list {
		out[o.ID] = o
	}
	return out
}

func wantReported(t *testing.T, got map[string]reportOutcome, id, msg string) string {
	t.Helper()
	o, ok := got[id]
	switch {
	case !ok:
		t.Fatalf("no outcome for %s in %v", id, got)
	case msg == "" && (!o.Success || o.ReportID == nil || o.Message != nil):
		t.Fatalf("%s: %+v, want a report", id, o)
	case msg != "" && (o.Success || o.ReportID != nil || o.Message == nil || *o.Message != msg):
		t.Fatalf("%s: %+v, want failure %q without a reportId", id, o, msg)
	}
	if o.ReportID == nil {
		return ""
	}
	return *o.ReportID
}

func getReports(t *testing.T, srv *testsupport.Server, query string) ([]apiReport, pageMeta) {
	t.Helper()
	env := srv.AdminGet(t, "/api/getReports?"+query)
	testsupport.ExpectOK(t, env)
	var list []apiReport
	env.Decode(t, &list)
	var meta pageMeta
	if err := json.Unmarshal(env.Metadata, &meta); err != nil {
		t.Fatal(err)
	}
	return list, meta
}

func reportIDs(list []apiReport) []string {
	out := make([]string, len(list))
	for i, r := range list {
		out[i] = r.ReportID
	}
	return out
}

func wantReportIDs(t *testing.T, list []apiReport, want ...string) {
	t.Helper()
	got := reportIDs(list)
	if !slices.Equal(got, want) {
		t.Fatalf("reports %v, want %v", got, want)
	}
}

func closeReports(t *testing.T, srv *testsupport.Server, body map[string]any) map[string]outcome {
	t.Helper()
	return bulkOK(t, srv.AdminPost(t, "/api/closeReports", body), -1)
}

func setAbuse(t *testing.T, srv *testsupport.Server, userID string, level int) {
	t.Helper()
	testsupport.ExpectOK(t, srv.AdminPost(t, "/api/setUserAbuseLevel", map[string]any{"userID": userID, "abuse": level}))
}

// reportStatus reads a report's stored status.
func storedReportStatus(t *testing.T, srv *testsupport.Server, id string) string {
	t.Helper()
	list, _ := getReports(t, srv, "reportIds="+id)
	if len(list) != 1 {
		t.Fatalf("report %s: %d found", id, len(list))
	}
	return list[0].ReportStatus
}

// B reports A's Items: a publicly visible one is reported (into the queue
// named case-insensitively, with the text); each Item that cannot be says
// why: private (not found), protected, deleted, B's own, unknown, and a
// second report while the first is pending.
func TestReportItems(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		pub, priv, prot, del := publicItem(a.UserID, 0), apiItem(a.UserID, time.Second), publicItem(a.UserID, 2*time.Second), publicItem(a.UserID, 3*time.Second)
		prot.IsProtected = true
		gone := itemTime.Add(time.Hour)
		del.DeletedAt = &gone
		mine := publicItem(b.UserID, 0)
		putItems(t, srv, pub, priv, prot, del, mine)
		unknown := uuid.NewString()

		env := reportItems(t, srv, b.SessionID, map[string]any{"itemIds": []string{pub.ID, priv.ID, prot.ID, del.ID, mine.ID, unknown, "x", pub.ID},
			"reportQueue": "spam", "additionalInformation": "=HYPERLINK(\"evil\")"})
		testsupport.ExpectOK(t, env)
		var list []reportOutcome
		env.Decode(t, &list)
		if len(list) != 7 {
			t.Fatalf("%d outcomes, want 7 (duplicates once): %s", len(list), env.Payload)
		}
		got := map[string]reportOutcome{}
		for _, o := range list {
			got[o.ID] = o
		}
		id := wantReported(t, got, pub.ID, "")
		wantReported(t, got, priv.ID, "Item not found")
		wantReported(t, got, prot.ID, "Item is protected")
		wantReported(t, got, del.ID, "Item not found")
		wantReported(t, got, mine.ID, "You cannot report your own Item: delete it instead")
		wantReported(t, got, unknown, "Item not found")
		wantReported(t, got, "x", "Item not found")
		// The owner may not report a deleted own Item either.
		mineGone := publicItem(b.UserID, time.Second)
		mineGone.DeletedAt = &gone
		putItems(t, srv, mineGone)
		wantReported(t, reportOK(t, srv, b.SessionID, "", mineGone.ID), mineGone.ID, "Item is deleted")

		// A second report of the same Item while the first is pending.
		wantReported(t, reportOK(t, srv, b.SessionID, "Nudity", pub.ID), pub.ID, "You already have a pending report of this Item")

		reports, _ := getReports(t, srv, "")
		if len(reports) != 1 {
			t.Fatalf("getReports: %d reports, want 1", len(reports))
		}
		r := reports[0]
		if r.ReportID != id || r.ItemID != pub.ID || r.ReporterID == nil || *r.ReporterID != b.UserID || r.ReportStatus != "pending" ||
			!slices.Equal(r.ReportQueues, []string{"Spam"}) || r.ReportAdditionalInformation != "=HYPERLINK(\"evil\")" ||
			r.ReportedDate != "2026-01-02T03:04:05.000Z" || r.ReportProcessedDate != nil || r.DownloadCount != 0 || r.DownloadLastDate != nil {
			t.Fatalf("report: %+v", r)
		}
		if m := r.ItemMetadata; m == nil || m.FilteredPositivePrompt != "a red fox" || m.FilteredNegativePrompt != "blurry" || m.ModelID != "f222" ||
			!strings.Contains(m.URL, pub.FileID) {
			t.Fatalf("itemMetadata: %+v", r.ItemMetadata)
		}
		if m := r.AuthorMetadata; m == nil || m.UserID != a.UserID || m.UserEmail != "ada@example.com" || m.FlaggedItemsCount != 0 || m.Abuse != 0 || m.IsDisabled {
			t.Fatalf("authorMetadata: %+v", r.AuthorMetadata)
		}

		// Without reportQueue: Not Specified.
		c := testsupport.SignUp(t, srv, "cy@example.com")
		cid := wantReported(t, reportOK(t, srv, c.SessionID, "", pub.ID), pub.ID, "")
		reports, _ = getReports(t, srv, "reportIds="+cid)
		if len(reports) != 1 || !slices.Equal(reports[0].ReportQueues, []string{"Not Specified"}) {
			t.Fatalf("default queue: %+v", reports)
		}
	})
}

// Bad input is a 400 naming the field; guests get 401; abuse level 4
// refuses the whole call (403), as likeItems does; level 3 still reports.
func TestReportItemsRefused(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		pub := publicItem(a.UserID, 0)
		putItems(t, srv, pub)
		ids := []string{pub.ID}

		testsupport.ExpectError(t, reportItems(t, srv, b.SessionID, map[string]any{}), 400, "itemIds: is required")
		testsupport.ExpectError(t, reportItems(t, srv, b.SessionID, map[string]any{"itemIds": ids, "reportQueue": "Boring"}), 400, "reportQueue: \"Boring\" is not a report queue")
		testsupport.ExpectError(t, reportItems(t, srv, b.SessionID, map[string]any{"itemIds": ids, "reportQueue": "highHeat"}), 400, "reportQueue:")
		testsupport.ExpectError(t, reportItems(t, srv, b.SessionID, map[string]any{"itemIds": ids, "additionalInformation": strings.Repeat("é", 2001)}), 400, "additionalInformation: at most 2000 characters")
		many := make([]string, 1001)
		for i := range many {
			many[i] = uuid.NewString()
		}
		testsupport.ExpectError(t, reportItems(t, srv, b.SessionID, map[string]any{"itemIds": many}), 400, "itemIds: at most 1000 Items per call (got 1001)")
		testsupport.ExpectOK(t, reportItems(t, srv, b.SessionID, map[string]any{"itemIds": many[1:], "additionalInformation": strings.Repeat("é", 2000)}))

		// Guests (anonymous or with a guest record) cannot report.
		testsupport.ExpectError(t, reportItems(t, srv, uuid.NewString(), map[string]any{"itemIds": ids}), 401, "not signed in")
		testsupport.ExpectError(t, reportItems(t, srv, "", map[string]any{"itemIds": ids}), 401, "not signed in")

		setAbuse(t, srv, b.UserID, 4)
		testsupport.ExpectError(t, reportItems(t, srv, b.SessionID, map[string]any{"itemIds": ids}), 403, "This account cannot report Items")
		setAbuse(t, srv, b.UserID, 3)
		wantReported(t, reportOK(t, srv, b.SessionID, "", pub.ID), pub.ID, "")
		if reports, _ := getReports(t, srv, ""); len(reports) != 1 {
			t.Fatalf("%d reports, want only the one of abuse level 3", len(reports))
		}
		// Users cannot read or close reports, theirs or anyone's.
		for _, who := range []string{a.SessionID, b.SessionID} {
			testsupport.ExpectError(t, srv.Get(t, "/api/getReports", who), 403, "X-Administration-Key")
			testsupport.ExpectError(t, srv.Post(t, "/api/closeReports", who, map[string]any{"reportIds": []string{"x"}, "reportStatus": "declined"}), 403, "X-Administration-Key")
		}
	})
}

// getReportQueues: users get the configured queues; Admins (with or
// without a session) the system queues too.
func TestGetReportQueues(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		user := []string{"Not Specified", "Spam", "Nudity", "Violence", "Hate", "Illegal Content", "Copyright", "Other"}
		var got []string
		env := srv.Get(t, "/api/getReportQueues", a.SessionID)
		testsupport.ExpectOK(t, env)
		env.Decode(t, &got)
		if !slices.Equal(got, user) {
			t.Fatalf("user queues %v, want %v", got, user)
		}
		for _, session := range []string{"", a.SessionID} {
			env = srv.Do(t, testsupport.Req{Method: http.MethodGet, Path: "/api/getReportQueues", SessionID: session, AdminKey: testsupport.AdminKey})
			testsupport.ExpectOK(t, env)
			env.Decode(t, &got)
			if want := append(slices.Clone(user), "multipleReports", "highHeat"); !slices.Equal(got, want) {
				t.Fatalf("admin queues %v, want %v", got, want)
			}
		}
		testsupport.ExpectError(t, srv.Get(t, "/api/getReportQueues", ""), 401, "not signed in")
	})
}

// Every getReports filter, the system queues (by their thresholds) and
// paging.
func TestGetReportsFilters(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits, lowHeat)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		z := testsupport.SignUp(t, srv, "zed@example.com")
		var users []testsupport.Account
		for _, e := range []string{"u1@example.com", "u2@example.com", "u3@example.com"} {
			users = append(users, testsupport.SignUp(t, srv, e))
		}
		x, y, hot := publicItem(a.UserID, 0), publicItem(a.UserID, time.Second), publicItem(a.UserID, 2*time.Second)
		zi := publicItem(z.UserID, 0)
		putItems(t, srv, x, y, hot, zi)

		// t0: three reports of x (multipleReports at 3); t0+1m: y; t0+2m: hot, zi.
		var rx []string
		for _, u := range users {
			rx = append(rx, wantReported(t, reportOK(t, srv, u.SessionID, "Spam", x.ID), x.ID, ""))
		}
		srv.Clock.Advance(time.Minute)
		ry := wantReported(t, reportOK(t, srv, users[0].SessionID, "Nudity", y.ID), y.ID, "")
		srv.Clock.Advance(time.Minute)
		got := reportOK(t, srv, users[1].SessionID, "Other", hot.ID, zi.ID)
		rhot, rz := wantReported(t, got, hot.ID, ""), wantReported(t, got, zi.ID, "")
		// highHeat at 2 dislikes and 50% (lowered for the test): hot has 2
		// dislikes of 3 reactions; y 2 of 5 (40%).
		for _, u := range users[:2] {
			react(t, srv, u.SessionID, "dislikeItems", hot.ID, y.ID)
		}
		react(t, srv, users[2].SessionID, "likeItems", hot.ID, y.ID)
		react(t, srv, a.SessionID, "likeItems", y.ID)
		react(t, srv, z.SessionID, "likeItems", y.ID)

		list, meta := getReports(t, srv, "")
		// Newest first; reports of the same millisecond by id, descending.
		slices.Sort(rx)
		slices.Reverse(rx)
		last := []string{rhot, rz}
		slices.Sort(last)
		slices.Reverse(last)
		want := append(append(last, ry), rx...)
		wantReportIDs(t, list, want...)
		if meta.TotalCount == nil || *meta.TotalCount != 6 {
			t.Fatalf("totalCount %v, want 6", meta.TotalCount)
		}
		for _, r := range list {
			switch r.ItemID {
			case x.ID:
				if !slices.Equal(r.ReportQueues, []string{"Spam", "multipleReports"}) {
					t.Fatalf("x report queues %v", r.ReportQueues)
				}
			case hot.ID:
				if !slices.Equal(r.ReportQueues, []string{"Other", "highHeat"}) {
					t.Fatalf("hot report queues %v", r.ReportQueues)
				}
			case y.ID:
				if !slices.Equal(r.ReportQueues, []string{"Nudity"}) {
					t.Fatalf("y report queues %v", r.ReportQueues)
				}
			}
		}

		list, _ = getReports(t, srv, "reportQueues=multipleReports")
		wantReportIDs(t, list, rx...)
		list, _ = getReports(t, srv, "reportQueues=highHeat")
		wantReportIDs(t, list, rhot)
		list, _ = getReports(t, srv, "reportQueues=nudity,HIGHHEAT")
		wantReportIDs(t, list, rhot, ry)
		list, _ = getReports(t, srv, "reportQueues=Spam")
		wantReportIDs(t, list, rx...)
		list, _ = getReports(t, srv, "authorId="+z.UserID)
		wantReportIDs(t, list, rz)
		list, _ = getReports(t, srv, "reportIds="+ry+","+rz+",nope")
		wantReportIDs(t, list, rz, ry)
		// Inclusive bounds.
		t1 := url.QueryEscape("2026-01-02T03:05:05.000Z")
		list, _ = getReports(t, srv, "createdAfter="+t1)
		wantReportIDs(t, list, append(slices.Clone(last), ry)...)
		list, _ = getReports(t, srv, "createdBefore="+t1)
		wantReportIDs(t, list, append([]string{ry}, rx...)...)
		list, _ = getReports(t, srv, "createdAfter="+t1+"&createdBefore="+t1)
		wantReportIDs(t, list, ry)
		list, _ = getReports(t, srv, "createdBefore=2026-01-02")
		if len(list) != 6 {
			t.Fatalf("createdBefore as a date covers the day: %d reports", len(list))
		}
		list, _ = getReports(t, srv, "createdBefore=2026-01-01")
		wantReportIDs(t, list)

		// Status filter (comma list), after closing some.
		closeReports(t, srv, map[string]any{"reportIds": []string{ry}, "reportStatus": "declined"})
		list, _ = getReports(t, srv, "reportStatus=declined")
		wantReportIDs(t, list, ry)
		list, _ = getReports(t, srv, "reportStatus=declined,pending")
		if len(list) != 6 {
			t.Fatalf("declined,pending: %d reports, want 6", len(list))
		}
		list, _ = getReports(t, srv, "reportStatus=accepted")
		wantReportIDs(t, list)

		// Pages of 2, newest first, then the rest; reversed: oldest first.
		list, meta = getReports(t, srv, "limit=2")
		wantReportIDs(t, list, want[:2]...)
		if meta.NextPaginationIndex == nil {
			t.Fatal("no nextPaginationIndex after a full page")
		}
		list, _ = getReports(t, srv, "limit=10&paginationIndex="+*meta.NextPaginationIndex)
		wantReportIDs(t, list, want[2:]...)
		list, _ = getReports(t, srv, "reversePagination=true&limit=1")
		wantReportIDs(t, list, want[5])

		for q, field := range map[string]string{
			"reportStatus=open": "reportStatus", "reportQueues=Boring": "reportQueues", "createdAfter=yesterday": "createdAfter",
			"createdBefore=2026-13-01": "createdBefore", "limit=0": "limit",
		} {
			testsupport.ExpectError(t, srv.AdminGet(t, "/api/getReports?"+q), 400, field+":")
		}
	})
}

// closeReports: accepting deletes the Item (out of its Folder, counters
// kept), marks it removed by report and closes its other pending reports
// automatically; declining leaves the Item; closeRelatedReports extends to
// the other pending reports of the same Items; closed, unknown and bad
// input are refused.
func TestCloseReports(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		c := testsupport.SignUp(t, srv, "cy@example.com")
		x, y, z, keep := publicItem(a.UserID, 0), publicItem(a.UserID, time.Second), publicItem(a.UserID, 2*time.Second), apiItem(a.UserID, 3*time.Second)
		putItems(t, srv, x, y, z, keep)
		wantLiveCounts(t, srv, a.UserID, 4, 1)
		bx := wantReported(t, reportOK(t, srv, b.SessionID, "", x.ID), x.ID, "")
		cx := wantReported(t, reportOK(t, srv, c.SessionID, "", x.ID), x.ID, "")
		got := reportOK(t, srv, b.SessionID, "", y.ID, z.ID)
		by, bz := wantReported(t, got, y.ID, ""), wantReported(t, got, z.ID, "")
		cy := wantReported(t, reportOK(t, srv, c.SessionID, "", y.ID), y.ID, "")

		testsupport.ExpectError(t, srv.AdminPost(t, "/api/closeReports", map[string]any{"reportIds": []string{bx}, "reportStatus": "pending"}), 400, "reportStatus: must be accepted or declined")
		testsupport.ExpectError(t, srv.AdminPost(t, "/api/closeReports", map[string]any{"reportIds": []string{bx}}), 400, "reportStatus: is required")
		testsupport.ExpectError(t, srv.AdminPost(t, "/api/closeReports", map[string]any{"reportStatus": "declined"}), 400, "reportIds: is required")
		testsupport.ExpectError(t, srv.AdminPost(t, "/api/closeReports", map[string]any{"reportIds": []string{bx}, "reportStatus": "declined",
			"additionalInformation": strings.Repeat("x", 2001)}), 400, "additionalInformation:")
		if storedReportStatus(t, srv, bx) != "pending" {
			t.Fatal("a refused call closed a report")
		}

		// Accept b's report of x (an Admin with a session: the approver).
		env := srv.Do(t, testsupport.Req{Method: http.MethodPost, Path: "/api/closeReports", SessionID: c.SessionID, AdminKey: testsupport.AdminKey,
			Body: map[string]any{"reportIds": bx + ",nope", "reportStatus": "accepted", "additionalInformation": "illegal"}})
		res := bulkOK(t, env, 2)
		wantResult(t, res, bx, "")
		wantResult(t, res, "nope", "Report not found")
		it := storedItem(t, srv, x.ID)
		if it.DeletedAt == nil || it.FolderID != "" || !it.RemovedByReport {
			t.Fatalf("accepted Item: deleted %v folder %q removedByReport %v", it.DeletedAt, it.FolderID, it.RemovedByReport)
		}
		wantLiveCounts(t, srv, a.UserID, 3, 1)
		if st := storedReportStatus(t, srv, cx); st != "automaticallyDeclined" {
			t.Fatalf("the other pending report of the removed Item: %s, want automaticallyDeclined", st)
		}
		list, _ := getReports(t, srv, "reportIds="+bx)
		if r := list[0]; r.ReportStatus != "accepted" || r.ApprovalAdditionalInformation != "illegal" || r.ApproverID != c.UserID ||
			r.ReportProcessedDate == nil || *r.ReportProcessedDate != "2026-01-02T03:04:05.000Z" || r.AuthorMetadata.FlaggedItemsCount != 1 ||
			!slices.Equal(r.ReportQueues, []string{"Not Specified"}) {
			t.Fatalf("accepted report: %+v", r)
		}
		// Closed reports cannot be closed again.
		res = closeReports(t, srv, map[string]any{"reportIds": []string{bx, cx}, "reportStatus": "declined"})
		wantResult(t, res, bx, "Report is already closed (accepted)")
		wantResult(t, res, cx, "Report is already closed (automaticallyDeclined)")

		// Decline b's report of y with closeRelatedReports: c's report of y
		// is declined too (listed after), b's report of z stays pending.
		env = srv.AdminPost(t, "/api/closeReports", map[string]any{"reportIds": []string{by}, "reportStatus": "declined", "closeRelatedReports": true})
		testsupport.ExpectOK(t, env)
		var ordered []outcome
		env.Decode(t, &ordered)
		if len(ordered) != 2 || ordered[0].ID != by || ordered[1].ID != cy || !ordered[0].Success || !ordered[1].Success {
			t.Fatalf("closeRelatedReports: %s", env.Payload)
		}
		if storedReportStatus(t, srv, cy) != "declined" || storedReportStatus(t, srv, bz) != "pending" || storedItem(t, srv, y.ID).DeletedAt != nil {
			t.Fatal("declining changed the wrong reports or the Item")
		}
		// A protected Item's report cannot be accepted; it stays pending.
		testsupport.ExpectOK(t, srv.AdminPost(t, "/api/setProtected", map[string]any{"imageIDs": []string{z.ID}}))
		wantResult(t, closeReports(t, srv, map[string]any{"reportIds": []string{bz}, "reportStatus": "accepted"}), bz, "Item is protected")
		if storedReportStatus(t, srv, bz) != "pending" || storedItem(t, srv, z.ID).DeletedAt != nil {
			t.Fatal("a protected Item's report was accepted")
		}
		wantLiveCounts(t, srv, a.UserID, 3, 1)

		// getUser (Admin): flaggedImagesCount counts x.
		env = srv.AdminGet(t, "/api/getUser?userID="+a.UserID)
		testsupport.ExpectOK(t, env)
		var u struct {
			Flagged  int64 `json:"flaggedImagesCount"`
			HighHeat int64 `json:"highHeatImagesCount"`
		}
		env.Decode(t, &u)
		if u.Flagged != 1 || u.HighHeat != 0 {
			t.Fatalf("getUser: %+v, want flagged 1", u)
		}
	})
}

// An Item removed by an accepted report comes back only when an Admin
// names it: restoreItems by userID skips it with the reason; by id it is
// restored (into the root Folder) and the mark is gone, so a later delete
// and bulk restore bring it back.
func TestRestoreItemsRemovedByReport(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		x, w, own := publicItem(a.UserID, 0), publicItem(a.UserID, time.Second), apiItem(a.UserID, 2*time.Second)
		putItems(t, srv, x, w, own)
		got := reportOK(t, srv, b.SessionID, "", x.ID, w.ID)
		rx, rw := wantReported(t, got, x.ID, ""), wantReported(t, got, w.ID, "")
		wantResult(t, closeReports(t, srv, map[string]any{"reportIds": []string{rx}, "reportStatus": "accepted"}), rx, "")
		// Accepting a report of an Item its owner deleted meanwhile marks
		// it and keeps its deletedDate.
		wantResult(t, bulkOK(t, deleteItems(t, srv, a.SessionID, "", idsQuery(w.ID, own.ID)), 2), w.ID, "")
		before := storedItem(t, srv, w.ID).DeletedAt
		srv.Clock.Advance(time.Minute)
		wantResult(t, closeReports(t, srv, map[string]any{"reportIds": []string{rw}, "reportStatus": "accepted"}), rw, "")
		if it := storedItem(t, srv, w.ID); it.DeletedAt == nil || !it.DeletedAt.Equal(*before) || !it.RemovedByReport {
			t.Fatalf("accepted after the owner's delete: deleted %v (was %v) removedByReport %v", it.DeletedAt, before, it.RemovedByReport)
		}
		wantLiveCounts(t, srv, a.UserID, 0, 0)

		got2 := bulkOK(t, srv.AdminPost(t, "/api/restoreItems", map[string]any{"userID": a.UserID}), 3)
		wantResult(t, got2, own.ID, "")
		wantResult(t, got2, x.ID, "Item was removed by an accepted report: restore it by its id")
		wantResult(t, got2, w.ID, "Item was removed by an accepted report: restore it by its id")
		if storedItem(t, srv, x.ID).DeletedAt == nil || storedItem(t, srv, w.ID).DeletedAt == nil {
			t.Fatal("bulk restore brought back an Item removed by report")
		}
		wantLiveCounts(t, srv, a.UserID, 1, 1)

		wantResult(t, bulkOK(t, srv.AdminPost(t, "/api/restoreItems", map[string]any{"imageIDs": []string{x.ID}}), 1), x.ID, "")
		if it := storedItem(t, srv, x.ID); it.DeletedAt != nil || it.RemovedByReport || it.FolderID != "" {
			t.Fatalf("restored by id: deleted %v removedByReport %v folder %q", it.DeletedAt, it.RemovedByReport, it.FolderID)
		}
		wantLiveCounts(t, srv, a.UserID, 2, 2)
		// The mark is gone: deleted by its owner again, a bulk restore brings it back.
		wantResult(t, bulkOK(t, deleteItems(t, srv, a.SessionID, "", idsQuery(x.ID)), 1), x.ID, "")
		got2 = bulkOK(t, srv.AdminPost(t, "/api/restoreItems", map[string]any{"userID": a.UserID}), 2)
		wantResult(t, got2, x.ID, "")
		wantResult(t, got2, w.ID, "Item was removed by an accepted report: restore it by its id")
		wantLiveCounts(t, srv, a.UserID, 2, 2)
	})
}

// downloadReportsForEpoch: a CSV attachment with a header row and one row
// per known report in the order asked, formula cells defused, quoting
// intact; each download counts.
func TestDownloadReportsForEpoch(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		x, y := publicItem(a.UserID, 0), publicItem(a.UserID, time.Second)
		x.RawPrompt, x.Prompt = "=cmd|' /C calc'!A0", "a \"quoted\", comma\nline"
		x.RawNegPrompt, x.NegPrompt = "-2+3", "@SUM(1)"
		putItems(t, srv, x, y)
		env := reportItems(t, srv, b.SessionID, map[string]any{"itemIds": []string{x.ID}, "additionalInformation": "+1 evil"})
		testsupport.ExpectOK(t, env)
		rx := wantReported(t, reportOK(t, srv, b.SessionID, "", y.ID), y.ID, "")
		var xs []reportOutcome
		env.Decode(t, &xs)
		r1 := *xs[0].ReportID

		download := func(query string) (*http.Response, [][]string) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/downloadReportsForEpoch?"+query, nil)
			req.Header.Set("X-Administration-Key", testsupport.AdminKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				return resp, nil
			}
			rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
			if err != nil {
				t.Fatalf("not CSV: %v\n%s", err, body)
			}
			return resp, rows
		}
		resp, rows := download("reportIds=" + rx + "," + r1 + ",nope")
		if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=reports-") || !strings.HasSuffix(cd, ".csv") {
			t.Fatalf("Content-Disposition %q", cd)
		}
		if len(rows) != 3 {
			t.Fatalf("%d rows, want header + 2", len(rows))
		}
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		for _, h := range []string{"reportId", "itemId", "rawPositivePrompt", "filteredPositivePrompt", "rawNegativePrompt",
			"filteredNegativePrompt", "reportAdditionalInformation", "authorId", "authorEmail", "downloadCount", "downloadLastDate"} {
			if _, ok := col[h]; !ok {
				t.Fatalf("header %v lacks %s", rows[0], h)
			}
		}
		if rows[1][col["reportId"]] != rx || rows[2][col["reportId"]] != r1 {
			t.Fatalf("rows not in the order asked: %v", rows[1:])
		}
		row := rows[2]
		for h, want := range map[string]string{
			"itemId": x.ID, "rawPositivePrompt": "'=cmd|' /C calc'!A0", "filteredPositivePrompt": "a \"quoted\", comma\nline",
			"rawNegativePrompt": "'-2+3", "filteredNegativePrompt": "'@SUM(1)", "reportAdditionalInformation": "'+1 evil",
			"authorId": a.UserID, "authorEmail": "ada@example.com", "downloadCount": "1", "downloadLastDate": "2026-01-02T03:04:05.000Z",
		} {
			if got := row[col[h]]; got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
		srv.Clock.Advance(time.Hour)
		_, rows = download("reportIds=" + r1)
		if len(rows) != 2 || rows[1][col["downloadCount"]] != "2" || rows[1][col["downloadLastDate"]] != "2026-01-02T04:04:05.000Z" {
			t.Fatalf("second download: %v", rows)
		}
		list, _ := getReports(t, srv, "reportIds="+r1+","+rx)
		for _, r := range list {
			want := map[string]int64{r1: 2, rx: 1}[r.ReportID]
			if r.DownloadCount != want || r.DownloadLastDate == nil {
				t.Fatalf("%s: downloadCount %d, want %d; last %v", r.ReportID, r.DownloadCount, want, r.DownloadLastDate)
			}
		}
		testsupport.ExpectError(t, srv.AdminGet(t, "/api/downloadReportsForEpoch"), 400, "reportIds: is required")
		testsupport.ExpectError(t, srv.AdminGet(t, "/api/downloadReportsForEpoch?reportIds="+uuid.NewString()), 404, "reportIds: no report")
		testsupport.ExpectError(t, srv.Get(t, "/api/downloadReportsForEpoch?reportIds="+r1, b.SessionID), 403, "X-Administration-Key")
	})
}

// getUser's highHeatImagesCount counts the author's live Items in the
// highHeat queue, reported or not.
func TestHighHeatImagesCount(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, lowHeat)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		c := testsupport.SignUp(t, srv, "cy@example.com")
		hot, warm, gone := publicItem(a.UserID, 0), publicItem(a.UserID, time.Second), publicItem(a.UserID, 2*time.Second)
		putItems(t, srv, hot, warm, gone)
		react(t, srv, b.SessionID, "dislikeItems", hot.ID, warm.ID, gone.ID)
		react(t, srv, c.SessionID, "dislikeItems", hot.ID, gone.ID)
		react(t, srv, c.SessionID, "likeItems", warm.ID)
		wantResult(t, bulkOK(t, deleteItems(t, srv, a.SessionID, "", idsQuery(gone.ID)), 1), gone.ID, "")
		env := srv.AdminGet(t, "/api/getUser?userID="+a.UserID)
		testsupport.ExpectOK(t, env)
		var u struct {
			HighHeat int64 `json:"highHeatImagesCount"`
		}
		env.Decode(t, &u)
		if u.HighHeat != 1 {
			t.Fatalf("highHeatImagesCount %d, want 1 (hot; not warm with 1 dislike, not the deleted one)", u.HighHeat)
		}
	})
}

// lowHeat lowers the highHeat threshold to 2 dislikes (50%).
func lowHeat(c *config.Config) { c.Service.Reports.HighHeat.MinDislikes = 2 }

func react(t *testing.T, srv *testsupport.Server, session, op string, ids ...string) {
	t.Helper()
	for id, o := range reactOK(t, srv, op, session, ids) {
		if !o.Success {
			t.Fatalf("%s %s: %+v", op, id, o)
		}
	}
}

// reportItems calls are limited per account ("reportItems:user"): past the
// burst a 429 with Retry-After, another account unaffected.
func TestReportItemsRateLimit(t *testing.T) {
	srv := testsupport.NewServer(t, "", func(c *config.Config) {
		c.Service.RateLimits["reportItems:user"] = ratelimit.Rule{Requests: 1, Per: time.Hour, Burst: 2}
	})
	a := testsupport.SignUp(t, srv, "ada@example.com")
	b := testsupport.SignUp(t, srv, "bob@example.com")
	body := map[string]any{"itemIds": []string{uuid.NewString()}}
	testsupport.ExpectOK(t, reportItems(t, srv, a.SessionID, body))
	testsupport.ExpectOK(t, reportItems(t, srv, a.SessionID, body))
	env := reportItems(t, srv, a.SessionID, body)
	testsupport.ExpectError(t, env, 429, "Too many requests")
	if env.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	testsupport.ExpectOK(t, reportItems(t, srv, b.SessionID, body))
}

// A report's author follows its Item: after migrateLibrary the reports of
// the moved (live) Items are the destination's, those of the deleted Items
// that stayed are still the source's.
func TestReportAuthorFollowsMigrateLibrary(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		d := testsupport.SignUp(t, srv, "dee@example.com")
		live, gone := publicItem(a.UserID, 0), publicItem(a.UserID, time.Second)
		putItems(t, srv, live, gone)
		got := reportOK(t, srv, b.SessionID, "", live.ID, gone.ID)
		rl, rg := wantReported(t, got, live.ID, ""), wantReported(t, got, gone.ID, "")
		wantResult(t, bulkOK(t, deleteItems(t, srv, a.SessionID, "", idsQuery(gone.ID)), 1), gone.ID, "")
		testsupport.ExpectOK(t, srv.AdminPost(t, "/api/migrateLibrary", map[string]any{"sourceUserID": a.UserID, "destinationUserID": d.UserID}))
		list, _ := getReports(t, srv, "authorId="+d.UserID)
		wantReportIDs(t, list, rl)
		if list[0].AuthorMetadata == nil || list[0].AuthorMetadata.UserID != d.UserID {
			t.Fatalf("authorMetadata after migrateLibrary: %+v", list[0].AuthorMetadata)
		}
		list, _ = getReports(t, srv, "authorId="+a.UserID)
		wantReportIDs(t, list, rg)
	})
}

// Parallel reportItems calls of one reporter on overlapping Items create
// one pending report per Item: the Items are locked before the reporter's
// pending reports are read.
func TestReportItemsParallel(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		x, y := publicItem(a.UserID, 0), publicItem(a.UserID, time.Second)
		putItems(t, srv, x, y)
		const n = 8
		errs := make(chan error, n)
		wins := make(chan int, n)
		for i := range n {
			ids := []string{x.ID, y.ID}
			if i%2 == 1 {
				ids = []string{y.ID, x.ID}
			}
			go func() {
				got, err := reportCall(srv, b.SessionID, ids)
				won := 0
				for _, o := range got {
					if o.Success {
						won++
					}
				}
				errs <- err
				wins <- won
			}()
		}
		total := 0
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
			total += <-wins
		}
		list, _ := getReports(t, srv, "")
		if total != 2 || len(list) != 2 {
			t.Fatalf("%d successes, %d reports; want 2 and 2 (one per Item)", total, len(list))
		}
	})
}

// reportCall is reportOK for goroutines: it reports failures as errors.
func reportCall(srv *testsupport.Server, session string, ids []string) ([]reportOutcome, error) {
	body, _ := json.Marshal(map[string]any{"itemIds": ids})
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/reportItems", strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Session-ID", session)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var env struct {
		Payload []reportOutcome `json:"payload"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reportItems: status %d, decode %v", resp.StatusCode, err)
	}
	return env.Payload, nil
}
