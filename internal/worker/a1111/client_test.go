package a1111_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/worker/a1111"
	"aimg/internal/worker/a1111/a1111fake"
)

func newClient(t *testing.T, fake *a1111fake.Server, mod func(*a1111.Config)) *a1111.Client {
	t.Helper()
	cfg := a1111.Config{BaseURL: fake.URL, PollInterval: time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	c, err := a1111.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func newFake(t *testing.T, opts a1111fake.Options) *a1111fake.Server {
	t.Helper()
	f := a1111fake.New(opts)
	t.Cleanup(f.Close)
	return f
}

func fullRequest() a1111.Txt2ImgRequest {
	restore := true
	return a1111.Txt2ImgRequest{
		Prompt: `a "quoted" {cat}`, NegativePrompt: "blurry", SamplerName: "DPM++ 2M", Scheduler: "Karras",
		CFGScale: 6.5, Seed: 1234, Subseed: 99, SubseedStrength: 0.25, RestoreFaces: true,
		Width: 64, Height: 48, Steps: 3, BatchSize: 2, NIter: 2,
		OverrideSettings:                  a1111.OverrideSettings{SDModelCheckpoint: "dreamshaper_8.safetensors [879db523c3]"},
		OverrideSettingsRestoreAfterwards: &restore,
		ForceTaskID:                       "aimg-job1-1",
	}
}

func TestTxt2ImgSendsEveryField(t *testing.T) {
	fake := newFake(t, a1111fake.Options{})
	c := newClient(t, fake, nil)
	res, err := c.Txt2Img(context.Background(), fullRequest(), nil)
	if err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests("/sdapi/v1/txt2img")
	if len(reqs) != 1 {
		t.Fatalf("%d txt2img requests, want 1", len(reqs))
	}
	if ct := reqs[0].Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	got := reqs[0].JSON()
	want := map[string]any{
		"prompt": `a "quoted" {cat}`, "negative_prompt": "blurry", "sampler_name": "DPM++ 2M", "scheduler": "Karras",
		"cfg_scale": 6.5, "seed": 1234.0, "subseed": 99.0, "subseed_strength": 0.25, "restore_faces": true,
		"width": 64.0, "height": 48.0, "steps": 3.0, "batch_size": 2.0, "n_iter": 2.0,
		"override_settings_restore_afterwards": true, "force_task_id": "aimg-job1-1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("sent %s = %#v, want %#v", k, got[k], v)
		}
	}
	os, _ := got["override_settings"].(map[string]any)
	if os["sd_model_checkpoint"] != "dreamshaper_8.safetensors [879db523c3]" || len(os) != 1 {
		t.Errorf("sent override_settings = %#v", got["override_settings"])
	}
	if len(got) != len(want)+1 {
		t.Errorf("sent %d fields, want %d: %v", len(got), len(want)+1, got)
	}

	if res.TaskID != "aimg-job1-1" || len(res.Images) != 4 {
		t.Fatalf("task %q, %d images; want aimg-job1-1, 4 (batch 2 x 2 iterations)", res.TaskID, len(res.Images))
	}
	for i, img := range res.Images {
		cfg, err := png.DecodeConfig(bytes.NewReader(img.Data))
		if err != nil || cfg.Width != 64 || cfg.Height != 48 || img.ContentType != "image/png" || img.Width != 64 {
			t.Errorf("image %d: %v %dx%d %s", i, err, cfg.Width, cfg.Height, img.ContentType)
		}
	}
	info, err := res.ParseInfo()
	if err != nil {
		t.Fatal(err)
	}
	if info.Seed != 1234 || len(info.AllSeeds) != 4 || info.AllSeeds[3] != 1237 || info.SDModelName != "dreamshaper_8" {
		t.Errorf("info %+v", info)
	}
	if fake.Loaded().ModelName != "v1-5-pruned-emaonly" {
		t.Errorf("the override was not restored afterwards: %v", fake.Loaded())
	}
}

func TestZeroFieldsTakeServerDefaults(t *testing.T) {
	fake := newFake(t, a1111fake.Options{})
	c := newClient(t, fake, nil)
	res, err := c.Txt2Img(context.Background(), a1111.Txt2ImgRequest{Prompt: "x", Seed: -1, Width: 32, Height: 32, Steps: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := fake.Requests("/sdapi/v1/txt2img")[0].JSON()
	for _, k := range []string{"cfg_scale", "batch_size", "n_iter", "sampler_name", "negative_prompt", "override_settings_restore_afterwards"} {
		if _, ok := got[k]; ok {
			t.Errorf("sent %s = %v; a zero value should be left to the server", k, got[k])
		}
	}
	if id, _ := got["force_task_id"].(string); !strings.HasPrefix(id, "aimg-") || id != res.TaskID {
		t.Errorf("force_task_id %q, result task %q: the client should make one and report it", id, res.TaskID)
	}
	if len(res.Images) != 1 {
		t.Errorf("%d images", len(res.Images))
	}
}

func pngBase64(t *testing.T, w, h int) string {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func TestImg2Img(t *testing.T) {
	fake := newFake(t, a1111fake.Options{})
	c := newClient(t, fake, nil)
	init := pngBase64(t, 16, 16)
	req := a1111.Img2ImgRequest{Txt2ImgRequest: a1111.Txt2ImgRequest{Prompt: "p", Width: 32, Height: 32, Steps: 2, Seed: 5},
		InitImages: []string{init}, DenoisingStrength: 0.4}
	res, err := c.Img2Img(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := fake.Requests("/sdapi/v1/img2img")[0].JSON()
	imgs, _ := got["init_images"].([]any)
	if len(imgs) != 1 || imgs[0] != init || got["denoising_strength"] != 0.4 || got["prompt"] != "p" || got["seed"] != 5.0 {
		t.Errorf("sent %v", got)
	}
	if len(res.Images) != 1 || res.Images[0].Width != 32 {
		t.Errorf("result %+v", res.Images)
	}

	// No init image: refused before anything is sent.
	_, err = c.Img2Img(context.Background(), a1111.Img2ImgRequest{Txt2ImgRequest: a1111.Txt2ImgRequest{Prompt: "p"}}, nil)
	if e := asError(err); e == nil || e.Code != aimg.CodeInvalid || e.Field != "init_images" {
		t.Errorf("no init image: %v", err)
	}
	// An init image the server cannot read: its 500 "Invalid encoded image" is the request's fault.
	req.InitImages = []string{base64.StdEncoding.EncodeToString([]byte("not an image"))}
	_, err = c.Img2Img(context.Background(), req, nil)
	if e := asError(err); e == nil || e.Code != aimg.CodeInvalid || e.Field != "init_images" {
		t.Errorf("unreadable init image: %v", err)
	}
}

func asError(err error) *aimg.Error {
	var e *aimg.Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// guard runs wait, failing the test if it does not return in 30 s (a
// hang guard, not a timed assertion: every wait here ends in microseconds
// when the code is right).
func guard(t *testing.T, what string, wait func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("stuck waiting for %s", what)
	}
}

func waitTask(t *testing.T, f *a1111fake.Server, id, state string) {
	t.Helper()
	guard(t, id+" "+state, func() { f.WaitTask(id, state) })
}

func waitStep(t *testing.T, f *a1111fake.Server, id string, n int) {
	t.Helper()
	guard(t, fmt.Sprintf("%s step %d", id, n), func() { f.WaitStep(id, n) })
}

type run struct {
	res a1111.Result
	err error
}

// start runs Txt2Img in a goroutine; its progress goes to the channel.
func start(ctx context.Context, c *a1111.Client, req a1111.Txt2ImgRequest) (<-chan run, <-chan a1111.Progress) {
	done := make(chan run, 1)
	prog := make(chan a1111.Progress, 4096)
	go func() {
		res, err := c.Txt2Img(ctx, req, func(p a1111.Progress) {
			select {
			case prog <- p:
			default:
			}
		})
		done <- run{res, err}
	}()
	return done, prog
}

// await reads progress until ok says it is the one awaited.
func await(t *testing.T, prog <-chan a1111.Progress, what string, ok func(a1111.Progress) bool) a1111.Progress {
	t.Helper()
	timeout := time.After(30 * time.Second) // a hang guard, not a timed assertion
	for {
		select {
		case p := <-prog:
			if ok(p) {
				return p
			}
		case <-timeout:
			t.Fatalf("no progress report: %s", what)
		}
	}
}

func TestProgressIsOursWhileAnotherIsQueued(t *testing.T) {
	fake := newFake(t, a1111fake.Options{Manual: true})
	c := newClient(t, fake, nil)
	ctx := context.Background()
	reqA := a1111.Txt2ImgRequest{Prompt: "a", Width: 16, Height: 16, Steps: 4, ForceTaskID: "task-a"}
	reqB := a1111.Txt2ImgRequest{Prompt: "b", Width: 16, Height: 16, Steps: 4, ForceTaskID: "task-b"}

	doneA, progA := start(ctx, c, reqA)
	waitTask(t, fake, "task-a", a1111fake.Active)
	doneB, progB := start(ctx, c, reqB)
	waitTask(t, fake, "task-b", a1111fake.Queued)

	fake.Step(2)
	waitStep(t, fake, "task-a", 2)
	p := await(t, progA, "task-a half done", func(p a1111.Progress) bool { return p.Fraction >= 0.5 })
	if p.State != a1111.StateActive || p.Fraction != 0.5 {
		t.Errorf("task-a: %+v, want active at 0.5", p)
	}
	q := await(t, progB, "task-b queued", func(p a1111.Progress) bool { return true })
	if q.State != a1111.StateQueued || q.Fraction != 0 || q.TextInfo != "In queue: 1/1" {
		t.Errorf("task-b while task-a runs: %+v, want queued 1/1", q)
	}
	// Everything task-b heard so far was "queued": task-a's progress is not its own.
	for len(progB) > 0 {
		if p := <-progB; p.State != a1111.StateQueued {
			t.Errorf("task-b reported %+v while task-a ran", p)
		}
	}
	// The steps come from /sdapi/v1/progress only while our task is current.
	await(t, progA, "task-a step 2 of 4", func(p a1111.Progress) bool { return p.Step == 2 && p.Steps == 4 })

	fake.Resume()
	a, b := <-doneA, <-doneB
	if a.err != nil || b.err != nil {
		t.Fatalf("a: %v, b: %v", a.err, b.err)
	}
	if fake.Interrupts() != 0 {
		t.Errorf("%d interrupts", fake.Interrupts())
	}
	// Both used /internal/progress with their own id.
	ids := map[string]bool{}
	for _, r := range fake.Requests("/internal/progress") {
		m := r.JSON()
		ids[m["id_task"].(string)] = true
		// The poll asks for live previews newer than its last (preview.go);
		// the second look at an active task does not.
		if id, _ := m["id_live_preview"].(float64); id < -1 || (m["live_preview"] != true && id != -1) {
			t.Errorf("/internal/progress body %v", m)
		}
	}
	if !ids["task-a"] || !ids["task-b"] || len(ids) != 2 {
		t.Errorf("/internal/progress asked about %v", ids)
	}
	for _, r := range fake.Requests("/sdapi/v1/progress") {
		if r.RawQuery != "skip_current_image=true" {
			t.Errorf("/sdapi/v1/progress?%s", r.RawQuery)
		}
	}
}

func TestCancelInterruptsOnlyOurRunningTask(t *testing.T) {
	fake := newFake(t, a1111fake.Options{Manual: true})
	c := newClient(t, fake, nil)

	// task-a runs; task-b waits behind it and is cancelled: nothing is interrupted.
	doneA, _ := start(context.Background(), c, a1111.Txt2ImgRequest{Prompt: "a", Width: 16, Height: 16, Steps: 3, ForceTaskID: "task-a"})
	waitTask(t, fake, "task-a", a1111fake.Active)
	ctxB, cancelB := context.WithCancel(context.Background())
	doneB, _ := start(ctxB, c, a1111.Txt2ImgRequest{Prompt: "b", Width: 16, Height: 16, Steps: 3, ForceTaskID: "task-b"})
	waitTask(t, fake, "task-b", a1111fake.Queued)
	cancelB()
	b := <-doneB
	if !errors.Is(b.err, context.Canceled) || !strings.Contains(b.err.Error(), "still queued") {
		t.Errorf("cancelled queued task-b: %v", b.err)
	}
	if n := fake.Interrupts(); n != 0 {
		t.Fatalf("cancelling a queued task sent %d interrupts: it would have stopped task-a", n)
	}
	// task-a runs to its end untouched; then the web UI starts the abandoned
	// task-b, and the client interrupts it then.
	fake.Step(3)
	if a := <-doneA; a.err != nil || len(a.res.Images) != 1 {
		t.Fatalf("task-a: %v", a.err)
	}
	waitTask(t, fake, "task-b", a1111fake.Completed)
	if got := fake.InterruptedTasks(); len(got) != 1 || got[0] != "task-b" {
		t.Fatalf("interrupts hit %v, want only task-b", got)
	}

	// Cancel task-c while it is the one running: it is interrupted.
	ctxC, cancelC := context.WithCancel(context.Background())
	doneC, _ := start(ctxC, c, a1111.Txt2ImgRequest{Prompt: "c", Width: 16, Height: 16, Steps: 3, ForceTaskID: "task-c"})
	waitTask(t, fake, "task-c", a1111fake.Active)
	cancelC()
	cr := <-doneC
	if !errors.Is(cr.err, context.Canceled) || !strings.Contains(cr.err.Error(), "interrupted on the server") {
		t.Errorf("cancelled running task-c: %v", cr.err)
	}
	waitTask(t, fake, "task-c", a1111fake.Completed) // the interrupt ended it
	if got := fake.InterruptedTasks(); len(got) != 2 || got[1] != "task-c" {
		t.Errorf("interrupts hit %v, want task-b then task-c", got)
	}
}

func TestRequestTimeoutInterruptsOurTask(t *testing.T) {
	fake := newFake(t, a1111fake.Options{Manual: true}) // never steps: a hung render
	c := newClient(t, fake, func(cfg *a1111.Config) { cfg.RequestTimeout = 50 * time.Millisecond })
	_, err := c.Txt2Img(context.Background(), a1111.Txt2ImgRequest{Prompt: "x", Width: 16, Height: 16, Steps: 2, ForceTaskID: "hung"}, nil)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer within") {
		t.Fatalf("hung render: %v", err)
	}
	if aimg.ErrorCode(err) == aimg.CodeInvalid {
		t.Errorf("a hang must be retryable: %v", err)
	}
	if fake.Interrupts() != 1 {
		t.Errorf("%d interrupts, want 1 (the hung task was ours)", fake.Interrupts())
	}
}

func TestValidationErrorNamesTheField(t *testing.T) {
	fake := newFake(t, a1111fake.Options{})
	c := newClient(t, fake, nil)
	fake.FailNext(http.StatusUnprocessableEntity, a1111fake.ValidationError("steps", "value is not a valid integer", "type_error.integer"))
	_, err := c.Txt2Img(context.Background(), a1111.Txt2ImgRequest{Prompt: "x"}, nil)
	e := asError(err)
	if e == nil || e.Code != aimg.CodeInvalid || e.Field != "steps" || !strings.Contains(e.Message, "steps: value is not a valid integer") {
		t.Fatalf("422: %v (%+v)", err, e)
	}

	// The fake's own validation answers in the same shape.
	resp, err := http.Post(fake.URL+"/sdapi/v1/txt2img", "application/json", strings.NewReader(`{"prompt": "x", "steps": "many", "cfg_scale": 7}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Detail []struct {
			Loc  []any  `json:"loc"`
			Msg  string `json:"msg"`
			Type string `json:"type"`
		} `json:"detail"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 422 || len(body.Detail) != 1 || body.Detail[0].Loc[1] != "steps" || body.Detail[0].Type != "type_error.integer" {
		t.Errorf("fake 422: %d %+v", resp.StatusCode, body)
	}
}

func TestUnknownSamplerIsInvalid(t *testing.T) {
	fake := newFake(t, a1111fake.Options{})
	c := newClient(t, fake, nil)
	_, err := c.Txt2Img(context.Background(), a1111.Txt2ImgRequest{Prompt: "x", SamplerName: "Nope", Width: 16, Height: 16}, nil)
	if e := asError(err); e == nil || e.Code != aimg.CodeInvalid || !strings.Contains(e.Message, "Sampler not found") {
		t.Fatalf("unknown sampler: %v", err)
	}
}

func TestBasicAuth(t *testing.T) {
	fake := newFake(t, a1111fake.Options{Username: "aimg", Password: "s3cret"})
	req := a1111.Txt2ImgRequest{Prompt: "x", Width: 16, Height: 16, Steps: 1}
	for _, tc := range []struct {
		name, user, pass string
	}{{"none", "", ""}, {"wrong", "aimg", "guess"}} {
		c := newClient(t, fake, func(cfg *a1111.Config) { cfg.Username, cfg.Password = tc.user, tc.pass })
		_, err := c.Txt2Img(context.Background(), req, nil)
		if !errors.Is(err, a1111.ErrUnauthorized) || !strings.Contains(err.Error(), "--api-auth") {
			t.Errorf("%s credentials: %v", tc.name, err)
		}
		if aimg.ErrorCode(err) == aimg.CodeInvalid {
			t.Errorf("%s credentials: a worker setting, not the Job's fault: %v", tc.name, err)
		}
	}
	c := newClient(t, fake, func(cfg *a1111.Config) { cfg.Username, cfg.Password = "aimg", "s3cret" })
	if _, err := c.Txt2Img(context.Background(), req, func(a1111.Progress) {}); err != nil {
		t.Fatalf("right credentials: %v", err)
	}
	if u, p, ok := (&http.Request{Header: fake.Requests("/sdapi/v1/txt2img")[2].Header}).BasicAuth(); !ok || u != "aimg" || p != "s3cret" {
		t.Errorf("sent Basic %q %q %v", u, p, ok)
	}
}

func TestServerFailuresAreRetryable(t *testing.T) {
	fake := newFake(t, a1111fake.Options{})
	c := newClient(t, fake, nil)
	req := a1111.Txt2ImgRequest{Prompt: "x", Width: 16, Height: 16, Steps: 1}
	for _, tc := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"500", `{"error":"OutOfMemoryError","detail":"","body":"","errors":"CUDA out of memory. Tried to allocate 2.00 GiB"}`, 500, "OutOfMemoryError: CUDA out of memory"},
		{"502 html", "<html>Bad Gateway</html>", 502, "HTTP 502"},
		{"200 garbage", "<html>not json</html>", 200, "unreadable answer"},
		{"200 no images", `{"parameters":{}}`, 200, "no images or info"},
		{"200 bad base64", `{"images":["***"],"parameters":{},"info":"{}"}`, 200, "not base64"},
	} {
		fake.FailNext(tc.status, tc.body)
		_, err := c.Txt2Img(context.Background(), req, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if aimg.ErrorCode(err) == aimg.CodeInvalid {
			t.Errorf("%s: should be retryable: %v", tc.name, err)
		}
	}
	// A real render too large for the GPU answers 500 from the fake itself.
	small := newFake(t, a1111fake.Options{MaxPixels: 32 * 32})
	_, err := newClient(t, small, nil).Txt2Img(context.Background(), a1111.Txt2ImgRequest{Prompt: "x", Width: 64, Height: 64, Steps: 1}, nil)
	if err == nil || !strings.Contains(err.Error(), "CUDA out of memory") {
		t.Errorf("oom: %v", err)
	}

	// Connection refused.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	cd, _ := a1111.New(a1111.Config{BaseURL: dead.URL})
	_, err = cd.Txt2Img(context.Background(), req, nil)
	if err == nil || aimg.ErrorCode(err) == aimg.CodeInvalid {
		t.Errorf("connection refused: %v", err)
	}
	// No --api: the route is missing.
	noapi := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		_, _ = w.Write([]byte(`{"detail":"Not Found"}`))
	}))
	defer noapi.Close()
	cn, _ := a1111.New(a1111.Config{BaseURL: noapi.URL})
	_, err = cn.Txt2Img(context.Background(), req, nil)
	if err == nil || !strings.Contains(err.Error(), "--api") || aimg.ErrorCode(err) == aimg.CodeInvalid {
		t.Errorf("no --api: %v", err)
	}
}

func TestBudgets(t *testing.T) {
	fake := newFake(t, a1111fake.Options{})
	req := a1111.Txt2ImgRequest{Prompt: "x", Width: 64, Height: 64, Steps: 1, BatchSize: 3}
	for _, tc := range []struct {
		name string
		mod  func(*a1111.Config)
		want string
	}{
		{"bytes", func(c *a1111.Config) { c.MaxResponseBytes = 1000 }, "1000-byte budget"},
		{"pixels", func(c *a1111.Config) { c.MaxImagePixels = 32 * 32 }, "1024-pixel budget"},
		{"images", func(c *a1111.Config) { c.MaxImages = 2 }, "budget of 2"},
	} {
		_, err := newClient(t, fake, tc.mod).Txt2Img(context.Background(), req, nil)
		if e := asError(err); e == nil || e.Code != aimg.CodeInvalid || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want invalid %q", tc.name, err, tc.want)
		}
	}
	if _, err := newClient(t, fake, nil).Txt2Img(context.Background(), req, nil); err != nil {
		t.Errorf("within the default budgets: %v", err)
	}
	if _, err := a1111.New(a1111.Config{BaseURL: "gpu1:7860"}); err == nil || !strings.Contains(err.Error(), "baseURL") {
		t.Errorf("bad base URL: %v", err)
	}
}

func TestUnknownCheckpointFails(t *testing.T) {
	fake := newFake(t, a1111fake.Options{})
	c := newClient(t, fake, nil)
	for _, name := range []string{"dreamshaper_8.safetensors [879db523c3]", "dreamshaper_8.safetensors", "dreamshaper_8", "879db523c3"} {
		req := a1111.Txt2ImgRequest{Prompt: "x", Width: 16, Height: 16, Steps: 1,
			OverrideSettings: a1111.OverrideSettings{SDModelCheckpoint: name}}
		if _, err := c.Txt2Img(context.Background(), req, nil); err != nil {
			t.Errorf("checkpoint %q: %v", name, err)
		}
	}
	req := a1111.Txt2ImgRequest{Prompt: "x", Width: 16, Height: 16, Steps: 1,
		OverrideSettings: a1111.OverrideSettings{SDModelCheckpoint: "sdxl_base.safetensors"}}
	_, err := c.Txt2Img(context.Background(), req, nil)
	if err == nil || !strings.Contains(err.Error(), "does not know that checkpoint") || !strings.Contains(err.Error(), "v1-5-pruned-emaonly") {
		t.Errorf("unknown checkpoint (the server silently used its loaded one): %v", err)
	}
}

func TestNoWebUIProgress(t *testing.T) {
	// Under --nowebui there is no /internal/progress and /sdapi/v1/progress
	// cannot say whose task runs: progress only when the client is told the
	// server is exclusively its own.
	for _, exclusive := range []bool{false, true} {
		fake := newFake(t, a1111fake.Options{NoWebUI: true, Manual: true})
		c := newClient(t, fake, func(cfg *a1111.Config) { cfg.Exclusive = exclusive })
		ctx, cancel := context.WithCancel(context.Background())
		done, prog := start(ctx, c, a1111.Txt2ImgRequest{Prompt: "x", Width: 16, Height: 16, Steps: 2, ForceTaskID: "solo"})
		waitTask(t, fake, "solo", a1111fake.Active)
		fake.Step(1)
		waitStep(t, fake, "solo", 1)
		if exclusive {
			p := await(t, prog, "exclusive progress", func(p a1111.Progress) bool { return p.Step == 1 })
			if p.State != a1111.StateActive || p.Fraction < 0.5 {
				t.Errorf("exclusive: %+v", p)
			}
		} else {
			// Let a few polls pass (each asks /sdapi/v1/progress).
			n := len(fake.Requests("/sdapi/v1/progress"))
			for len(fake.Requests("/sdapi/v1/progress")) < n+3 {
				time.Sleep(time.Millisecond)
			}
			if len(prog) != 0 {
				t.Errorf("shared --nowebui server: progress reported %+v", <-prog)
			}
		}
		cancel()
		r := <-done
		if !errors.Is(r.err, context.Canceled) {
			t.Errorf("exclusive=%v: %v", exclusive, r.err)
		}
		want := 0
		if exclusive {
			want = 1
		}
		if fake.Interrupts() != want {
			t.Errorf("exclusive=%v: %d interrupts, want %d", exclusive, fake.Interrupts(), want)
		}
		if got := len(fake.Requests("/internal/progress")); got != 1 {
			t.Errorf("exclusive=%v: /internal/progress asked %d times, want once (then remembered missing)", exclusive, got)
		}
	}
}

// dropper answers 200 with the start of a body, then drops the connection.
func dropper(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"images": ["iVBORw0KGgo`))
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDroppedConnectionIsRetryable(t *testing.T) {
	c, _ := a1111.New(a1111.Config{BaseURL: dropper(t).URL})
	defer c.Close()
	_, err := c.Txt2Img(context.Background(), a1111.Txt2ImgRequest{Prompt: "x"}, nil)
	if err == nil || !strings.Contains(err.Error(), "reading the answer") || aimg.ErrorCode(err) == aimg.CodeInvalid {
		t.Errorf("dropped connection: %v", err)
	}
}
