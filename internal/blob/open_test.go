package blob

import (
	"errors"
	"net/url"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestOpenSelectsBackend(t *testing.T) {
	ctx := t.Context()
	dataDir := t.TempDir()

	s, err := Open(ctx, "", dataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if local, ok := s.(*Local); !ok || local.Dir() != filepath.Join(dataDir, "blobs") {
		t.Fatalf("Open(\"\") = %v, want a local store in %s", s, filepath.Join(dataDir, "blobs"))
	}

	explicit := filepath.Join(t.TempDir(), "elsewhere")
	s, err = Open(ctx, "file://"+filepath.ToSlash(explicit), dataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if local, ok := s.(*Local); !ok || local.Dir() != explicit {
		t.Fatalf("Open(file://...) = %v, want a local store in %s", s, explicit)
	}

	// Without create_bucket, NewS3 does not talk to the server.
	s, err = Open(ctx, "s3://media?endpoint=127.0.0.1:1&secure=false&access_key=a&secret_key=b&prefix=aimg", dataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s3, ok := s.(*S3); !ok || s3.bucket != "media" || s3.prefix != "aimg/" {
		t.Fatalf("Open(s3://...) = %v, want an S3 store for bucket media, prefix aimg/", s)
	}

	for _, bad := range []string{"file://relative/path", "file:relative", "file:///tmp/x?mode=1", "http://example.com/", "::not a url"} {
		if _, err := Open(ctx, bad, dataDir, nil); err == nil {
			t.Errorf("Open(%q) succeeded, want an error", bad)
		}
	}
	if _, err := Open(ctx, "", "", nil); err == nil {
		t.Error("Open with neither URL nor data directory succeeded")
	}
}

func TestS3ConfigFromURL(t *testing.T) {
	env := map[string]string{
		"AWS_ACCESS_KEY_ID":     "env-access",
		"AWS_SECRET_ACCESS_KEY": "env-s3cr3t",
		"AWS_SESSION_TOKEN":     "env-token",
		"AWS_REGION":            "eu-west-3",
	}
	getenv := func(name string) string { return env[name] }
	noenv := func(string) string { return "" }

	tests := []struct {
		url    string
		getenv func(string) string
		want   S3Config
	}{
		{
			url:    "s3://aimg?endpoint=127.0.0.1:9000&region=us-east-1&secure=false&access_key=AK&secret_key=s3cr3t&prefix=media/&create_bucket=true",
			getenv: getenv,
			want: S3Config{Endpoint: "127.0.0.1:9000", Region: "us-east-1", Bucket: "aimg", AccessKey: "AK", SecretKey: "s3cr3t",
				Prefix: "media/", CreateBucket: true},
		},
		{
			url:    "s3://aimg",
			getenv: getenv,
			want: S3Config{Endpoint: "s3.amazonaws.com", Secure: true, Region: "eu-west-3", Bucket: "aimg",
				AccessKey: "env-access", SecretKey: "env-s3cr3t", SessionToken: "env-token"},
		},
		{
			url:    "s3://aimg/?endpoint=seaweed:8333&secure=1&access_key=AK&secret_key=s3cr3t",
			getenv: noenv,
			want:   S3Config{Endpoint: "seaweed:8333", Secure: true, Bucket: "aimg", AccessKey: "AK", SecretKey: "s3cr3t"},
		},
	}
	for _, tc := range tests {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s3ConfigFromURL(u, tc.getenv)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.url, got, tc.want)
		}
	}

	bad := []struct {
		url    string
		getenv func(string) string
		says   string
	}{
		{"s3://aimg?endpoint=x:1", noenv, "no credentials"},
		{"s3://aimg?endpoint=x:1&access_key=AK", getenv, "together"},
		{"s3://aimg?endpoint=x:1&secret_key=s3cr3t", getenv, "together"},
		{"s3://aimg?endpoint=x:1&access_key=AK&secret_key=s3cr3t&sekret=1", noenv, `"sekret" is unknown`},
		{"s3://aimg?endpoint=x:1&access_key=AK&secret_key=s3cr3t&secure=maybe", noenv, "secure"},
		{"s3://aimg?endpoint=x:1&access_key=AK&secret_key=s3cr3t&create_bucket=yes", noenv, "create_bucket"},
		{"s3://aimg?endpoint=x:1&access_key=AK&secret_key=s3cr3t&region=a&region=b", noenv, "2 times"},
		{"s3://aimg?endpoint=http://x:1&access_key=AK&secret_key=s3cr3t", noenv, "without scheme"},
		{"s3://aimg/media?endpoint=x:1&access_key=AK&secret_key=s3cr3t", noenv, "prefix="},
		{"s3://AK:s3cr3t@aimg?endpoint=x:1", noenv, "user part"},
		{"s3://?endpoint=x:1&access_key=AK&secret_key=s3cr3t", noenv, "bucket is empty"},
		{"s3://aimg?endpoint=x:1&access_key=AK&secret_key=s3cr3t&prefix=../up", noenv, "prefix"},
	}
	for _, tc := range bad {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s3ConfigFromURL(u, tc.getenv)
		if err == nil {
			t.Errorf("%s: no error, want one saying %q", tc.url, tc.says)
			continue
		}
		if !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: error %q does not say %q", tc.url, err, tc.says)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: error %q shows the secret key", tc.url, err)
		}
	}
}

// Open's errors must not repeat the URL: it may carry the secret key.
func TestOpenErrorsHideTheSecret(t *testing.T) {
	for _, raw := range []string{
		"s3://aimg?endpoint=x:1&secret_key=s3cr3t",
		"s3://aimg?endpoint=x:1&secret_key=s3cr3t&bogus=1",
		"s3://aimg?endpoint=x:1&secret_key=s3cr3t&%zz",
		"s3://ai mg?secret_key=s3cr3t",
		"s3://AK:s3cr3t@aimg",
	} {
		_, err := Open(t.Context(), raw, t.TempDir(), nil)
		if err == nil {
			t.Errorf("Open(%q) succeeded, want an error", raw)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("Open error %q shows the secret key", err)
		}
	}
}

func TestS3StringHidesCredentials(t *testing.T) {
	s, err := NewS3(t.Context(), S3Config{Endpoint: "127.0.0.1:1", Bucket: "b", Secure: true, AccessKey: "AK", SecretKey: "s3cr3t", Prefix: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.String(); strings.Contains(got, "s3cr3t") || strings.Contains(got, "AK") || got != "s3://b/p/ at https://127.0.0.1:1" {
		t.Errorf("String() = %q", got)
	}
}

func TestValidateKey(t *testing.T) {
	for _, key := range []string{
		"a",
		"items/ab/cd/0f8fad5b-d9cb-469f-a165-70867728950e.png",
		"uploads/2024/photo of me (1).jpg",
		"ünïcödé/画像.webp",
		"a..b/c..",
		longestKey(),
	} {
		if err := ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", key, err)
		}
	}
	for _, key := range invalidKeys {
		err := ValidateKey(key)
		if !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	if len(longestKey()) != MaxKeyLen {
		t.Fatalf("longestKey() is %d bytes, want %d", len(longestKey()), MaxKeyLen)
	}
}

// FuzzValidateKey checks that every accepted key is a clean relative path
// that stays inside the directory it is joined to.
func FuzzValidateKey(f *testing.F) {
	for _, key := range append([]string{"items/ab/cd/x.png", "a/b", "a..b"}, invalidKeys...) {
		f.Add(key)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if ValidateKey(key) != nil {
			return
		}
		if !utf8.ValidString(key) || len(key) > MaxKeyLen {
			t.Fatalf("accepted %q: invalid UTF-8 or too long", key)
		}
		if path.Clean(key) != key || strings.ContainsAny(key, "\\\x00") {
			t.Fatalf("accepted %q, which is not a clean slash path", key)
		}
		if !filepath.IsLocal(filepath.FromSlash(key)) {
			t.Fatalf("accepted %q, which is not local", key)
		}
		base := filepath.FromSlash("/srv/blobs")
		joined := filepath.Join(base, filepath.FromSlash(key))
		if !strings.HasPrefix(joined, base+string(filepath.Separator)) {
			t.Fatalf("accepted %q, which joins to %q outside %q", key, joined, base)
		}
	})
}
