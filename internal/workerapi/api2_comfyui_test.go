package workerapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
	"aimg/internal/worker/comfyui"
	"aimg/internal/worker/comfyui/comfyuifake"
)

// An API2 workflow on a comfyui Model runs on ComfyUI through a remote
// worker: the fake gets the template's workflow with the request's values
// (a LoRA set, the other pruned), and each Item is one of its outputs.
func TestAPI2WorkflowOnComfyUI(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		fake := comfyuifake.New()
		t.Cleanup(fake.Close)
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits, withModel("sd15", func(m *aimg.Model) {
			m.Backend, m.Workflow, m.Checkpoint = aimg.BackendComfyUI, "sd15-lora", "sd_xl_base_1.0.safetensors"
		}))
		c, err := comfyui.New(comfyui.Config{BaseURL: fake.URL})
		if err != nil {
			t.Fatal(err)
		}
		startRemote(t, srv, aimg.BackendComfyUI, comfyui.NewBackend(c))
		user := testsupport.SignUp(t, srv, "api2@example.com")
		testsupport.ExpectOK(t, srv.Do(t, testsupport.Req{Method: http.MethodPost, Path: "/api/setAdminProvidedPremiumTier",
			AdminKey: testsupport.AdminKey, Body: map[string]any{"productId": "api2", "email": user.Email, "tier": 1, "isActive": true,
				"deactivationDate": srv.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339)}}))
		env := srv.Post(t, "/api/2/enqueueWorkflow", user.SessionID, map[string]any{"workflowTemplateName": "sd15-lora",
			"prompt": hostilePrompt, "seed": 9, "steps": 3, "width": 64, "height": 64, "batchSize": 2,
			"lora": []string{"detail.safetensors"}, "lora_strength": []float64{0.75}})
		testsupport.ExpectOK(t, env)
		var e struct {
			ItemIDs    []string `json:"itemIds"`
			WorkflowID string   `json:"workflowId"`
		}
		env.Decode(t, &e)
		if len(e.ItemIDs) != 2 {
			t.Fatalf("enqueueWorkflow: %s", env.Raw)
		}
		for range 600 {
			env = srv.Get(t, "/api/2/getWorkflowStatus?workflowId="+e.WorkflowID, user.SessionID)
			var ws struct{ IsComplete, IsError bool }
			env.Decode(t, &ws)
			if ws.IsError {
				t.Fatalf("the workflow failed: %s", env.Raw)
			}
			if ws.IsComplete {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		for _, id := range e.ItemIDs {
			waitStatus(t, srv, user.SessionID, id, "completed")
		}
		st := fake.Snapshot()
		if len(st.Prompts) != 1 {
			t.Fatalf("the fake got %d prompts, want one for the batch", len(st.Prompts))
		}
		h, wf := comfyRun(t, fake, st.Prompts[0])
		loras := 0
		for _, n := range wf {
			if n.ClassType == "LoraLoader" {
				loras++
				if string(n.Inputs["lora_name"]) != `"detail.safetensors"` || string(n.Inputs["strength_model"]) != "0.75" {
					t.Errorf("LoRA node %v", n.Inputs)
				}
			}
		}
		prompt, _ := json.Marshal(hostilePrompt)
		if loras != 1 || string(wf["6"].Inputs["text"]) != string(prompt) || string(wf["3"].Inputs["seed"]) != "9" ||
			string(wf["5"].Inputs["batch_size"]) != "2" || string(wf["4"].Inputs["ckpt_name"]) != `"sd_xl_base_1.0.safetensors"` {
			t.Fatalf("the fake got %s", h.Prompt[2])
		}
		var imgs []struct{ Filename, Subfolder, Type string }
		for _, o := range h.Outputs {
			imgs = append(imgs, o.Images...)
		}
		if len(imgs) != 2 {
			t.Fatalf("outputs %+v", h.Outputs)
		}
		for i, id := range e.ItemIDs {
			want, ok := fake.File(imgs[i].Type, imgs[i].Subfolder, imgs[i].Filename)
			if !ok || !bytes.Equal(itemFile(t, srv, user.SessionID, id), want) {
				t.Fatalf("Item %d's file is not the fake's output %d", i, i)
			}
		}
		env = srv.Get(t, "/api/2/getWorkflowStatus?workflowId="+e.WorkflowID, user.SessionID)
		testsupport.ExpectOK(t, env)
		var ws struct {
			IsComplete  bool              `json:"isComplete"`
			OutputFiles []json.RawMessage `json:"outputFiles"`
		}
		env.Decode(t, &ws)
		if !ws.IsComplete || len(ws.OutputFiles) != 2 {
			t.Fatalf("workflow status: %s", env.Raw)
		}
	})
}
