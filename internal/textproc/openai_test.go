package textproc_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/textproc"
	"aimg/internal/textproc/openaichatfake"
)

const testKey = "sk-test-0123456789"

func newFake(t *testing.T, opts openaichatfake.Options) *openaichatfake.Server {
	t.Helper()
	s := openaichatfake.New(opts)
	t.Cleanup(s.Close)
	return s
}

func newOpenAI(t *testing.T, fake *openaichatfake.Server, key string, o textproc.Options) *textproc.OpenAI {
	t.Helper()
	u := "openai+" + fake.BaseURL() + "?model=llama3"
	if key != "" {
		u += "&key=" + key
	}
	p, err := textproc.Open(u, o)
	if err != nil {
		t.Fatal(err)
	}
	oa, ok := p.(*textproc.OpenAI)
	if !ok {
		t.Fatalf("Open(%q) = %T, want *OpenAI", u, p)
	}
	return oa
}

func TestOpenAIWireFormat(t *testing.T) {
	fake := newFake(t, openaichatfake.Options{Key: testKey, Models: []string{"llama3"}})
	p := newOpenAI(t, fake, testKey, textproc.Options{})
	if p.Name() != "openai" || !slices.Equal(p.Types(), []string{textproc.FreePrompt, textproc.Summary, textproc.Headline, textproc.Topics}) {
		t.Fatalf("Name %q Types %v", p.Name(), p.Types())
	}
	input := "The city opened a new library on Saturday. It holds 400,000 books."
	wantSystem := map[string]string{
		textproc.Summary:  "Summarize the following text",
		textproc.Headline: "Give a headline",
		textproc.Topics:   "comma-separated list of topics",
	}
	for _, ty := range p.Types() {
		fake.Enqueue(openaichatfake.Answer{Content: "  an answer  \n"})
		out, err := p.Process(context.Background(), ty, input)
		if err != nil {
			t.Fatalf("%s: %v", ty, err)
		}
		if out != "an answer" {
			t.Errorf("%s: %q, want the content trimmed", ty, out)
		}
		reqs := fake.Requests()
		r := reqs[len(reqs)-1]
		if r.Method != http.MethodPost || r.Path != "/v1/chat/completions" {
			t.Errorf("%s: %s %s", ty, r.Method, r.Path)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
			t.Errorf("%s: Authorization %q", ty, got)
		}
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("%s: Content-Type %q", ty, got)
		}
		body := r.JSON()
		if body["model"] != "llama3" || body["stream"] != false {
			t.Errorf("%s: model %v stream %v, want llama3 and an explicit false", ty, body["model"], body["stream"])
		}
		switch ty {
		case textproc.FreePrompt:
			if len(r.Messages) != 1 || r.Messages[0].Role != "user" || r.Messages[0].Text() != input {
				t.Errorf("free prompt: messages %+v, want the input alone as the user message", r.Messages)
			}
		default:
			if len(r.Messages) != 2 || r.Messages[0].Role != "system" || r.Messages[1].Role != "user" {
				t.Fatalf("%s: messages %+v, want system then user", ty, r.Messages)
			}
			if !strings.Contains(r.Messages[0].Text(), wantSystem[ty]) || !strings.Contains(r.Messages[0].Text(), "same language") {
				t.Errorf("%s: system prompt %q", ty, r.Messages[0].Text())
			}
			if r.Messages[1].Text() != input {
				t.Errorf("%s: user message %q, want the input as is", ty, r.Messages[1].Text())
			}
		}
	}
}

func TestOpenAINoKeySendsNoAuthorization(t *testing.T) {
	fake := newFake(t, openaichatfake.Options{})
	p := newOpenAI(t, fake, "", textproc.Options{})
	out, err := p.Process(context.Background(), textproc.FreePrompt, "Hello there")
	if err != nil || out != "You said: Hello there" {
		t.Fatalf("%q, %v", out, err)
	}
	if h, ok := fake.Requests()[0].Header["Authorization"]; ok {
		t.Fatalf("Authorization %q sent without a key", h)
	}
}

func TestOpenAITidiesAnswers(t *testing.T) {
	fake := newFake(t, openaichatfake.Options{})
	p := newOpenAI(t, fake, "", textproc.Options{})
	for _, tc := range []struct {
		taskType string
		answer   openaichatfake.Answer
		want     string
	}{
		{textproc.Headline, openaichatfake.Answer{Content: "Headline: \"City Opens a New Library.\"\n"}, "City Opens a New Library"},
		{textproc.Headline, openaichatfake.Answer{Content: "**Riverton gets its library**\n\nThis headline sums it up."}, "Riverton gets its library"},
		{textproc.Topics, openaichatfake.Answer{Content: "Here are the topics:\n1. libraries\n2. city budget\n3. books"}, "libraries, city budget, books"},
		{textproc.Topics, openaichatfake.Answer{Content: "Topics: libraries, books ,  Riverton."}, "libraries, books, Riverton"},
		{textproc.Topics, openaichatfake.Answer{Content: "- solar energy\n- batteries"}, "solar energy, batteries"},
		{textproc.Summary, openaichatfake.Answer{Content: "<think>The user wants a summary. Let me see.</think>\n\nA library opened."}, "A library opened."},
		{textproc.Summary, openaichatfake.Answer{Content: "A library opened.", Reasoning: "Ollama sends this beside the content."}, "A library opened."},
	} {
		fake.Enqueue(tc.answer)
		out, err := p.Process(context.Background(), tc.taskType, "Some text about a library.")
		if err != nil || out != tc.want {
			t.Errorf("%s on %q: %q, %v; want %q", tc.taskType, tc.answer.Content, out, err, tc.want)
		}
	}
}

func TestOpenAIContentParts(t *testing.T) {
	fake := newFake(t, openaichatfake.Options{})
	p := newOpenAI(t, fake, "", textproc.Options{})
	fake.Enqueue(openaichatfake.Answer{Body: `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":[{"type":"text","text":"part one, "},{"type":"text","text":"part two"}]},"finish_reason":"stop"}]}`})
	out, err := p.Chat(context.Background(), "", "hi")
	if err != nil || out != "part one, part two" {
		t.Fatalf("%q, %v", out, err)
	}
}

// TestOpenAIErrors: every failure is an error, and its code says whether
// the task engine should try again (anything but invalid) or fail the task.
func TestOpenAIErrors(t *testing.T) {
	fake := newFake(t, openaichatfake.Options{Key: testKey, Models: []string{"llama3"}})
	p := newOpenAI(t, fake, testKey, textproc.Options{MaxOutputBytes: 100, MaxResponseBytes: 2000})
	retryAfter := http.Header{"Retry-After": {"7"}}
	for _, tc := range []struct {
		name    string
		answer  openaichatfake.Answer
		code    aimg.Code
		message string
	}{
		{"400", openaichatfake.Answer{Status: 400, ErrorMessage: "This model's maximum context length is 8192 tokens."}, aimg.CodeInvalid, "maximum context length"},
		{"422 vLLM top-level error", openaichatfake.Answer{Status: 422, Body: `{"object":"error","message":"temperature must be positive","type":"BadRequestError","param":null,"code":422}`}, aimg.CodeInvalid, "temperature must be positive"},
		{"401", openaichatfake.Answer{Status: 401, ErrorMessage: "Incorrect API key provided"}, aimg.CodeInvalid, "HTTP 401"},
		{"408", openaichatfake.Answer{Status: 408}, aimg.CodeUnavailable, "HTTP 408"},
		{"429", openaichatfake.Answer{Status: 429, ErrorMessage: "Rate limit reached", Header: retryAfter}, aimg.CodeRateLimited, "Rate limit reached"},
		{"500 llama.cpp numeric code", openaichatfake.Answer{Status: 500, Body: `{"error":{"code":500,"message":"slot unavailable","type":"server_error"}}`}, aimg.CodeUnavailable, "slot unavailable"},
		{"503 HTML from a proxy", openaichatfake.Answer{Status: 503, Body: "<html>Bad gateway</html>"}, aimg.CodeUnavailable, "Bad gateway"},
		{"200 not JSON", openaichatfake.Answer{Body: "<html>login page</html>"}, aimg.CodeUnavailable, "not chat-completion JSON"},
		{"200 empty choices", openaichatfake.Answer{NoChoices: true}, aimg.CodeUnavailable, "no choices"},
		{"200 empty content", openaichatfake.Answer{Content: "  "}, aimg.CodeUnavailable, "empty"},
		{"200 only thinking", openaichatfake.Answer{Content: "<think>still thinking when the tokens ran out"}, aimg.CodeUnavailable, "empty"},
		{"refusal", openaichatfake.Answer{NullContent: true, Refusal: "I can't help with that."}, aimg.CodeInvalid, "refused: I can't help"},
		{"content filter", openaichatfake.Answer{FinishReason: "content_filter"}, aimg.CodeInvalid, "content filter"},
		{"answer over MaxOutputBytes", openaichatfake.Answer{Content: strings.Repeat("word ", 30)}, aimg.CodeInvalid, "100-byte budget"},
		{"response over MaxResponseBytes", openaichatfake.Answer{Content: "short", Reasoning: strings.Repeat("hmm ", 600)}, aimg.CodeInvalid, "2000-byte budget"},
	} {
		fake.Enqueue(tc.answer)
		_, err := p.Process(context.Background(), textproc.Summary, "Some text.")
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if got := aimg.ErrorCode(err); got != tc.code {
			t.Errorf("%s: code %s (%v), want %s", tc.name, got, err, tc.code)
		}
		if !strings.Contains(err.Error(), tc.message) {
			t.Errorf("%s: %q does not say %q", tc.name, err, tc.message)
		}
		if strings.Contains(err.Error(), testKey) {
			t.Errorf("%s: the key is in the error: %q", tc.name, err)
		}
		if tc.code == aimg.CodeRateLimited {
			var ae *aimg.Error
			if !errors.As(err, &ae) || ae.RetryAfter != 7*time.Second {
				t.Errorf("429: RetryAfter of %v, want 7s", err)
			}
		}
	}
}

func TestOpenAIServerChecks(t *testing.T) {
	fake := newFake(t, openaichatfake.Options{Key: testKey, Models: []string{"llama3"}})
	for _, tc := range []struct {
		name, url, want string
	}{
		{"wrong key", "openai+" + fake.BaseURL() + "?model=llama3&key=sk-wrong-key-9999", "Incorrect API key provided: sk-...9999"},
		{"no key", "openai+" + fake.BaseURL() + "?model=llama3", "You didn't provide an API key"},
		{"unknown model", "openai+" + fake.BaseURL() + "?model=mistral&key=" + testKey, "HTTP 404): The model `mistral` does not exist"},
		{"wrong path", "openai+" + fake.URL + "/v2?model=llama3&key=" + testKey, "HTTP 404"},
	} {
		p, err := textproc.Open(tc.url, textproc.Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Process(context.Background(), textproc.Headline, "A text.")
		if aimg.ErrorCode(err) != aimg.CodeInvalid || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want invalid saying %q", tc.name, err, tc.want)
		}
	}
}

func TestOpenAIInputBudgetAndTypes(t *testing.T) {
	fake := newFake(t, openaichatfake.Options{})
	p := newOpenAI(t, fake, "", textproc.Options{MaxInputBytes: 50})
	for _, tc := range []struct{ taskType, input string }{
		{textproc.Summary, strings.Repeat("x", 51)},
		{textproc.Summary, " \n "},
		{"core:text2text:translate", "Hello"},
	} {
		if _, err := p.Process(context.Background(), tc.taskType, tc.input); aimg.ErrorCode(err) != aimg.CodeInvalid {
			t.Errorf("%s %q: %v, want invalid", tc.taskType, tc.input, err)
		}
	}
	if _, err := p.Chat(context.Background(), "system", strings.Repeat("x", 51)); aimg.ErrorCode(err) != aimg.CodeInvalid {
		t.Errorf("Chat over the input budget: %v", err)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Fatalf("%d requests sent for refused input", n)
	}
}

func TestOpenAITimeout(t *testing.T) {
	fake := newFake(t, openaichatfake.Options{})
	p := newOpenAI(t, fake, "", textproc.Options{Timeout: 50 * time.Millisecond})
	fake.Hold()
	defer fake.Release()
	_, err := p.Process(context.Background(), textproc.Summary, "Some text.")
	if err == nil || aimg.ErrorCode(err) == aimg.CodeInvalid || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v: want a retryable time-out", err)
	}
	if !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Fatalf("%q does not say it timed out", err)
	}
}

func TestOpenAIDelayedAnswerArrives(t *testing.T) {
	fake := newFake(t, openaichatfake.Options{})
	p := newOpenAI(t, fake, "", textproc.Options{})
	fake.Enqueue(openaichatfake.Answer{Content: "late but fine", Delay: 20 * time.Millisecond})
	if out, err := p.Chat(context.Background(), "", "hi"); err != nil || out != "late but fine" {
		t.Fatalf("%q, %v", out, err)
	}
}

func TestOpenAICallerCancels(t *testing.T) {
	fake := newFake(t, openaichatfake.Options{})
	p := newOpenAI(t, fake, "", textproc.Options{})
	fake.Hold()
	defer fake.Release()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.Process(ctx, textproc.Summary, "Some text.")
		done <- err
	}()
	fake.WaitRequests(1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("%v, want context.Canceled passed on", err)
	}
}

func TestOpenURL(t *testing.T) {
	for _, tc := range []struct {
		url      string
		provider string
		err      string
	}{
		{"", "builtin", ""},
		{"builtin", "builtin", ""},
		{"openai+http://127.0.0.1:11434/v1?model=llama3", "openai", ""},
		{"openai+https://api.openai.com/v1?model=gpt-4o-mini&key=sk-secret-1", "openai", ""},
		{"openai+http://127.0.0.1:11434/v1", "", "model=NAME is required"},
		{"openai+ftp://host/v1?model=m", "", "openai+http or openai+https"},
		{"openai+http:///v1?model=m", "", "no host"},
		{"openai+http://127.0.0.1:11434/v1?model=m&modle=x", "", `unknown parameter "modle"`},
		{"openai+http://127.0.0.1:11434/v1?model=m&model=n", "", "model given 2 times"},
		{"openai+http://user:sk-secret-1@host/v1?model=m", "", "key=..."},
		{"openai+http://host/v1?model=m&key=sk-secret-1&x=1", "", "key=REDACTED"},
		{"apertium+http://127.0.0.1:2737", "", "unknown provider"},
		{"http://127.0.0.1:11434/v1?model=m", "", "unknown provider"},
	} {
		p, err := textproc.Open(tc.url, textproc.Options{})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Open(%q): %v, want an error saying %q", tc.url, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "sk-secret-1") {
				t.Errorf("Open(%q): the key is in the error %q", tc.url, err)
			}
			continue
		}
		if err != nil || p.Name() != tc.provider {
			t.Errorf("Open(%q) = %v, %v; want %s", tc.url, p, err, tc.provider)
		}
	}
}

// TestOpenAIFromURLBaseURL: the path before the query is the API root, so
// servers mounted below a prefix work (LocalAI behind a proxy).
func TestOpenAIFromURLBaseURL(t *testing.T) {
	fake := newFake(t, openaichatfake.Options{})
	p, err := textproc.OpenAIFromURL("openai+"+fake.URL+"/v1/?model=m", textproc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Chat(context.Background(), "Translate to German.", "Hello"); err != nil {
		t.Fatal(err)
	}
	if got := fake.Requests()[0].Path; got != "/v1/chat/completions" {
		t.Fatalf("path %q", got)
	}
}
