// Command benchdeploy measures packaging a 2,000-file workspace the way
// `dlthub deploy` does (scan with .gitignore, hash, tar.gz) and a re-scan of
// unchanged code, which is what a no-op redeploy costs on the client. It
// prints one BENCH line per measurement; upload and reconcile join it when
// deploy talks to the server.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/deploy"
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
	fmt.Printf("BENCH name=deploy_noop_rescan files=%d ms=%.1f target_ms=300\n", len(again.Files), ms(noop))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
