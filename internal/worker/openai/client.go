// Package openai is a client of the OpenAI images API (POST
// /v1/images/generations) and of the servers that copy it, such as LocalAI.
// It is the protocol layer of the `openai` worker backend: a Job carries
// the complete GenerateRequest, so this package knows nothing of AIMG's Jobs.
//
// Wire protocol (OpenAI API reference, openai-openapi; LocalAI's
// core/http/endpoints/openai/image.go):
//   - Request {model, prompt, n, size "WxH", response_format "url"|"b64_json",
//     quality, style, user}; Authorization: Bearer <key>.
//   - Answer {created, data: [{b64_json | url, revised_prompt}]}; OpenAI's
//     default format is url (an hour-long link to its blob storage, another
//     origin); LocalAI's default is a url on itself (/generated-images/...).
//     gpt-image-* models always answer b64_json and refuse response_format.
//   - Errors {"error": {message, type, param, code}}: code is a string or null
//     at OpenAI and a number at LocalAI.
package openai

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/media"
)

// Defaults of Config.
const (
	DefaultMaxResponseBytes = 64 << 20 // the JSON answer, b64_json images included
	DefaultMaxImageBytes    = 32 << 20 // one image fetched from a url answer
	DefaultMaxImagePixels   = 4096 * 4096
	DefaultMaxImages        = 16
	DefaultRequestTimeout   = 5 * time.Minute
	DefaultFetchTimeout     = time.Minute
	maxErrorBytes           = 64 << 10
	maxReasonLen            = 300
)

// Config configures a Client. Zero fields take their defaults.
type Config struct {
	// BaseURL is the API root, with its version: https://api.openai.com/v1,
	// http://localai:8080/v1.
	BaseURL string
	// APIKey is sent as Authorization: Bearer; empty sends none (LocalAI
	// without API_KEY).
	APIKey string
	// HTTPClient makes the requests; nil: a client without a global timeout.
	HTTPClient *http.Client
	// MaxResponseBytes bounds the JSON answer.
	MaxResponseBytes int64
	// MaxImageBytes bounds one image fetched from a url answer.
	MaxImageBytes int64
	// MaxImagePixels bounds width x height of each image, from its header.
	MaxImagePixels int64
	// MaxImages bounds the images of one answer.
	MaxImages int
	// RequestTimeout bounds the generation call; FetchTimeout each url fetch.
	RequestTimeout, FetchTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.MaxImageBytes == 0 {
		c.MaxImageBytes = DefaultMaxImageBytes
	}
	if c.MaxImagePixels == 0 {
		c.MaxImagePixels = DefaultMaxImagePixels
	}
	if c.MaxImages == 0 {
		c.MaxImages = DefaultMaxImages
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.FetchTimeout == 0 {
		c.FetchTimeout = DefaultFetchTimeout
	}
	return c
}

// Client talks to one OpenAI-compatible server. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("openai: baseURL: want http(s)://host[:port]/v1, got %q", cfg.BaseURL)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"maxResponseBytes", cfg.MaxResponseBytes}, {"maxImageBytes", cfg.MaxImageBytes}, {"maxImagePixels", cfg.MaxImagePixels},
		{"maxImages", int64(cfg.MaxImages)}, {"requestTimeout", int64(cfg.RequestTimeout)}, {"fetchTimeout", int64(cfg.FetchTimeout)}} {
		if f.v < 0 {
			return nil, fmt.Errorf("openai: %s: must be positive", f.name)
		}
	}
	return &Client{cfg: cfg, base: u}, nil
}

// GenerateRequest is the body of POST /images/generations. Empty fields
// are omitted (the server's defaults). Set ResponseFormat to "b64_json"
// for DALL·E and LocalAI; leave it empty for gpt-image-* models, which
// refuse it and always answer b64_json.
type GenerateRequest struct {
	Model          string `json:"model,omitempty"`
	Prompt         string `json:"prompt"`
	N              int    `json:"n,omitempty"`
	Size           string `json:"size,omitempty"` // "1024x1024"; see Size
	ResponseFormat string `json:"response_format,omitempty"`
	Quality        string `json:"quality,omitempty"`
	Style          string `json:"style,omitempty"`
	User           string `json:"user,omitempty"`
	// Step is LocalAI's extension (diffusion steps); OpenAI refuses it.
	Step int `json:"step,omitempty"`
}

// Size formats a size parameter.
func Size(width, height int) string { return strconv.Itoa(width) + "x" + strconv.Itoa(height) }

// Image is one decoded output.
type Image struct {
	Data          []byte
	ContentType   string
	Width, Height int
	// RevisedPrompt is the prompt the model really used (DALL·E 3), if any.
	RevisedPrompt string
	// URL is where the image was fetched from ("" for b64_json).
	URL string
}

// Result is a generation answer.
type Result struct {
	Created int64
	Images  []Image
}

// ErrUnauthorized: the server refused the API key (401/403).
var ErrUnauthorized = errors.New("openai: unauthorized")

type answer struct {
	Created *int64 `json:"created"`
	Data    []struct {
		B64JSON       string `json:"b64_json"`
		URL           string `json:"url"`
		RevisedPrompt string `json:"revised_prompt"`
	} `json:"data"`
}

// Generate asks for images and returns them decoded, fetching url answers.
// Cancelling ctx abandons the call (the API has nothing to interrupt).
func (c *Client) Generate(ctx context.Context, req GenerateRequest) (Result, error) {
	if strings.TrimSpace(req.Prompt) == "" {
		return Result{}, aimg.Invalid("prompt", "must not be empty")
	}
	body, err := json.Marshal(req)
	if err != nil {
		return Result{}, fmt.Errorf("openai images/generations: encode request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.String()+"/images/generations", bytes.NewReader(body))
	if err != nil {
		return Result{}, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	if c.cfg.APIKey != "" {
		hr.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	resp, err := c.cfg.HTTPClient.Do(hr)
	if err != nil {
		return Result{}, fmt.Errorf("openai images/generations: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
		return Result{}, statusError(resp, data)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponseBytes+1))
	if err != nil {
		return Result{}, fmt.Errorf("openai images/generations: reading the answer: %w", err)
	}
	if int64(len(data)) > c.cfg.MaxResponseBytes {
		return Result{}, aimg.Errorf(aimg.CodeInvalid,
			"openai images/generations: the answer is larger than the %d-byte budget (maxResponseBytes); ask for fewer or smaller images", c.cfg.MaxResponseBytes)
	}
	var a answer
	if err := json.Unmarshal(data, &a); err != nil {
		return Result{}, fmt.Errorf("openai images/generations: unreadable answer (%s): %w", quote(data), err)
	}
	if len(a.Data) == 0 {
		return Result{}, fmt.Errorf("openai images/generations: the answer has no images: %s", quote(data))
	}
	if len(a.Data) > c.cfg.MaxImages {
		return Result{}, aimg.Errorf(aimg.CodeInvalid, "openai images/generations: %d images, more than the budget of %d (maxImages)", len(a.Data), c.cfg.MaxImages)
	}
	var res Result
	if a.Created != nil {
		res.Created = *a.Created
	}
	for i, d := range a.Data {
		var img Image
		var err error
		switch {
		case d.B64JSON != "":
			var raw []byte
			raw, err = base64.StdEncoding.DecodeString(d.B64JSON)
			if err != nil {
				err = fmt.Errorf("b64_json is not base64: %w", err)
				break
			}
			img, err = c.check(raw)
		case d.URL != "":
			img, err = c.fetch(ctx, d.URL)
			img.URL = d.URL
		default:
			err = errors.New("neither b64_json nor url")
		}
		if err != nil {
			return Result{}, fmt.Errorf("openai images/generations: data[%d]: %w", i, err)
		}
		img.RevisedPrompt = d.RevisedPrompt
		res.Images = append(res.Images, img)
	}
	return res, nil
}

// check reads an image's header: a known format within the pixel budget.
func (c *Client) check(data []byte) (Image, error) {
	if int64(len(data)) > c.cfg.MaxImageBytes {
		return Image{}, aimg.Errorf(aimg.CodeInvalid, "the image is larger than the %d-byte budget (maxImageBytes)", c.cfg.MaxImageBytes)
	}
	info, err := media.Inspect(data)
	if err != nil {
		return Image{}, err
	}
	if info.Pixels() > c.cfg.MaxImagePixels {
		return Image{}, aimg.Errorf(aimg.CodeInvalid, "a %dx%d image is more than the %d-pixel budget (maxImagePixels)",
			info.Width, info.Height, c.cfg.MaxImagePixels)
	}
	return Image{Data: data, ContentType: "image/" + info.Format, Width: info.Width, Height: info.Height}, nil
}

// fetch downloads a url answer under the byte budget. The API key goes
// only to the API's own origin (LocalAI's /generated-images/), never to
// another host (OpenAI's blob storage links carry their own signature).
func (c *Client) fetch(ctx context.Context, raw string) (Image, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Image{}, fmt.Errorf("url %q: not an http(s) URL", truncate(raw))
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Image{}, err
	}
	if c.cfg.APIKey != "" && u.Scheme == c.base.Scheme && u.Host == c.base.Host {
		req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return Image{}, fmt.Errorf("fetching %s: %w", redact(u), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// An expired or missing link: asking again makes a new one.
		return Image{}, fmt.Errorf("fetching %s: HTTP %d", redact(u), resp.StatusCode)
	}
	if resp.ContentLength > c.cfg.MaxImageBytes {
		return Image{}, aimg.Errorf(aimg.CodeInvalid, "fetching %s: %d bytes, more than the %d-byte budget (maxImageBytes)",
			redact(u), resp.ContentLength, c.cfg.MaxImageBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxImageBytes+1))
	if err != nil {
		return Image{}, fmt.Errorf("fetching %s: %w", redact(u), err)
	}
	return c.check(data)
}

// redact drops a URL's query (a signed link's signature) from messages.
func redact(u *url.URL) string {
	v := *u
	v.RawQuery, v.User, v.Fragment = "", nil, ""
	return v.String()
}

type apiError struct {
	Error *struct {
		Message string          `json:"message"`
		Type    string          `json:"type"`
		Param   *string         `json:"param"`
		Code    json.RawMessage `json:"code"`
	} `json:"error"`
}

// statusError turns a non-200 answer into an error: an *aimg.Error with
// CodeInvalid when the request can never succeed (400: a bad parameter,
// a refused prompt), a retryable error otherwise (401/403 credentials, 429
// rate limits, 5xx).
func statusError(resp *http.Response, body []byte) error {
	status := resp.StatusCode
	var ae apiError
	_ = json.Unmarshal(body, &ae)
	msg, param, code, typ := "", "", "", ""
	if ae.Error != nil {
		msg, typ = ae.Error.Message, ae.Error.Type
		if ae.Error.Param != nil {
			param = truncate(*ae.Error.Param)
		}
		if json.Unmarshal(ae.Error.Code, &code) != nil {
			code = string(ae.Error.Code) // LocalAI: a number; OpenAI: null
		}
		if code == "null" {
			code = ""
		}
		code = truncate(code)
	}
	if msg == "" {
		msg = quote(body)
	}
	detail := truncate(msg)
	if code != "" && !strings.Contains(detail, code) {
		detail += " (" + code + ")"
	}
	const op = "openai images/generations"
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("%w: %s: HTTP %d: %s: check the worker's API key", ErrUnauthorized, op, status, detail)
	case status == http.StatusTooManyRequests:
		e := &aimg.Error{Code: aimg.CodeRateLimited, Message: fmt.Sprintf("%s: HTTP 429: %s", op, detail)}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		if typ == "insufficient_quota" {
			e.Message += ": the account is out of quota"
		}
		return e
	case status == http.StatusRequestTimeout || status == http.StatusConflict:
		return fmt.Errorf("%s: HTTP %d: %s", op, status, detail)
	case status >= 400 && status < 500:
		if param != "" {
			return &aimg.Error{Code: aimg.CodeInvalid, Field: param,
				Message: fmt.Sprintf("%s refused %s: %s", op, param, detail)}
		}
		return aimg.Errorf(aimg.CodeInvalid, "%s refused the request (HTTP %d): %s", op, status, detail)
	default:
		return fmt.Errorf("%s: HTTP %d: %s", op, status, detail)
	}
}

func truncate(s string) string { return aimg.Truncate(s, maxReasonLen) }

func quote(b []byte) string {
	if len(b) == 0 {
		return "empty body"
	}
	return fmt.Sprintf("%q", truncate(string(b)))
}
