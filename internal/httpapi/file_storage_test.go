package httpapi_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"aimg/internal/testsupport"
)

// The file server keeps what it stores intact: rotten bytes are never
// served, and large uploads come back byte for byte.

func TestGetFileCorrupted(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		content := []byte("original bytes that will rot on disk")
		m := mustUpload(t, srv, "rot.txt", content, map[string]string{"id": "rot"})
		var key string
		for k := range blobFiles(t, srv) {
			if strings.HasPrefix(k, "files/rot/") {
				key = k
			}
		}
		corrupted := bytes.ToUpper(content)
		if err := srv.App.Blobs.Put(context.Background(), key, bytes.NewReader(corrupted), int64(len(corrupted)), ""); err != nil {
			t.Fatal(err)
		}
		r := getFile(t, srv, "id="+m.ID, nil)
		if bytes.Contains(r.body, corrupted) {
			t.Fatal("corrupted bytes were served")
		}
		testsupport.ExpectError(t, r.envelope(t), 500, "integrity check")
		// Ranges are refused too.
		if r := getFile(t, srv, "id="+m.ID, map[string]string{"Range": "bytes=0-3"}); r.status != 500 || bytes.Contains(r.body, corrupted[:4]) {
			t.Fatalf("range of corrupted file = %d %q", r.status, r.body)
		}
		r = getFile(t, srv, "id="+m.ID+"&skipChecksum=true", nil)
		if r.status != 200 || !bytes.Equal(r.body, corrupted) || !strings.HasPrefix(r.header.Get("ETag"), "W/") {
			t.Fatalf("skipChecksum = %d %q %v", r.status, r.body, r.header)
		}
		// A client holding the verified original revalidates from the
		// metadata alone: its copy is good, and the rotten blob is not read.
		good := `"` + m.Checksum + `"`
		if r := getFile(t, srv, "id="+m.ID, map[string]string{"If-None-Match": `"other", ` + good}); r.status != 304 || len(r.body) != 0 || r.header.Get("ETag") != good {
			t.Fatalf("revalidation = %d %q %v", r.status, r.body, r.header)
		}
		// A tag that does not match still gets the integrity error, not bytes.
		if r := getFile(t, srv, "id="+m.ID, map[string]string{"If-None-Match": `"stale"`}); r.status != 500 {
			t.Fatalf("stale tag = %d", r.status)
		}
	})
}

func TestLargeUploadRoundTrip(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	content := make([]byte, 6<<20) // over the in-memory verify size, and spilled to disk by the form parser
	for i := range content {
		content[i] = byte(i*7 + i>>9)
	}
	m := mustUpload(t, srv, "big.bin", content, nil)
	if m.FileSize != int64(len(content)) || m.ContentType != "application/octet-stream" {
		t.Fatalf("metadata = %+v", m)
	}
	r := getFile(t, srv, "id="+m.ID, nil)
	if r.status != 200 || !bytes.Equal(r.body, content) {
		t.Fatalf("getFile = %d, %d bytes", r.status, len(r.body))
	}
	r = getFile(t, srv, "id="+m.ID, map[string]string{"Range": "bytes=5000000-5000009"})
	if r.status != 206 || !bytes.Equal(r.body, content[5000000:5000010]) {
		t.Fatalf("range = %d %v", r.status, r.body)
	}
}
