// Package keys is the control plane's envelope encryption (DESIGN §6.7a).
// Each workspace's secrets (its configuration bundles and secret
// variables) are sealed with a data key of its own; data keys are stored
// wrapped by the server's master key. A leaked data key opens one
// workspace only, the master key can be held by the API alone (workers on
// other machines get a run's configuration already opened, for that run
// only), and replacing the master key means re-wrapping small keys, not
// re-encrypting every blob.
//
// Data sealed before data keys existed (by the master key itself) is still
// opened, so an upgraded server reads what it stored before.
package keys

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"gocloud.dev/secrets"
	"gocloud.dev/secrets/localsecrets"

	"github.com/dlthub/dlthub/internal/store"
)

// Store is where wrapped data keys live.
type Store interface {
	WorkspaceKey(ctx context.Context, workspaceID string) (string, error)
	AddWorkspaceKey(ctx context.Context, workspaceID, wrapped string, at time.Time) (string, error)
}

// blobMagic starts what a data key sealed; anything else was sealed by the
// master key (before data keys).
const blobMagic = "DLTHUB-DK1\x00"

// valuePrefix starts a sealed value (base64) that a data key sealed.
const valuePrefix = "dk1:"

// Ring seals and opens workspaces' secrets with their data keys, making a
// workspace's key the first time it seals something.
type Ring struct {
	master *secrets.Keeper
	st     Store
	now    func() time.Time

	mu   sync.Mutex
	open map[string]*secrets.Keeper // unwrapped data keys by workspace
}

// ErrNoKey is sealing or opening on a ring without a master key.
var ErrNoKey = errors.New("this control plane has no master key (secrets.key)")

// NewRing is a ring over the master key and the store of wrapped keys;
// nil without a master key, whose every Seal and Open is ErrNoKey.
func NewRing(master *secrets.Keeper, st Store) *Ring {
	if master == nil {
		return nil
	}
	return &Ring{master: master, st: st, now: time.Now, open: map[string]*secrets.Keeper{}}
}

// keeper is the workspace's data key, made and stored when it has none.
func (r *Ring) keeper(ctx context.Context, workspaceID string, create bool) (*secrets.Keeper, error) {
	if r == nil {
		return nil, ErrNoKey
	}
	r.mu.Lock()
	k := r.open[workspaceID]
	r.mu.Unlock()
	if k != nil {
		return k, nil
	}
	wrapped, err := r.st.WorkspaceKey(ctx, workspaceID)
	if errors.Is(err, store.ErrNotFound) && create {
		var dk [32]byte
		if _, err := rand.Read(dk[:]); err != nil {
			return nil, fmt.Errorf("make the workspace's data key: %w", err)
		}
		w, err := r.master.Encrypt(ctx, dk[:])
		if err != nil {
			return nil, fmt.Errorf("wrap the workspace's data key: %w", err)
		}
		wrapped, err = r.st.AddWorkspaceKey(ctx, workspaceID, base64.StdEncoding.EncodeToString(w), r.now().UTC())
		if err != nil {
			return nil, fmt.Errorf("store the workspace's data key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read the workspace's data key: %w", err)
	}
	w, err := base64.StdEncoding.DecodeString(wrapped)
	if err != nil {
		return nil, fmt.Errorf("the workspace's data key is damaged: %w", err)
	}
	dk, err := r.master.Decrypt(ctx, w)
	if err != nil {
		return nil, fmt.Errorf("unwrap the workspace's data key (was secrets.key replaced?): %w", err)
	}
	if len(dk) != 32 {
		return nil, errors.New("the workspace's data key is damaged: not 32 bytes")
	}
	k = localsecrets.NewKeeper([32]byte(dk))
	r.mu.Lock()
	if had := r.open[workspaceID]; had != nil {
		_ = k.Close()
		k = had
	} else {
		r.open[workspaceID] = k
	}
	r.mu.Unlock()
	return k, nil
}

// Seal encrypts plain with the workspace's data key.
func (r *Ring) Seal(ctx context.Context, workspaceID string, plain []byte) ([]byte, error) {
	k, err := r.keeper(ctx, workspaceID, true)
	if err != nil {
		return nil, err
	}
	sealed, err := k.Encrypt(ctx, plain)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	return append([]byte(blobMagic), sealed...), nil
}

// Open decrypts what Seal made for the workspace, or what the master key
// sealed before data keys.
func (r *Ring) Open(ctx context.Context, workspaceID string, sealed []byte) ([]byte, error) {
	if rest, ok := bytes.CutPrefix(sealed, []byte(blobMagic)); ok {
		k, err := r.keeper(ctx, workspaceID, false)
		if err != nil {
			return nil, err
		}
		plain, err := k.Decrypt(ctx, rest)
		if err != nil {
			return nil, fmt.Errorf("decrypt with the workspace's data key (sealed for another workspace?): %w", err)
		}
		return plain, nil
	}
	if r == nil {
		return nil, ErrNoKey
	}
	plain, err := r.master.Decrypt(ctx, sealed)
	if err != nil {
		return nil, fmt.Errorf("decrypt (was secrets.key replaced?): %w", err)
	}
	return plain, nil
}

// SealValue seals a secret variable's value as text for the store.
func (r *Ring) SealValue(ctx context.Context, workspaceID, plain string) (string, error) {
	k, err := r.keeper(ctx, workspaceID, true)
	if err != nil {
		return "", err
	}
	sealed, err := k.Encrypt(ctx, []byte(plain))
	if err != nil {
		return "", fmt.Errorf("encrypt the value: %w", err)
	}
	return valuePrefix + base64.StdEncoding.EncodeToString(sealed), nil
}

// OpenValue opens what SealValue made (or, without the prefix, what the
// master key sealed before data keys).
func (r *Ring) OpenValue(ctx context.Context, workspaceID, sealed string) (string, error) {
	text, dataKey := strings.CutPrefix(sealed, valuePrefix)
	b, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return "", fmt.Errorf("the sealed value is damaged: %w", err)
	}
	if !dataKey {
		if r == nil {
			return "", ErrNoKey
		}
		plain, err := r.master.Decrypt(ctx, b)
		if err != nil {
			return "", fmt.Errorf("decrypt the value (was secrets.key replaced?): %w", err)
		}
		return string(plain), nil
	}
	k, err := r.keeper(ctx, workspaceID, false)
	if err != nil {
		return "", err
	}
	plain, err := k.Decrypt(ctx, b)
	if err != nil {
		return "", fmt.Errorf("decrypt the value with the workspace's data key: %w", err)
	}
	return string(plain), nil
}

// Close forgets the unwrapped data keys.
func (r *Ring) Close() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, k := range r.open {
		_ = k.Close()
		delete(r.open, id)
	}
	return nil
}
