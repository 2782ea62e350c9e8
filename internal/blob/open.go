package blob

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Open selects a backend from rawURL (the operator's AIMG_BLOB_URL):
//
//   - empty: files under <dataDir>/blobs
//   - file:///abs/path: files under /abs/path
//   - s3://bucket?endpoint=host:port&region=...&secure=false&prefix=...&create_bucket=true
//     with credentials from access_key and secret_key (and optional
//     session_token), or else from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
//     AWS_SESSION_TOKEN read through getenv. The region defaults to AWS_REGION,
//     then to asking the server; the endpoint defaults to s3.amazonaws.com and
//     secure to true.
//
// Errors never repeat the URL, which may hold a secret key.
func Open(ctx context.Context, rawURL, dataDir string, getenv func(string) string) (Store, error) {
	if strings.TrimSpace(rawURL) == "" {
		if dataDir == "" {
			return nil, errors.New("blob: neither a blob URL nor a data directory is set")
		}
		return NewLocal(filepath.Join(dataDir, "blobs"))
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err // url.Error repeats the whole URL
		}
		return nil, fmt.Errorf("blob: blob URL does not parse: %w", err)
	}
	switch u.Scheme {
	case "file":
		dir, err := localDirFromURL(u)
		if err != nil {
			return nil, err
		}
		return NewLocal(dir)
	case "s3":
		cfg, err := s3ConfigFromURL(u, getenv)
		if err != nil {
			return nil, err
		}
		return NewS3(ctx, cfg)
	default:
		return nil, fmt.Errorf("blob: blob URL scheme %q is not supported (want s3:// or file://)", u.Scheme)
	}
}

func localDirFromURL(u *url.URL) (string, error) {
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("blob: file URL names host %q; want file:///absolute/path", u.Host)
	}
	if u.RawQuery != "" || u.User != nil {
		return "", errors.New("blob: file URL takes no query or user; want file:///absolute/path")
	}
	dir := filepath.FromSlash(u.Path)
	if !filepath.IsAbs(dir) {
		return "", errors.New("blob: file URL path must be absolute: want file:///absolute/path")
	}
	return dir, nil
}

var s3URLParams = []string{"access_key", "create_bucket", "endpoint", "prefix", "region", "secret_key", "secure", "session_token"}

func s3ConfigFromURL(u *url.URL, getenv func(string) string) (S3Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if u.User != nil {
		return S3Config{}, errors.New("blob: put S3 credentials in access_key and secret_key, not in the URL's user part")
	}
	if u.Path != "" && u.Path != "/" {
		return S3Config{}, errors.New("blob: S3 URL has a path; put a key prefix in prefix= instead")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return S3Config{}, errors.New("blob: S3 URL query does not parse")
	}
	for name, values := range q {
		if i := sort.SearchStrings(s3URLParams, name); i == len(s3URLParams) || s3URLParams[i] != name {
			return S3Config{}, fmt.Errorf("blob: S3 URL parameter %q is unknown (known: %s)", name, strings.Join(s3URLParams, ", "))
		}
		if len(values) > 1 {
			return S3Config{}, fmt.Errorf("blob: S3 URL parameter %q is given %d times", name, len(values))
		}
	}
	cfg := S3Config{
		Bucket:       u.Host,
		Endpoint:     q.Get("endpoint"),
		Region:       q.Get("region"),
		Secure:       true,
		Prefix:       q.Get("prefix"),
		AccessKey:    q.Get("access_key"),
		SecretKey:    q.Get("secret_key"),
		SessionToken: q.Get("session_token"),
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = "s3.amazonaws.com"
	}
	if cfg.Region == "" {
		cfg.Region = getenv("AWS_REGION")
	}
	if !q.Has("access_key") && !q.Has("secret_key") {
		cfg.AccessKey = getenv("AWS_ACCESS_KEY_ID")
		cfg.SecretKey = getenv("AWS_SECRET_ACCESS_KEY")
		if cfg.SessionToken == "" {
			cfg.SessionToken = getenv("AWS_SESSION_TOKEN")
		}
	}
	for name, dst := range map[string]*bool{"secure": &cfg.Secure, "create_bucket": &cfg.CreateBucket} {
		if !q.Has(name) {
			continue
		}
		v, err := strconv.ParseBool(q.Get(name))
		if err != nil {
			return S3Config{}, fmt.Errorf("blob: S3 URL parameter %s=%q is not true or false", name, q.Get(name))
		}
		*dst = v
	}
	if err := cfg.validate(); err != nil {
		return S3Config{}, err
	}
	return cfg, nil
}
