package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aimg/internal/config"
)

// Without AIMG_SECRETS_KEY a key is generated once and kept (0600) in the
// data dir; AIMG_SECRETS_KEY wins when set; a bad one is refused by name.
func TestSecretsKey(t *testing.T) {
	cfg := testConfig(t, nil)
	k1, err := secretsKey(cfg)
	if err != nil || len(k1) != 32 {
		t.Fatalf("generated: %x %v", k1, err)
	}
	fi, err := os.Stat(filepath.Join(cfg.DataDir, "secrets.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secrets.key: %v %v", fi, err)
	}
	if k2, err := secretsKey(cfg); err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("the second start has another key: %x %v", k2, err)
	}
	hex := strings.Repeat("ab", 32)
	cfg.SecretsKey = hex
	if k, err := secretsKey(cfg); err != nil || !bytes.Equal(k, bytes.Repeat([]byte{0xab}, 32)) {
		t.Fatalf("AIMG_SECRETS_KEY: %x %v", k, err)
	}
	for _, bad := range []string{"short", strings.Repeat("z", 64), strings.Repeat("ab", 16)} {
		_, err := config.FromEnv(func(k string) string {
			return map[string]string{"AIMG_SECRETS_KEY": bad, "AIMG_DATA_DIR": t.TempDir()}[k]
		})
		if err == nil || !strings.Contains(err.Error(), "AIMG_SECRETS_KEY") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
