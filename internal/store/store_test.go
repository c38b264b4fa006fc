package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/pgtest"
	"github.com/dlthub/dlthub/internal/store"
	"github.com/dlthub/dlthub/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "dlthub.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.OpenPostgres(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// Reopening runs no migration twice and keeps the data.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dlthub.db")
	ctx := context.Background()
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, store.User{Email: "a@x"}); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	s, err = store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if n, _ := s.CountUsers(ctx); n != 1 {
		t.Errorf("users after reopen: %d", n)
	}
}

// Servers starting together against one fresh PostgreSQL database migrate
// it once: the others wait and find it done.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := store.OpenPostgres(ctx, url)
			if err == nil {
				_ = s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// Issue 11: two servers on one SQLite file lost 3 % of their writes to
// "database is locked". Write transactions take the write lock up front
// and wait for it, so two stores writing at once (each its own process in
// production) all succeed.
func TestTwoSQLiteStoresWriteConcurrently(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dlthub.db")
	var stores []store.Store
	for range 2 {
		s, err := store.OpenSQLite(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores = append(stores, s)
	}
	u, err := stores[0].CreateUser(ctx, store.User{Email: "ann@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	org, err := stores[0].CreateOrg(ctx, "acme", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := stores[0].CreateWorkspace(ctx, org.ID, "analytics")
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	for i, s := range stores {
		for _, kind := range []string{"run", "variable"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range n {
					var err error
					if kind == "run" {
						_, err = s.CreateRun(ctx, store.Run{WorkspaceID: ws.ID, JobRef: "jobs.a.b", Trigger: "manual", Profile: "prod",
							Status: store.RunPending, DeploymentVersion: 1, CreatedBy: u.ID, CreatedAt: time.Now().UTC()})
					} else {
						err = s.SetVariable(ctx, store.Variable{WorkspaceID: ws.ID, Name: fmt.Sprintf("V_%d_%d", i, j), Value: "x", UpdatedBy: u.ID, UpdatedAt: time.Now().UTC()})
					}
					if err != nil {
						errs <- fmt.Errorf("store %d %s %d: %w", i, kind, j, err)
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if failed++; failed <= 3 {
			t.Error(err)
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d writes failed", failed, 4*n)
	}
	runs, err := stores[1].Runs(ctx, ws.ID, "", store.Page{})
	if err != nil || len(runs) != 2*n {
		t.Errorf("%d runs (%v), want %d", len(runs), err, 2*n)
	}
	vs, err := stores[0].Variables(ctx, ws.ID)
	if err != nil || len(vs) != 2*n {
		t.Errorf("%d variables (%v), want %d", len(vs), err, 2*n)
	}
}

// Servers starting together on one fresh SQLite file migrate it once: the
// others wait for the write lock and find each migration done.
func TestConcurrentSQLiteOpenMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dlthub.db")
	ctx := context.Background()
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := store.OpenSQLite(ctx, path)
			if err == nil {
				_ = s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
