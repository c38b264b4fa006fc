package keys_test

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"

	"gocloud.dev/secrets/localsecrets"

	"github.com/dlthub/dlthub/internal/keys"
	"github.com/dlthub/dlthub/internal/store"
)

func setup(t *testing.T) (store.Store, [32]byte, string, string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	u, _ := st.CreateUser(ctx, store.User{Email: "a@x"})
	org, _ := st.CreateOrg(ctx, "acme", u.ID)
	a, _ := st.CreateWorkspace(ctx, org.ID, "a")
	b, _ := st.CreateWorkspace(ctx, org.ID, "b")
	key, _ := localsecrets.NewRandomKey()
	return st, key, a.ID, b.ID
}

// Each workspace's secrets are sealed with its own data key: another
// workspace's key does not open them, the stored (wrapped) key is not the
// key, and another ring over the same master key and store opens them.
func TestEachWorkspaceHasItsOwnDataKey(t *testing.T) {
	ctx := context.Background()
	st, master, a, b := setup(t)
	ring := keys.NewRing(localsecrets.NewKeeper(master), st)
	sealed, err := ring.Seal(ctx, a, []byte("password = \"hunter2-long\""))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("sealed data holds the plain text")
	}
	if _, err := ring.Open(ctx, b, sealed); err == nil {
		t.Error("workspace b's key opened workspace a's secrets")
	}
	// A fresh ring (another process) over the same master key and store.
	other := keys.NewRing(localsecrets.NewKeeper(master), st)
	plain, err := other.Open(ctx, a, sealed)
	if err != nil || string(plain) != "password = \"hunter2-long\"" {
		t.Fatalf("reopen: %q %v", plain, err)
	}
	// Another master key cannot unwrap the data key.
	wrong, _ := localsecrets.NewRandomKey()
	if _, err := keys.NewRing(localsecrets.NewKeeper(wrong), st).Open(ctx, a, sealed); err == nil {
		t.Error("another master key opened the secrets")
	}
	// The master key alone does not open data-key sealed data.
	if _, err := localsecrets.NewKeeper(master).Decrypt(ctx, sealed); err == nil {
		t.Error("the master key opened data sealed with a data key")
	}
	wa, _ := st.WorkspaceKey(ctx, a)
	wb, err := st.WorkspaceKey(ctx, b)
	if wa == "" || err == nil || wb != "" {
		t.Errorf("keys: a %q, b %q (%v): want a key for a only (b sealed nothing)", wa, wb, err)
	}
	v, err := ring.SealValue(ctx, b, "api-token-123")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := other.OpenValue(ctx, b, v); err != nil || got != "api-token-123" {
		t.Errorf("value: %q %v", got, err)
	}
	if _, err := ring.OpenValue(ctx, a, v); err == nil {
		t.Error("workspace a's key opened workspace b's value")
	}
}

// What the master key sealed before data keys existed still opens.
func TestLegacySealedDataStillOpens(t *testing.T) {
	ctx := context.Background()
	st, master, a, _ := setup(t)
	k := localsecrets.NewKeeper(master)
	old, _ := k.Encrypt(ctx, []byte("from before"))
	ring := keys.NewRing(k, st)
	if got, err := ring.Open(ctx, a, old); err != nil || string(got) != "from before" {
		t.Errorf("legacy blob: %q %v", got, err)
	}
	if _, err := ring.Open(ctx, a, []byte("garbage")); err == nil {
		t.Error("garbage opened")
	}
	if _, err := ring.OpenValue(ctx, a, "dk1:!!!"); err == nil {
		t.Error("a damaged value opened")
	}
	var none *keys.Ring
	if _, err := none.Seal(ctx, a, []byte("x")); err == nil {
		t.Error("a ring without a master key sealed")
	}
}

// Two processes sealing a workspace's first secret at once end up with one
// data key: both can open what the other sealed.
func TestFirstKeyRace(t *testing.T) {
	ctx := context.Background()
	st, master, a, _ := setup(t)
	rings := []*keys.Ring{keys.NewRing(localsecrets.NewKeeper(master), st), keys.NewRing(localsecrets.NewKeeper(master), st)}
	sealed := make([][]byte, 2)
	var wg sync.WaitGroup
	for i := range rings {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if sealed[i], err = rings[i].Seal(ctx, a, []byte("x")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range rings {
		if _, err := rings[1-i].Open(ctx, a, sealed[i]); err != nil {
			t.Errorf("ring %d cannot open ring %d's: %v", 1-i, i, err)
		}
	}
}
