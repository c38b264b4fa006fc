// Package pgtest gives tests a real PostgreSQL server: the one named by
// DLTHUB_TEST_POSTGRES, or a throwaway server it starts itself from the
// machine's PostgreSQL binaries (initdb, pg_ctl) on a free loopback port.
// Tests that need PostgreSQL where none can be had are skipped with a loud
// message that says why; they are never skipped silently.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names an existing server to use.
const EnvURL = "DLTHUB_TEST_POSTGRES"

// reasonEnv carries why no server could be started to the tests.
const reasonEnv = "DLTHUB_TEST_POSTGRES_UNAVAILABLE"

// Run is for TestMain: it makes sure a server is available (starting one
// when DLTHUB_TEST_POSTGRES is unset), runs the tests and stops the server
// it started.
func Run(m *testing.M) int {
	if os.Getenv(EnvURL) != "" {
		return m.Run()
	}
	stop, url, err := Start()
	if err != nil {
		_ = os.Setenv(reasonEnv, err.Error())
		fmt.Fprintf(os.Stderr, "\n*** PostgreSQL tests will be SKIPPED: %v ***\n\n", err)
		return m.Run()
	}
	_ = os.Setenv(EnvURL, url)
	code := m.Run()
	stop()
	return code
}

// URL returns a connection URL to a fresh, empty database, dropped when the
// test ends. Without a server the test is skipped with the reason.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		reason := os.Getenv(reasonEnv)
		if reason == "" {
			reason = "call pgtest.Run from TestMain or set " + EnvURL
		}
		t.Skipf("SKIPPED: no PostgreSQL server: %s", reason)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", base, err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer func() { _ = c.Close(ctx) }()
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", fmt.Errorf("no initdb found (install PostgreSQL, e.g. apt-get install postgresql, or set %s)", EnvURL)
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start initialises and starts a throwaway server in a temp dir on a free
// loopback port and returns a function that stops it and removes its files.
// As root it runs the server as the postgres user, which PostgreSQL
// requires. Benchmarks use it too.
func Start() (func(), string, error) {
	bin, err := binDir()
	if err != nil {
		return nil, "", err
	}
	dir, err := os.MkdirTemp("", "dlthub-pg-")
	if err != nil {
		return nil, "", err
	}
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	data := filepath.Join(dir, "data")
	run := func(args ...string) error {
		cmdline := strings.Join(args, " ")
		var cmd *exec.Cmd
		if os.Geteuid() == 0 {
			cmd = exec.Command("su", "postgres", "-s", "/bin/sh", "-c", cmdline)
		} else {
			cmd = exec.Command("/bin/sh", "-c", cmdline)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w: %s", cmdline, err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	if os.Geteuid() == 0 {
		if err := exec.Command("chown", "postgres", dir).Run(); err != nil {
			return nil, "", fmt.Errorf("chown %s: %w", dir, err)
		}
		_ = os.Chmod(dir, 0o755)
	}
	if err := run(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", ">/dev/null"); err != nil {
		return nil, "", err
	}
	opts := fmt.Sprintf("'-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off'", port, dir)
	if err := run(filepath.Join(bin, "pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start", ">/dev/null"); err != nil {
		return nil, "", err
	}
	stop := func() {
		_ = run(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "stop", ">/dev/null")
		_ = os.RemoveAll(dir)
	}
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		c, err := pgx.Connect(ctx, url)
		if err == nil {
			_ = c.Close(ctx)
			return stop, url, nil
		}
		if ctx.Err() != nil {
			stop()
			return nil, "", fmt.Errorf("server did not accept connections: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
