package workspace

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func mkWorkspace(t *testing.T, dir, folder string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, folder), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, folder, MarkerFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func envWith(cwd string, vars map[string]string) Env {
	return Env{Cwd: cwd, LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	mkWorkspace(t, root, ".dlt")
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	// A .dlt folder without the marker is not a workspace.
	if err := os.MkdirAll(filepath.Join(root, "a", ".dlt"), 0o755); err != nil {
		t.Fatal(err)
	}
	ws, err := Find(envWith(deep, nil))
	if err != nil || ws.Root != root {
		t.Fatalf("upward: %v %v", ws, err)
	}
	other := t.TempDir()
	mkWorkspace(t, other, "_cfg")
	ws, err = Find(envWith(deep, map[string]string{"DLT_PROJECT_DIR": other, "DLT_CONFIG_FOLDER": "_cfg"}))
	if err != nil || ws.Root != other || ws.ConfigDir() != filepath.Join(other, "_cfg") {
		t.Fatalf("DLT_PROJECT_DIR: %v %v", ws, err)
	}
	_, err = Find(envWith(deep, map[string]string{"DLT_PROJECT_DIR": other}))
	var nf *NotFoundError
	if !errors.As(err, &nf) || !nf.Env {
		t.Fatalf("DLT_PROJECT_DIR without marker: %v", err)
	}
	_, err = Find(envWith(t.TempDir(), nil))
	if !errors.As(err, &nf) || nf.Env {
		t.Fatalf("outside: %v", err)
	}
}

func TestActiveProfilePrecedence(t *testing.T) {
	root := t.TempDir()
	mkWorkspace(t, root, ".dlt")
	ws := &Workspace{Root: root, Folder: ".dlt"}
	cases := []struct {
		name       string
		flag, env  string
		pinned     string
		want, from string
	}{
		{"default", "", "", "", "dev", SourceDefault},
		{"pinned", "", "", "prod", "prod", SourcePinned},
		{"env beats pinned", "", "tests", "prod", "tests", SourceEnv},
		{"flag beats env", "access", "tests", "prod", "access", SourceFlag},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_ = os.Remove(ws.Path(PinFile))
			if tc.pinned != "" {
				if err := ws.Pin(tc.pinned); err != nil {
					t.Fatal(err)
				}
			}
			p, err := ActiveProfile(ws, envWith(root, map[string]string{"WORKSPACE__PROFILE": tc.env}), tc.flag)
			if err != nil || p.Name != tc.want || p.Source != tc.from {
				t.Errorf("got %+v, %v; want %s from %s", p, err, tc.want, tc.from)
			}
		})
	}
	if _, err := ActiveProfile(ws, envWith(root, map[string]string{"WORKSPACE__PROFILE": "a/b"}), ""); err == nil {
		t.Error("invalid profile name from env accepted")
	}
}

func TestDirsOverrides(t *testing.T) {
	root := t.TempDir()
	mkWorkspace(t, root, ".dlt")
	ws := &Workspace{Root: root, Folder: ".dlt"}
	if err := os.WriteFile(ws.Path("config.toml"), []byte("[workspace.settings]\nlocal_dir = \"lake\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := envWith(root, map[string]string{"DLT_DATA_DIR": "/var/dlt"})
	r, err := ws.Resolver(env, Profile{Name: "dev"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := ws.Dirs(env, r, "dev")
	if d.Data != "/var/dlt" || d.DataSource != "DLT_DATA_DIR" || d.Local != filepath.Join(root, "lake") {
		t.Errorf("got %+v", d)
	}
	d = ws.Dirs(envWith(root, nil), r, "prod")
	if d.Data != filepath.Join(root, ".dlt", "state", "prod") {
		t.Errorf("default data dir: %+v", d)
	}
}

func TestAccessFallsBackToProd(t *testing.T) {
	root := t.TempDir()
	mkWorkspace(t, root, ".dlt")
	ws := &Workspace{Root: root, Folder: ".dlt"}
	if err := os.WriteFile(ws.Path("prod.config.toml"), []byte("x = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var warned string
	r, err := ws.Resolver(envWith(root, nil), Profile{Name: "access"}, func(s string) { warned = s })
	if err != nil {
		t.Fatal(err)
	}
	if warned == "" || r.Profile != "access" || r.Files()[0].Path != ws.Path("prod.secrets.toml") {
		t.Errorf("warned=%q files=%v", warned, r.Files())
	}
	if err := os.WriteFile(ws.Path("access.secrets.toml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	warned = ""
	r, _ = ws.Resolver(envWith(root, nil), Profile{Name: "access"}, func(s string) { warned = s })
	if warned != "" || r.Files()[0].Path != ws.Path("access.secrets.toml") {
		t.Errorf("with access files: warned=%q files=%v", warned, r.Files())
	}
}
