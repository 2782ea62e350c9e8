package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"aimg/internal/testsupport"
)

// startServe runs `aimg serve` in-process on a free port and returns its URL
// and the lines it printed on stdout; the server stops when the test ends.
func startServe(t *testing.T, env map[string]string) (url string, stdout []string) {
	t.Helper()
	if env["AIMG_CONFIG"] == "" {
		env = maps.Clone(env)
		env["AIMG_CONFIG"] = noDrainConfig(t)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop after its context ended")
		}
	})
	sc := bufio.NewScanner(pr)
	re := regexp.MustCompile(`listening on (http://\S+)`)
	for sc.Scan() {
		line := sc.Text()
		stdout = append(stdout, line)
		if m := re.FindStringSubmatch(line); m != nil {
			url = m[1]
			// Read what follows the first line (the admin key) without blocking forever.
			go io.Copy(io.Discard, pr)
			break
		}
	}
	if url == "" {
		t.Fatalf("serve printed no URL: %q", stdout)
	}
	return url, stdout
}

// noDrainConfig is an AIMG_CONFIG without the drain delay, so that tests
// stop at once.
func noDrainConfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "aimg.yaml")
	if err := os.WriteFile(p, []byte("http: {drainDelay: 0s}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServeEndToEnd(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		dir := t.TempDir()
		env := map[string]string{"AIMG_ADDR": "127.0.0.1:0", "AIMG_DATA_DIR": dir, "AIMG_DATABASE_URL": dbURL}
		url, _ := startServe(t, env)

		for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/api/openapi.json": 200} {
			resp, err := http.Get(url + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
			}
		}
		key, err := os.ReadFile(filepath.Join(dir, "admin.key"))
		if err != nil || len(strings.TrimSpace(string(key))) < 32 {
			t.Fatalf("admin key file: %q, %v", key, err)
		}
	})
}

func TestServePrintsGeneratedAdminKeyOnlyOnFirstStart(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"AIMG_ADDR": "127.0.0.1:0", "AIMG_DATA_DIR": dir}
	var first []string
	t.Run("first", func(t *testing.T) { _, first = startServe(t, env) })
	if len(first) == 0 {
		t.Fatal("no output")
	}
	key, err := os.ReadFile(filepath.Join(dir, "admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("second", func(t *testing.T) {
		url, out := startServe(t, env)
		// The second start prints only the URL line; the key stays secret.
		time.Sleep(100 * time.Millisecond)
		for _, l := range out {
			if strings.Contains(l, strings.TrimSpace(string(key))) {
				t.Fatalf("second start printed the admin key: %q", out)
			}
		}
		// The stored key is the one in force.
		req, _ := http.NewRequest("GET", url+"/api/getUser?userID=00000000-0000-0000-0000-000000000000", nil)
		req.Header.Set("X-Administration-Key", strings.TrimSpace(string(key)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env struct{ ErrorCode int }
		_ = json.NewDecoder(resp.Body).Decode(&env)
		if resp.StatusCode == 401 || resp.StatusCode == 403 {
			t.Fatalf("stored admin key refused: %d", resp.StatusCode)
		}
	})
}

func TestRunRejectsBadConfigAndCommands(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"no command":      {nil, nil, "no command"},
		"unknown command": {[]string{"frobnicate"}, nil, "unknown command"},
		"bad addr":        {[]string{"serve"}, map[string]string{"AIMG_ADDR": "nonsense"}, "AIMG_ADDR"},
		"bad db url":      {[]string{"migrate"}, map[string]string{"AIMG_DATABASE_URL": "mysql://x"}, "AIMG_DATABASE_URL"},
		"bad pgquery":     {[]string{"serve"}, map[string]string{"AIMG_PGQUERY": "sometimes"}, "AIMG_PGQUERY"},
		"missing config":  {[]string{"serve"}, map[string]string{"AIMG_CONFIG": "/nonexistent.yaml"}, "AIMG_CONFIG"},
		"extra argument":  {[]string{"serve", "extra-arg"}, nil, `serve takes no arguments, got "extra-arg"`},
		"migrate extra":   {[]string{"migrate", "now"}, nil, `migrate takes no arguments, got "now"`},
		"unknown flag":    {[]string{"serve", "--port", "1"}, nil, "flag provided but not defined: -port"},
		"redis down":      {[]string{"serve"}, map[string]string{"AIMG_ADDR": "127.0.0.1:0", "AIMG_REDIS_URL": "redis://127.0.0.1:1/0"}, "AIMG_REDIS_URL: "},
		"bad redis url":   {[]string{"serve"}, map[string]string{"AIMG_ADDR": "127.0.0.1:0", "AIMG_REDIS_URL": "http://x"}, "AIMG_REDIS_URL: "},
		"pg wrong port":   {[]string{"serve"}, map[string]string{"AIMG_ADDR": "127.0.0.1:0", "AIMG_DATABASE_URL": "postgres://u@127.0.0.1:1/x?connect_timeout=5"}, "AIMG_DATABASE_URL: "},
		"migrate pg port": {[]string{"migrate"}, map[string]string{"AIMG_DATABASE_URL": "postgres://u@127.0.0.1:1/x?connect_timeout=5"}, "AIMG_DATABASE_URL: "},
	} {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"AIMG_DATA_DIR": t.TempDir()}
			for k, v := range tc.env {
				env[k] = v
			}
			err := run(context.Background(), tc.args, func(k string) string { return env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line mentioning %q", err, tc.want)
			}
		})
	}
}

func TestMigrateAndVersion(t *testing.T) {
	dir := t.TempDir()
	var out strings.Builder
	if err := run(context.Background(), []string{"migrate"}, func(k string) string {
		return map[string]string{"AIMG_DATA_DIR": dir}[k]
	}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "schema at version") {
		t.Fatalf("migrate printed %q", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"version"}, func(string) string { return "" }, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "aimg ") {
		t.Fatalf("version: %q %v", out.String(), err)
	}
}

// The listen address in use is named as the setting it comes from.
func TestServeOnABusyAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	env := map[string]string{"AIMG_DATA_DIR": t.TempDir(), "AIMG_ADDR": ln.Addr().String()}
	err = run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "AIMG_ADDR: listen on "+ln.Addr().String()) {
		t.Fatalf("err = %v", err)
	}
}

// --help succeeds and shows every flag with its variable and default.
func TestCommandHelp(t *testing.T) {
	for _, args := range [][]string{{"serve", "--help"}, {"serve", "-h"}, {"migrate", "--help"}} {
		var out, errOut strings.Builder
		if err := run(context.Background(), args, func(string) string { return "" }, &out, &errOut); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		help := out.String()
		for _, want := range []string{
			"usage: aimg " + args[0], "--addr host:port", "env AIMG_ADDR, default: 127.0.0.1:8080",
			"--data-dir", "env AIMG_DATA_DIR, default: ./data", "--database-url", "env AIMG_DATABASE_URL",
			"--config", "env AIMG_CONFIG",
		} {
			if !strings.Contains(help, want) {
				t.Errorf("%v help lacks %q:\n%s", args, want, help)
			}
		}
		if errOut.Len() != 0 {
			t.Errorf("%v wrote to stderr: %q", args, errOut.String())
		}
	}
}

// The version comes from the build's VCS stamp.
func TestVersionFromBuildInfo(t *testing.T) {
	stamped := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "aimg", Version: "v0.0.0-20261201100118-0e52605b990d+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0e52605b990d5e1ba6d613ab463293c904763ec9"},
			{Key: "vcs.time", Value: "2026-12-01T10:01:18Z"}, {Key: "vcs.modified", Value: "true"}}}
	oldToolchain := &debug.BuildInfo{Main: debug.Module{Path: "aimg", Version: "(devel)"}, Settings: stamped.Settings[:3]}
	goRun := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "aimg", Version: "(devel)"}}
	for name, tc := range map[string]struct {
		bi            *debug.BuildInfo
		release       string
		short, inLong string
	}{
		"go build in a clone": {stamped, "", "v0.0.0-20261201100118-0e52605b990d+dirty",
			"(commit 0e52605b990d5e1ba6d613ab463293c904763ec9 at 2026-12-01T10:01:18Z, with uncommitted changes; go1.26.8)"},
		"no module version": {oldToolchain, "", "dev-0e52605b990d", "commit 0e52605b990d5e1ba6d613ab463293c904763ec9 at 2026-12-01T10:01:18Z)"},
		"go run":            {goRun, "", "dev", "(no VCS stamp: built by go run, go test or with -buildvcs=false; go1.26.8)"},
		"linked release":    {stamped, "v1.2.3", "v1.2.3", "v1.2.3 (commit 0e52605b990d"},
		"no build info":     {nil, "", "dev", "dev (no VCS stamp"},
	} {
		b := stampOf(tc.bi, tc.release)
		if b.Version != tc.short || !strings.Contains(b.String(), tc.inLong) {
			t.Errorf("%s: version %q, long %q; want %q and %q", name, b.Version, b.String(), tc.short, tc.inLong)
		}
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"version"}, func(string) string { return "" }, &out, io.Discard); err != nil ||
		!strings.HasPrefix(out.String(), "aimg "+version()+" (") {
		t.Fatalf("aimg version: %q %v", out.String(), err)
	}
}
