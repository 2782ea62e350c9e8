package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/config"
)

// The tests of this package cannot use testsupport (it imports app).

// testConfig is the default configuration on a fresh data dir and SQLite.
func testConfig(t *testing.T, env map[string]string) config.Config {
	t.Helper()
	full := map[string]string{"AIMG_DATA_DIR": t.TempDir(), "AIMG_ADMIN_KEY": "test-admin-key-0123456789"}
	for k, v := range env {
		full[k] = v
	}
	cfg, err := config.FromEnv(func(k string) string { return full[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

func newApp(ctx context.Context, cfg config.Config) (*App, error) {
	return New(ctx, cfg, slog.New(slog.DiscardHandler), time.Now, "test", func(string) string { return "" })
}

// Every start-up failure is one line naming the setting, never a panic.
func TestStartupErrorsNameTheSetting(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		env  map[string]string
		want string // the message starts with it
	}{
		"data dir under a file": {map[string]string{"AIMG_DATA_DIR": filepath.Join(file, "data")}, "AIMG_DATA_DIR"},
		"data dir is a file":    {map[string]string{"AIMG_DATA_DIR": file}, "AIMG_DATA_DIR"},
		"redis down":            {map[string]string{"AIMG_REDIS_URL": "redis://127.0.0.1:1/0"}, "AIMG_REDIS_URL"},
		"bad redis url":         {map[string]string{"AIMG_REDIS_URL": "http://nope"}, "AIMG_REDIS_URL"},
		"postgres wrong port":   {map[string]string{"AIMG_DATABASE_URL": "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=5"}, "AIMG_DATABASE_URL"},
		"bad blob url":          {map[string]string{"AIMG_BLOB_URL": "ftp://bucket"}, "AIMG_BLOB_URL"},
		"bad smtp url":          {map[string]string{"AIMG_SMTP_URL": "gopher://x"}, "AIMG_SMTP_URL"},
	}
	if base := os.Getenv("AIMG_TEST_DATABASE_URL"); base != "" {
		// The server answers, the database does not exist.
		missing := strings.Replace(base, "/test?", "/aimg_no_such_db?", 1)
		if missing != base {
			cases["postgres database missing"] = struct {
				env  map[string]string
				want string
			}{map[string]string{"AIMG_DATABASE_URL": missing}, "AIMG_DATABASE_URL"}
		}
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t, nil)
			for k, v := range tc.env {
				switch k {
				case "AIMG_DATA_DIR":
					cfg.DataDir = v
				case "AIMG_REDIS_URL":
					cfg.RedisURL = v
				case "AIMG_DATABASE_URL":
					cfg.DatabaseURL = v
				case "AIMG_BLOB_URL":
					cfg.BlobURL = v
				case "AIMG_SMTP_URL":
					cfg.SMTPURL = v
				}
			}
			if name != "data dir under a file" && name != "data dir is a file" {
				cfg.AdminKey = "" // the generated key is written to the data dir first
			}
			var (
				a   *App
				err error
			)
			func() {
				defer func() {
					if v := recover(); v != nil {
						t.Fatalf("New panicked: %v", v)
					}
				}()
				a, err = newApp(context.Background(), cfg)
			}()
			if err == nil {
				a.Close()
				t.Fatal("New succeeded")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tc.want+": ") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q: want one line starting with %s", msg, tc.want)
			}
			if strings.Contains(name, "missing") && !strings.Contains(msg, "create the database first") {
				t.Fatalf("error %q does not say to create the database", msg)
			}
			t.Log(msg)
		})
	}
}

// Close is safe on an App that failed half-way and twice in a row.
func TestCloseIsSafe(t *testing.T) {
	var nilApp *App
	if err := nilApp.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := newApp(context.Background(), testConfig(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
}

// Model settings beyond the backend's limits stop the start, named as in
// the config file; the backend's description is appended to its Models.
func TestModelsAreCheckedByTheirBackend(t *testing.T) {
	cfg := testConfig(t, nil)
	cfg.Service.Models[1].MaxSteps = 1000
	if _, err := newApp(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "config models[1].maxSteps: must be <= 150") {
		t.Fatalf("err = %v", err)
	}
	cfg = testConfig(t, nil)
	cfg.Service.Models[0].Backend = "cuda"
	if _, err := newApp(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), `config models[0].backend: unknown backend "cuda" (known: builtin, comfyui, a1111, openai)`) {
		t.Fatalf("err = %v", err)
	}
	// The GPU backends check what they serve a Model with.
	for _, c := range []struct {
		edit func(m *aimg.Model)
		want string
	}{
		{func(m *aimg.Model) { m.Backend = "comfyui" }, "config models[0].workflow: a comfyui Model needs a workflow template (one of sd15-lora, sd15-txt2img)"},
		{func(m *aimg.Model) { m.Backend, m.Workflow = "comfyui", "nope" }, `config models[0].workflow: no workflow template "nope"`},
		{func(m *aimg.Model) {
			m.Backend, m.Workflow, m.AllowedWidths = "comfyui", "sd15-txt2img", append(m.AllowedWidths, 500)
		}, "config models[0].allowedWidths: template sd15-txt2img's width must be 64 plus a multiple of 8, got 500"},
		{func(m *aimg.Model) { m.Backend = "a1111" }, "config models[0].checkpoint: an a1111 Model needs the checkpoint"},
		{func(m *aimg.Model) { m.Backend = "openai" }, "config models[0].model: an openai Model needs the server's model name"},
		{func(m *aimg.Model) { m.Backend, m.BackendModel, m.Kind = "openai", "dall-e-3", "video" }, "config models[0].kind: the openai backend renders images"},
	} {
		cfg = testConfig(t, nil)
		c.edit(&cfg.Service.Models[0])
		if _, err := newApp(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
	cfg = testConfig(t, nil)
	cfg.Service.Generation.WorkflowDir = t.TempDir()
	if err := os.WriteFile(filepath.Join(cfg.Service.Generation.WorkflowDir, "broken.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newApp(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "config generation.workflowDir: broken.json") {
		t.Fatalf("err = %v", err)
	}
	a, err := newApp(context.Background(), testConfig(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if m, _ := a.Config.Service.Model("f222"); !strings.Contains(m.Description, "not a diffusion model") {
		t.Fatalf("f222 description %q", m.Description)
	}
}

// The embedded worker keeps its name in the data dir, so that a restart is
// the same worker and takes back its Jobs at once; an operator may set it.
func TestEmbeddedWorkerNameIsStablePerDataDir(t *testing.T) {
	cfg := testConfig(t, nil)
	name := func(cfg config.Config) string {
		a, err := newApp(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		return a.Workers.Name()
	}
	first := name(cfg)
	if again := name(cfg); again != first {
		t.Fatalf("worker name %q then %q", first, again)
	}
	if other := name(testConfig(t, nil)); other == first {
		t.Fatalf("two data dirs share the worker name %q", first)
	}
	if err := os.WriteFile(filepath.Join(cfg.DataDir, "worker.id"), []byte("gpu-box-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := name(cfg); got != "gpu-box-1" {
		t.Fatalf("configured name: %q", got)
	}
	if err := os.WriteFile(filepath.Join(cfg.DataDir, "worker.id"), []byte("a/b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newApp(context.Background(), cfg); err == nil || !strings.HasPrefix(err.Error(), "AIMG_DATA_DIR: worker name in") {
		t.Fatalf("bad name: %v", err)
	}
}
