package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Extra holds the keys of a dlt schema object (a table, a column, a
// section) that the engine does not model, as read: dlt's hints for other
// destinations (partition, cluster), table references, hints of newer dlt
// versions, a user's own x- hints. They are written back unchanged, so a
// schema dlt wrote and the engine loaded on keeps them when dlt reads it
// again.
type Extra map[string]json.RawMessage

// splitExtra returns the members of the JSON object data whose keys are
// not json tags of t's fields (nil when there are none).
func splitExtra(data []byte, t reflect.Type) (Extra, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, err
	}
	return extraOf(all, t), nil
}

// extraOf is splitExtra of an object already read into all, which it
// takes over.
func extraOf(all map[string]json.RawMessage, t reflect.Type) Extra {
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			delete(all, name)
		}
	}
	if len(all) == 0 {
		return nil
	}
	return all
}

// appendExtra adds e's members, sorted by key, to the JSON object obj
// (written by encoding/json, so it ends in '}').
func appendExtra(obj []byte, e Extra, skip ...string) ([]byte, error) {
	if len(e) == 0 {
		return obj, nil
	}
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := bytes.NewBuffer(obj[:len(obj)-1])
	empty := bytes.Equal(bytes.TrimSpace(obj), []byte("{}"))
	for _, k := range keys {
		if contains(skip, k) {
			continue
		}
		if !json.Valid(e[k]) {
			return nil, fmt.Errorf("schema: extra key %q holds invalid JSON", k)
		}
		if !empty {
			b.WriteByte(',')
		}
		empty = false
		name, _ := json.Marshal(k)
		b.Write(name)
		b.WriteByte(':')
		b.Write(e[k])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// MarshalJSON writes the column with the keys the engine does not model.
func (c *Column) MarshalJSON() ([]byte, error) {
	type plain Column
	b, err := json.Marshal((*plain)(c))
	if err != nil {
		return nil, err
	}
	return appendExtra(b, c.Extra)
}

// MarshalJSON writes the section with the keys the engine does not model.
func (n *TableNormalizer) MarshalJSON() ([]byte, error) {
	type plain TableNormalizer
	b, err := json.Marshal((*plain)(n))
	if err != nil {
		return nil, err
	}
	return appendExtra(b, n.Extra)
}

// UnmarshalJSON reads the section, keeping keys the engine does not model.
func (n *TableNormalizer) UnmarshalJSON(data []byte) error {
	type plain TableNormalizer
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	extra, err := splitExtra(data, reflect.TypeFor[plain]())
	if err != nil {
		return err
	}
	*n = TableNormalizer(p)
	n.Extra = extra
	return nil
}

// readExtra keeps what of the document data schemaJSON does not model:
// unknown keys of the document, settings, normalizers and the json
// normalizer's config, the source's max_table_nesting, root propagation,
// and default hints and preferred types dlt was given.
func (s *Schema) readExtra(data []byte) error {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	// the document's own unknown keys, once the sections are read from it
	defer func() { s.extra = extraOf(doc, reflect.TypeFor[knownSchemaKeys]()) }()
	var err error
	if raw, ok := doc["settings"]; ok && !isNull(raw) {
		if s.settingsExtra, err = splitExtra(raw, reflect.TypeFor[settingsJSON]()); err != nil {
			return fmt.Errorf("settings: %w", err)
		}
		var st struct {
			DefaultHints json.RawMessage `json:"default_hints"`
		}
		if err := json.Unmarshal(raw, &st); err != nil {
			return fmt.Errorf("settings: %w", err)
		}
		if len(st.DefaultHints) > 0 && !isNull(st.DefaultHints) {
			def, _ := json.Marshal(defaultSettings().DefaultHints)
			if !sameJSON(def, st.DefaultHints) {
				s.defaultHints = st.DefaultHints
			}
		}
	}
	raw, ok := doc["normalizers"]
	if !ok || isNull(raw) {
		return nil
	}
	var norm struct {
		JSON struct {
			Config json.RawMessage `json:"config"`
		} `json:"json"`
	}
	if err := json.Unmarshal(raw, &norm); err != nil {
		return fmt.Errorf("normalizers: %w", err)
	}
	if s.normalizersExtra, err = splitExtra(raw, reflect.TypeFor[normalizersJSON]()); err != nil {
		return fmt.Errorf("normalizers: %w", err)
	}
	cfg := norm.JSON.Config
	if len(cfg) == 0 || isNull(cfg) {
		return nil
	}
	var c normalizerConfigJSON
	if err := json.Unmarshal(cfg, &c); err != nil {
		return fmt.Errorf("normalizers.json.config: %w", err)
	}
	s.MaxNesting = c.MaxNesting
	if c.Propagation != nil && len(c.Propagation.Root) > 0 {
		s.rootPropagation = c.Propagation.Root
	}
	if s.configExtra, err = splitExtra(cfg, reflect.TypeFor[normalizerConfigJSON]()); err != nil {
		return fmt.Errorf("normalizers.json.config: %w", err)
	}
	return nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
