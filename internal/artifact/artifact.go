// Package artifact is how the control plane keeps what deploy sends, in the
// blob bucket: code packages by content hash, and configuration bundles
// sealed with the server's secrets keeper. The API writes them and workers
// read them back, so both go through here.
package artifact

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"gocloud.dev/blob"
	"gocloud.dev/secrets"
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

// WriteConfiguration seals files with keeper and stores them at key.
func WriteConfiguration(ctx context.Context, bucket *blob.Bucket, keeper *secrets.Keeper, key string, files []ConfigFile) error {
	sealed, err := keeper.Encrypt(ctx, Bundle(files))
	if err != nil {
		return fmt.Errorf("encrypt the configuration: %w", err)
	}
	if err := bucket.WriteAll(ctx, key, sealed, &blob.WriterOptions{ContentType: "application/octet-stream"}); err != nil {
		return fmt.Errorf("store the configuration: %w", err)
	}
	return nil
}

// ReadConfiguration reads and unseals the bundle at key.
func ReadConfiguration(ctx context.Context, bucket *blob.Bucket, keeper *secrets.Keeper, key string) ([]ConfigFile, error) {
	sealed, err := bucket.ReadAll(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read the configuration: %w", err)
	}
	bundle, err := keeper.Decrypt(ctx, sealed)
	if err != nil {
		return nil, fmt.Errorf("decrypt the configuration (was secrets.key replaced?): %w", err)
	}
	var files []ConfigFile
	if err := json.Unmarshal(bundle, &files); err != nil {
		return nil, fmt.Errorf("the configuration is unreadable: %w", err)
	}
	return files, nil
}

// SealValue encrypts a secret variable's value for the store.
func SealValue(ctx context.Context, keeper *secrets.Keeper, plain string) (string, error) {
	b, err := keeper.Encrypt(ctx, []byte(plain))
	if err != nil {
		return "", fmt.Errorf("encrypt the value: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// OpenValue decrypts what SealValue made.
func OpenValue(ctx context.Context, keeper *secrets.Keeper, sealed string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", fmt.Errorf("the sealed value is damaged: %w", err)
	}
	plain, err := keeper.Decrypt(ctx, b)
	if err != nil {
		return "", fmt.Errorf("decrypt the value (was secrets.key replaced?): %w", err)
	}
	return string(plain), nil
}
