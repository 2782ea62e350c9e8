package textproc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"aimg/internal/aimg"
)

// OpenAI is the text provider for an OpenAI-compatible chat-completions
// server. It serves all four types, one system prompt per type.
//
// Wire format (OpenAI API reference "Create chat completion"; Ollama's
// docs/openai.md and openai/openai.go; llama.cpp server; vLLM):
//   - POST {base}/chat/completions {model, messages: [{role: system,
//     content}, {role: user, content}], stream: false}, Authorization:
//     Bearer <key> when there is a key (Ollama and llama.cpp need none).
//   - 200 {id, object: "chat.completion", created, model, choices: [{index,
//     message: {role: assistant, content, refusal?, reasoning?},
//     finish_reason}], usage}. content is a string (null with a refusal
//     or tool calls; some servers send an array of {type: text, text}).
//   - Errors {"error": {message, type, param, code}} (code a string or null
//     at OpenAI and Ollama, a number at llama.cpp and LocalAI); older vLLM
//     answers {"object": "error", message, type, param, code} at the top.
type OpenAI struct {
	cfg      OpenAIConfig
	opts     Options
	endpoint string
}

// OpenAIConfig names the server and model.
type OpenAIConfig struct {
	// BaseURL is the API root with its version: http://127.0.0.1:11434/v1
	// (Ollama), http://host:8000/v1 (vLLM), https://api.openai.com/v1.
	BaseURL string
	// Model is the server's model name (llama3, gpt-4o-mini).
	Model string
	// APIKey is sent as a Bearer token; empty sends no Authorization.
	APIKey string
}

// maxErrorBytes bounds the body of an error answer that is read for its message.
const maxErrorBytes = 64 << 10

// NewOpenAI checks cfg and returns the provider.
func NewOpenAI(cfg OpenAIConfig, o Options) (*OpenAI, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("openai: base URL: want http(s)://host[:port]/v1, got %q", aimg.Truncate(cfg.BaseURL, 200))
	}
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("openai: a model name is required")
	}
	return &OpenAI{cfg: cfg, opts: o, endpoint: u.String() + "/chat/completions"}, nil
}

func (p *OpenAI) Name() string { return "openai" }

func (p *OpenAI) Types() []string { return []string{FreePrompt, Summary, Headline, Topics} }

// The system prompts. Each asks for the answer alone and in the text's own
// language: Nextcloud shows the output as is, to people writing in any
// language. The text goes in the user message, apart from the instruction.
const (
	summaryPrompt = "Summarize the following text. Keep its main points and leave out details and examples; " +
		"the summary should be much shorter than the text, a few sentences for a page. " +
		"Write plain prose in the same language as the text. " +
		"Answer with the summary only, without a title, an introduction or a comment."
	headlinePrompt = "Give a headline for the following text: one short line, at most ten words, " +
		"that says what the text is about, in the same language as the text. " +
		"Answer with the headline only, without quotation marks, a label or a full stop at the end."
	topicsPrompt = "Extract the main topics of the following text, at most five, each a word or a short phrase, " +
		"in the same language as the text. " +
		"Answer with a comma-separated list of topics on one line and nothing else, for example: solar energy, batteries, costs"
)

// Process runs one task: the input goes to the model as the user message
// under the type's system prompt; a free prompt goes as it is, alone.
func (p *OpenAI) Process(ctx context.Context, taskType, input string) (string, error) {
	var system string
	switch taskType {
	case FreePrompt:
	case Summary:
		system = summaryPrompt
	case Headline:
		system = headlinePrompt
	case Topics:
		system = topicsPrompt
	default:
		return "", unknownType(p.Name(), taskType)
	}
	if err := checkInput(input, p.opts.MaxInputBytes); err != nil {
		return "", err
	}
	out, err := p.Chat(ctx, system, input)
	if err != nil {
		return "", err
	}
	switch taskType {
	case Headline:
		out = tidyHeadline(out)
	case Topics:
		out = tidyTopics(out)
	}
	if out == "" {
		return "", aimg.Errorf(aimg.CodeUnavailable, "openai chat/completions: the answer has no %s", taskType)
	}
	return out, nil
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model    string        `json:"model"`
	Messages []chatMessage `json:"messages"`
	Stream   bool          `json:"stream"`
}

type chatAnswer struct {
	Choices []struct {
		Message *struct {
			Content json.RawMessage `json:"content"`
			Refusal *string         `json:"refusal"`
		} `json:"message"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
}

// Chat sends one system and one user message (no system message when
// system is empty) and returns the first choice's text, trimmed, with a
// thinking model's leading <think>...</think> block removed. Errors:
// CodeInvalid when asking again cannot help (a 4xx other than 408 and
// 429, a refusal, a content filter, an answer over budget), otherwise
// retryable (CodeUnavailable, CodeRateLimited with RetryAfter, time-outs).
func (p *OpenAI) Chat(ctx context.Context, system, user string) (string, error) {
	const op = "openai chat/completions"
	if len(user) > p.opts.MaxInputBytes {
		return "", aimg.Invalid("input", "%d bytes, more than the %d-byte budget", len(user), p.opts.MaxInputBytes)
	}
	req := chatRequest{Model: p.cfg.Model}
	if system != "" {
		req.Messages = append(req.Messages, chatMessage{Role: "system", Content: system})
	}
	req.Messages = append(req.Messages, chatMessage{Role: "user", Content: user})
	body, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("%s: encode request: %w", op, err)
	}
	callCtx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(callCtx, http.MethodPost, p.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	if p.cfg.APIKey != "" {
		hr.Header.Set("Authorization", "Bearer "+p.cfg.APIKey)
	}
	resp, err := p.opts.HTTPClient.Do(hr)
	if err != nil {
		return "", p.transportError(ctx, callCtx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
		return "", statusError(resp, data)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, int64(p.opts.MaxResponseBytes)+1))
	if err != nil {
		return "", p.transportError(ctx, callCtx, err)
	}
	if len(data) > p.opts.MaxResponseBytes {
		return "", aimg.Errorf(aimg.CodeInvalid, "%s: the answer is larger than the %d-byte budget", op, p.opts.MaxResponseBytes)
	}
	var a chatAnswer
	if err := json.Unmarshal(data, &a); err != nil {
		return "", &aimg.Error{Code: aimg.CodeUnavailable, Message: fmt.Sprintf("%s: the answer is not chat-completion JSON (%s)", op, quote(data)), Err: err}
	}
	if len(a.Choices) == 0 || a.Choices[0].Message == nil {
		return "", aimg.Errorf(aimg.CodeUnavailable, "%s: the answer has no choices: %s", op, quote(data))
	}
	c := a.Choices[0]
	if c.Message.Refusal != nil && *c.Message.Refusal != "" {
		return "", aimg.Errorf(aimg.CodeInvalid, "%s: the model refused: %s", op, aimg.Truncate(*c.Message.Refusal, 300))
	}
	if c.FinishReason != nil && *c.FinishReason == "content_filter" {
		return "", aimg.Errorf(aimg.CodeInvalid, "%s: the server's content filter withheld the answer", op)
	}
	text, err := contentText(c.Message.Content)
	if err != nil {
		return "", &aimg.Error{Code: aimg.CodeUnavailable, Message: fmt.Sprintf("%s: unreadable message content (%s)", op, quote(c.Message.Content)), Err: err}
	}
	text = strings.TrimSpace(stripThinking(text))
	if text == "" {
		return "", aimg.Errorf(aimg.CodeUnavailable, "%s: the answer is empty", op)
	}
	if len(text) > p.opts.MaxOutputBytes {
		return "", aimg.Errorf(aimg.CodeInvalid, "%s: the answer is %d bytes, more than the %d-byte budget", op, len(text), p.opts.MaxOutputBytes)
	}
	return text, nil
}

// transportError: the caller's cancellation is passed on as is (the task
// engine is stopping); our own time-out and network failures are retryable.
func (p *OpenAI) transportError(parent, call context.Context, err error) error {
	const op = "openai chat/completions"
	switch {
	case parent.Err() != nil:
		return fmt.Errorf("%s: %w", op, parent.Err())
	case errors.Is(call.Err(), context.DeadlineExceeded):
		return &aimg.Error{Code: aimg.CodeUnavailable, Message: fmt.Sprintf("%s: no answer within %s", op, p.opts.Timeout), Err: context.DeadlineExceeded}
	}
	return &aimg.Error{Code: aimg.CodeUnavailable, Message: op + ": the server is unreachable", Err: err}
}

// contentText reads message.content: a string, null, or an array of parts.
func contentText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", err
	}
	var b strings.Builder
	for _, part := range parts {
		if part.Type == "text" {
			b.WriteString(part.Text)
		}
	}
	return b.String(), nil
}

// stripThinking drops the reasoning that some servers (llama.cpp, vLLM
// without a reasoning parser) leave at the start of content. An unclosed
// block means the answer was all reasoning.
func stripThinking(s string) string {
	t := strings.TrimLeftFunc(s, unicode.IsSpace)
	for _, tag := range []string{"think", "thinking"} {
		open, end := "<"+tag+">", "</"+tag+">"
		if strings.HasPrefix(t, open) {
			if _, after, ok := strings.Cut(t, end); ok {
				return after
			}
			return ""
		}
	}
	return s
}

// tidyHeadline keeps the first line, without a label, quotes or full stop
// that models add though asked not to.
func tidyHeadline(s string) string {
	line := firstLine(s)
	for _, label := range []string{"headline:", "title:", "überschrift:", "titre:", "titular:"} {
		if len(line) >= len(label) && strings.EqualFold(line[:len(label)], label) {
			line = strings.TrimSpace(line[len(label):])
		}
	}
	line = strings.TrimLeft(line, "#* ")
	line = strings.Trim(line, "\"'“”„«»*_ ")
	return strings.TrimRight(line, ". ")
}

// tidyTopics makes one comma-separated line of the answer, which may be a
// list (one topic a line, with bullets or numbers) despite the prompt.
func tidyTopics(s string) string {
	s = strings.TrimSpace(s)
	if label, rest, ok := strings.Cut(firstLine(s), ":"); ok && len(strings.Fields(label)) <= 2 && strings.TrimSpace(rest) != "" && !strings.Contains(s, "\n") {
		s = rest // "Topics: a, b, c"
	}
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSpace(line)
		if item, ok := cutListMark(line); ok {
			line = item
		}
		if strings.HasSuffix(line, ":") {
			continue // "Here are the topics:"
		}
		for item := range strings.SplitSeq(line, ",") {
			item = strings.Trim(strings.TrimSpace(item), "\"'“”*_.")
			if item != "" {
				out = append(out, item)
			}
		}
	}
	return strings.Join(out, ", ")
}

func firstLine(s string) string {
	for line := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}

type apiError struct {
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Code    json.RawMessage `json:"code"`
}

// statusError turns a non-200 answer into an error: 429 rate limited
// (retryable, with Retry-After), 408 and 5xx retryable, any other 4xx
// invalid (a wrong model, key or parameter does not heal by itself).
func statusError(resp *http.Response, body []byte) error {
	const op = "openai chat/completions"
	var wrapped struct {
		Error json.RawMessage `json:"error"`
		apiError
	}
	_ = json.Unmarshal(body, &wrapped)
	e := wrapped.apiError // older vLLM: the error at the top level
	if len(wrapped.Error) > 0 {
		var inner apiError
		if json.Unmarshal(wrapped.Error, &inner) == nil {
			e = inner
		} else {
			var s string
			_ = json.Unmarshal(wrapped.Error, &s) // {"error": "message"}
			e = apiError{Message: s}
		}
	}
	detail := aimg.Truncate(e.Message, 300)
	if detail == "" {
		detail = quote(body)
	}
	status := resp.StatusCode
	switch {
	case status == http.StatusTooManyRequests:
		ae := &aimg.Error{Code: aimg.CodeRateLimited, Message: fmt.Sprintf("%s: HTTP 429: %s", op, detail)}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			ae.RetryAfter = time.Duration(s) * time.Second
		}
		return ae
	case status == http.StatusRequestTimeout:
		return aimg.Errorf(aimg.CodeUnavailable, "%s: HTTP 408: %s", op, detail)
	case status >= 400 && status < 500:
		return aimg.Errorf(aimg.CodeInvalid, "%s refused the request (HTTP %d): %s", op, status, detail)
	}
	return aimg.Errorf(aimg.CodeUnavailable, "%s: HTTP %d: %s", op, status, detail)
}

func quote(b []byte) string {
	if len(b) == 0 {
		return "empty body"
	}
	return strconv.Quote(aimg.Truncate(string(b), 300))
}
