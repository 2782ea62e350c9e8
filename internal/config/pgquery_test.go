package config

import (
	"strings"
	"testing"
	"time"
)

func TestPGQuerySettings(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Service.PGQuery; p.Timeout != 10*time.Second || p.MaxRows != 10_000 || p.MaxResultBytes != 8<<20 {
		t.Fatalf("pgQuery defaults = %+v", p)
	}
	for name, tc := range map[string]struct {
		env  map[string]string
		file string
		want string
	}{
		"url on sqlite": {env: map[string]string{"AIMG_PGQUERY_DATABASE_URL": "postgres://ro@db/aimg"}, want: "AIMG_PGQUERY_DATABASE_URL"},
		"url not postgres": {env: map[string]string{"AIMG_DATABASE_URL": "postgres://db/aimg", "AIMG_PGQUERY_DATABASE_URL": "sqlite:x.db"},
			want: "AIMG_PGQUERY_DATABASE_URL"},
		"budget":  {file: "pgQuery: {maxResultBytes: 10}", want: "pgQuery.maxResultBytes"},
		"rows":    {file: "pgQuery: {maxRows: 0}", want: "pgQuery.maxRows"},
		"timeout": {file: "pgQuery: {timeout: 0s}", want: "pgQuery.timeout"},
	} {
		t.Run(name, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range tc.env {
				e[k] = v
			}
			if tc.file != "" {
				e["AIMG_CONFIG"] = writeFile(t, tc.file)
			}
			_, err := FromEnv(env(e))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
	c, err = FromEnv(env(map[string]string{"AIMG_DATABASE_URL": "postgres://db/aimg", "AIMG_PGQUERY_DATABASE_URL": "postgres://ro@db/aimg"}))
	if err != nil || c.PGQueryDatabaseURL != "postgres://ro@db/aimg" {
		t.Fatalf("a separate pgQuery URL: %q %v", c.PGQueryDatabaseURL, err)
	}
}
