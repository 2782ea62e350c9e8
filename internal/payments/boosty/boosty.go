// Package boosty is the client of Boosty's (unofficial, undocumented) web
// API that AIMG uses to look up a subscriber of a domain's Boosty blog,
// with the blog owner's access token from the injected cookies
// (docs/payments.md "Boosty" lists the requests and where they come from).
// The token is sent only as the Authorization header and never logged.
package boosty

import (
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

	"aimg/internal/aimg"
)

// DefaultURL is Boosty's API base.
const DefaultURL = "https://api.boosty.to"

// ErrUnauthorized is Boosty refusing the token (401 or 403): the cookies
// must be injected again.
var ErrUnauthorized = aimg.ErrBoostyTokenRefused

// Client looks subscribers up.
type Client struct {
	BaseURL          string       // DefaultURL unless a test says otherwise
	HTTP             *http.Client // with a timeout
	PageSize         int          // subscribers per page (limit)
	MaxPages         int          // pages one lookup reads at most
	MaxResponseBytes int64        // one answer
}

// New builds a client; zero values take the defaults.
func New(baseURL string, timeout time.Duration, pageSize, maxPages int, maxResponseBytes int64) *Client {
	if baseURL == "" {
		baseURL = DefaultURL
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	if pageSize <= 0 {
		pageSize = 100
	}
	if maxPages <= 0 {
		maxPages = 50
	}
	if maxResponseBytes <= 0 {
		maxResponseBytes = 4 << 20
	}
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), HTTP: &http.Client{Timeout: timeout,
		// Never follow a redirect with the token to another host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		PageSize: pageSize, MaxPages: maxPages, MaxResponseBytes: maxResponseBytes}
}

// subscriber is one entry of GET /v1/blog/{blog}/subscribers (field names
// as Boosty's web app receives them).
type subscriber struct {
	ID            json.Number `json:"id"`
	Name          string      `json:"name"`
	Email         string      `json:"email"`
	Subscribed    bool        `json:"subscribed"`
	IsBlackListed bool        `json:"isBlackListed"`
	Price         float64     `json:"price"`
	OnTime        json.Number `json:"onTime"`
	NextPayTime   json.Number `json:"nextPayTime"`
	Level         *struct {
		ID    json.Number `json:"id"`
		Name  string      `json:"name"`
		Price float64     `json:"price"`
	} `json:"level"`
}

type page struct {
	Data   *[]subscriber `json:"data"`
	Total  int           `json:"total"`
	Limit  int           `json:"limit"`
	Offset int           `json:"offset"`
}

// Query says whom to look for.
type Query = aimg.BoostyQuery

func matches(q Query, s subscriber) bool {
	switch {
	case q.Email != "":
		return strings.EqualFold(strings.TrimSpace(s.Email), q.Email)
	case q.Name != "":
		return strings.EqualFold(strings.TrimSpace(s.Name), q.Name)
	}
	return false
}

// FindSubscriber pages through the blog's subscriber list (oldest
// subscription first) and returns the first entry matching q, or nil when
// none does within MaxPages pages. Boosty refusing the token is
// ErrUnauthorized; any other failure (status, not the subscriber list, too
// large) is an error saying what Boosty did.
func (c *Client) FindSubscriber(ctx context.Context, accessToken, blog string, q Query) (*aimg.BoostySubscriber, error) {
	offset := 0
	for range c.MaxPages {
		p, err := c.page(ctx, accessToken, blog, q.LevelIDs, offset)
		if err != nil {
			return nil, err
		}
		for _, s := range *p.Data {
			if matches(q, s) {
				return convert(s), nil
			}
		}
		offset += len(*p.Data)
		if len(*p.Data) == 0 || offset >= p.Total {
			return nil, nil
		}
	}
	return nil, nil
}

func (c *Client) page(ctx context.Context, accessToken, blog string, levelIDs []string, offset int) (*page, error) {
	v := url.Values{}
	v.Set("sort_by", "on_time")
	v.Set("order", "gt")
	v.Set("limit", strconv.Itoa(c.PageSize))
	v.Set("offset", strconv.Itoa(offset))
	if len(levelIDs) > 0 {
		v.Set("level_ids", strings.Join(levelIDs, ","))
	}
	u := c.BaseURL + "/v1/blog/" + url.PathEscape(blog) + "/subscribers?" + v.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		// The URL has no secret; the error names only it.
		return nil, fmt.Errorf("boosty subscribers: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("boosty subscribers: reading the answer: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, ErrUnauthorized
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("boosty subscribers: HTTP %d", resp.StatusCode)
	case int64(len(body)) > c.MaxResponseBytes:
		return nil, fmt.Errorf("boosty subscribers: the answer is larger than %d bytes", c.MaxResponseBytes)
	}
	var p page
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil || p.Data == nil {
		return nil, errors.New("boosty subscribers: the answer is not a subscriber list")
	}
	return &p, nil
}

func convert(s subscriber) *aimg.BoostySubscriber {
	out := &aimg.BoostySubscriber{UserID: s.ID.String(), Name: s.Name, Email: s.Email, Subscribed: s.Subscribed,
		BlackListed: s.IsBlackListed, Price: s.Price, OnTime: unixTime(s.OnTime), NextPayTime: unixTime(s.NextPayTime)}
	if s.Level != nil {
		out.LevelID, out.LevelName = s.Level.ID.String(), s.Level.Name
	}
	return out
}

// unixTime reads Boosty's Unix timestamps (seconds; milliseconds when the
// number is too large for seconds). 0 or absent: nil.
func unixTime(n json.Number) *time.Time {
	v, err := n.Float64()
	if err != nil || v <= 0 {
		return nil
	}
	var t time.Time
	if v > 1e11 { // later than the year 5138 in seconds: milliseconds
		t = time.UnixMilli(int64(v))
	} else {
		t = time.Unix(int64(v), 0)
	}
	t = t.UTC()
	return &t
}
