package comfyuifake_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"aimg/internal/worker/comfyui/comfyuifake"
)

const workflow = `{
  "3": {"class_type": "KSampler", "inputs": {"seed": 5, "steps": 2, "cfg": 8, "sampler_name": "euler",
        "scheduler": "normal", "denoise": 1, "model": ["4", 0], "positive": ["6", 0], "negative": ["6", 0],
        "latent_image": ["5", 0]}},
  "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
  "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
  "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "cat", "clip": ["4", 1]}},
  "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
  "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}}
}`

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return resp.StatusCode, out
}

// TestMessagesComeInComfyUIsOrder reads a run's messages as a raw client
// would: the order and fields of execution.py and main.py.
func TestMessagesComeInComfyUIsOrder(t *testing.T) {
	s := comfyuifake.New()
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, s.URL+"/ws?clientId=me", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	const id = "0a3551c4-b201-4bb6-9d33-eb807ec09632"
	code, body := post(t, s.URL+"/prompt", `{"prompt": `+workflow+`, "client_id": "me", "prompt_id": "`+id+`"}`)
	if code != 200 || body["prompt_id"] != id || body["number"] != 0.0 {
		t.Fatalf("POST /prompt: %d %v", code, body)
	}
	var types []string
	previews := 0
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if typ == websocket.MessageBinary {
			if binary.BigEndian.Uint32(data) != 1 || binary.BigEndian.Uint32(data[4:]) != 2 || !bytes.HasPrefix(data[8:], []byte("\x89PNG")) {
				t.Errorf("preview frame % x", data[:12])
			}
			previews++
			continue
		}
		var m struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if m.Type == "progress_state" || m.Type == "status" {
			continue
		}
		if m.Data["prompt_id"] != id {
			t.Errorf("%s without the prompt_id: %v", m.Type, m.Data)
		}
		label := m.Type
		switch m.Type {
		case "executing":
			if m.Data["node"] == nil {
				types = append(types, "executing:null")
				goto done
			}
			label += ":" + m.Data["node"].(string)
		case "progress":
			if m.Data["node"] != "3" || m.Data["max"] != 2.0 {
				t.Errorf("progress %v", m.Data)
			}
		case "executed":
			out := m.Data["output"].(map[string]any)["images"].([]any)[0].(map[string]any)
			if out["filename"] != "ComfyUI_00001_.png" || out["subfolder"] != "" || out["type"] != "output" {
				t.Errorf("executed %v", m.Data)
			}
		}
		types = append(types, label)
	}
done:
	want := []string{"execution_start", "execution_cached", "executing:5", "executing:4", "executing:6",
		"executing:3", "progress", "progress", "executing:8", "executing:9", "executed", "execution_success", "executing:null"}
	if !slices.Equal(types, want) {
		t.Errorf("messages\n got %v\nwant %v", types, want)
	}
	if previews != 2 {
		t.Errorf("%d preview frames, want 2", previews)
	}
	resp, err := http.Get(s.URL + "/history/" + id)
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]struct {
		Prompt  []any                     `json:"prompt"`
		Outputs map[string]map[string]any `json:"outputs"`
		Status  struct {
			StatusStr string  `json:"status_str"`
			Completed bool    `json:"completed"`
			Messages  [][]any `json:"messages"`
		} `json:"status"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	e := h[id]
	if len(e.Prompt) != 5 || e.Prompt[1] != id || e.Status.StatusStr != "success" || !e.Status.Completed ||
		len(e.Status.Messages) != 3 || e.Outputs["9"] == nil {
		t.Errorf("history %+v", e)
	}
}

func TestValidationBodiesHaveComfyUIsShape(t *testing.T) {
	s := comfyuifake.New()
	defer s.Close()
	code, body := post(t, s.URL+"/prompt", `{"prompt": {"1": {"class_type": "Nope", "inputs": {}}}}`)
	e, _ := body["error"].(map[string]any)
	if code != 400 || e["type"] != "missing_node_type" || len(body["node_errors"].(map[string]any)) != 0 ||
		e["extra_info"].(map[string]any)["node_id"] != "1" {
		t.Errorf("unknown class: %d %v", code, body)
	}
	code, body = post(t, s.URL+"/prompt", `{"prompt": `+strings.Replace(workflow, `"steps": 2`, `"steps": 0`, 1)+`}`)
	ne, _ := body["node_errors"].(map[string]any)["3"].(map[string]any)
	if code != 400 || body["error"].(map[string]any)["type"] != "prompt_outputs_failed_validation" || ne == nil ||
		ne["class_type"] != "KSampler" || ne["errors"].([]any)[0].(map[string]any)["type"] != "value_smaller_than_min" {
		t.Errorf("steps 0: %d %v", code, body)
	}
	code, body = post(t, s.URL+"/prompt", `{"prompt": `+workflow+`, "prompt_id": "NOT-A-UUID"}`)
	if code != 400 || body["error"].(map[string]any)["type"] != "invalid_prompt_id" {
		t.Errorf("bad prompt_id: %d %v", code, body)
	}
	code, body = post(t, s.URL+"/prompt", `{}`)
	if code != 400 || body["error"].(map[string]any)["type"] != "no_prompt" {
		t.Errorf("no prompt: %d %v", code, body)
	}
}

func TestQueueDeleteAndInterruptTouchOnlyTheirPrompt(t *testing.T) {
	s := comfyuifake.New()
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.Hold()
	const a, b = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"
	post(t, s.URL+"/prompt", `{"prompt": `+workflow+`, "prompt_id": "`+a+`"}`)
	post(t, s.URL+"/prompt", `{"prompt": `+strings.Replace(workflow, `"seed": 5`, `"seed": 6`, 1)+`, "prompt_id": "`+b+`"}`)
	if err := s.Wait(ctx, func(st comfyuifake.State) bool { return st.Held == a && len(st.Pending) == 1 }); err != nil {
		t.Fatal(err)
	}
	post(t, s.URL+"/queue", `{"delete": ["`+a+`"]}`) // running: not deleted
	post(t, s.URL+"/interrupt", `{"prompt_id": "`+b+`"}`)
	if st := s.Snapshot(); st.Running != a || len(st.Deleted) != 0 || st.Held != a {
		t.Fatalf("a running prompt was touched: %+v", st)
	}
	post(t, s.URL+"/interrupt", `{"prompt_id": "`+a+`"}`)
	if err := s.Wait(ctx, func(st comfyuifake.State) bool { return st.History[a] == "interrupted" && st.Held == b }); err != nil {
		t.Fatal(err)
	}
	post(t, s.URL+"/queue", `{"delete": ["`+b+`"]}`) // b runs now: untouched
	s.Release()
	if err := s.Wait(ctx, func(st comfyuifake.State) bool { return st.History[b] == "success" }); err != nil {
		t.Fatal(err)
	}
	if st := s.Snapshot(); st.BareInterrupts != 0 || st.TargetedInterrupts != 2 {
		t.Errorf("stats %+v", st.Stats)
	}
}
