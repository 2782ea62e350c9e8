package boosty_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/payments/boosty"
	"aimg/internal/payments/boosty/boostyfake"
)

func TestFindSubscriberPagesThroughTheList(t *testing.T) {
	fake := boostyfake.New("blog", "tok")
	defer fake.Close()
	gold := boostyfake.Level{ID: 7, Name: "Gold", Price: 5}
	for i := range 25 {
		fake.Add(boostyfake.Subscriber{ID: int64(100 + i), Name: "user", Email: "u@example.com", Level: gold,
			Subscribed: true, OnTime: int64(1_700_000_000 + i)})
	}
	fake.Add(boostyfake.Subscriber{ID: 999, Name: "Last One", Email: "Last@Example.com", Level: gold, Subscribed: true,
		OnTime: 1_800_000_000, NextPayTime: 1_800_086_400})
	c := boosty.New(fake.URL, time.Second, 10, 5, 1<<20)
	sub, err := c.FindSubscriber(context.Background(), "tok", "blog", aimg.BoostyQuery{Email: "last@example.com", LevelIDs: []string{"7"}})
	if err != nil || sub == nil {
		t.Fatalf("FindSubscriber: %v, %v", sub, err)
	}
	if sub.UserID != "999" || sub.LevelID != "7" || sub.LevelName != "Gold" || !sub.Subscribed ||
		sub.NextPayTime == nil || !sub.NextPayTime.Equal(time.Unix(1_800_086_400, 0)) {
		t.Errorf("subscriber %+v", sub)
	}
	if n := len(fake.Requests()); n != 3 {
		t.Errorf("%d pages read, want 3 (26 subscribers, 10 a page)", n)
	}
	// By name; nobody: nil, nil.
	if sub, err := c.FindSubscriber(context.Background(), "tok", "blog", aimg.BoostyQuery{Name: "LAST ONE"}); err != nil || sub == nil || sub.UserID != "999" {
		t.Errorf("by name: %+v, %v", sub, err)
	}
	if sub, err := c.FindSubscriber(context.Background(), "tok", "blog", aimg.BoostyQuery{Email: "nobody@example.com"}); err != nil || sub != nil {
		t.Errorf("nobody: %+v, %v", sub, err)
	}
	// The page budget: 2 pages of 10 do not reach the 26th subscriber.
	short := boosty.New(fake.URL, time.Second, 10, 2, 1<<20)
	if sub, err := short.FindSubscriber(context.Background(), "tok", "blog", aimg.BoostyQuery{Email: "last@example.com"}); err != nil || sub != nil {
		t.Errorf("beyond maxPages: %+v, %v", sub, err)
	}
}

func TestFindSubscriberFailures(t *testing.T) {
	fake := boostyfake.New("blog", "tok")
	defer fake.Close()
	c := boosty.New(fake.URL, time.Second, 10, 5, 1024)
	q := aimg.BoostyQuery{Email: "a@example.com"}
	if _, err := c.FindSubscriber(context.Background(), "wrong", "blog", q); !errors.Is(err, boosty.ErrUnauthorized) {
		t.Errorf("wrong token: %v", err)
	}
	for _, f := range []struct {
		status int
		body   string
		want   string
	}{
		{500, "x", "HTTP 500"},
		{200, "not json", "not a subscriber list"},
		{200, `{"data": null}`, "not a subscriber list"},
		{200, `{"data": [` + strings.Repeat(`{"id":1},`, 200) + `{"id":1}]}`, "larger than"},
	} {
		fake.Fail(f.status, f.body)
		_, err := c.FindSubscriber(context.Background(), "tok", "blog", q)
		if err == nil || !strings.Contains(err.Error(), f.want) || strings.Contains(err.Error(), "tok") {
			t.Errorf("%d %q: %v, want %q", f.status, f.body, err, f.want)
		}
	}
}

// A redirect is not followed: the token would go along.
func TestFindSubscriberDoesNotFollowRedirects(t *testing.T) {
	var leaked bool
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = r.Header.Get("Authorization") != ""
	}))
	defer evil.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL+"/steal", http.StatusFound)
	}))
	defer redirect.Close()
	c := boosty.New(redirect.URL, time.Second, 10, 5, 1024)
	if _, err := c.FindSubscriber(context.Background(), "tok", "blog", aimg.BoostyQuery{Email: "a@example.com"}); err == nil {
		t.Error("a redirect was taken for the subscriber list")
	}
	if leaked {
		t.Error("the token followed the redirect")
	}
}

// Boosty's timestamps are seconds; milliseconds are read too.
func TestFindSubscriberMilliseconds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"data":[{"id":"42","email":"a@example.com","subscribed":true,"nextPayTime":1800000000000,
			"level":{"id":3,"name":"L"}}],"total":1,"limit":10,"offset":0}`))
	}))
	defer srv.Close()
	sub, err := boosty.New(srv.URL, time.Second, 10, 5, 1024).FindSubscriber(context.Background(), "t", "b", aimg.BoostyQuery{Email: "a@example.com"})
	if err != nil || sub == nil || sub.UserID != "42" || sub.NextPayTime == nil || !sub.NextPayTime.Equal(time.Unix(1_800_000_000, 0)) {
		t.Fatalf("%+v, %v", sub, err)
	}
}
