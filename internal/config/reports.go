package config

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"aimg/internal/aimg"
)

// SystemQueues are the system report queues, in getReportQueues' order.
var SystemQueues = []string{aimg.QueueMultipleReports, aimg.QueueHighHeat}

// Rules are the system queues' thresholds, for the store.
func (r Reports) Rules() aimg.ReportRules {
	return aimg.ReportRules{MinPendingReports: r.MultipleReports.MinPendingReports,
		MinDislikes: r.HighHeat.MinDislikes, MinDislikePercent: r.HighHeat.MinDislikePercent}
}

// Reports configures Item reports (reportItems and the Admin calls).
type Reports struct {
	// Queues are the report categories a user may choose (reportItems'
	// reportQueue), in getReportQueues' order.
	Queues []string `yaml:"queues"`
	// DefaultQueue is the queue of a report that names none; one of Queues.
	DefaultQueue string `yaml:"defaultQueue"`
	// MaxAdditionalInformation bounds reportItems' and closeReports'
	// additionalInformation (characters).
	MaxAdditionalInformation int             `yaml:"maxAdditionalInformation"`
	MultipleReports          MultipleReports `yaml:"multipleReports"`
	HighHeat                 HighHeat        `yaml:"highHeat"`
}

// MultipleReports is the rule of the multipleReports system queue.
type MultipleReports struct {
	MinPendingReports int `yaml:"minPendingReports"`
}

// HighHeat is the rule of the highHeat system queue.
type HighHeat struct {
	MinDislikes       int `yaml:"minDislikes"`
	MinDislikePercent int `yaml:"minDislikePercent"` // of likes + dislikes, 0..100
}

// maxQueueName bounds a configured queue name (characters).
const maxQueueName = 64

// UserQueue returns the configured user queue named name (case-insensitive),
// as configured.
func (r Reports) UserQueue(name string) (string, bool) {
	for _, q := range r.Queues {
		if strings.EqualFold(q, name) {
			return q, true
		}
	}
	return "", false
}

// SystemQueue returns the system queue named name (case-insensitive).
func SystemQueue(name string) (string, bool) {
	for _, q := range SystemQueues {
		if strings.EqualFold(q, name) {
			return q, true
		}
	}
	return "", false
}

func (r Reports) validate() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config reports.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if len(r.Queues) == 0 {
		bad("queues", "at least one queue is required")
	}
	seen := map[string]bool{}
	for i, q := range r.Queues {
		f := fmt.Sprintf("queues[%d]", i)
		switch {
		case strings.TrimSpace(q) != q || q == "":
			bad(f, "%q must be a non-empty name without leading or trailing spaces", q)
		case !utf8.ValidString(q) || utf8.RuneCountInString(q) > maxQueueName:
			bad(f, "at most %d characters of UTF-8", maxQueueName)
		case strings.ContainsAny(q, ",\"\r\n\t"):
			bad(f, "%q must not contain commas, quotes, tabs or line breaks (filters are comma lists)", q)
		case seen[strings.ToLower(q)]:
			bad(f, "duplicate %q (names compare case-insensitively)", q)
		}
		if _, ok := SystemQueue(q); ok {
			bad(f, "%q is the name of a system queue", q)
		}
		seen[strings.ToLower(q)] = true
	}
	if _, ok := r.UserQueue(r.DefaultQueue); !ok || r.DefaultQueue == "" {
		bad("defaultQueue", "%q is not one of reports.queues", r.DefaultQueue)
	}
	if r.MaxAdditionalInformation < 1 || r.MaxAdditionalInformation > 65536 {
		bad("maxAdditionalInformation", "must be between 1 and 65536, got %d", r.MaxAdditionalInformation)
	}
	if r.MultipleReports.MinPendingReports < 1 {
		bad("multipleReports.minPendingReports", "must be at least 1, got %d", r.MultipleReports.MinPendingReports)
	}
	if r.HighHeat.MinDislikes < 1 {
		bad("highHeat.minDislikes", "must be at least 1, got %d", r.HighHeat.MinDislikes)
	}
	if p := r.HighHeat.MinDislikePercent; p < 0 || p > 100 {
		bad("highHeat.minDislikePercent", "must be between 0 and 100, got %d", p)
	}
	return errs
}
