package httpapi

import (
	"strconv"
	"strings"

	"aimg/internal/aimg"
)

// PageQuery is embedded in the input of every paginated operation (Annex:
// Pagination). The values are read as text so that every malformed one gets
// a 400 naming the parameter, the same way on every endpoint.
type PageQuery struct {
	PaginationIndex   string `query:"paginationIndex" doc:"A stringified Unix time in ms: only Items whose reference time is less than it (greater with reversePagination). Absent or 0: from the newest (the oldest in reverse)."`
	ReversePagination string `query:"reversePagination" doc:"true: oldest first, reference time greater than paginationIndex."`
	Limit             string `query:"limit" doc:"1..1000 Items, default 100."`
	SkipCount         string `query:"skipCount" doc:"Items to skip first. Slow for large values: prefer paginationIndex."`
}

// Page limits (Annex: Pagination).
const (
	defaultPageLimit = 100
	maxPageLimit     = 1000
)

// parsePage validates the pagination parameters.
func parsePage(q PageQuery) (aimg.Page, error) {
	p := aimg.Page{Limit: defaultPageLimit}
	if v := strings.TrimSpace(q.PaginationIndex); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return p, aimg.Invalid("paginationIndex", "must be a stringified integer >= 0 (Unix time in ms)")
		}
		p.Index = n
	}
	if v := strings.TrimSpace(q.ReversePagination); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return p, aimg.Invalid("reversePagination", "must be true or false")
		}
		p.Reverse = b
	}
	if v := strings.TrimSpace(q.Limit); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageLimit {
			return p, aimg.Invalid("limit", "must be an integer from 1 to %d", maxPageLimit)
		}
		p.Limit = n
	}
	if v := strings.TrimSpace(q.SkipCount); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, aimg.Invalid("skipCount", "must be an integer >= 0")
		}
		p.Skip = n
	}
	return p, nil
}

// pageMetadata is the PaginationMetadata of a page p of count Items; next is
// the reference time of the last Item when more follow.
func pageMetadata(p aimg.Page, count int, next *int64, total *int64) Pagination {
	m := Pagination{
		PaginationIndex:   strconv.FormatInt(p.Index, 10),
		ReversePagination: p.Reverse,
		SkipCount:         p.Skip,
		Limit:             p.Limit,
		Count:             count,
		TotalCount:        total,
	}
	if next != nil {
		s := strconv.FormatInt(*next, 10)
		m.NextPaginationIndex = &s
	}
	return m
}
