package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/httpapi"
	"aimg/internal/testsupport"
	"aimg/internal/worker/builtin"
)

type genStatus struct {
	ImageID       string `json:"imageID"`
	FolderID      string `json:"folderID"`
	Status        string `json:"status"`
	IgnoredWords  string `json:"ignoredWords"`
	MType         string `json:"mtype"`
	URL           string `json:"url"`
	QueuePosition *int64 `json:"queuePosition"`
	Frames        []struct {
		FrameCount  int    `json:"frameCount"`
		FrameNumber int    `json:"frameNumber"`
		FrameURL    string `json:"frameUrl"`
	} `json:"frames"`
}

type queueLen struct {
	ModelID     string `json:"modelID"`
	QueueID     string `json:"queueID"`
	QueueLength int64  `json:"queueLength"`
}

func generate(t *testing.T, srv *testsupport.Server, path, session string, body map[string]any) genStatus {
	t.Helper()
	env := srv.Post(t, path, session, body)
	testsupport.ExpectOK(t, env)
	var st genStatus
	env.Decode(t, &st)
	return st
}

func queueLengths(t *testing.T, srv *testsupport.Server, models string) map[string]int64 {
	t.Helper()
	env := srv.Get(t, "/api/getQueuesLength?modelIDs="+models, "")
	testsupport.ExpectOK(t, env)
	var list []queueLen
	env.Decode(t, &list)
	out := map[string]int64{}
	for _, q := range list {
		out[q.QueueID] = q.QueueLength
	}
	return out
}

// setUser changes a user record directly (tier and abuse have admin
// endpoints of their own, tested elsewhere).
func setUser(t *testing.T, srv *testsupport.Server, userID string, edit func(u *aimg.User)) {
	t.Helper()
	ctx := context.Background()
	u, err := srv.App.Store.UserByID(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	tier, exp := u.Tier, u.TierExpiration
	edit(u)
	if err := srv.App.Store.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if u.Tier != tier || u.TierExpiration != exp {
		setTier(t, srv, userID, u.Tier, u.TierExpiration)
	}
}

// setTier gives the user exactly one live subscription, of tier until
// expires (the tier columns are written only through subscriptions).
func setTier(t *testing.T, srv *testsupport.Server, userID string, tier int, expires *time.Time) {
	t.Helper()
	now := srv.Clock.Now()
	if _, err := srv.App.Store.ChangeSubscriptions(context.Background(), userID, now, func(subs []aimg.Subscription) ([]aimg.Subscription, error) {
		for i := range subs {
			subs[i].Status, subs[i].UpdatedAt = aimg.SubscriptionExpired, now
		}
		return append(subs, aimg.Subscription{ID: uuid.NewString(), UserID: userID, Domain: "localhost", Provider: aimg.ProviderAdmin,
			ProductID: "test", Tier: tier, Status: aimg.SubscriptionActive, ExpiresAt: expires, CreatedAt: now, UpdatedAt: now}), nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestGetModelsAndPrompts(t *testing.T) {
	srv := testsupport.NewServer(t, "sqlite:"+t.TempDir()+"/aimg.db")
	env := srv.Get(t, "/api/getModels", "")
	testsupport.ExpectOK(t, env)
	var models []map[string]any
	env.Decode(t, &models)
	var ids []string
	for _, m := range models {
		ids = append(ids, m["modelID"].(string))
		if !strings.Contains(m["description"].(string), builtin.Description) {
			t.Errorf("model %s description %q does not say it is the procedural renderer", m["modelID"], m["description"])
		}
		for _, field := range []string{"name", "mediaType", "minTier", "tier0Concurrent", "tier1Concurrent", "tier2Concurrent",
			"positiveTokens", "negativeTokens", "sampleImages", "minSteps", "maxSteps", "allowedWidths", "allowedHeights",
			"maxResolution", "defaultResolution", "allowedSamplers", "defaultSampler", "minCfgScale", "maxCfgScale",
			"supportsVariations", "registrationWall", "defaultFaceFix"} {
			if _, ok := m[field]; !ok {
				t.Errorf("model %s has no %s", m["modelID"], field)
			}
		}
		for _, internal := range []string{"backend", "kind", "frames"} {
			if _, ok := m[internal]; ok {
				t.Errorf("model %s leaks internal field %s", m["modelID"], internal)
			}
		}
	}
	if got := strings.Join(ids, ","); got != "f222,sketch,deluxe,model3" {
		t.Fatalf("models in order %s", got)
	}
	for _, q := range []string{"model3,f222", `["model3","f222"]`, "model3,%20f222,nope"} {
		env := srv.Get(t, "/api/getModels?modelIDs="+q, "")
		testsupport.ExpectOK(t, env)
		var got []struct{ ModelID string }
		env.Decode(t, &got)
		if len(got) != 2 || got[0].ModelID != "f222" || got[1].ModelID != "model3" {
			t.Fatalf("filter %s: %+v (want configured order f222, model3)", q, got)
		}
	}
	testsupport.ExpectError(t, srv.Get(t, `/api/getModels?modelIDs=[1,`, ""), 400, "modelIDs")

	lens := queueLengths(t, srv, "f222")
	if len(lens) != 2 || lens["f222-p0-gen"] != 0 || lens["f222-p1-gen"] != 0 {
		t.Fatalf("queue lengths %v", lens)
	}

	env = srv.Get(t, "/api/getSamplePrompts", "")
	testsupport.ExpectOK(t, env)
	var prompts []struct{ PositivePrompt string }
	env.Decode(t, &prompts)
	if len(prompts) < 2 || prompts[0].PositivePrompt == "" {
		t.Fatalf("sample prompts %+v", prompts)
	}
	env = srv.Get(t, "/api/getSamplePrompts?randomOne=true", "")
	env.Decode(t, &prompts)
	if len(prompts) != 1 {
		t.Fatalf("randomOne gave %d prompts", len(prompts))
	}
}

func TestGenerateValidation(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits)
		guest := uuid.NewString()
		ok := map[string]any{"prompt": "a red sun"}
		with := func(k string, v any) map[string]any {
			b := map[string]any{"prompt": "a red sun"}
			b[k] = v
			return b
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/generateImage", "", ok), 401, "")
		for _, c := range []struct {
			body   map[string]any
			status int
			want   string
		}{
			{map[string]any{}, 400, "prompt"},
			{with("prompt", "   "), 400, "prompt"},
			{with("modelName", "nope"), 400, "modelName"},
			{with("modelName", "model3"), 400, "modelName"}, // a video Model on generateImage
			{with("steps", 0), 400, "steps"},
			{with("steps", 51), 400, "steps"},
			{with("width", 300), 400, "width"},
			{with("height", 1000), 400, "height"},
			{map[string]any{"prompt": "x", "width": 768, "height": 768}, 400, "maxResolution"},
			{with("sampler", "Nope"), 400, "sampler"},
			{with("cfgscale", 0.5), 400, "cfgscale"},
			{with("cfgscale", 13), 400, "cfgscale"},
			{with("subseed_strength", 2), 400, "subseed_strength"},
			{with("seed", "x"), 400, "seed"},
			{with("folderID", "not-a-folder"), 400, "folderID"},
			{with("prompt", "child"), 400, "prompt"}, // nothing left after the filter
			{with("modelName", "deluxe"), 401, "Sign up"},
		} {
			testsupport.ExpectError(t, srv.Post(t, "/api/generateImage", guest, c.body), c.status, c.want)
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/generateVideo", guest, map[string]any{"prompt": "x", "controlNetPreset": "zoom"}), 400, "controlNetPreset")
		testsupport.ExpectError(t, srv.Post(t, "/api/generateVideo", guest, map[string]any{"prompt": "x", "input": uuid.NewString()}), 400, "input")

		// Signed in at tier 0: the tier wall is 403; at tier 1 it opens.
		acct := testsupport.SignUp(t, srv, "tiered@example.com")
		testsupport.ExpectError(t, srv.Post(t, "/api/generateImage", acct.SessionID, with("modelName", "deluxe")), 403, "tier")
		setUser(t, srv, acct.UserID, func(u *aimg.User) { u.Tier = 1 })
		st := generate(t, srv, "/api/generateImage", acct.SessionID, with("modelName", "deluxe"))
		if st.Status != "queued" {
			t.Fatalf("deluxe at tier 1: %+v", st)
		}
		// An expired tier counts as 0.
		setUser(t, srv, acct.UserID, func(u *aimg.User) {
			expired := srv.Clock.Now().Add(-time.Hour)
			u.TierExpiration = &expired
		})
		testsupport.ExpectError(t, srv.Post(t, "/api/generateImage", acct.SessionID, with("modelName", "deluxe")), 403, "tier")
	})
}

func TestGenerateQueuesAndStatus(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits)
		guest := uuid.NewString()
		st := generate(t, srv, "/api/generateImage", guest, map[string]any{
			"prompt": "a Child with a red sun, TEEN spirit", "negprompt": "minor blur", "seed": 42,
		})
		if st.Status != "queued" || st.MType != "image" || st.QueuePosition == nil || *st.QueuePosition != 1 || st.URL != "" {
			t.Fatalf("first status %+v", st)
		}
		if st.IgnoredWords != "child,teen,minor" {
			t.Fatalf("ignoredWords %q", st.IgnoredWords)
		}
		item, err := srv.App.Store.ItemByID(context.Background(), st.ImageID)
		if err != nil {
			t.Fatal(err)
		}
		if item.Prompt != "a with a red sun, spirit" || item.NegPrompt != "blur" || item.RawPrompt == item.Prompt ||
			item.Params.Seed != 42 || item.Params.Steps != 20 || item.Params.Sampler != "DPM++ 2M Karras" ||
			item.Params.CFGScale != 7 || item.Params.Width != 512 || item.Params.Height != 512 {
			t.Fatalf("stored item %+v", item)
		}
		st2 := generate(t, srv, "/api/generateImage", guest, map[string]any{"prompt": "green hills", "modelName": "sketch"})
		if *st2.QueuePosition != 1 {
			t.Fatalf("position in another Model's queue %d", *st2.QueuePosition)
		}
		again := generate(t, srv, "/api/generateImage", uuid.NewString(), map[string]any{"prompt": "blue"})
		if *again.QueuePosition != 2 {
			t.Fatalf("second job in f222's normal queue at position %d", *again.QueuePosition)
		}
		it2, _ := srv.App.Store.ItemByID(context.Background(), st2.ImageID)
		if it2.Params.Seed < 0 || it2.Params.Seed >= 1<<32 {
			t.Fatalf("random seed %d", it2.Params.Seed)
		}

		// Only the owner sees the status.
		env := srv.Get(t, "/api/getItemStatus?imageID="+st.ImageID, guest)
		testsupport.ExpectOK(t, env)
		testsupport.ExpectError(t, srv.Get(t, "/api/getItemStatus?imageID="+st.ImageID, uuid.NewString()), 404, "")
		testsupport.ExpectError(t, srv.Get(t, "/api/getItemStatus?imageID="+uuid.NewString(), guest), 404, "")
		testsupport.ExpectError(t, srv.Get(t, "/api/getItemStatus?imageID="+st.ImageID, ""), 401, "")

		// Guest concurrency (tier 0): f222 allows 2 at once.
		generate(t, srv, "/api/generateImage", guest, map[string]any{"prompt": "second"})
		testsupport.ExpectError(t, srv.Post(t, "/api/generateImage", guest, map[string]any{"prompt": "third"}), 429, "limit is 2")
		// model3 allows 1 video at once.
		v := generate(t, srv, "/api/generateVideo", guest, map[string]any{"prompt": "orbiting moon", "controlNetPreset": "orbit"})
		if v.MType != "video" || v.Status != "queued" {
			t.Fatalf("video status %+v", v)
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/generateVideo", guest, map[string]any{"prompt": "x"}), 429, "limit is 1")

		// PRO tier 1 goes to the priority queue.
		pro := testsupport.SignUp(t, srv, "pro@example.com")
		setUser(t, srv, pro.UserID, func(u *aimg.User) { u.Tier = 1 })
		generate(t, srv, "/api/generateImage", pro.SessionID, map[string]any{"prompt": "gold"})
		lens := queueLengths(t, srv, "f222")
		if lens["f222-p0-gen"] != 3 || lens["f222-p1-gen"] != 1 {
			t.Fatalf("queue lengths %v", lens)
		}
	})
}

func TestGenerateAbuseLevels(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits, func(c *config.Config) {
			c.Service.Generation.HourlyLimit = 3
		})
		img := map[string]any{"prompt": "a red sun", "modelName": "sketch"} // tier 0 allows 4 at once
		acct := testsupport.SignUp(t, srv, "abuse@example.com")

		setUser(t, srv, acct.UserID, func(u *aimg.User) { u.Abuse = 3 }) // concurrency 1 on every Model
		generate(t, srv, "/api/generateImage", acct.SessionID, img)
		testsupport.ExpectError(t, srv.Post(t, "/api/generateImage", acct.SessionID, img), 429, "limit is 1")

		setUser(t, srv, acct.UserID, func(u *aimg.User) { u.Abuse, u.Tier = 5, 2 }) // priority queue unavailable
		lens := queueLengths(t, srv, "f222")
		generate(t, srv, "/api/generateImage", acct.SessionID, map[string]any{"prompt": "x"})
		after := queueLengths(t, srv, "f222")
		if after["f222-p0-gen"] != lens["f222-p0-gen"]+1 || after["f222-p1-gen"] != 0 {
			t.Fatalf("abuse 5 at tier 2 queued in %v", after)
		}

		// 3 Items per hour here; 2 exist. Level 7 keeps level 3's concurrency
		// of 1 per Model, so each request uses another Model.
		setUser(t, srv, acct.UserID, func(u *aimg.User) { u.Abuse = 7 })
		generate(t, srv, "/api/generateImage", acct.SessionID, map[string]any{"prompt": "x", "modelName": "deluxe"})
		testsupport.ExpectError(t, srv.Post(t, "/api/generateVideo", acct.SessionID, map[string]any{"prompt": "x"}), 429, "per hour")
		srv.Clock.Advance(time.Hour + time.Second)
		generate(t, srv, "/api/generateVideo", acct.SessionID, map[string]any{"prompt": "x"})

		setUser(t, srv, acct.UserID, func(u *aimg.User) { u.Abuse = 8 })
		testsupport.ExpectError(t, srv.Post(t, "/api/generateImage", acct.SessionID, img), 403, "disabled")
		testsupport.ExpectError(t, srv.Post(t, "/api/generateVideo", acct.SessionID, map[string]any{"prompt": "x"}), 403, "disabled")
	})
}

func TestGenerateIdempotencyKey(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url)
		guest := uuid.NewString()
		post := func(session, key string) genStatus {
			env := srv.Do(t, testsupport.Req{Method: http.MethodPost, Path: "/api/generateImage", SessionID: session,
				Body: map[string]any{"prompt": "a red sun"}, Header: map[string]string{"Idempotency-Key": key}})
			testsupport.ExpectOK(t, env)
			var st genStatus
			env.Decode(t, &st)
			return st
		}
		first := post(guest, "k1")
		if again := post(guest, "k1"); again.ImageID != first.ImageID {
			t.Fatalf("same key gave %s then %s", first.ImageID, again.ImageID)
		}
		if other := post(guest, "k2"); other.ImageID == first.ImageID {
			t.Fatal("another key returned the first Item")
		}
		// Both slots are used now, yet the first key still answers.
		if again := post(guest, "k1"); again.ImageID != first.ImageID {
			t.Fatal("replay refused at the concurrency limit")
		}
		if lens := queueLengths(t, srv, "f222"); lens["f222-p0-gen"] != 2 {
			t.Fatalf("queued %v, want 2", lens)
		}
		// Another user's identical key is independent.
		if st := post(uuid.NewString(), "k1"); st.ImageID == first.ImageID {
			t.Fatal("a key is shared between users")
		}
	})
}

// With the embedded worker on, a generation completes and its files are served.
func TestGenerateCompletesWithEmbeddedWorker(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, func(c *config.Config) { c.EmbeddedWorker = true })
		guest := uuid.NewString()
		img := generate(t, srv, "/api/generateImage", guest, map[string]any{
			"prompt": "a red sun", "modelName": "sketch", "steps": 2, "width": 128, "height": 128})
		vid := generate(t, srv, "/api/generateVideo", guest, map[string]any{"prompt": "a moon", "steps": 1})

		done := waitCompleted(t, srv, guest, img.ImageID)
		if done.URL == "" || done.QueuePosition != nil || len(done.Frames) != 0 {
			t.Fatalf("completed image status %+v", done)
		}
		body := fetch(t, srv, done.URL)
		if !strings.HasPrefix(string(body), "\x89PNG") {
			t.Fatalf("image file is not a PNG: %q", body[:min(8, len(body))])
		}

		vdone := waitCompleted(t, srv, guest, vid.ImageID)
		if len(vdone.Frames) != 16 || vdone.Frames[0].FrameCount != 16 || vdone.Frames[15].FrameNumber != 15 {
			t.Fatalf("video frames %+v", vdone.Frames)
		}
		if !strings.HasPrefix(string(fetch(t, srv, vdone.URL)), "GIF8") {
			t.Fatal("video main file is not a GIF")
		}
		if !strings.HasPrefix(string(fetch(t, srv, vdone.Frames[3].FrameURL)), "\x89PNG") {
			t.Fatal("frame is not a PNG")
		}
	})
}

// waitCompleted polls getItemStatus (bounded) until the Item completes.
func waitCompleted(t *testing.T, srv *testsupport.Server, session, id string) genStatus {
	t.Helper()
	var st genStatus
	for range 600 {
		st = genStatus{}
		env := srv.Get(t, "/api/getItemStatus?imageID="+id, session)
		testsupport.ExpectOK(t, env)
		env.Decode(t, &st)
		if st.Status == "completed" {
			return st
		}
		if st.Status == "failed" {
			t.Fatalf("item %s failed: %s", id, env.Raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("item %s still %s after polling", id, st.Status)
	return st
}

// fetch GETs a URL the app made (with its public URL) from the test server.
func fetch(t *testing.T, srv *testsupport.Server, url string) []byte {
	t.Helper()
	if !strings.HasPrefix(url, srv.App.Config.PublicURL+"/") {
		t.Fatalf("URL %s is not under the public URL %s", url, srv.App.Config.PublicURL)
	}
	resp, err := http.Get(srv.URL + strings.TrimPrefix(url, srv.App.Config.PublicURL))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

func FuzzParseIDList(f *testing.F) {
	for _, s := range []string{"a,b", `["a","b"]`, "", " , ,a", `[1,`, `["a",null]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ids, err := httpapi.ParseIDListForTest(in)
		if err != nil {
			return
		}
		for _, id := range ids {
			if id == "" || strings.TrimSpace(id) != id {
				t.Fatalf("parse %q gave entry %q", in, id)
			}
		}
	})
}
