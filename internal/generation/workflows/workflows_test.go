package workflows

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type node struct {
	ClassType string                     `json:"class_type"`
	Inputs    map[string]json.RawMessage `json:"inputs"`
}

func decode(t testing.TB, raw json.RawMessage) map[string]node {
	t.Helper()
	var w map[string]node
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatalf("substituted workflow is not JSON: %v\n%s", err, raw)
	}
	return w
}

func input(t testing.TB, w map[string]node, id, name string) string {
	t.Helper()
	n, ok := w[id]
	if !ok {
		t.Fatalf("no node %s", id)
	}
	return string(n.Inputs[name])
}

func TestBuiltinTemplates(t *testing.T) {
	s := Builtin()
	if got := strings.Join(s.Names(), ","); got != "sd15-lora,sd15-txt2img" {
		t.Fatalf("templates %s", got)
	}
	tpl, _ := s.Lookup("sd15-txt2img")
	classes := map[string]int{}
	for _, c := range tpl.classes {
		classes[c]++
	}
	for c, n := range map[string]int{"CheckpointLoaderSimple": 1, "CLIPTextEncode": 2, "EmptyLatentImage": 1, "KSampler": 1, "VAEDecode": 1, "SaveImage": 1} {
		if classes[c] != n {
			t.Errorf("sd15-txt2img has %d %s nodes, want %d", classes[c], c, n)
		}
	}
	raw, err := tpl.Substitute(map[string]string{"prompt": `a "fox"`, "negprompt": "blurry", "seed": "9007199254740991",
		"steps": "30", "cfgscale": "6.5", "sampler": "euler_ancestral", "scheduler": "normal", "width": "640", "height": "384",
		"batchSize": "2", "checkpoint": "dreamshaper_8.safetensors"})
	if err != nil {
		t.Fatal(err)
	}
	w := decode(t, raw)
	for _, c := range []struct{ id, in, want string }{
		{"6", "text", `"a \"fox\""`}, {"7", "text", `"blurry"`}, {"3", "seed", "9007199254740991"}, {"3", "steps", "30"},
		{"3", "cfg", "6.5"}, {"3", "sampler_name", `"euler_ancestral"`}, {"3", "scheduler", `"normal"`},
		{"5", "width", "640"}, {"5", "height", "384"}, {"5", "batch_size", "2"}, {"4", "ckpt_name", `"dreamshaper_8.safetensors"`},
		{"3", "model", `["4",0]`}, {"9", "images", `["8",0]`},
	} {
		if got := input(t, w, c.id, c.in); got != c.want {
			t.Errorf("%s.%s = %s, want %s", c.id, c.in, got, c.want)
		}
	}
	// The template itself is unchanged by a substitution.
	if input(t, decode(t, tpl.Workflow), "6", "text") == `"a \"fox\""` {
		t.Fatal("substitution changed the template")
	}
	// Defaults.
	raw, err = tpl.Substitute(map[string]string{"prompt": "x"})
	if err != nil {
		t.Fatal(err)
	}
	w = decode(t, raw)
	if input(t, w, "3", "steps") != "20" || input(t, w, "3", "sampler_name") != `"dpmpp_2m"` || input(t, w, "7", "text") != `""` {
		t.Fatalf("defaults: %s", raw)
	}
}

func TestSubstituteRefusesBadValues(t *testing.T) {
	tpl, _ := Builtin().Lookup("sd15-txt2img")
	for values, want := range map[string]string{
		`{"prompt":"x","steps":"0"}`:         "steps: must be >= 1",
		`{"prompt":"x","steps":"2.5"}`:       "steps: must be 1 plus a multiple of 1",
		`{"prompt":"x","width":"500"}`:       "width: must be 64 plus a multiple of 8",
		`{"prompt":"x","cfgscale":"NaN"}`:    "cfgscale: \"NaN\" is not a number",
		`{"prompt":"x","sampler":"magic"}`:   "sampler: \"magic\" is not one of",
		`{"prompt":"x","nosuch":"1"}`:        "nosuch: template sd15-txt2img has no such parameter",
		`{"prompt":"x","seed":"1e400"}`:      "seed:",
		`{"prompt":"x","checkpoint":""}`:     "checkpoint: must not be empty",
		`{"prompt":"x","batchSize":"17"}`:    "batchSize: must be <= 16",
		`{"prompt":"x","height":"99999999"}`: "height: must be <= 2048",
	} {
		var v map[string]string
		_ = json.Unmarshal([]byte(values), &v)
		_, err := tpl.Substitute(v)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", values, err, want)
		}
	}
}

// An empty LoRA is taken out of the graph; a given one is linked in.
func TestLoraTemplate(t *testing.T) {
	tpl, ok := Builtin().Lookup("sd15-lora")
	if !ok {
		t.Fatal("no sd15-lora")
	}
	raw, err := tpl.Substitute(map[string]string{"prompt": "x", "lora1": "detail.safetensors", "lora1_strength": "0.6"})
	if err != nil {
		t.Fatal(err)
	}
	w := decode(t, raw)
	if _, ok := w["11"]; ok {
		t.Fatal("the empty second LoRA stayed")
	}
	if w["10"].ClassType != "LoraLoader" || input(t, w, "10", "lora_name") != `"detail.safetensors"` ||
		input(t, w, "10", "strength_model") != "0.6" || input(t, w, "10", "strength_clip") != "0.6" {
		t.Fatalf("LoRA 1: %s", raw)
	}
	if input(t, w, "3", "model") != `["10",0]` || input(t, w, "6", "clip") != `["10",1]` || input(t, w, "7", "clip") != `["10",1]` {
		t.Fatalf("links through the pruned LoRA: %s", raw)
	}
	raw, err = tpl.Substitute(map[string]string{"prompt": "x"})
	if err != nil {
		t.Fatal(err)
	}
	w = decode(t, raw)
	if len(w) != 7 || input(t, w, "3", "model") != `["4",0]` || input(t, w, "6", "clip") != `["4",1]` {
		t.Fatalf("no LoRA: %s", raw)
	}
	raw, _ = tpl.Substitute(map[string]string{"prompt": "x", "lora1": "a.safetensors", "lora2": "b.safetensors"})
	w = decode(t, raw)
	if len(w) != 9 || input(t, w, "3", "model") != `["11",0]` || input(t, w, "11", "model") != `["10",0]` {
		t.Fatalf("two LoRAs: %s", raw)
	}
}

func TestParseRefusesBrokenTemplates(t *testing.T) {
	base := `{"name":"t","parameters":[%s],"workflow":{"1":{"class_type":"CLIPTextEncode","inputs":{"text":"","clip":["2",1]}},"2":{"class_type":"CheckpointLoaderSimple","inputs":{"ckpt_name":"a"}}}}`
	for param, want := range map[string]string{
		`{"optionName":"p","dataType":"string","replaceFromString":"9.text"}`:                                                                     "no node \"9\"",
		`{"optionName":"p","dataType":"string","replaceFromString":"1.txt"}`:                                                                      "has no input \"txt\"",
		`{"optionName":"p","dataType":"string","replaceFromString":"1.clip"}`:                                                                     "links another node",
		`{"optionName":"p","dataType":"file","replaceFromString":"1.text"}`:                                                                       "cannot be substituted",
		`{"optionName":"p","dataType":"number","replaceFromString":"1.text","min":"5","max":"1"}`:                                                 "min: must be <= max",
		`{"optionName":"p","dataType":"number","replaceFromString":"1.text","defaultValue":"x"}`:                                                  "defaultValue",
		`{"optionName":"p","dataType":"string","replaceFromString":"text"}`:                                                                       "is not <node id>.<input name>",
		`{"optionName":"p","dataType":"string","replaceFromString":"1.text"},{"optionName":"p","dataType":"string","replaceFromString":"1.text"}`: "given twice",
	} {
		_, err := Parse([]byte(strings.Replace(base, "%s", param, 1)))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", param, err, want)
		}
	}
}

// An operator's directory adds templates and may replace an embedded one.
func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	data, _ := os.ReadFile("templates/sd15-txt2img.json")
	mine := strings.Replace(string(data), `"name": "sd15-txt2img"`, `"name": "mine"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "mine.json"), []byte(mine), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Lookup("mine"); !ok || len(s.Names()) != 3 {
		t.Fatalf("templates %v", s.Names())
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"name":"bad","workflow":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Fatalf("a broken template: %v", err)
	}
}

// Whatever the prompt, the substituted workflow is valid JSON, the prompt
// comes back exactly at its input, and no other input changed.
func FuzzSubstitutePrompt(f *testing.F) {
	for _, s := range []string{`"}, "4": {"class_type": "Evil"`, `\`, `\"`, "{}", "]]]", "\u2028\u2029", "\x00", `%s`, "a \"fox\" {with} \\ braces"} {
		f.Add(s, s)
	}
	tpl, _ := Builtin().Lookup("sd15-lora")
	base := decode(f, mustSub(f, tpl, map[string]string{"prompt": "x", "negprompt": "y", "lora1": "l.safetensors"}))
	f.Fuzz(func(t *testing.T, prompt, neg string) {
		raw, err := tpl.Substitute(map[string]string{"prompt": prompt, "negprompt": neg, "lora1": "l.safetensors"})
		if err != nil {
			if strings.Contains(err.Error(), "UTF-8") || strings.Contains(err.Error(), "bytes, at most") {
				return
			}
			t.Fatal(err)
		}
		if !json.Valid(raw) {
			t.Fatalf("invalid JSON: %s", raw)
		}
		w := decode(t, raw)
		var got, gotNeg string
		if err := json.Unmarshal(w["6"].Inputs["text"], &got); err != nil || got != prompt {
			t.Fatalf("prompt %q came back as %q (%v)", prompt, got, err)
		}
		if err := json.Unmarshal(w["7"].Inputs["text"], &gotNeg); err != nil || gotNeg != neg {
			t.Fatalf("negprompt %q came back as %q (%v)", neg, gotNeg, err)
		}
		if len(w) != len(base) {
			t.Fatalf("%d nodes, want %d", len(w), len(base))
		}
		for id, n := range base {
			if w[id].ClassType != n.ClassType || len(w[id].Inputs) != len(n.Inputs) {
				t.Fatalf("node %s changed", id)
			}
			for k, v := range n.Inputs {
				if (id == "6" || id == "7") && k == "text" {
					continue
				}
				if string(w[id].Inputs[k]) != string(v) {
					t.Fatalf("%s.%s changed: %s", id, k, w[id].Inputs[k])
				}
			}
		}
	})
}

func mustSub(t testing.TB, tpl *Template, v map[string]string) json.RawMessage {
	raw, err := tpl.Substitute(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
