package httpapi_test

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	stdimage "image"
	"image/color"
	"image/png"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"aimg/internal/testsupport"
)

// acctServer starts a server without rate limits (tests of the limits
// start their own).
func acctServer(t *testing.T, url string) *testsupport.Server {
	t.Helper()
	return testsupport.NewServer(t, url, testsupport.WithoutRateLimits)
}

// acctQueryString reads one string straight from the database, to check
// what is stored (hashes) rather than what the API shows.
func acctQueryString(t *testing.T, srv *testsupport.Server, databaseURL, query string, args ...any) string {
	t.Helper()
	driver, dsn := "pgx", databaseURL
	if p, ok := strings.CutPrefix(databaseURL, "sqlite:"); ok {
		driver, dsn = "sqlite", "file:"+filepath.Clean(p)+"?_pragma=query_only(1)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var s string
	if err := db.QueryRow(query, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s
}

// acctAdminUser is the admin view of getUser as a generic map, so tests can
// check that every documented field is present.
func acctAdminUser(t *testing.T, srv *testsupport.Server, query string) map[string]any {
	t.Helper()
	env := srv.AdminGet(t, "/api/getUser?"+query)
	testsupport.ExpectOK(t, env)
	var m map[string]any
	env.Decode(t, &m)
	return m
}

// acctIsSignedIn tells whether session still authenticates.
func acctIsSignedIn(t *testing.T, srv *testsupport.Server, session string) bool {
	t.Helper()
	return testsupport.Self(t, srv, session).IsAuthenticated
}

func acctDelete(t *testing.T, srv *testsupport.Server, path, session, adminKey string) *testsupport.Envelope {
	t.Helper()
	return srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: path, SessionID: session, AdminKey: adminKey})
}

// acctPNG is a w x h PNG data URI with a gradient.
func acctPNG(t *testing.T, w, h int) string {
	t.Helper()
	img := stdimage.NewNRGBA(stdimage.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}

func acctDecode[T any](t *testing.T, env *testsupport.Envelope) T {
	t.Helper()
	testsupport.ExpectOK(t, env)
	var v T
	if err := json.Unmarshal(env.Payload, &v); err != nil {
		t.Fatalf("decode %s: %v", env.Payload, err)
	}
	return v
}

func acctNewSession() string { return uuid.NewString() }
