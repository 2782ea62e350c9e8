package cluster

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// mergeConfig overlays extra on base, both YAML service configs: mappings
// merge key by key (extra wins), any other value of extra replaces base's,
// and the models lists are concatenated (the server merges Models by id).
func mergeConfig(base, extra string) (string, error) {
	var b, e map[string]any
	if err := yaml.Unmarshal([]byte(base), &b); err != nil {
		return "", fmt.Errorf("base: %w", err)
	}
	if err := yaml.Unmarshal([]byte(extra), &e); err != nil {
		return "", err
	}
	if models, ok := e["models"].([]any); ok {
		baseModels, _ := b["models"].([]any)
		e["models"] = append(append([]any{}, baseModels...), models...)
	}
	out, err := yaml.Marshal(mergeMaps(b, e))
	return string(out), err
}

func mergeMaps(base, extra map[string]any) map[string]any {
	if base == nil {
		base = map[string]any{}
	}
	for k, v := range extra {
		bm, bok := base[k].(map[string]any)
		em, eok := v.(map[string]any)
		if bok && eok {
			base[k] = mergeMaps(bm, em)
			continue
		}
		base[k] = v
	}
	return base
}
