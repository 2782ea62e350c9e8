package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aimg/internal/worker/comfyui/comfyuifake"
)

// apiCall posts (or gets, without a body) an AIMG API call and decodes the
// envelope's payload into out.
func apiCall(t *testing.T, method, url string, headers map[string]string, body any, out any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, r)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		HasError     bool
		ErrorMessage string
		Payload      json.RawMessage
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.HasError {
		t.Fatalf("%s %s: %d %s %v", method, url, resp.StatusCode, env.ErrorMessage, err)
	}
	if out != nil {
		if err := json.Unmarshal(env.Payload, out); err != nil {
			t.Fatal(err)
		}
	}
}

// `aimg worker` against `aimg serve` (embedded worker off): the remote
// worker renders the Job, and stops cleanly on its context's end (SIGTERM).
func TestWorkerCommandRendersForServe(t *testing.T) {
	dir := t.TempDir()
	url, _ := startServe(t, map[string]string{"AIMG_ADDR": "127.0.0.1:0", "AIMG_DATA_DIR": dir, "AIMG_EMBEDDED_WORKER": "false"})
	key, err := os.ReadFile(filepath.Join(dir, "admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	admin := map[string]string{"X-Administration-Key": strings.TrimSpace(string(key))}
	var wk struct{ Key string }
	apiCall(t, "POST", url+"/api/createWorkerKey", admin, map[string]any{"name": "laptop"}, &wk)

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out strings.Builder
	go func() {
		env := map[string]string{"AIMG_WORKER_SERVER": url, "AIMG_WORKER_KEY": wk.Key}
		done <- run(ctx, []string{"worker", "--concurrency", "2", "--name", "laptop"}, func(k string) string { return env[k] }, &out, io.Discard)
	}()

	var self struct{ SessionID string }
	apiCall(t, "GET", url+"/api/getSelfUser", nil, nil, &self)
	var gen struct{ ImageID string }
	apiCall(t, "POST", url+"/api/generateImage", map[string]string{"X-Session-ID": self.SessionID},
		map[string]any{"prompt": "a lighthouse at night", "width": 256, "height": 256}, &gen)
	for {
		var st struct{ Status string }
		apiCall(t, "GET", url+"/api/getItemStatus?imageID="+gen.ImageID, map[string]string{"X-Session-ID": self.SessionID}, nil, &st)
		if st.Status == "completed" {
			break
		}
		if st.Status == "failed" {
			t.Fatal("the Job failed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("worker returned %v", err)
	}
	if !strings.Contains(out.String(), "aimg worker laptop: rendering") {
		t.Fatalf("worker printed %q", out.String())
	}
}

func TestWorkerCommandFlags(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"worker", "--help"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--server url", "env AIMG_WORKER_SERVER", "--key", "--backend", "--backend-url",
		"--models", "--concurrency", "env AIMG_WORKER_CONCURRENCY", "--shutdown-timeout", "--builtin-delay", "--backend-key", "env AIMG_WORKER_BACKEND_KEY",
		"comfyui", "a1111", "openai"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
	for args, want := range map[string]string{
		"worker":                          "--key (AIMG_WORKER_KEY) is required",
		"worker --server ftp://x --key k": "is not an http(s) URL",
		"worker --server http://x --key k --concurrency 0":                                             "--concurrency",
		"worker --server http://x --key k --backend cuda":                                              "is not one of builtin",
		"worker --server http://x --key k --name a/b":                                                  "--name",
		"worker --server http://x --key k --builtin-delay soon":                                        "--builtin-delay",
		"worker --server http://x --key k --backend comfyui --backend-url http://c --builtin-delay 1s": "for --backend builtin only",
		"worker --server http://x --key k --backend comfyui":                                           "--backend-url (AIMG_WORKER_BACKEND_URL) is required with --backend comfyui",
		"worker --server http://x --key k --backend a1111 --backend-url ftp://u:secret@x":              "is not an http(s) URL",
	} {
		err := run(context.Background(), strings.Fields(args), func(string) string { return "" }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", args, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error shows the password: %v", args, err)
		}
	}
}

// The README's "Run a GPU worker": f222 moved to ComfyUI by AIMG_CONFIG,
// `aimg worker --backend comfyui` next to a (fake) ComfyUI renders it.
func TestWorkerCommandDrivesComfyUI(t *testing.T) {
	fake := comfyuifake.New()
	t.Cleanup(fake.Close)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gpu.yaml")
	if err := os.WriteFile(cfg, []byte(`http: {drainDelay: 0s}
models:
  - modelID: f222
    backend: comfyui
    workflow: sd15-txt2img
    checkpoint: v1-5-pruned-emaonly.safetensors
`), 0o600); err != nil {
		t.Fatal(err)
	}
	url, _ := startServe(t, map[string]string{"AIMG_ADDR": "127.0.0.1:0", "AIMG_DATA_DIR": dir, "AIMG_EMBEDDED_WORKER": "false", "AIMG_CONFIG": cfg})
	key, err := os.ReadFile(filepath.Join(dir, "admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	var wk struct{ Key string }
	apiCall(t, "POST", url+"/api/createWorkerKey", map[string]string{"X-Administration-Key": strings.TrimSpace(string(key))},
		map[string]any{"name": "gpu-1", "modelIDs": []string{"f222"}}, &wk)

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out strings.Builder
	go func() {
		done <- run(ctx, []string{"worker", "--server", url, "--key", wk.Key, "--backend", "comfyui", "--backend-url", fake.URL, "--name", "gpu-1"},
			func(string) string { return "" }, &out, io.Discard)
	}()
	var self struct{ SessionID string }
	apiCall(t, "GET", url+"/api/getSelfUser", nil, nil, &self)
	var gen struct{ ImageID string }
	apiCall(t, "POST", url+"/api/generateImage", map[string]string{"X-Session-ID": self.SessionID},
		map[string]any{"prompt": "a lighthouse at night", "width": 512, "height": 512}, &gen)
	for {
		var st struct{ Status string }
		apiCall(t, "GET", url+"/api/getItemStatus?imageID="+gen.ImageID, map[string]string{"X-Session-ID": self.SessionID}, nil, &st)
		if st.Status == "completed" {
			break
		}
		if st.Status == "failed" || t.Context().Err() != nil {
			t.Fatal("the Job failed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("worker returned %v", err)
	}
	if n := len(fake.Snapshot().Prompts); n != 1 {
		t.Fatalf("ComfyUI got %d prompts", n)
	}
	if !strings.Contains(out.String(), "rendering f222 with comfyui") {
		t.Fatalf("worker printed %q", out.String())
	}
}
