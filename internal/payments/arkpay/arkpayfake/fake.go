// Package arkpayfake is an in-memory card processor speaking the arkpay
// API of docs/payments.md, for tests: it checks the API key, keeps
// subscriptions per Idempotency-Key, declines the test card
// 4000 0000 0000 0002 and sends signed webhooks.
package arkpayfake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"aimg/internal/payments/arkpay"
)

// DeclinedCard is the number the fake declines.
const DeclinedCard = "4000000000000002"

// Server is a running fake.
type Server struct {
	*httptest.Server
	APIKey string
	Now    func() time.Time

	mu      sync.Mutex
	subs    map[string]map[string]any // id -> subscription
	byKey   map[string]string         // idempotency key -> id
	seq     int
	Charges int // approved subscribe calls (not replays)
}

// New starts a fake that accepts apiKey.
func New(apiKey string) *Server {
	s := &Server{APIKey: apiKey, Now: time.Now, subs: map[string]map[string]any{}, byKey: map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.APIKey {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.URL.Path == "/v1/subscriptions":
		var in struct {
			ProductID string `json:"product_id"`
			Reference string `json:"reference"`
			Amount    int64  `json:"amount"`
			Currency  string `json:"currency"`
			Period    string `json:"period"`
			Card      struct {
				Number   string `json:"number"`
				Holder   string `json:"holder_name"`
				ExpMonth int    `json:"exp_month"`
				ExpYear  int    `json:"exp_year"`
				CVC      string `json:"cvc"`
			} `json:"card"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.ProductID == "" || in.Amount <= 0 || len(in.Currency) != 3 ||
			in.Card.Number == "" || in.Card.CVC == "" || in.Card.ExpMonth < 1 || in.Card.ExpMonth > 12 {
			http.Error(w, `{"error":"invalid request"}`, http.StatusBadRequest)
			return
		}
		key := r.Header.Get("Idempotency-Key")
		if id, ok := s.byKey[key]; ok && key != "" {
			writeJSON(w, s.subs[id])
			return
		}
		s.seq++
		id := "ark_sub_" + strconv.Itoa(s.seq)
		sub := map[string]any{"id": id, "customer_id": "ark_cus_" + in.Reference, "reference": in.Reference, "product_id": in.ProductID}
		if in.Card.Number == DeclinedCard {
			sub["status"], sub["decline_reason"] = "declined", "card_declined"
		} else {
			sub["status"], sub["next_billing_at"] = "approved", s.Now().AddDate(0, 1, 0).Unix()
			s.Charges++
		}
		s.subs[id] = sub
		if key != "" {
			s.byKey[key] = id
		}
		writeJSON(w, sub)
	case strings.HasPrefix(r.URL.Path, "/v1/subscriptions/") && strings.HasSuffix(r.URL.Path, "/cancel"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/subscriptions/"), "/cancel")
		sub, ok := s.subs[id]
		if !ok {
			http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
			return
		}
		sub["status"] = "cancelled"
		sub["ends_at"] = sub["next_billing_at"]
		writeJSON(w, sub)
	default:
		http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Webhook builds a signed delivery of event typ for subscription id, as
// the processor would post it to AIMG.
func (s *Server) Webhook(eventID, typ, id, secret string, at time.Time) ([]byte, string) {
	s.mu.Lock()
	sub := s.subs[id]
	s.mu.Unlock()
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(map[string]any{"id": eventID, "type": typ, "created": at.Unix(), "data": sub,
		"reference": sub["reference"], "product_id": sub["product_id"]})
	body := bytes.TrimSpace(buf.Bytes())
	return body, arkpay.Signature(secret, body, at)
}

// Renew bills subscription id for another month, as the processor does at
// its next billing date, and returns the new next billing time.
func (s *Server) Renew(id string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := time.Unix(s.subs[id]["next_billing_at"].(int64), 0).AddDate(0, 1, 0)
	s.subs[id]["next_billing_at"] = next.Unix()
	return next.UTC()
}

// Status is subscription id's status ("approved", "cancelled", …).
func (s *Server) Status(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, _ := s.subs[id]["status"].(string)
	return st
}
