package pipeline

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
)

// State is a pipeline's persisted state, laid out as dlt lays it out.
type State struct {
	PipelineName      string         `json:"pipeline_name"`
	DatasetName       string         `json:"dataset_name"`
	DefaultSchemaName string         `json:"default_schema_name"`
	SchemaNames       []string       `json:"schema_names"`
	Destination       string         `json:"destination_name"`
	DestinationType   string         `json:"destination_type"`
	StateVersion      int64          `json:"_state_version"`
	VersionHash       string         `json:"_version_hash"`
	EngineVersion     int64          `json:"_state_engine_version"`
	Sources           map[string]any `json:"sources"`
	LocalLoadID       string         `json:"_local_load_id,omitempty"`
}

// maxStateBytes bounds a stored state once decompressed; dlt's are KiBs
// to a few MiBs (boundary hashes, file lists).
const maxStateBytes = 256 << 20

// StateEngineVersion is dlt's pipeline state engine version.
const StateEngineVersion = 4

// resourceState returns (creating) sources.<schema>.resources.<name>.
func (s *State) resourceState(source, name string) map[string]any {
	if s.Sources == nil {
		s.Sources = map[string]any{}
	}
	src, _ := s.Sources[source].(map[string]any)
	if src == nil {
		src = map[string]any{}
		s.Sources[source] = src
	}
	res, _ := src["resources"].(map[string]any)
	if res == nil {
		res = map[string]any{}
		src["resources"] = res
	}
	r, _ := res[name].(map[string]any)
	if r == nil {
		r = map[string]any{}
		res[name] = r
	}
	return r
}

// resetResourceState forgets a resource's state (its cursors too), as dlt
// does before extracting a replace resource: each run of it starts over.
func (s *State) resetResourceState(source, name string) {
	src, _ := s.Sources[source].(map[string]any)
	if res, _ := src["resources"].(map[string]any); res != nil {
		delete(res, name)
	}
}

// hash is the content hash of the user-visible state.
func (s *State) hash() string {
	b, _ := json.Marshal(s.Sources)
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Bump increases the version when the content changed.
func (s *State) Bump() bool {
	h := s.hash()
	if h == s.VersionHash {
		return false
	}
	s.StateVersion++
	s.VersionHash = h
	return true
}

// Compress encodes state the way dlt stores it in _dlt_pipeline_state:
// JSON, zlib, base64.
func (s *State) Compress() (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	w, _ := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if _, err := w.Write(b); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// DecompressState reads state stored by Compress (or by dlt). As dlt's
// decompress_state, text that is not base64 is read as the state's JSON
// itself.
func DecompressState(s string) (*State, error) {
	b := []byte(s)
	if raw, err := base64.StdEncoding.DecodeString(s); err == nil {
		r, err := zlib.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("decompress stored state: %w", err)
		}
		// Bounded: the row comes from the destination, and a few KiB of
		// zlib inflate to GiBs.
		if b, err = io.ReadAll(io.LimitReader(r, maxStateBytes+1)); err != nil {
			return nil, fmt.Errorf("decompress stored state: %w", err)
		}
		if len(b) > maxStateBytes {
			return nil, fmt.Errorf("decompress stored state: larger than %d MiB: not a pipeline state (check the destination's _dlt_pipeline_state table)", maxStateBytes>>20)
		}
	}
	st := &State{}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("parse stored state: %w", err)
	}
	return st, nil
}
