package config

import (
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"

	"aimg/internal/aimg"
)

// mergeModels applies the file's `models` and `removeModels` to the
// default Models. s holds the file decoded over the defaults (so its keys
// were checked already and s.Models is the file's list as written); data is
// the file. Each entry of the file's list whose modelID is a default Model
// overrides only the fields it gives, in place; an entry with a new id is
// appended as a whole Model; removeModels then drops Models by id.
func (s *Service) mergeModels(defaults []aimg.Model, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	entries := modelsNode(&doc)
	if entries == nil {
		s.Models = slices.Clone(defaults) // the file has no models: the decode left them alone
	} else {
		merged := slices.Clone(defaults)
		for i, entry := range entries.Content {
			var id struct {
				ModelID string `yaml:"modelID"`
			}
			if err := entry.Decode(&id); err != nil {
				return fmt.Errorf("models[%d]: %w", i, err)
			}
			at := slices.IndexFunc(merged, func(m aimg.Model) bool { return m.ModelID == id.ModelID })
			if id.ModelID == "" || at < 0 || slices.IndexFunc(defaults, func(m aimg.Model) bool { return m.ModelID == id.ModelID }) < 0 {
				merged = append(merged, s.Models[i]) // a new Model, whole as written
				continue
			}
			// The entry's keys were checked by the strict decode; this one
			// overlays them on the default Model.
			if err := entry.Decode(&merged[at]); err != nil {
				return fmt.Errorf("models[%d]: %w", i, err)
			}
		}
		s.Models = merged
	}
	for i, id := range s.RemoveModels {
		at := slices.IndexFunc(s.Models, func(m aimg.Model) bool { return m.ModelID == id })
		if at < 0 {
			return fmt.Errorf("removeModels[%d]: no Model %q to remove", i, id)
		}
		s.Models = slices.Delete(s.Models, at, at+1)
	}
	s.RemoveModels = nil
	return nil
}

// modelsNode is the sequence under the document's top-level `models` key, or nil.
func modelsNode(doc *yaml.Node) *yaml.Node {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "models" && m.Content[i+1].Kind == yaml.SequenceNode {
			return m.Content[i+1]
		}
	}
	return nil
}
