// Package boostyfake is an in-memory Boosty API for tests, on 127.0.0.1
// (httptest): GET /v1/blog/{blog}/subscribers with the blog owner's bearer
// token, paged by limit and offset and filtered by level_ids, answering
// the JSON Boosty's web app receives (docs/payments.md "Boosty").
package boostyfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Level is a subscription level of the blog.
type Level struct {
	ID    int64
	Name  string
	Price float64
}

// Subscriber is one entry of the blog's subscriber list.
type Subscriber struct {
	ID          int64
	Name        string
	Email       string
	Level       Level
	Subscribed  bool
	BlackListed bool
	OnTime      int64 // Unix seconds
	NextPayTime int64 // Unix seconds; 0 = none
}

// Server is a running fake.
type Server struct {
	*httptest.Server
	Blog  string
	Token string // the accepted access token

	mu          sync.Mutex
	subscribers []Subscriber
	status      int    // non-zero: every request answers this status
	body        string // with this body
	requests    []*http.Request
}

// New starts a fake of blog accepting token.
func New(blog, token string) *Server {
	s := &Server{Blog: blog, Token: token}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Add appends subscribers to the list.
func (s *Server) Add(subs ...Subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subscribers = append(s.subscribers, subs...)
}

// Fail makes every request answer status with body (0 = back to normal).
func (s *Server) Fail(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, body
}

// Requests returns the requests received so far.
func (s *Server) Requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Clone(r.Context()))
	w.Header().Set("Content-Type", "application/json")
	if s.status != 0 {
		w.WriteHeader(s.status)
		_, _ = w.Write([]byte(s.body))
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"unauthorized","error_description":"Unauthorized"}`))
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != "/v1/blog/"+s.Blog+"/subscribers" {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"not_found"}`))
		return
	}
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	if limit <= 0 {
		limit = 10
	}
	var levels []string
	if v := q.Get("level_ids"); v != "" {
		levels = strings.Split(v, ",")
	}
	var list []Subscriber
	for _, sub := range s.subscribers {
		if len(levels) == 0 || slices.Contains(levels, strconv.FormatInt(sub.Level.ID, 10)) {
			list = append(list, sub)
		}
	}
	slices.SortStableFunc(list, func(a, b Subscriber) int { return int(a.OnTime - b.OnTime) })
	total := len(list)
	list = list[min(offset, total):min(offset+limit, total)]
	data := make([]map[string]any, 0, len(list))
	for _, sub := range list {
		data = append(data, map[string]any{
			"id": sub.ID, "name": sub.Name, "email": sub.Email, "hasAvatar": false, "avatarUrl": "",
			"subscribed": sub.Subscribed, "isBlackListed": sub.BlackListed, "price": sub.Level.Price,
			"payments": sub.Level.Price, "onTime": sub.OnTime, "nextPayTime": sub.NextPayTime,
			"level": map[string]any{"id": sub.Level.ID, "name": sub.Level.Name, "price": sub.Level.Price,
				"isArchived": false, "deleted": false, "data": []any{}},
		})
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data, "total": total, "limit": limit, "offset": offset})
}
