package workerapi_test

import (
	"bytes"
	"encoding/json"
	"image"
	_ "image/png"
	"io"
	"net/http"
	neturl "net/url"
	"slices"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/testsupport"
	"aimg/internal/worker"
	"aimg/internal/worker/a1111"
	"aimg/internal/worker/a1111/a1111fake"
	"aimg/internal/worker/comfyui"
	"aimg/internal/worker/comfyui/comfyuifake"
	"aimg/internal/worker/openai"
	"aimg/internal/worker/openai/openaifake"
	"aimg/internal/workerapi"
)

// withModel adds a Model like f222 served by another backend.
func withModel(id string, edit func(m *aimg.Model)) func(*config.Config) {
	return func(c *config.Config) {
		m, ok := c.Service.Model("f222")
		if !ok {
			panic("no f222")
		}
		m.ModelID, m.Name = id, id
		m.AllowedSamplers = slices.Clone(m.AllowedSamplers)
		edit(&m)
		c.Service.Models = append(c.Service.Models, m)
	}
}

// startRemote runs a remote worker pool over HTTP with backend, on the
// Models of that backend the (unrestricted) key may claim.
func startRemote(t *testing.T, srv *testsupport.Server, backendName string, backend worker.Backend) []string {
	t.Helper()
	_, key := newKey(t, srv, map[string]any{"name": "gpu-" + backendName})
	client := workerapi.NewClient(srv.URL, key, nil)
	models, err := client.ModelsOf(t.Context(), backendName)
	if err != nil {
		t.Fatal(err)
	}
	testsupport.StartPool(t, client, backend, worker.Config{Name: "gpu-" + backendName, Concurrency: 1, ModelIDs: models,
		PollInterval: 10 * time.Millisecond, HeartbeatInterval: 50 * time.Millisecond})
	return models
}

func generateOn(t *testing.T, srv *testsupport.Server, session string, body map[string]any) string {
	t.Helper()
	env := srv.Post(t, "/api/generateImage", session, body)
	testsupport.ExpectOK(t, env)
	var out struct{ ImageID string }
	env.Decode(t, &out)
	return out.ImageID
}

// itemFile is the completed Item's main file, from the file server.
func itemFile(t *testing.T, srv *testsupport.Server, session, id string) []byte {
	t.Helper()
	env := srv.Get(t, "/api/getItemStatus?imageID="+id, session)
	var item struct{ URL string }
	env.Decode(t, &item)
	u, err := neturl.Parse(item.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL + u.RequestURI())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("item file: %d", resp.StatusCode)
	}
	return data
}

func pngSize(t *testing.T, data []byte) (int, int) {
	t.Helper()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || format != "png" {
		t.Fatalf("not a PNG: %v %s", err, format)
	}
	return cfg.Width, cfg.Height
}

// A prompt no string splicing survives.
const hostilePrompt = `a "fox" in {braces}, a \ backslash and "}, "99": {"class_type": "Evil"`

// generateImage on a comfyui Model: the fake ComfyUI gets the template
// with every parameter substituted, and the Item is the fake's output.
func TestComfyUIModelEndToEnd(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		fake := comfyuifake.New()
		t.Cleanup(fake.Close)
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits, withModel("sd15", func(m *aimg.Model) {
			m.Backend, m.Workflow, m.Checkpoint = aimg.BackendComfyUI, "sd15-txt2img", "sd_xl_base_1.0.safetensors"
		}))
		c, err := comfyui.New(comfyui.Config{BaseURL: fake.URL})
		if err != nil {
			t.Fatal(err)
		}
		if models := startRemote(t, srv, aimg.BackendComfyUI, comfyui.NewBackend(c)); !slices.Equal(models, []string{"sd15"}) {
			t.Fatalf("a comfyui worker claims %v, want only the comfyui Model", models)
		}
		user := testsupport.SignUp(t, srv, "comfy@example.com")
		id := generateOn(t, srv, user.SessionID, map[string]any{"modelName": "sd15", "prompt": hostilePrompt, "negprompt": `ugly\n"x"`,
			"seed": 42, "steps": 12, "cfgscale": 6.5, "sampler": "Euler a", "width": 384, "height": 640})
		waitStatus(t, srv, user.SessionID, id, "completed")

		st := fake.Snapshot()
		if len(st.Prompts) != 1 {
			t.Fatalf("the fake got %d prompts", len(st.Prompts))
		}
		h, wf := comfyRun(t, fake, st.Prompts[0])
		if len(wf) != 7 {
			t.Fatalf("the workflow has %d nodes, want the template's 7", len(wf))
		}
		str := func(s string) string { b, _ := json.Marshal(s); return string(b) }
		for _, w := range []struct{ node, input, want string }{
			{"6", "text", str(hostilePrompt)}, {"7", "text", str(`ugly\n"x"`)}, {"3", "seed", "42"}, {"3", "steps", "12"},
			{"3", "cfg", "6.5"}, {"3", "sampler_name", `"euler_ancestral"`}, {"3", "scheduler", `"normal"`},
			{"5", "width", "384"}, {"5", "height", "640"}, {"5", "batch_size", "1"},
			{"4", "ckpt_name", `"sd_xl_base_1.0.safetensors"`}, {"3", "model", `["4",0]`},
		} {
			if got := string(wf[w.node].Inputs[w.input]); got != w.want {
				t.Errorf("the fake got %s.%s = %s, want %s", w.node, w.input, got, w.want)
			}
		}
		img := h.Outputs["9"].Images
		if len(img) != 1 {
			t.Fatalf("outputs %+v", h.Outputs)
		}
		want, ok := fake.File(img[0].Type, img[0].Subfolder, img[0].Filename)
		if !ok || !bytes.Equal(itemFile(t, srv, user.SessionID, id), want) {
			t.Fatal("the Item's file is not the fake's output")
		}
	})
}

// generateImage on an a1111 Model: the web UI gets the txt2img body with
// the Model's checkpoint, and the Item is its image.
func TestA1111ModelEndToEnd(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		fake := a1111fake.New(a1111fake.Options{Username: "aimg", Password: "s3cret"})
		t.Cleanup(fake.Close)
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits, withModel("dream", func(m *aimg.Model) {
			m.Backend, m.Checkpoint = aimg.BackendA1111, "dreamshaper_8"
		}))
		c, err := a1111.New(a1111.Config{BaseURL: fake.URL, Username: "aimg", Password: "s3cret"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		if models := startRemote(t, srv, aimg.BackendA1111, a1111.NewBackend(c)); !slices.Equal(models, []string{"dream"}) {
			t.Fatalf("an a1111 worker claims %v", models)
		}
		user := testsupport.SignUp(t, srv, "a1111@example.com")
		id := generateOn(t, srv, user.SessionID, map[string]any{"modelName": "dream", "prompt": hostilePrompt, "negprompt": "blurry",
			"seed": 7, "subseed": 9, "subseed_strength": 0.25, "steps": 5, "cfgscale": 5, "sampler": "DPM++ SDE Karras",
			"width": 512, "height": 384, "restoreFaces": true})
		waitStatus(t, srv, user.SessionID, id, "completed")

		reqs := fake.Requests("/sdapi/v1/txt2img")
		if len(reqs) != 1 {
			t.Fatalf("the fake got %d txt2img requests", len(reqs))
		}
		got := reqs[0].JSON()
		for k, want := range map[string]any{
			"prompt": hostilePrompt, "negative_prompt": "blurry", "seed": 7.0, "subseed": 9.0, "subseed_strength": 0.25,
			"steps": 5.0, "cfg_scale": 5.0, "sampler_name": "DPM++ SDE", "scheduler": "Karras", "width": 512.0, "height": 384.0,
			"restore_faces": true, "batch_size": 1.0, "n_iter": 1.0, "override_settings_restore_afterwards": false,
		} {
			if got[k] != want {
				t.Errorf("the fake got %s = %v, want %v", k, got[k], want)
			}
		}
		if os, _ := got["override_settings"].(map[string]any); os["sd_model_checkpoint"] != "dreamshaper_8" {
			t.Errorf("override_settings %v", got["override_settings"])
		}
		if fake.Loaded().ModelName != "dreamshaper_8" {
			t.Errorf("the web UI runs %s", fake.Loaded().ModelName)
		}
		if w, h := pngSize(t, itemFile(t, srv, user.SessionID, id)); w != 512 || h != 384 {
			t.Fatalf("the Item is %dx%d, not the fake's 512x384 image", w, h)
		}
	})
}

// generateImage on an openai Model: the images API gets model, prompt, n
// and size with the worker's key, and the Item is its image.
func TestOpenAIModelEndToEnd(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		fake := openaifake.New(openaifake.Options{Key: "sk-test-1234"})
		t.Cleanup(fake.Close)
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits, withModel("dalle", func(m *aimg.Model) {
			m.Backend, m.BackendModel = aimg.BackendOpenAI, "dall-e-2"
		}))
		c, err := openai.New(openai.Config{BaseURL: fake.URL + "/v1", APIKey: "sk-test-1234"})
		if err != nil {
			t.Fatal(err)
		}
		if models := startRemote(t, srv, aimg.BackendOpenAI, openai.NewBackend(c)); !slices.Equal(models, []string{"dalle"}) {
			t.Fatalf("an openai worker claims %v", models)
		}
		user := testsupport.SignUp(t, srv, "openai@example.com")
		id := generateOn(t, srv, user.SessionID, map[string]any{"modelName": "dalle", "prompt": hostilePrompt, "width": 512, "height": 512})
		waitStatus(t, srv, user.SessionID, id, "completed")

		reqs := fake.Requests("/v1/images/generations")
		if len(reqs) != 1 {
			t.Fatalf("the fake got %d requests", len(reqs))
		}
		got := reqs[0].JSON()
		want := map[string]any{"model": "dall-e-2", "prompt": hostilePrompt, "n": 1.0, "size": "512x512", "response_format": "b64_json"}
		if len(got) != len(want) {
			t.Errorf("the fake got %v, want exactly %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("the fake got %s = %v, want %v", k, got[k], v)
			}
		}
		if a := reqs[0].Header.Get("Authorization"); a != "Bearer sk-test-1234" {
			t.Errorf("Authorization %q", a)
		}
		if w, h := pngSize(t, itemFile(t, srv, user.SessionID, id)); w != 512 || h != 512 {
			t.Fatalf("the Item is %dx%d", w, h)
		}
	})
}

// comfyHistoryEntry is one prompt's /history entry, as the fake keeps it.
type comfyHistoryEntry struct {
	Prompt  []json.RawMessage `json:"prompt"`
	Outputs map[string]struct {
		Images []struct{ Filename, Subfolder, Type string }
	} `json:"outputs"`
}

// comfyNode is one node of an API-format workflow.
type comfyNode struct {
	ClassType string                     `json:"class_type"`
	Inputs    map[string]json.RawMessage `json:"inputs"`
}

// comfyRun reads the fake's /history of promptID: the entry and the
// workflow it ran (the entry's third element).
func comfyRun(t *testing.T, fake *comfyuifake.Server, promptID string) (comfyHistoryEntry, map[string]comfyNode) {
	t.Helper()
	resp, err := http.Get(fake.URL + "/history/" + promptID)
	if err != nil {
		t.Fatal(err)
	}
	var hist map[string]comfyHistoryEntry
	err = json.NewDecoder(resp.Body).Decode(&hist)
	resp.Body.Close()
	h := hist[promptID]
	if err != nil || len(h.Prompt) < 3 {
		t.Fatalf("history: %v %+v", err, h)
	}
	var wf map[string]comfyNode
	if err := json.Unmarshal(h.Prompt[2], &wf); err != nil {
		t.Fatal(err)
	}
	return h, wf
}
