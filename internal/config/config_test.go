package config

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsAreValid(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if c.Addr != "127.0.0.1:8080" || c.PublicURL != "http://127.0.0.1:8080" || c.DataDir != "./data" || !c.EmbeddedWorker {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	for _, id := range []string{"f222", "model3"} {
		if _, ok := c.Service.Model(id); !ok {
			t.Errorf("default model %s missing", id)
		}
	}
	if _, ok := c.Service.RateLimit("requestOTP:email"); !ok {
		t.Error("requestOTP:email limit missing")
	}
}

func TestEnvironmentErrorsNameTheVariable(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"addr":        {map[string]string{"AIMG_ADDR": "8080"}, "AIMG_ADDR"},
		"public url":  {map[string]string{"AIMG_PUBLIC_URL": "ftp://x"}, "AIMG_PUBLIC_URL"},
		"worker bool": {map[string]string{"AIMG_EMBEDDED_WORKER": "maybe"}, "AIMG_EMBEDDED_WORKER"},
		"concurrency": {map[string]string{"AIMG_WORKER_CONCURRENCY": "0"}, "AIMG_WORKER_CONCURRENCY"},
		"not int":     {map[string]string{"AIMG_WORKER_CONCURRENCY": "two"}, "AIMG_WORKER_CONCURRENCY"},
		"admin key":   {map[string]string{"AIMG_ADMIN_KEY": "short"}, "AIMG_ADMIN_KEY"},
		"log format":  {map[string]string{"AIMG_LOG_FORMAT": "xml"}, "AIMG_LOG_FORMAT"},
		"pgquery":     {map[string]string{"AIMG_PGQUERY": "yes"}, "AIMG_PGQUERY"},
		"database":    {map[string]string{"AIMG_DATABASE_URL": "mysql://x"}, "AIMG_DATABASE_URL"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := FromEnv(env(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "aimg.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigFileOverlaysDefaults(t *testing.T) {
	p := writeFile(t, `
environment: a2stage
domains:
  - {id: example, displayName: Example, hosts: [img.example.com]}
rateLimits:
  "requestOTP:email": {requests: 1, per: 10m}
`)
	c, err := FromEnv(env(map[string]string{"AIMG_CONFIG": p}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Service.Environment != "a2stage" || c.Service.Domains[0].ID != "example" {
		t.Fatalf("overlay not applied: %+v", c.Service.Domains)
	}
	if r, _ := c.Service.RateLimit("requestOTP:email"); r.Requests != 1 || r.Per != 10*time.Minute {
		t.Fatalf("rate limit = %+v", r)
	}
	// Sections the file does not mention keep their defaults.
	if c.Service.Accounts.OTPMaxAttempts != 5 || len(c.Service.Models) == 0 {
		t.Fatalf("defaults lost: %+v", c.Service.Accounts)
	}
	// JSON is accepted too.
	j := writeFile(t, `{"environment": "json-env"}`)
	if c, err := FromEnv(env(map[string]string{"AIMG_CONFIG": j})); err != nil || c.Service.Environment != "json-env" {
		t.Fatalf("json config: %v %q", err, c.Service.Environment)
	}
}

func TestConfigFileErrorsNameTheSetting(t *testing.T) {
	for name, tc := range map[string]struct{ file, want string }{
		"unknown key":      {"enviroment: typo\n", "enviroment"},
		"no domains":       {"domains: []\n", "domains"},
		"duplicate id":     {"domains: [{id: a}, {id: a}]\n", "domains[1].id"},
		"bad rate":         {"rateLimits: {\"x:ip\": {requests: 0, per: 1m}}\n", "rateLimits.x:ip"},
		"small body":       {"http: {maxBodyBytes: 10, maxImageBodyBytes: 20000000}\n", "http.maxBodyBytes"},
		"otp attempts":     {"accounts: {otpMaxAttempts: 0}\n", "accounts.otpMaxAttempts"},
		"not yaml":         {"{{{", "AIMG_CONFIG"},
		"mail from empty":  {"mailFrom: \"\"\n", "mailFrom"},
		"no read timeout":  {"http: {readTimeout: 0s}\n", "http.readTimeout"},
		"no idle timeout":  {"http: {idleTimeout: 0s}\n", "http.idleTimeout"},
		"no write timeout": {"http: {writeTimeout: 0s}\n", "http.writeTimeout"},
		"negative drain":   {"http: {drainDelay: -1s}\n", "http.drainDelay"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := FromEnv(env(map[string]string{"AIMG_CONFIG": writeFile(t, tc.file)}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestDomainForHost(t *testing.T) {
	s := Service{Domains: []Domain{{ID: "first", Hosts: []string{"a.example"}}, {ID: "second", Hosts: []string{"B.example"}}}}
	for host, want := range map[string]string{
		"a.example": "first", "b.example:8080": "second", "B.EXAMPLE": "second", "unknown.example": "first", "[::1]:80": "first",
	} {
		if got := s.DomainForHost(host).ID; got != want {
			t.Errorf("DomainForHost(%q) = %s, want %s", host, got, want)
		}
	}
}

// config knows no backend: which backends exist and what each can render is
// the worker registry's to say (it used to import worker/builtin for that).
func TestConfigImportsNoBackend(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "aimg/internal/config").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "aimg/internal/worker") {
			t.Errorf("internal/config depends on %s", dep)
		}
	}
}

// models in AIMG_CONFIG merge with the defaults by modelID: a known id
// overrides the fields given, a new id is appended, removeModels drops one.
func TestConfigFileMergesModelsByID(t *testing.T) {
	defaults, err := LoadService("")
	if err != nil {
		t.Fatal(err)
	}
	p := writeFile(t, `
models:
  - modelID: sketch
    maxSteps: 10
    allowedSamplers: ["Euler a"]
    defaultSampler: "Euler a"
  - modelID: mine
    name: Mine
    mediaType: StaticImage
    kind: image
    backend: builtin
    minSteps: 1
    maxSteps: 20
    allowedWidths: [256]
    allowedHeights: [256]
    maxResolution: 65536
    defaultResolution: [256, 256]
    allowedSamplers: ["Euler a"]
    defaultSampler: "Euler a"
    minCfgScale: 1
    maxCfgScale: 12
removeModels: [deluxe]
`)
	c, err := FromEnv(env(map[string]string{"AIMG_CONFIG": p}))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range c.Service.Models {
		ids = append(ids, m.ModelID)
	}
	if strings.Join(ids, ",") != "f222,sketch,model3,mine" {
		t.Fatalf("models %v, want the defaults in place, deluxe removed, mine appended", ids)
	}
	got, _ := c.Service.Model("sketch")
	want, _ := defaults.Model("sketch")
	if got.MaxSteps != 10 || got.DefaultSampler != "Euler a" || len(got.AllowedSamplers) != 1 {
		t.Fatalf("override not applied: %+v", got)
	}
	// The fields the entry does not give keep their defaults.
	if got.Name != want.Name || got.Tier0Concurrent != want.Tier0Concurrent || got.MaxResolution != want.MaxResolution ||
		!slices.Equal(got.AllowedWidths, want.AllowedWidths) {
		t.Fatalf("override lost defaults: got %+v\nwant %+v", got, want)
	}
	if m, _ := c.Service.Model("f222"); m.MaxSteps != 50 {
		t.Fatalf("untouched model changed: %+v", m)
	}

	for name, tc := range map[string]struct{ file, want string }{
		"unknown key in an override": {"models: [{modelID: sketch, maxStep: 3}]\n", "maxStep"},
		"new model incomplete":       {"models: [{modelID: other, name: Other}]\n", "models[4]."},
		"remove unknown":             {"removeModels: [nope]\n", `removeModels[0]: no Model "nope"`},
		"remove them all":            {"removeModels: [f222, sketch, deluxe, model3]\n", "config models: at least one Model"},
		"override made invalid":      {"models: [{modelID: sketch, maxSteps: 0}]\n", "models[1].maxSteps"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := FromEnv(env(map[string]string{"AIMG_CONFIG": writeFile(t, tc.file)}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
}
