package worker_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/testsupport"
)

// crashConfig is an AIMG_CONFIG with one slow Model and short leases, so a
// killed server's Jobs come back quickly.
const crashConfig = `
models:
  - modelID: slow
    name: Slow
    description: "A deliberately slow Model for crash tests."
    mediaType: StaticImage
    kind: image
    backend: builtin
    tier0Concurrent: 20
    tier1Concurrent: 20
    tier2Concurrent: 20
    minSteps: 1
    maxSteps: 150
    allowedWidths: [1024]
    allowedHeights: [1024]
    maxResolution: 1048576
    defaultResolution: [1024, 1024]
    allowedSamplers: ["DPM++ 2M Karras"]
    defaultSampler: "DPM++ 2M Karras"
    minCfgScale: 1
    maxCfgScale: 12
http:
  drainDelay: 0s
generation:
  leaseDuration: 2s
  heartbeatInterval: 500ms
  reaperInterval: 300ms
  pollInterval: 200ms
`

// buildAIMG compiles the real binary once per test.
func buildAIMG(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "aimg")
	cmd := exec.Command("go", "build", "-o", bin, "aimg/cmd/aimg")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type process struct {
	cmd *exec.Cmd
	url string
	log string // path of its stderr
}

func (p *process) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// startAIMG runs `aimg serve` on a free port and returns once it listens.
func startAIMG(t *testing.T, bin string, env []string) *process {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(t.TempDir(), "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			state := "running"
			if cmd.ProcessState != nil {
				state = cmd.ProcessState.String()
			}
			log, _ := os.ReadFile(logFile.Name())
			if len(log) > 8000 {
				log = log[len(log)-8000:]
			}
			t.Logf("aimg serve (%s), end of its log:\n%s", state, log)
		}
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		logFile.Close()
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			go func() { // keep draining stdout
				for sc.Scan() {
				}
			}()
			return &process{cmd: cmd, url: m[1], log: logFile.Name()}
		}
	}
	log, _ := os.ReadFile(logFile.Name())
	t.Fatalf("aimg serve did not start: %s", log)
	return nil
}

func apiCall(t *testing.T, method, url, session string, body any) json.RawMessage {
	t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Session-ID", session)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		HasError     bool            `json:"hasError"`
		ErrorMessage string          `json:"errorMessage"`
		Payload      json.RawMessage `json:"payload"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.HasError {
		t.Fatalf("%s %s: %d %v %s", method, url, resp.StatusCode, err, env.ErrorMessage)
	}
	return env.Payload
}

type crashItem struct{ id, session string }

func itemStatus(t *testing.T, base string, it crashItem) string {
	t.Helper()
	var st struct{ Status string }
	if err := json.Unmarshal(apiCall(t, http.MethodGet, base+"/api/getItemStatus?imageID="+it.id, it.session, nil), &st); err != nil {
		t.Fatal(err)
	}
	return st.Status
}

// The server is killed (SIGKILL) with Jobs queued and running. After a
// restart every Job completes exactly once: no Item is stuck, none is
// duplicated, and the Jobs that were running were requeued.
func TestSIGKILLLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the aimg binary")
	}
	bin := buildAIMG(t)
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		dir := t.TempDir()
		cfgPath := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(cfgPath, []byte(crashConfig), 0o600); err != nil {
			t.Fatal(err)
		}
		env := []string{"AIMG_ADDR=127.0.0.1:0", "AIMG_DATA_DIR=" + filepath.Join(dir, "data"), "AIMG_CONFIG=" + cfgPath,
			"AIMG_DATABASE_URL=" + dbURL, "AIMG_ADMIN_KEY=" + testsupport.AdminKey, "AIMG_WORKER_CONCURRENCY=2",
			"AIMG_PUBLIC_URL=", "AIMG_LOG_FORMAT=json"}

		first := startAIMG(t, bin, env)
		const jobs = 6
		var items []crashItem
		for i := range jobs {
			session := uuid.NewString()
			var st struct{ ImageID string }
			raw := apiCall(t, http.MethodPost, first.url+"/api/generateImage", session,
				map[string]any{"prompt": fmt.Sprintf("crash test %d, red sun", i), "modelName": "slow", "steps": 150})
			if err := json.Unmarshal(raw, &st); err != nil || st.ImageID == "" {
				t.Fatalf("generate: %s %v", raw, err)
			}
			items = append(items, crashItem{st.ImageID, session})
		}
		// Kill while a Job renders (and the others wait in the queue).
		seen := map[string]int{}
		for range 3000 {
			st := itemStatus(t, first.url, items[0])
			seen[st]++
			if st == "processing" {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = first.cmd.Wait()

		running, queued := countJobs(t, dbURL, dir, "running"), countJobs(t, dbURL, dir, "queued")
		if running == 0 || running+queued+countJobs(t, dbURL, dir, "completed") != jobs {
			t.Fatalf("at the kill: %d running, %d queued of %d (statuses seen %v); log:\n%s", running, queued, jobs, seen, first.logText())
		}

		second := startAIMG(t, bin, env)
		for _, it := range items {
			var status string
			for range 6000 { // bounded poll, not a timing assertion
				if status = itemStatus(t, second.url, it); status == "completed" || status == "failed" {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if status != "completed" {
				t.Fatalf("item %s is %s after the restart", it.id, status)
			}
		}
		// A graceful stop (SIGTERM) drains and exits cleanly.
		if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := second.cmd.Wait(); err != nil {
			t.Fatalf("aimg serve after SIGTERM: %v", err)
		}

		db := openDB(t, dbURL, dir)
		var nItems, nCompleted, nFiles, nDistinct, nRetried int
		q := func(query string, v *int) {
			if err := db.QueryRow(query).Scan(v); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
		q(`SELECT COUNT(*) FROM items`, &nItems)
		q(`SELECT COUNT(*) FROM items WHERE status = 'completed' AND file_id <> ''`, &nCompleted)
		q(`SELECT COUNT(DISTINCT file_id) FROM items`, &nDistinct)
		q(`SELECT COUNT(*) FROM files WHERE id IN (SELECT file_id FROM items)`, &nFiles)
		q(`SELECT COUNT(*) FROM jobs WHERE status = 'completed' AND attempts >= 2`, &nRetried)
		if nItems != jobs || nCompleted != jobs || nDistinct != jobs || nFiles != jobs {
			t.Fatalf("items %d, completed %d, distinct files %d, stored files %d; want %d each", nItems, nCompleted, nDistinct, nFiles, jobs)
		}
		if c := countJobs(t, dbURL, dir, "completed"); c != jobs {
			t.Fatalf("%d jobs completed, want %d", c, jobs)
		}
		if nRetried < running {
			t.Fatalf("%d jobs were running at the kill but only %d took a second attempt", running, nRetried)
		}
		var orphans int
		q(`SELECT COUNT(*) FROM files WHERE id NOT IN (SELECT file_id FROM items)`, &orphans)
		if orphans > running {
			// Only an upload cut off by the kill may leave a file without its Item.
			t.Fatalf("%d files belong to no Item", orphans)
		}
	})
}

func openDB(t *testing.T, dbURL, dir string) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", dbURL
	if strings.HasPrefix(dbURL, "sqlite:") {
		driver, dsn = "sqlite", "file:"+strings.TrimPrefix(dbURL, "sqlite:")
	} else if dbURL == "" {
		driver, dsn = "sqlite", "file:"+filepath.Join(dir, "data", "aimg.db")
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func countJobs(t *testing.T, dbURL, dir, status string) int {
	t.Helper()
	db := openDB(t, dbURL, dir)
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM jobs WHERE status = $1`, status).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
