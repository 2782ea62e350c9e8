package library

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// The CSV of downloadReportsForEpoch, written by the API and the web UI's
// admin pages alike: a header row, then one row per report.

// ReportsCSVName is the download's file name at now.
func ReportsCSVName(now time.Time) string {
	return "reports-" + now.UTC().Format("20060102T150405Z") + ".csv"
}

// reportCSVHeader is the CSV's header row.
var reportCSVHeader = []string{"reportId", "reportedDate", "reportStatus", "reportQueues", "itemId", "itemUrl", "modelId",
	"workflowUsed", "rawPositivePrompt", "filteredPositivePrompt", "rawNegativePrompt", "filteredNegativePrompt",
	"authorId", "authorEmail", "authorUsername", "authorFlaggedItemsCount", "authorAbuse", "authorIsDisabled",
	"reporterId", "reportAdditionalInformation", "reportProcessedDate", "approverId", "approvalAdditionalInformation",
	"downloadCount", "downloadLastDate"}

// WriteReportsCSV writes the header and a row per report to w. A write
// error is the client going away; it is returned for the caller to ignore.
func WriteReportsCSV(w io.Writer, reports []ReportView) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(reportCSVHeader)
	for _, v := range reports {
		_ = cw.Write(reportCSVRow(v))
	}
	cw.Flush()
	return cw.Error()
}

func csvTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func reportCSVRow(v ReportView) []string {
	r := v.ReportedItem
	var modelID, workflow, rawPrompt, prompt, rawNeg, neg string
	if it := r.Item; it != nil {
		modelID, workflow, rawPrompt, prompt, rawNeg, neg = it.ModelID, it.WorkflowTemplateName, it.RawPrompt, it.Prompt, it.RawNegPrompt, it.NegPrompt
	}
	var authorID, authorEmail, authorName string
	var abuse int
	var disabled bool
	if u := r.Author; u != nil {
		authorID, authorEmail, authorName, abuse, disabled = u.ID, u.Email, u.Username, u.Abuse, u.Disabled()
	}
	created := r.CreatedAt
	text := []string{r.ID, csvTime(&created), r.Status, strings.Join(v.Queues, ","), r.ItemID, v.ItemURL, modelID,
		workflow, rawPrompt, prompt, rawNeg, neg, authorID, authorEmail, authorName}
	for i := range text {
		text[i] = csvSafe(text[i])
	}
	tail := []string{csvSafe(r.ReporterID), csvSafe(r.Info), csvTime(r.ProcessedAt), csvSafe(r.ApproverID), csvSafe(r.ApprovalInfo)}
	return append(append(text, strconv.FormatInt(r.AuthorFlagged, 10), strconv.Itoa(abuse), strconv.FormatBool(disabled)),
		append(tail, strconv.FormatInt(r.DownloadCount, 10), csvTime(r.DownloadLastAt))...)
}

// csvSafe defuses CSV (formula) injection: a cell a spreadsheet would read
// as a formula gets a leading apostrophe (OWASP's advice).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
