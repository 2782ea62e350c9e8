package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"aimg/internal/testsupport"
)

// startServe runs `aimg serve` in-process on a free port and returns its URL
// and the lines it printed on stdout; the server stops when the test ends.
func startServe(t *testing.T, env map[string]string) (url string, stdout []string) {
	t.Helper()
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
	} {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"AIMG_DATA_DIR": t.TempDir()}
			for k, v := range tc.env {
				env[k] = v
			}
			err := run(context.Background(), tc.args, func(k string) string { return env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
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
