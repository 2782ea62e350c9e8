package aimg

import "time"

// Report statuses (ItemReport.reportStatus).
const (
	ReportPending               = "pending"
	ReportAccepted              = "accepted"
	ReportDeclined              = "declined"
	ReportAutomaticallyDeclined = "automaticallyDeclined"
)

// System report queues (docs/decisions.md "Reports"): computed from the
// Items' state with the thresholds of ReportRules, shown only to Admins.
const (
	// QueueMultipleReports: live Items with at least MinPendingReports
	// pending reports.
	QueueMultipleReports = "multipleReports"
	// QueueHighHeat: live Items with at least MinDislikes dislikes that are
	// at least MinDislikePercent of their likes and dislikes.
	QueueHighHeat = "highHeat"
)

// Report is one user's report of one Item (the spec's ItemReport without
// the metadata the library adds).
type Report struct {
	ID         string
	ItemID     string
	ReporterID string
	AuthorID   string // the Item's owner when it was reported (follows guest merges)
	Queue      string // the user queue chosen
	Info       string // the reporter's additionalInformation
	Status     string
	CreatedAt  time.Time
	// ProcessedAt, ApproverID, ApprovalInfo are set when the report is closed.
	ProcessedAt    *time.Time
	ApproverID     string
	ApprovalInfo   string
	DownloadCount  int64
	DownloadLastAt *time.Time
}

// ReportedItem is a report with what getReports and the CSV show of its
// Item and author, and the system queues its Item is in now.
type ReportedItem struct {
	Report
	Item         *Item // nil if the Item no longer exists (purged)
	Author       *User // nil if the user no longer exists
	SystemQueues []string
	// AuthorFlagged is the author's number of Items with an accepted report.
	AuthorFlagged int64
}

// ReportRules are the system queues' thresholds (config reports:), handed
// to the store for listings and counts.
type ReportRules struct {
	MinPendingReports int // multipleReports
	MinDislikes       int // highHeat
	MinDislikePercent int // highHeat, 0..100
}

// ReportFilter narrows getReports. Empty fields do not filter.
type ReportFilter struct {
	IDs      []string
	Statuses []string
	// Queues are user queues; SystemQueues system queue names. A report
	// matches when its queue is in Queues or its Item is in one of
	// SystemQueues. Both empty: every queue.
	Queues       []string
	SystemQueues []string
	After        *time.Time // created_at >= After
	Before       *time.Time // created_at <= Before
	AuthorID     string
}

// ReportPage is one page of reports.
type ReportPage struct {
	Reports []*ReportedItem
	Next    *int64
	Total   int64
}

// NewReports is one reportItems call for the store: a report of each Item
// of IDs (distinct) by ReporterID, in one transaction.
type NewReports struct {
	ReporterID string
	IDs        []string
	Queue      string
	Info       string
	At         time.Time
	// NewID makes a report id.
	NewID func() string
	// Check is asked, for each Item found (locked), whether it may be
	// reported; pending tells whether ReporterID already has a pending
	// report of it. A non-nil error is that Item's outcome.
	Check func(it *Item, pending bool) error
}

// ReportCreated is one Item's outcome of NewReports.
type ReportCreated struct {
	ItemID   string
	ReportID string // "" when Err is set
	Err      error
}

// ReportClosing is one closeReports call for the store, in one transaction.
type ReportClosing struct {
	IDs        []string // distinct
	Status     string   // ReportAccepted or ReportDeclined
	Info       string
	ApproverID string
	Related    bool // closeRelatedReports: the other pending reports of the same Items too
	At         time.Time
}

// ReportClosed is one report's outcome of a ReportClosing: the named ones
// in order, then the related ones the call extended to.
type ReportClosed struct {
	ID      string
	Err     error // nil: closed
	Related bool  // added by closeRelatedReports
}

// Why a report cannot be closed.
var (
	ErrReportNotFound = Errorf(CodeNotFound, "Report not found")
)
