package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/config"
	"aimg/internal/testsupport"
)

// grantTier gives email PRO tier tier for two days through the admin endpoint.
func grantTier(t *testing.T, srv *testsupport.Server, email string, tier int) {
	t.Helper()
	env := srv.Do(t, testsupport.Req{Method: http.MethodPost, Path: "/api/setAdminProvidedPremiumTier", AdminKey: testsupport.AdminKey,
		Body: map[string]any{"productId": "api2-test", "email": email, "tier": tier, "isActive": true,
			"deactivationDate": srv.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339)}})
	testsupport.ExpectOK(t, env)
}

// proUser signs up email and grants it tier 2.
func proUser(t *testing.T, srv *testsupport.Server, email string) testsupport.Account {
	t.Helper()
	a := testsupport.SignUp(t, srv, email)
	grantTier(t, srv, a.Email, 2)
	return a
}

type enqueued struct {
	ItemIDs    []string `json:"itemIds"`
	WorkflowID string   `json:"workflowId"`
}

func enqueueWorkflow(t *testing.T, srv *testsupport.Server, session string, body map[string]any) enqueued {
	t.Helper()
	env := srv.Post(t, "/api/2/enqueueWorkflow", session, body)
	testsupport.ExpectOK(t, env)
	var e enqueued
	env.Decode(t, &e)
	if e.WorkflowID == "" || len(e.ItemIDs) == 0 {
		t.Fatalf("enqueueWorkflow: %s", env.Raw)
	}
	return e
}

type runParam struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type workflowState struct {
	ID            string `json:"_id"`
	PublicID      string `json:"publicId"`
	RunParameters struct {
		WorkflowTemplateName string     `json:"workflowTemplateName"`
		Parameters           []runParam `json:"parameters"`
	} `json:"runParamaters"`
	IsStarted     bool   `json:"isStarted"`
	IsComplete    bool   `json:"isComplete"`
	IsError       bool   `json:"isError"`
	ErrorMessage  string `json:"errorMessage"`
	QueuePosition *int64 `json:"queuePosition"`
	OutputFiles   []struct {
		DownloadURL  string `json:"downloadURL"`
		IsMainOutput bool   `json:"isMainOutput"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
	} `json:"outputFiles"`
	WorkflowJSONString string   `json:"workflowJsonString"`
	State              string   `json:"state"`
	StartTime          string   `json:"startTime"`
	EndTime            string   `json:"endTime"`
	Email              string   `json:"api2userEmail"`
	ItemIDs            []string `json:"itemIds"`
}

func workflowStatus(t *testing.T, srv *testsupport.Server, session, id string) workflowState {
	t.Helper()
	env := srv.Get(t, "/api/2/getWorkflowStatus?workflowId="+id, session)
	testsupport.ExpectOK(t, env)
	var st workflowState
	env.Decode(t, &st)
	return st
}

func paramValue(ps []runParam, name string) (string, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

type wfNode struct {
	ClassType string                     `json:"class_type"`
	Inputs    map[string]json.RawMessage `json:"inputs"`
}

func workflowNodes(t *testing.T, s string) map[string]wfNode {
	t.Helper()
	var w map[string]wfNode
	if err := json.Unmarshal([]byte(s), &w); err != nil {
		t.Fatalf("workflowJsonString is not a workflow: %v: %s", err, s)
	}
	return w
}

// API2 is for signed-in Users of PRO tier 1 or more: 401 without a
// session or for a guest, 403 at tier 0, on every endpoint.
func TestAPI2Access(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url)
		guest := testsupport.Self(t, srv, "").SessionID
		free := testsupport.SignUp(t, srv, "free@example.com")
		calls := []struct{ method, path string }{
			{"GET", "/api/2/getUserSession"},
			{"GET", "/api/2/getAggregatedWorkflowTemplates"},
			{"GET", "/api/2/getFileGroupItems?fileGroup=checkpoints"},
			{"GET", "/api/2/getWorkflowStatus?workflowId=" + uuid.NewString()},
			{"POST", "/api/2/enqueueWorkflow"},
		}
		body := map[string]any{"workflowTemplateName": "sd15-txt2img", "prompt": "a fox"}
		for _, c := range calls {
			for _, tc := range []struct {
				who, session string
				status       int
				want         string
			}{{"nobody", "", 401, "not signed in"}, {"guest", guest, 401, "not signed in"}, {"tier 0", free.SessionID, 403, "PRO tier 1"}} {
				env := srv.Do(t, testsupport.Req{Method: c.method, Path: c.path, SessionID: tc.session, Body: body})
				if env.Status != tc.status || !strings.Contains(env.ErrorMessage, tc.want) {
					t.Errorf("%s %s by %s: %d %s, want %d %q", c.method, c.path, tc.who, env.Status, env.Raw, tc.status, tc.want)
				}
			}
		}

		grantTier(t, srv, free.Email, 1)
		env := srv.Get(t, "/api/2/getUserSession", free.SessionID)
		testsupport.ExpectOK(t, env)
		var us struct {
			UserSession struct {
				ID, Domain, UserID, UpdatedDate string
			} `json:"userSession"`
			User struct {
				ID                 string   `json:"_id"`
				Email              string   `json:"email"`
				Domain             string   `json:"domain"`
				Roles              []string `json:"roles"`
				IsDisabled         bool     `json:"isDisabled"`
				FlaggedImagesCount *int64   `json:"flaggedImagesCount"`
				CreatedDate        string   `json:"createdDate"`
			} `json:"user"`
		}
		env.Decode(t, &us)
		var raw struct {
			UserSession struct {
				ID string `json:"_id"`
			} `json:"userSession"`
		}
		env.Decode(t, &raw)
		if raw.UserSession.ID != free.SessionID || us.UserSession.UserID != free.UserID || us.User.ID != free.UserID ||
			us.User.Email != free.Email || us.User.Domain == "" || us.User.Roles == nil || us.User.FlaggedImagesCount == nil ||
			us.User.CreatedDate == "" || us.UserSession.UpdatedDate == "" {
			t.Fatalf("getUserSession: %s", env.Raw)
		}
	})
}

// The Workflow Templates and their file groups.
func TestAPI2TemplatesAndFileGroups(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url)
		pro := proUser(t, srv, "pro@example.com")
		env := srv.Get(t, "/api/2/getAggregatedWorkflowTemplates", pro.SessionID)
		testsupport.ExpectOK(t, env)
		var tpls []struct {
			Name        string   `json:"name"`
			Deployments []string `json:"deployments"`
			Parameters  []struct {
				Name, OptionName, DataType, DefaultValue, ReplaceFromString, FileGroup string
				IsOptional                                                             bool
				DropdownItems                                                          []string
			} `json:"parameters"`
			Files map[string]struct {
				FileNames       []string `json:"fileNames"`
				SupportFileType string   `json:"supportFileType"`
			} `json:"workflowTemplateFiles"`
		}
		env.Decode(t, &tpls)
		if len(tpls) != 2 || tpls[0].Name != "sd15-lora" || tpls[1].Name != "sd15-txt2img" {
			t.Fatalf("templates: %s", env.Raw)
		}
		lora := tpls[0]
		if len(lora.Deployments) == 0 || len(lora.Parameters) < 10 || lora.Files["loras"].SupportFileType != "safetensors" {
			t.Fatalf("sd15-lora: %+v", lora)
		}
		var sawSampler bool
		for _, p := range lora.Parameters {
			if p.OptionName == "sampler" {
				sawSampler = p.DataType == "dropdown" && len(p.DropdownItems) > 0 && p.ReplaceFromString == "3.sampler_name"
			}
		}
		if !sawSampler {
			t.Fatal("the sampler parameter is not listed with its dropdown items")
		}
		env = srv.Get(t, "/api/2/getAggregatedWorkflowTemplates?workflowTemplateNames=sd15-txt2img,nope", pro.SessionID)
		testsupport.ExpectOK(t, env)
		env.Decode(t, &tpls)
		if len(tpls) != 1 || tpls[0].Name != "sd15-txt2img" {
			t.Fatalf("filtered templates: %s", env.Raw)
		}

		var fg struct {
			FileNames []string `json:"fileNames"`
		}
		env = srv.Get(t, "/api/2/getFileGroupItems?fileGroup=checkpoints", pro.SessionID)
		testsupport.ExpectOK(t, env)
		env.Decode(t, &fg)
		if len(fg.FileNames) != 1 || fg.FileNames[0] != "v1-5-pruned-emaonly.safetensors" {
			t.Fatalf("checkpoints: %s", env.Raw)
		}
		env = srv.Get(t, "/api/2/getFileGroupItems?fileGroup=loras", pro.SessionID)
		testsupport.ExpectOK(t, env)
		if !strings.Contains(string(env.Payload), `"fileNames":[]`) {
			t.Fatalf("loras: %s", env.Raw)
		}
		testsupport.ExpectError(t, srv.Get(t, "/api/2/getFileGroupItems?fileGroup=nope", pro.SessionID), 404, "fileGroup")
		testsupport.ExpectError(t, srv.Get(t, "/api/2/getFileGroupItems", pro.SessionID), 400, "fileGroup")
	})
}

// enqueueWorkflow with the template's defaults, with explicit parameters,
// and each validation rule (400 naming the parameter); getWorkflowStatus
// and getItemDetails show what ran; another user's workflow is not found.
func TestAPI2EnqueueWorkflow(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url)
		pro := proUser(t, srv, "pro@example.com")

		// Defaults: only the mandatory prompt, through the parameters array.
		def := enqueueWorkflow(t, srv, pro.SessionID, map[string]any{"workflowTemplateName": "sd15-txt2img",
			"parameters": []map[string]string{{"name": "Positive Prompt", "value": `a "quoted" {fox} \ here`}}})
		if len(def.ItemIDs) != 1 {
			t.Fatalf("default batch: %+v", def)
		}
		st := workflowStatus(t, srv, pro.SessionID, def.WorkflowID)
		if st.QueuePosition == nil || *st.QueuePosition < 1 || st.PublicID != def.WorkflowID || st.IsStarted || st.IsComplete || st.State != "running" ||
			st.RunParameters.WorkflowTemplateName != "sd15-txt2img" || st.Email != pro.Email ||
			len(st.ItemIDs) != 1 || st.ItemIDs[0] != def.ItemIDs[0] || st.StartTime == "" {
			t.Fatalf("status of the default workflow: %+v", st)
		}
		for name, want := range map[string]string{"Seed": "0", "Steps": "20", "Width": "512", "Batch Size": "1",
			"Model": "v1-5-pruned-emaonly.safetensors", "Sampler": "dpmpp_2m"} {
			if got, _ := paramValue(st.RunParameters.Parameters, name); got != want {
				t.Errorf("default %s = %q, want %q", name, got, want)
			}
		}
		w := workflowNodes(t, st.WorkflowJSONString)
		var text string
		if err := json.Unmarshal(w["6"].Inputs["text"], &text); err != nil || text != `a "quoted" {fox} \ here` || len(w) != 7 {
			t.Fatalf("substituted prompt %q (%v), %d nodes", text, err, len(w))
		}

		// getItemStatus and getItemDetails know the Item.
		env := srv.Get(t, "/api/getItemStatus?imageID="+def.ItemIDs[0], pro.SessionID)
		testsupport.ExpectOK(t, env)
		var gs genStatus
		env.Decode(t, &gs)
		if gs.Status != "queued" || gs.QueuePosition == nil {
			t.Fatalf("getItemStatus: %s", env.Raw)
		}
		env = srv.Get(t, "/api/getItemDetails?imageID="+def.ItemIDs[0], pro.SessionID)
		testsupport.ExpectOK(t, env)
		var info struct {
			GeneratorVersion      string     `json:"generatorVersion"`
			WorkflowTemplateName  string     `json:"workflowTemplateName"`
			WorkflowRunParameters []runParam `json:"workflowRunParameters"`
			Prompt                string     `json:"prompt"`
			Steps                 int        `json:"steps"`
			Width                 int        `json:"width"`
			Seed                  int64      `json:"seed"`
			Lora                  []string   `json:"lora"`
			LoraStrength          []float64  `json:"lora_strength"`
		}
		env.Decode(t, &info)
		if info.GeneratorVersion != "2" || info.WorkflowTemplateName != "sd15-txt2img" || len(info.WorkflowRunParameters) == 0 ||
			info.Prompt != `a "quoted" {fox} \ here` || info.Steps != 20 || info.Width != 512 {
			t.Fatalf("getItemDetails: %s", env.Raw)
		}

		// Explicit body parameters, batchSize 3 → 3 Items.
		ex := enqueueWorkflow(t, srv, pro.SessionID, map[string]any{"workflowTemplateName": "sd15-lora",
			"prompt": "a castle", "negprompt": "fog", "seed": 42, "steps": 7, "cfgscale": 5.5, "width": 256, "height": 384,
			"batchSize": 3, "lora": []string{"a.safetensors", "b.safetensors"}, "lora_strength": []float64{0.5, 0.25},
			"modelName":  "my-checkpoint.safetensors",
			"parameters": []map[string]string{{"name": "sampler", "value": "euler"}}})
		if len(ex.ItemIDs) != 3 {
			t.Fatalf("batchSize 3 gave %d Items", len(ex.ItemIDs))
		}
		st = workflowStatus(t, srv, pro.SessionID, ex.WorkflowID)
		for name, want := range map[string]string{"Positive Prompt": "a castle", "Negative Prompt": "fog", "Seed": "42",
			"Steps": "7", "CFG Scale": "5.5", "Width": "256", "Height": "384", "Batch Size": "3",
			"Lora 1": "a.safetensors", "Lora 1 Strength": "0.5", "Lora 2": "b.safetensors", "Lora 2 Strength": "0.25",
			"Model": "my-checkpoint.safetensors", "Sampler": "euler"} {
			if got, _ := paramValue(st.RunParameters.Parameters, name); got != want {
				t.Errorf("explicit %s = %q, want %q", name, got, want)
			}
		}
		w = workflowNodes(t, st.WorkflowJSONString)
		if string(w["3"].Inputs["seed"]) != "42" || string(w["3"].Inputs["steps"]) != "7" || string(w["5"].Inputs["batch_size"]) != "3" ||
			string(w["3"].Inputs["sampler_name"]) != `"euler"` || string(w["4"].Inputs["ckpt_name"]) != `"my-checkpoint.safetensors"` {
			t.Fatalf("substituted workflow: %s", st.WorkflowJSONString)
		}
		env = srv.Get(t, "/api/getItemDetails?imageID="+ex.ItemIDs[2], pro.SessionID)
		testsupport.ExpectOK(t, env)
		env.Decode(t, &info)
		if info.Seed != 44 || info.Steps != 7 || len(info.Lora) != 2 || info.LoraStrength[1] != 0.25 || info.WorkflowTemplateName != "sd15-lora" {
			t.Fatalf("third Item's details: %s", env.Raw)
		}

		// Several ids at once: the caller's own only.
		other := proUser(t, srv, "other@example.com")
		theirs := enqueueWorkflow(t, srv, other.SessionID, map[string]any{"workflowTemplateName": "sd15-txt2img", "prompt": "theirs"})
		testsupport.ExpectError(t, srv.Get(t, "/api/2/getWorkflowStatus?workflowId="+theirs.WorkflowID, pro.SessionID), 404, "not found")
		testsupport.ExpectError(t, srv.Get(t, "/api/getItemStatus?imageID="+theirs.ItemIDs[0], pro.SessionID), 404, "")
		testsupport.ExpectError(t, srv.Get(t, "/api/2/getWorkflowStatus?workflowId=not-an-id", pro.SessionID), 404, "not found")
		testsupport.ExpectError(t, srv.Get(t, "/api/2/getWorkflowStatus", pro.SessionID), 400, "workflowId")
		env = srv.Get(t, "/api/2/getWorkflowStatus?workflowIds="+def.WorkflowID+","+theirs.WorkflowID+","+ex.WorkflowID, pro.SessionID)
		testsupport.ExpectOK(t, env)
		var many []workflowState
		env.Decode(t, &many)
		if len(many) != 2 || many[0].PublicID != def.WorkflowID || many[1].PublicID != ex.WorkflowID {
			t.Fatalf("workflowIds: %s", env.Raw)
		}

		// Each rule: 400 naming the parameter; nothing is queued.
		base := func(extra map[string]any) map[string]any {
			b := map[string]any{"workflowTemplateName": "sd15-lora", "prompt": "a fox"}
			for k, v := range extra {
				b[k] = v
			}
			return b
		}
		params := func(name, value string) map[string]any {
			return map[string]any{"parameters": []map[string]string{{"name": name, "value": value}}}
		}
		for _, c := range []struct {
			body map[string]any
			want string
		}{
			{map[string]any{"prompt": "x"}, "workflowTemplateName: is required"},
			{base(map[string]any{"workflowTemplateName": "nope"}), "workflowTemplateName: unknown"},
			{base(map[string]any{"steps": 0}), "steps: must be >= 1"},
			{base(map[string]any{"steps": 151}), "steps: must be <= 150"},
			{base(map[string]any{"steps": 2.5}), "steps: must be 1 plus a multiple of 1"},
			{base(map[string]any{"width": 100}), "width: must be 64 plus a multiple of 8"},
			{base(map[string]any{"height": 4096}), "height: must be <= 2048"},
			{base(map[string]any{"cfgscale": 31}), "cfgscale: must be <= 30"},
			{base(map[string]any{"batchSize": 17}), "batchSize: must be <= 16"},
			{base(map[string]any{"seed": 1e300}), "seed: must be <= 9007199254740991"},
			{base(params("Sampler", "bogus")), `Sampler: "bogus" is not one of euler`},
			{base(params("Steps", "many")), `Steps: "many" is not a number`},
			{base(params("Nope", "1")), `parameters[0]: Workflow Template sd15-lora has no parameter "Nope"`},
			{base(map[string]any{"parameters": []map[string]string{{"name": "Steps", "value": "3"}, {"name": "steps", "value": "4"}}}), "steps: is given twice"},
			{base(params("Positive Prompt", "other")), `prompt: conflicts with parameter "Positive Prompt"`},
			{map[string]any{"workflowTemplateName": "sd15-lora"}, "Positive Prompt: is required"},
			{base(map[string]any{"prompt": "   "}), "prompt: is required"},
			{base(map[string]any{"prompt": "child"}), "prompt: nothing is left after removing banned words"},
			{base(map[string]any{"lora": []string{"a", "b", "c"}}), "lora: Workflow Template sd15-lora takes at most 2 LoRAs"},
			{base(map[string]any{"lora": []string{"a"}, "lora_strength": []float64{1, 2}}), "lora_strength: has 2 strengths for 1 LoRAs"},
			{base(map[string]any{"lora": []string{"a"}, "lora_strength": []float64{11}}), "lora_strength: must be <= 10"},
			{base(map[string]any{"workflowTemplateName": "sd15-txt2img", "lora": []string{"a"}}), "lora: Workflow Template sd15-txt2img takes at most 0 LoRAs"},
			{base(map[string]any{"subseed": 3}), `subseed: Workflow Template sd15-lora has no "subseed" parameter`},
			{base(map[string]any{"modelName": "model3"}), "modelName: Model model3 generates videos"},
			{base(map[string]any{"modelName": "deluxe", "folderID": "p-" + uuid.NewString()}), "folderID: is a Public Folder"},
			{base(map[string]any{"folderID": "nope"}), "folderID"},
			{base(map[string]any{"prompt": strings.Repeat("a", 2001)}), "prompt: is 2001 characters"},
		} {
			env := srv.Post(t, "/api/2/enqueueWorkflow", pro.SessionID, c.body)
			if env.Status != 400 || !strings.Contains(env.ErrorMessage, c.want) {
				t.Errorf("%v: %d %s, want 400 %q", c.body, env.Status, env.Raw, c.want)
			}
		}
		env = srv.Post(t, "/api/2/enqueueWorkflow", pro.SessionID, base(map[string]any{"folderID": uuid.NewString()}))
		testsupport.ExpectError(t, env, 404, "folderID")
	})
}

// The tier's concurrency limit counts a workflow's Items.
func TestAPI2ConcurrencyLimit(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url)
		pro := proUser(t, srv, "pro@example.com") // tier 2: 8 Items of f222 at once
		enqueueWorkflow(t, srv, pro.SessionID, map[string]any{"workflowTemplateName": "sd15-txt2img", "prompt": "a", "batchSize": 8})
		env := srv.Post(t, "/api/2/enqueueWorkflow", pro.SessionID, map[string]any{"workflowTemplateName": "sd15-txt2img", "prompt": "b"})
		testsupport.ExpectError(t, env, 429, "the limit is 8")
	})
}

// With the embedded builtin worker, a workflow completes: getWorkflowStatus
// and getItemStatus show it and its files are served.
func TestAPI2WorkflowCompletesWithBuiltinWorker(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, func(c *config.Config) { c.EmbeddedWorker = true })
		pro := proUser(t, srv, "pro@example.com")
		e := enqueueWorkflow(t, srv, pro.SessionID, map[string]any{"workflowTemplateName": "sd15-lora",
			"prompt": "a red sun", "steps": 2, "width": 64, "height": 96, "batchSize": 2, "lora": []string{"x.safetensors"}})
		var st workflowState
		for range 600 {
			st = workflowStatus(t, srv, pro.SessionID, e.WorkflowID)
			if st.IsComplete || st.IsError {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !st.IsComplete || st.IsError || st.State != "completed" || !st.IsStarted || st.EndTime == "" || len(st.OutputFiles) != 2 {
			t.Fatalf("workflow status: %+v", st)
		}
		_, one := paramValue(st.RunParameters.Parameters, "Lora 1 Strength")
		_, two := paramValue(st.RunParameters.Parameters, "Lora 2 Strength")
		if !one || two {
			t.Errorf("LoRA strengths listed: lora 1 %v, lora 2 (not given) %v", one, two)
		}
		for i, id := range e.ItemIDs {
			done := waitCompleted(t, srv, pro.SessionID, id)
			if done.URL != st.OutputFiles[i].DownloadURL || st.OutputFiles[i].Width != 64 || st.OutputFiles[i].Height != 96 {
				t.Fatalf("Item %s: %+v, output %+v", id, done, st.OutputFiles[i])
			}
			if body := fetch(t, srv, done.URL); !strings.HasPrefix(string(body), "\x89PNG") {
				t.Fatal("the workflow's output is not a PNG")
			}
		}
		env := srv.Get(t, "/api/getItem?imageID="+e.ItemIDs[1], pro.SessionID)
		testsupport.ExpectOK(t, env)
	})
}

// cancelGeneration works on a workflow's Items like on any others: the
// queued workflow ends in error, its Items failed.
func TestAPI2CancelWorkflow(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url)
		pro := proUser(t, srv, "pro@example.com")
		e := enqueueWorkflow(t, srv, pro.SessionID, map[string]any{"workflowTemplateName": "sd15-txt2img", "prompt": "a", "batchSize": 2})
		testsupport.ExpectOK(t, srv.Post(t, "/api/cancelGeneration", pro.SessionID, map[string]any{"imageID": e.ItemIDs[0]}))
		st := workflowStatus(t, srv, pro.SessionID, e.WorkflowID)
		if !st.IsError || st.IsComplete || st.State != "error" || st.ErrorMessage == "" || st.EndTime == "" {
			t.Fatalf("a cancelled workflow: %+v", st)
		}
		for _, id := range e.ItemIDs {
			env := srv.Get(t, "/api/getItemStatus?imageID="+id, pro.SessionID)
			testsupport.ExpectOK(t, env)
			var gs genStatus
			env.Decode(t, &gs)
			if gs.Status != "failed" {
				t.Fatalf("Item %s after cancel: %s", id, env.Raw)
			}
		}
	})
}
