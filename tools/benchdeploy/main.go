// Command benchdeploy measures `dlthub deploy` of a 2,000-file workspace
// against a real local server (SQLite, file blobs, HTTP on loopback):
// packaging alone, a first deploy (scan, hash, tar.gz streamed to the
// server, checked and stored), and a no-op redeploy (scan plus one API call,
// nothing uploaded), each with configuration sync and reconciliation of 20
// jobs as deploy does. It prints one BENCH line per measurement.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gocloud.dev/blob/fileblob"
	"gocloud.dev/secrets/localsecrets"

	"github.com/dlthub/dlthub/internal/deploy"
	"github.com/dlthub/dlthub/internal/platform"
	"github.com/dlthub/dlthub/internal/server"
	"github.com/dlthub/dlthub/internal/store"
)

func main() {
	files := flag.Int("files", 2000, "files in the generated workspace")
	size := flag.Int("size", 2048, "bytes per file")
	flag.Parse()
	if err := run(*files, *size); err != nil {
		fmt.Fprintln(os.Stderr, "benchdeploy:", err)
		os.Exit(1)
	}
}

func run(n, size int) error {
	root, err := os.MkdirTemp("", "benchdeploy-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(root) }()
	body := strings.Repeat("x = 1  # generated\n", size/19+1)[:size]
	for i := range n {
		p := filepath.Join(root, fmt.Sprintf("pkg%02d", i%40), fmt.Sprintf("mod%04d.py", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf("# %d\n%s", i, body)), 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(root, ".gitignore"), []byte("*.pyc\n__pycache__/\n"), 0o644); err != nil {
		return err
	}

	start := time.Now()
	p, err := deploy.Scan(root, deploy.Options{})
	if err != nil {
		return err
	}
	scan := time.Since(start)
	cw := &countWriter{}
	if err := p.WriteTarGz(cw); err != nil {
		return err
	}
	full := time.Since(start)
	fmt.Printf("BENCH name=deploy_package files=%d bytes=%d scan_ms=%.1f total_ms=%.1f targz_bytes=%d\n",
		len(p.Files), p.Size, ms(scan), ms(full), cw.n)

	start = time.Now()
	again, err := deploy.Scan(root, deploy.Options{})
	if err != nil {
		return err
	}
	noop := time.Since(start)
	if again.Hash != p.Hash {
		return fmt.Errorf("hash changed without a change")
	}
	fmt.Printf("BENCH name=deploy_noop_rescan files=%d ms=%.1f\n", len(again.Files), ms(noop))
	return deployToServer(root)
}

// deployToServer runs the CLI's deploy steps against a local server.
func deployToServer(root string) error {
	ctx := context.Background()
	data, err := os.MkdirTemp("", "benchdeploy-server-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(data) }()
	st, err := store.OpenSQLite(ctx, filepath.Join(data, "dlthub.db"))
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	bucket, err := fileblob.OpenBucket(data, &fileblob.Options{NoTempDir: true})
	if err != nil {
		return err
	}
	defer func() { _ = bucket.Close() }()
	key, err := localsecrets.NewRandomKey()
	if err != nil {
		return err
	}
	srv := server.New(server.Config{Store: st, Blob: bucket, Keeper: localsecrets.NewKeeper(key), HashKey: key[:]})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	u, err := srv.CreateAccount(ctx, "bench@example.com", "Bench", "bench-password", "bench")
	if err != nil {
		return err
	}
	tok, err := srv.IssueToken(ctx, u.ID, "bench", time.Hour)
	if err != nil {
		return err
	}
	c := platform.New(ts.URL, tok)
	list, err := c.Workspaces(ctx)
	if err != nil || len(list) == 0 {
		return fmt.Errorf("workspaces (%d): %w", len(list), err)
	}
	wsID := list[0].ID

	// What deploy sends besides code: configuration and 20 jobs.
	cfg := []platform.ConfigFile{{Name: "config.toml", Content: "[runtime]\nlog_level = \"INFO\"\n"}, {Name: "prod.secrets.toml", Content: "[x]\npassword = \"p\"\n"}}
	var jobSpecs []platform.JobSpec
	for i := range 20 {
		jobSpecs = append(jobSpecs, platform.JobSpec{Ref: fmt.Sprintf("jobs.bench.j%02d", i), Hash: fmt.Sprint(i), Spec: []byte(`{"type":"batch"}`)})
	}
	syncRest := func() error {
		if _, _, err := c.SyncConfiguration(ctx, wsID, cfg); err != nil {
			return err
		}
		_, err := c.ReconcileJobs(ctx, wsID, jobSpecs)
		return err
	}
	files := 0
	deployOnce := func() (uploaded bool, err error) {
		defer func() {
			if err == nil {
				err = syncRest()
			}
		}()
		p, err := deploy.Scan(root, deploy.Options{})
		if err != nil {
			return false, err
		}
		files = len(p.Files)
		ds, err := c.Deployments(ctx, wsID)
		if err != nil {
			return false, err
		}
		if len(ds) > 0 && ds[0].ContentHash == p.Hash {
			return false, nil
		}
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(p.WriteTarGz(pw)) }()
		_, _, err = c.Deploy(ctx, wsID, pr, p.Hash)
		return true, err
	}
	start := time.Now()
	if up, err := deployOnce(); err != nil || !up {
		return fmt.Errorf("first deploy: uploaded=%v: %w", up, err)
	}
	first := time.Since(start)
	start = time.Now()
	if up, err := deployOnce(); err != nil || up {
		return fmt.Errorf("no-op deploy: uploaded=%v: %w", up, err)
	}
	noop := time.Since(start)
	fmt.Printf("BENCH name=deploy_first files=%d ms=%.1f\n", files, ms(first))
	fmt.Printf("BENCH name=deploy_noop files=%d ms=%.1f target_ms=300\n", files, ms(noop))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
