package ocs_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"aimg/internal/testsupport"
)

// The test client of the OCS surface: raw requests as the Nextcloud
// clients send them, and the envelope they read.

type ocsReply struct {
	Status int
	Header http.Header
	Body   []byte
}

// envelope is the JSON OCS envelope.
type envelope struct {
	OCS struct {
		Meta struct {
			Status       string `json:"status"`
			StatusCode   int    `json:"statuscode"`
			Message      string `json:"message"`
			TotalItems   any    `json:"totalitems"`
			ItemsPerPage any    `json:"itemsperpage"`
		} `json:"meta"`
		Data json.RawMessage `json:"data"`
	} `json:"ocs"`
}

func (r ocsReply) envelope(t *testing.T) envelope {
	t.Helper()
	var e envelope
	dec := json.NewDecoder(strings.NewReader(string(r.Body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("HTTP %d: not an OCS JSON envelope: %v\n%s", r.Status, err, r.Body)
	}
	return e
}

// data decodes the envelope's data into v.
func (r ocsReply) data(t *testing.T, v any) envelope {
	t.Helper()
	e := r.envelope(t)
	if err := json.Unmarshal(e.OCS.Data, v); err != nil {
		t.Fatalf("data %s: %v", e.OCS.Data, err)
	}
	return e
}

// client is one Nextcloud-style client of a test server.
type client struct {
	t       *testing.T
	srv     *testsupport.Server
	headers map[string]string
}

// nextcloudKit is NextcloudKit's header set: Basic auth, JSON, the OCS header.
func nextcloudKit(t *testing.T, srv *testsupport.Server, login, password string) *client {
	return &client{t: t, srv: srv, headers: map[string]string{
		"Authorization":  "Basic " + base64.StdEncoding.EncodeToString([]byte(login+":"+password)),
		"Accept":         "application/json",
		"OCS-APIRequest": "true",
		"User-Agent":     "Mozilla/5.0 (iOS) Nextcloud-iOS/6.1.0",
	}}
}

func (c *client) with(k, v string) *client {
	h := map[string]string{}
	for a, b := range c.headers {
		h[a] = b
	}
	h[k] = v
	return &client{t: c.t, srv: c.srv, headers: h}
}

func (c *client) without(k string) *client {
	n := c.with(k, "")
	delete(n.headers, k)
	return n
}

func (c *client) do(method, path, contentType, body string) ocsReply {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return ocsReply{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func (c *client) get(path string) ocsReply { c.t.Helper(); return c.do("GET", path, "", "") }

func (c *client) form(method, path string, v url.Values) ocsReply {
	c.t.Helper()
	return c.do(method, path, "application/x-www-form-urlencoded", v.Encode())
}

func (c *client) json(method, path string, v any) ocsReply {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(method, path, "application/json", string(b))
}

// eventually polls fn until it says done or a minute passes.
func eventually(t *testing.T, what string, fn func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !fn(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never happened", what)
		}
	}
}
