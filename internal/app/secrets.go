package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"aimg/internal/config"
)

// secretsKey is AIMG_SECRETS_KEY's 32 bytes, or, when it is empty, a key
// generated on the first start and kept in DataDir/secrets.key (0600), so
// that what it sealed stays readable after a restart. Several replicas
// must share one AIMG_SECRETS_KEY (each data dir would hold its own key).
func secretsKey(cfg config.Config) ([]byte, error) {
	if cfg.SecretsKey != "" {
		k, err := config.ParseSecretsKey(cfg.SecretsKey)
		if err != nil {
			return nil, fmt.Errorf("AIMG_SECRETS_KEY: %w", err)
		}
		return k, nil
	}
	path := filepath.Join(cfg.DataDir, "secrets.key")
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := config.ParseSecretsKey(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("AIMG_DATA_DIR: %s: %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("AIMG_DATA_DIR: secrets key: %w", err)
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("AIMG_DATA_DIR: secrets key: %w", err)
	}
	return k, nil
}
