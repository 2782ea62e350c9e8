package comfyui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/worker"
	"aimg/internal/worker/comfyui"
	"aimg/internal/worker/comfyui/comfyuifake"
)

// txt2img is ComfyUI's default SD 1.5 workflow in API format.
func txt2img(seed, steps int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{
  "3": {"class_type": "KSampler", "inputs": {"seed": %d, "steps": %d, "cfg": 8, "sampler_name": "euler",
        "scheduler": "normal", "denoise": 1, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0],
        "latent_image": ["5", 0]}},
  "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
  "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
  "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a \"quoted\" {cat}", "clip": ["4", 1]}},
  "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "bad hands", "clip": ["4", 1]}},
  "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
  "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "aimg/run", "images": ["8", 0]}, "_meta": {"title": "Save Image"}}
}`, seed, steps))
}

func newClient(t *testing.T, fake *comfyuifake.Server, tune func(*comfyui.Config)) *comfyui.Client {
	t.Helper()
	cfg := comfyui.Config{BaseURL: fake.URL, StallTimeout: 5 * time.Second, PollInterval: 10 * time.Millisecond,
		RequestTimeout: 5 * time.Second}
	if tune != nil {
		tune(&cfg)
	}
	c, err := comfyui.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// recorder keeps the progress reports of a run.
type recorder struct {
	mu   sync.Mutex
	list []comfyui.Progress
}

func (r *recorder) add(p comfyui.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, p)
}

func (r *recorder) all() []comfyui.Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]comfyui.Progress(nil), r.list...)
}

func wantPNG(t *testing.T, outs []comfyui.Output, n int) {
	t.Helper()
	if len(outs) != n {
		t.Fatalf("got %d outputs, want %d: %+v", len(outs), n, outs)
	}
	for _, o := range outs {
		if o.ContentType != "image/png" || o.Type != "output" || o.NodeID != "9" {
			t.Errorf("output %+v", o)
		}
		if _, err := png.Decode(bytes.NewReader(o.Data)); err != nil {
			t.Errorf("output %s is not a PNG: %v", o.Filename, err)
		}
	}
}

func TestRunReportsProgressAndReturnsTheSavedImages(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	c := newClient(t, fake, nil)
	var rec recorder
	outs, err := c.Run(testCtx(t), txt2img(42, 4), nil, rec.add)
	if err != nil {
		t.Fatal(err)
	}
	wantPNG(t, outs, 1)
	o := outs[0]
	if o.Subfolder != "aimg" || !strings.HasPrefix(o.Filename, "run_") {
		t.Errorf("output name %s/%s", o.Subfolder, o.Filename)
	}
	stored, ok := fake.File("output", o.Subfolder, o.Filename)
	if !ok || !bytes.Equal(stored, o.Data) {
		t.Errorf("the output is not the file the fake saved")
	}
	ps := rec.all()
	last := 0.0
	sawStep := false
	for _, p := range ps {
		if p.Fraction < last || p.Fraction > 1 {
			t.Fatalf("progress went from %v to %v", last, p.Fraction)
		}
		last = p.Fraction
		if p.Total != 7 {
			t.Fatalf("total %d, want 7", p.Total)
		}
		if p.Node == "3" && p.Max == 4 && p.Value > 0 && p.Value < 4 {
			sawStep = true
		}
	}
	if !sawStep {
		t.Errorf("no KSampler step in the progress: %+v", ps)
	}
	if end := ps[len(ps)-1]; end.Fraction != 1 || end.Done != 7 {
		t.Errorf("last progress %+v, want 1 with 7 nodes done", end)
	}
	st := fake.Snapshot()
	if len(st.Prompts) != 1 || st.History[st.Prompts[0]] != "success" {
		t.Errorf("fake state %+v", st)
	}
	if st.BareInterrupts+st.TargetedInterrupts != 0 || len(st.Deleted) != 0 {
		t.Errorf("a successful run touched the queue: %+v", st.Stats)
	}
}

func TestCachedNodesCountAsDone(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	c := newClient(t, fake, nil)
	ctx := testCtx(t)
	if _, err := c.Run(ctx, txt2img(1, 3), nil, nil); err != nil {
		t.Fatal(err)
	}
	// Another seed: the loader, the latent and both prompts are cached.
	var rec recorder
	outs, err := c.Run(ctx, txt2img(2, 3), nil, rec.add)
	if err != nil {
		t.Fatal(err)
	}
	wantPNG(t, outs, 1)
	ps := rec.all()
	var first *comfyui.Progress
	for i := range ps {
		if ps[i].Cached > 0 {
			first = &ps[i]
			break
		}
	}
	if first == nil || first.Cached != 4 || first.Done != 4 || first.Fraction < 4.0/7-1e-9 {
		t.Fatalf("progress after execution_cached: %+v (all %+v)", first, ps)
	}
	// The same workflow again: everything is cached, the outputs come from
	// the cached SaveImage.
	rec = recorder{}
	again, err := c.Run(ctx, txt2img(2, 3), nil, rec.add)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || again[0].Filename != outs[0].Filename {
		t.Errorf("fully cached run gave %+v, want the earlier %s", again, outs[0].Filename)
	}
	if ps := rec.all(); ps[len(ps)-1].Cached != 7 {
		t.Errorf("fully cached run: %+v", ps[len(ps)-1])
	}
}

func wantInvalid(t *testing.T, err error, parts ...string) {
	t.Helper()
	var ae *aimg.Error
	if !errors.As(err, &ae) || ae.Code != aimg.CodeInvalid {
		t.Fatalf("error %v (%T), want an invalid aimg.Error", err, err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

func wantRetryable(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if aimg.ErrorCode(err) == aimg.CodeInvalid {
		t.Fatalf("error %v is invalid, want a retryable one", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

func TestNodeErrorsAreInvalidAndNameTheNodes(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	c := newClient(t, fake, nil)
	ctx := testCtx(t)

	var wf map[string]map[string]any
	_ = json.Unmarshal(txt2img(1, 2), &wf)
	wf["4"]["inputs"] = map[string]any{"ckpt_name": "missing.safetensors"}
	delete(wf["3"]["inputs"].(map[string]any), "seed")
	raw, _ := json.Marshal(wf)
	_, err := c.Run(ctx, raw, nil, nil)
	wantInvalid(t, err, "Prompt outputs failed validation", "node 3 (KSampler): Required input is missing: seed",
		"node 4 (CheckpointLoaderSimple): Value not in list: ckpt_name: 'missing.safetensors' not in")

	_ = json.Unmarshal(txt2img(1, 2), &wf)
	wf["10"] = map[string]any{"class_type": "FancyUpscaler", "inputs": map[string]any{}}
	raw, _ = json.Marshal(wf)
	_, err = c.Run(ctx, raw, nil, nil)
	wantInvalid(t, err, "node 10 (FancyUpscaler)", "not found. The custom node may not be installed")

	_, err = c.Run(ctx, json.RawMessage(`{"1": {"inputs": {}}}`), nil, nil)
	wantInvalid(t, err, "no class_type")
	_, err = c.Run(ctx, json.RawMessage(`[1,2]`), nil, nil)
	wantInvalid(t, err, "not a JSON object")
	if st := fake.Snapshot(); len(st.Prompts) != 0 {
		t.Errorf("invalid prompts were queued: %v", st.Prompts)
	}
}

func TestExecutionErrorNamesTheNode(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	c := newClient(t, fake, nil)
	fake.FailNode("8", "RuntimeError", "mat1 and mat2 shapes cannot be multiplied")
	_, err := c.Run(testCtx(t), txt2img(1, 2), nil, nil)
	wantInvalid(t, err, "ComfyUI node 8 (VAEDecode) failed: mat1 and mat2 shapes cannot be multiplied", "RuntimeError")

	fake.FailNode("8", "torch.OutOfMemoryError", "CUDA out of memory")
	_, err = c.Run(testCtx(t), txt2img(2, 2), nil, nil)
	wantRetryable(t, err, "node 8 (VAEDecode)", "CUDA out of memory")
}

// startRun runs a workflow in the background.
type result struct {
	outs []comfyui.Output
	err  error
}

func startRun(ctx context.Context, c *comfyui.Client, wf json.RawMessage) <-chan result {
	ch := make(chan result, 1)
	go func() {
		outs, err := c.Run(ctx, wf, nil, nil)
		ch <- result{outs, err}
	}()
	return ch
}

func wait(t *testing.T, fake *comfyuifake.Server, what string, cond func(comfyuifake.State) bool) comfyuifake.State {
	t.Helper()
	if err := fake.Wait(testCtx(t), cond); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return fake.Snapshot()
}

func TestCancelInterruptsOnlyTheRunningPrompt(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	a := newClient(t, fake, nil)
	b := newClient(t, fake, nil) // another worker on the same ComfyUI
	fake.Hold()
	ctxA, cancelA := context.WithCancel(testCtx(t))
	defer cancelA()
	resA := startRun(ctxA, a, txt2img(1, 3))
	st := wait(t, fake, "A held", func(s comfyuifake.State) bool { return s.Held != "" })
	idA := st.Held
	resB := startRun(testCtx(t), b, txt2img(2, 3))
	wait(t, fake, "B queued", func(s comfyuifake.State) bool { return len(s.Pending) == 1 })

	cancelA()
	ra := <-resA
	if !errors.Is(ra.err, context.Canceled) {
		t.Fatalf("A: %v, want context.Canceled", ra.err)
	}
	st = wait(t, fake, "A interrupted", func(s comfyuifake.State) bool { return s.History[idA] == "interrupted" })
	if st.TargetedInterrupts != 1 || st.BareInterrupts != 0 || len(st.Deleted) != 0 {
		t.Fatalf("interrupts %+v", st.Stats)
	}
	wait(t, fake, "B running", func(s comfyuifake.State) bool { return s.Held != "" && s.Held != idA })
	fake.Release()
	rb := <-resB
	if rb.err != nil {
		t.Fatalf("B: %v", rb.err)
	}
	wantPNG(t, rb.outs, 1)
	if st := fake.Snapshot(); st.BareInterrupts != 0 {
		t.Errorf("a bare interrupt was sent: %+v", st.Stats)
	}
}

func TestCancelRemovesOnlyThePendingPrompt(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	a := newClient(t, fake, nil)
	b := newClient(t, fake, nil)
	fake.Hold()
	resA := startRun(testCtx(t), a, txt2img(1, 3))
	st := wait(t, fake, "A held", func(s comfyuifake.State) bool { return s.Held != "" })
	idA := st.Held
	ctxB, cancelB := context.WithCancel(testCtx(t))
	defer cancelB()
	resB := startRun(ctxB, b, txt2img(2, 3))
	st = wait(t, fake, "B queued", func(s comfyuifake.State) bool { return len(s.Pending) == 1 })
	idB := st.Pending[0]

	cancelB()
	if rb := <-resB; !errors.Is(rb.err, context.Canceled) {
		t.Fatalf("B: %v, want context.Canceled", rb.err)
	}
	st = fake.Snapshot()
	if len(st.Deleted) != 1 || st.Deleted[0] != idB || len(st.Pending) != 0 {
		t.Fatalf("deleted %v pending %v, want only %s deleted", st.Deleted, st.Pending, idB)
	}
	if st.Running != idA || st.TargetedInterrupts+st.BareInterrupts != 0 {
		t.Fatalf("A was touched: %+v", st)
	}
	fake.Release()
	ra := <-resA
	if ra.err != nil {
		t.Fatalf("A: %v", ra.err)
	}
	wantPNG(t, ra.outs, 1)
	if _, ran := fake.Snapshot().History[idB]; ran {
		t.Errorf("the deleted prompt ran")
	}
}

func TestCancelOnALegacyServerNeverInterrupts(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	fake.LegacyInterrupt = true // every /interrupt is global there
	fake.Version = "0.3.40"
	c := newClient(t, fake, nil)
	fake.Hold()
	ctx, cancel := context.WithCancel(testCtx(t))
	res := startRun(ctx, c, txt2img(1, 3))
	st := wait(t, fake, "held", func(s comfyuifake.State) bool { return s.Held != "" })
	cancel()
	r := <-res
	if !errors.Is(r.err, context.Canceled) || !strings.Contains(r.err.Error(), "left running") {
		t.Fatalf("error %v, want cancelled and left running", r.err)
	}
	if s := fake.Snapshot(); s.BareInterrupts+s.TargetedInterrupts != 0 {
		t.Fatalf("interrupt sent to a legacy server: %+v", s.Stats)
	}
	fake.Release()
	wait(t, fake, "finished", func(s comfyuifake.State) bool { return s.History[st.Held] == "success" })
}

func TestDroppedSocketFallsBackToHistory(t *testing.T) {
	for _, reconnect := range []bool{false, true} {
		t.Run(fmt.Sprintf("reconnect=%v", reconnect), func(t *testing.T) {
			fake := comfyuifake.New()
			defer fake.Close()
			c := newClient(t, fake, nil)
			fake.Hold()
			res := startRun(testCtx(t), c, txt2img(1, 3))
			wait(t, fake, "held", func(s comfyuifake.State) bool { return s.Held != "" })
			fake.RefuseSockets(!reconnect)
			fake.DropSockets()
			if reconnect {
				wait(t, fake, "redialled", func(s comfyuifake.State) bool { return s.WSConnections >= 2 && s.Sockets == 1 })
			}
			fake.Release()
			r := <-res
			if r.err != nil {
				t.Fatal(r.err)
			}
			wantPNG(t, r.outs, 1)
		})
	}
}

func TestStalledSocketFallsBackToHistory(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	fake.Mute(true) // the socket opens but never carries a message
	c := newClient(t, fake, func(cfg *comfyui.Config) { cfg.StallTimeout = 20 * time.Millisecond })
	outs, err := c.Run(testCtx(t), txt2img(1, 3), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantPNG(t, outs, 1)
}

func TestOversizedSocketMessagesFallBackToHistory(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	c := newClient(t, fake, func(cfg *comfyui.Config) { cfg.MaxMessageBytes = 16 })
	outs, err := c.Run(testCtx(t), txt2img(1, 3), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantPNG(t, outs, 1)
}

func TestServerFaultsAreClearRetryableErrors(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	ctx := testCtx(t)
	c := newClient(t, fake, func(cfg *comfyui.Config) {
		cfg.RequestTimeout = 200 * time.Millisecond
		cfg.StallTimeout = 20 * time.Millisecond
		cfg.MaxPollFailures = 3
	})

	fake.FailNext("/prompt", 1, 500, "Internal Server Error")
	_, err := c.Run(ctx, txt2img(1, 2), nil, nil)
	wantRetryable(t, err, "POST /prompt: HTTP 500")

	fake.FailNext("/prompt", 1, 200, "<html>proxy error</html>")
	_, err = c.Run(ctx, txt2img(1, 2), nil, nil)
	wantRetryable(t, err, "POST /prompt", "not the expected JSON")

	fake.HangNext("/prompt", 1)
	_, err = c.Run(ctx, txt2img(1, 2), nil, nil)
	wantRetryable(t, err, "POST /prompt", "deadline exceeded")

	fake.Mute(true)
	fake.FailNext("/history", 3, 502, "Bad Gateway")
	_, err = c.Run(ctx, txt2img(2, 2), nil, nil)
	wantRetryable(t, err, "its state cannot be read (3 tries)", "HTTP 502")
	fake.Mute(false)

	fake.FailNext("/view", 1, 503, "busy")
	_, err = c.Run(ctx, txt2img(3, 2), nil, nil)
	wantRetryable(t, err, "GET /view: HTTP 503")

	// One bad answer is retried; MaxPollFailures in a row end the run.
	fake.FailNext("/history", 1, 502, "Bad Gateway")
	if _, err = c.Run(ctx, txt2img(4, 2), nil, nil); err != nil {
		t.Fatalf("one failed history read: %v", err)
	}
	fake.FailNext("/history", 3, 200, "garbage")
	_, err = c.Run(ctx, txt2img(5, 2), nil, nil)
	wantRetryable(t, err, "its state cannot be read (3 tries)", "GET /history/", "not the expected JSON")

	dead := newClient(t, fake, nil)
	fake.Close()
	_, err = dead.Run(ctx, txt2img(6, 2), nil, nil)
	wantRetryable(t, err, "open /ws")
}

func TestOutputBudget(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	c := newClient(t, fake, func(cfg *comfyui.Config) { cfg.MaxOutputBytes = 10 })
	_, err := c.Run(testCtx(t), txt2img(1, 2), nil, nil)
	wantRetryable(t, err, "GET /view", "larger than 10 bytes")

	var wf map[string]map[string]any
	_ = json.Unmarshal(txt2img(1, 2), &wf)
	wf["5"]["inputs"].(map[string]any)["batch_size"] = 3
	raw, _ := json.Marshal(wf)
	c = newClient(t, fake, func(cfg *comfyui.Config) { cfg.MaxOutputs = 2 })
	_, err = c.Run(testCtx(t), raw, nil, nil)
	wantInvalid(t, err, "3 output files, more than 2")
}

func pngBytes(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestInputsAreUploadedAndSubstituted(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	c := newClient(t, fake, nil)
	wf := json.RawMessage(`{
  "10": {"class_type": "LoadImage", "inputs": {"image": "set-by-the-worker.png"}},
  "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "img2img", "images": ["10", 0]}}
}`)
	data := pngBytes(t)
	outs, err := c.Run(testCtx(t), wf, []comfyui.Input{{NodeID: "10", FileName: "user upload.PNG", Data: data}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantPNG(t, outs, 1)
	st := fake.Snapshot()
	if len(st.Uploads) != 1 || !strings.HasPrefix(st.Uploads[0], "aimg-") || !strings.HasSuffix(st.Uploads[0], "-0.png") {
		t.Fatalf("uploads %v", st.Uploads)
	}
	if got, _ := fake.File("input", "", st.Uploads[0]); !bytes.Equal(got, data) {
		t.Errorf("the uploaded file differs")
	}

	// Without the upload the fake's LoadImage refuses the placeholder: the
	// substitution is what made the run valid.
	_, err = c.Run(testCtx(t), wf, nil, nil)
	wantInvalid(t, err, "node 10 (LoadImage): Value not in list: image: 'set-by-the-worker.png'")

	_, err = c.Run(testCtx(t), wf, []comfyui.Input{{NodeID: "99", Data: data}}, nil)
	wantInvalid(t, err, `no node "99"`)

	fake.FailNext("/upload/image", 1, 500, "disk full")
	_, err = c.Run(testCtx(t), wf, []comfyui.Input{{NodeID: "10", Data: data}}, nil)
	wantRetryable(t, err, "POST /upload/image: HTTP 500")
}

func TestOldServerNamesThePrompt(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	fake.LegacyPromptID = true
	c := newClient(t, fake, nil)
	outs, err := c.Run(testCtx(t), txt2img(1, 2), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantPNG(t, outs, 1)
}

func TestAuthHeadersReachEveryRequest(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	fake.Auth = func(r *http.Request) bool {
		u, p, ok := r.BasicAuth()
		return ok && u == "worker" && p == "secret" && r.Header.Get("X-Api-Key") == "k"
	}
	c := newClient(t, fake, func(cfg *comfyui.Config) {
		cfg.Username, cfg.Password = "worker", "secret"
		cfg.Header = http.Header{"X-Api-Key": {"k"}}
	})
	wf := json.RawMessage(`{
  "10": {"class_type": "LoadImage", "inputs": {"image": "x.png"}},
  "9": {"class_type": "SaveImage", "inputs": {"images": ["10", 0]}}
}`)
	if _, err := c.Run(testCtx(t), wf, []comfyui.Input{{NodeID: "10", Data: pngBytes(t)}}, nil); err != nil {
		t.Fatal(err)
	}
	anonymous := newClient(t, fake, nil)
	_, err := anonymous.Run(testCtx(t), txt2img(1, 2), nil, nil)
	wantRetryable(t, err, "open /ws: HTTP 401")
}

func TestNewChecksTheConfig(t *testing.T) {
	for _, cfg := range []comfyui.Config{{BaseURL: "ftp://x"}, {BaseURL: ""}, {BaseURL: "http://x", TargetedInterruptSince: "new"}} {
		if _, err := comfyui.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestARestartedServerThatForgotThePromptIsARetryableError(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	c := newClient(t, fake, nil)
	fake.Hold()
	res := startRun(testCtx(t), c, txt2img(1, 3))
	wait(t, fake, "held", func(s comfyuifake.State) bool { return s.Held != "" })
	fake.Restart() // ComfyUI keeps its queue and history in memory (#2844)
	r := <-res
	wantRetryable(t, r.err, "neither queued nor in the history", "restarted")
}

func TestBackendGivesEachItemOneImage(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	c := newClient(t, fake, nil)
	var wf map[string]map[string]any
	_ = json.Unmarshal(txt2img(7, 2), &wf)
	wf["5"]["inputs"].(map[string]any)["batch_size"] = 2
	raw, _ := json.Marshal(wf)
	b := comfyui.Backend{Client: c, Resolve: func(context.Context, worker.RenderJob) (comfyui.Request, error) {
		return comfyui.Request{Workflow: raw}, nil
	}}
	var last float64
	job := worker.RenderJob{Job: &aimg.Job{ID: "j1", ItemIDs: []string{"a", "b"}}}
	outs, err := b.Render(testCtx(t), job, func(f float64) { last = f })
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || outs[0].ItemID != "a" || outs[1].ItemID != "b" || last != 1 {
		t.Fatalf("outputs %+v, last progress %v", outs, last)
	}
	for _, o := range outs {
		if err := o.Validate(); err != nil || o.Files[0].ContentType != "image/png" {
			t.Errorf("item %s: %v %+v", o.ItemID, err, o.Files)
		}
	}
	job.Job.ItemIDs = []string{"only"}
	_, err = b.Render(testCtx(t), job, func(float64) {})
	wantInvalid(t, err, "2 images for 1 items")
}

func TestGarbageOnTheSocketFallsBackToHistory(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	c := newClient(t, fake, nil)
	fake.Hold()
	res := startRun(testCtx(t), c, txt2img(1, 3))
	wait(t, fake, "held", func(s comfyuifake.State) bool { return s.Held != "" })
	fake.SendRaw("<html>502 Bad Gateway</html>")
	wait(t, fake, "redialled", func(s comfyuifake.State) bool { return s.WSConnections >= 2 && s.Sockets == 1 })
	fake.Release()
	r := <-res
	if r.err != nil {
		t.Fatal(r.err)
	}
	wantPNG(t, r.outs, 1)
}

func TestAnInterruptFromSomeoneElseIsRetryable(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	c := newClient(t, fake, nil)
	fake.Hold()
	res := startRun(testCtx(t), c, txt2img(1, 3))
	wait(t, fake, "held", func(s comfyuifake.State) bool { return s.Held != "" })
	// Someone presses Cancel in the ComfyUI page: a bare interrupt.
	resp, err := http.Post(fake.URL+"/interrupt", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r := <-res
	wantRetryable(t, r.err, "interrupted on the ComfyUI server at node 3 (KSampler), not by this worker")
}
