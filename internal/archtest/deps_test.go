package archtest

import (
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// servicePackages are the domain services: they talk to storage, blobs and
// mail through interfaces they declare, and are reached by surfaces (HTTP,
// OCS, the worker protocol) that depend on them, never the other way round.
var servicePackages = []string{
	"aimg/internal/aimg",
	"aimg/internal/account",
	"aimg/internal/generation",
	"aimg/internal/library",
	"aimg/internal/billing",
	"aimg/internal/files",
	"aimg/internal/media",
}

// forbidden reports why a service package must not depend on pkg, or "".
func forbidden(pkg string) string {
	under := func(prefix string) bool { return pkg == prefix || strings.HasPrefix(pkg, prefix+"/") }
	switch {
	case pkg == "database/sql":
		return "SQL belongs in internal/store"
	case under("modernc.org/sqlite"), under("github.com/jackc/pgx"), under("github.com/lib/pq"),
		under("github.com/mattn/go-sqlite3"):
		return "a SQL driver belongs in internal/store"
	case under("aimg/internal/store"):
		return "services declare the store interface they need; *store.Store implements it"
	case under("net/http"):
		return "HTTP belongs in the surfaces (internal/server, internal/httpapi) and in adapters"
	case under("github.com/wneessen/go-mail"), under("github.com/emersion/go-smtp"), under("github.com/minio/minio-go"):
		return "an SMTP or S3 client belongs in its adapter (internal/mail, internal/blob); services declare the interface they need"
	}
	return ""
}

// graph is the import graph of pkgs and everything they depend on (not their
// tests), as `go list -deps` sees it.
func graph(t *testing.T, pkgs ...string) map[string][]string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not available: ", err)
	}
	cmd := exec.Command(goCmd, append([]string{"list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}"}, pkgs...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, stderr.String())
	}
	g := map[string][]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 0 {
			g[fields[0]] = fields[1:]
		}
	}
	return g
}

// violations lists, for each reason root breaks the rules, the shortest
// import chain that does (breadth-first from root).
func violations(g map[string][]string, root string) []string {
	prev := map[string]string{root: ""}
	queue := []string{root}
	reasons := map[string]bool{}
	var found []string
	for len(queue) > 0 {
		pkg := queue[0]
		queue = queue[1:]
		if why := forbidden(pkg); why != "" {
			if reasons[why] {
				continue
			}
			reasons[why] = true
			chain := []string{pkg}
			for p := prev[pkg]; p != ""; p = prev[p] {
				chain = append(chain, p)
			}
			slices.Reverse(chain)
			found = append(found, fmt.Sprintf("%s (%s)", strings.Join(chain, " -> "), why))
			continue
		}
		for _, dep := range g[pkg] {
			if _, seen := prev[dep]; !seen {
				prev[dep] = pkg
				queue = append(queue, dep)
			}
		}
	}
	return found
}

// TestServicesImportNeitherSQLNorHTTP keeps the arrows pointing down: the
// domain services import neither database/sql, a SQL driver, net/http,
// internal/store nor an SMTP or S3 client.
func TestServicesImportNeitherSQLNorHTTP(t *testing.T) {
	g := graph(t, servicePackages...)
	for _, pkg := range servicePackages {
		if _, ok := g[pkg]; !ok {
			t.Errorf("%s is not in the output of go list -deps", pkg)
		}
		for _, v := range violations(g, pkg) {
			t.Errorf("%s depends on %s", pkg, v)
		}
	}
}

// The check itself must be able to fail: the application, which wires
// everything together, does depend on what the services may not.
func TestDependencyCheckSeesForbiddenImports(t *testing.T) {
	const app = "aimg/internal/app"
	v := violations(graph(t, app), app)
	for _, want := range []string{"aimg/internal/store", "net/http"} {
		if !slices.ContainsFunc(v, func(s string) bool { return strings.Contains(s, " -> "+want+" (") }) {
			t.Errorf("violations(%s) = %q, want a chain to %s", app, v, want)
		}
	}
}
