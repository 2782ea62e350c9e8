package ocs

// RouteRow is one row of the route table as the tests of package ocs_test
// see it.
type RouteRow struct {
	Method, Path string // Path below the version prefix, with {name} wildcards
	NeedsUser    bool
	NoCSRF       bool
}

// RouteTable is the surface's route table.
func RouteTable() []RouteRow {
	var out []RouteRow
	for _, rt := range (&Server{}).routes() {
		out = append(out, RouteRow{Method: rt.method, Path: rt.path, NeedsUser: rt.who == loggedIn, NoCSRF: rt.noCSRF})
	}
	return out
}
