package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"aimg/internal/server"
)

type customError struct {
	status int
	Mine   string `json:"mine"`
}

func (e *customError) Error() string  { return e.Mine }
func (e *customError) GetStatus() int { return e.status }

type probeInput struct {
	Body struct {
		Name string `json:"name" required:"true"`
	}
}

func newAPI(mux *http.ServeMux, prefix string, errs server.HumaErrorFunc) huma.API {
	cfg := huma.DefaultConfig(prefix, "1")
	cfg.OpenAPIPath, cfg.DocsPath, cfg.SchemasPath = "/"+prefix+"/openapi", "", "/"+prefix+"/schemas"
	api := humago.New(mux, cfg)
	if errs != nil {
		server.UseHumaErrors(api, errs)
	}
	huma.Register(api, huma.Operation{OperationID: prefix, Method: "POST", Path: "/" + prefix},
		func(ctx context.Context, in *probeInput) (*struct{}, error) { return nil, nil })
	return api
}

// A surface's error format applies (UseHumaErrors comes before the
// operations are registered, as huma binds middleware at registration) to its own API only: another huma API in
// the same process keeps huma's.
func TestHumaErrorsArePerSurface(t *testing.T) {
	mux := http.NewServeMux()
	newAPI(mux, "mine", func(_ huma.Context, status int, msg string, _ ...error) huma.StatusError {
		return &customError{status: status, Mine: "custom " + msg}
	})
	newAPI(mux, "theirs", nil)
	hs := httptest.NewServer(mux)
	defer hs.Close()

	post := func(path string) string {
		resp, err := http.Post(hs.URL+path, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := post("/mine"); !strings.Contains(got, `"mine":"custom validation failed"`) {
		t.Fatalf("own API: %s", got)
	}
	if got := post("/theirs"); strings.Contains(got, "custom") || !strings.Contains(got, `"title"`) {
		t.Fatalf("other API got the custom format: %s", got)
	}
}
