package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"testing"

	"aimg/internal/testsupport"
)

// aimg dev seed adds Items to a user (created once, reused after) and prints
// a session that getMyCreations accepts.
func TestDevSeed(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		dir := t.TempDir()
		env := func(k string) string {
			return map[string]string{"AIMG_DATA_DIR": dir, "AIMG_DATABASE_URL": dbURL}[k]
		}
		var out bytes.Buffer
		args := []string{"dev", "seed", "--items", "1203", "--batch", "500", "--user-email", "Bench@Example.com"}
		if err := run(context.Background(), args, env, &out, io.Discard); err != nil {
			t.Fatalf("seed: %v\n%s", err, out.String())
		}
		again := []string{"dev", "seed", "--items", "1203", "--user-email", "bench@example.com"} // 1203 more, same user
		if err := run(context.Background(), again, env, &out, io.Discard); err != nil {
			t.Fatalf("second seed: %v", err)
		}
		text := out.String()
		if !regexp.MustCompile(`created user \S+ \(bench@example.com\), password \S+`).MatchString(text) ||
			!regexp.MustCompile(`using user \S+ \(bench@example.com\)`).MatchString(text) ||
			!regexp.MustCompile(`added 1203 Items in \S+; the user has 2406`).MatchString(text) {
			t.Fatalf("output:\n%s", text)
		}
		session := regexp.MustCompile(`session (\S+)\n$`).FindStringSubmatch(text)
		if session == nil {
			t.Fatalf("no session in:\n%s", text)
		}

		srv := testsupport.NewServer(t, dbURL)
		var walked int
		next := ""
		for {
			env := srv.Get(t, "/api/getMyCreations?limit=1000"+next, session[1])
			testsupport.ExpectOK(t, env)
			var page []struct{ ID string }
			env.Decode(t, &page)
			walked += len(page)
			m := regexp.MustCompile(`"nextPaginationIndex":"(\d+)"`).FindSubmatch(env.Metadata)
			if m == nil {
				break
			}
			next = "&paginationIndex=" + string(m[1])
		}
		if walked != 2406 {
			t.Fatalf("walked %d Items, want 2406", walked)
		}
		if err := run(context.Background(), []string{"dev", "bogus"}, env, io.Discard, io.Discard); err == nil {
			t.Fatal("aimg dev bogus succeeded")
		}
	})
}
