// Package artifact is how the control plane keeps what deploy sends, in the
// blob bucket: code packages by content hash, and configuration bundles
// sealed with the workspace's data key (internal/keys). The API writes them and workers
// read them back, so both go through here.
package artifact

import (
	"context"
	"encoding/json"
	"fmt"

	"gocloud.dev/blob"

	"github.com/dlthub/dlthub/internal/keys"
)

// ConfigFile is one synced configuration file.
type ConfigFile struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

// PackageKey is where a workspace's code package with this content hash
// lives.
func PackageKey(workspaceID, hash string) string {
	return "packages/" + workspaceID + "/" + hash + ".tar.gz"
}

// ConfigurationKey is where a configuration version's sealed bundle lives.
func ConfigurationKey(workspaceID, id string) string {
	return "configurations/" + workspaceID + "/" + id + ".enc"
}

// Bundle is the plain form of a configuration version (before sealing).
func Bundle(files []ConfigFile) []byte {
	b, _ := json.Marshal(files) // strings always marshal
	return b
}

// WriteConfiguration seals files with the workspace's data key and stores
// them at key.
func WriteConfiguration(ctx context.Context, bucket *blob.Bucket, ring *keys.Ring, workspaceID, key string, files []ConfigFile) error {
	sealed, err := ring.Seal(ctx, workspaceID, Bundle(files))
	if err != nil {
		return fmt.Errorf("encrypt the configuration: %w", err)
	}
	if err := bucket.WriteAll(ctx, key, sealed, &blob.WriterOptions{ContentType: "application/octet-stream"}); err != nil {
		return fmt.Errorf("store the configuration: %w", err)
	}
	return nil
}

// ReadConfiguration reads and unseals the workspace's bundle at key.
func ReadConfiguration(ctx context.Context, bucket *blob.Bucket, ring *keys.Ring, workspaceID, key string) ([]ConfigFile, error) {
	sealed, err := bucket.ReadAll(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read the configuration: %w", err)
	}
	bundle, err := ring.Open(ctx, workspaceID, sealed)
	if err != nil {
		return nil, fmt.Errorf("decrypt the configuration: %w", err)
	}
	var files []ConfigFile
	if err := json.Unmarshal(bundle, &files); err != nil {
		return nil, fmt.Errorf("the configuration is unreadable: %w", err)
	}
	return files, nil
}
