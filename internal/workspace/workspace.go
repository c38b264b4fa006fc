// Package workspace finds and scaffolds dlt workspaces and knows their
// profiles and per-profile directories. A workspace is a directory holding
// .dlt/.workspace; the nearest one from the current directory upward is used,
// like git.
package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlthub/dlthub/internal/config"
)

// DefaultConfigFolder is the name of the configuration folder.
const DefaultConfigFolder = ".dlt"

// MarkerFile marks a directory as a workspace root.
const MarkerFile = ".workspace"

// Env is what the workspace code reads from the process, injected so tests
// and in-process callers control it.
type Env struct {
	// LookupEnv reads environment variables.
	LookupEnv func(string) (string, bool)
	// Cwd is the current directory.
	Cwd string
	// Home is the user's home directory; empty when unknown.
	Home string
}

// Get returns an environment variable or "".
func (e Env) Get(key string) string {
	if e.LookupEnv == nil {
		return ""
	}
	v, _ := e.LookupEnv(key)
	return v
}

// ConfigFolder is the configuration folder name (DLT_CONFIG_FOLDER or .dlt).
func (e Env) ConfigFolder() string {
	if f := e.Get("DLT_CONFIG_FOLDER"); f != "" {
		return f
	}
	return DefaultConfigFolder
}

// GlobalDir is ~/.dlt, or "" without a home directory.
func (e Env) GlobalDir() string {
	if e.Home == "" {
		return ""
	}
	return filepath.Join(e.Home, DefaultConfigFolder)
}

// Workspace is a found workspace.
type Workspace struct {
	// Root is the absolute workspace directory.
	Root string
	// Folder is the configuration folder name (".dlt").
	Folder string
}

// ConfigDir is the absolute path of the configuration folder.
func (w *Workspace) ConfigDir() string { return filepath.Join(w.Root, w.Folder) }

// Path joins parts under the configuration folder.
func (w *Workspace) Path(parts ...string) string {
	return filepath.Join(append([]string{w.ConfigDir()}, parts...)...)
}

// Rel shows p relative to the workspace root when it is inside it.
func (w *Workspace) Rel(p string) string {
	if r, err := filepath.Rel(w.Root, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

// NotFoundError says there is no workspace here and how to make one.
type NotFoundError struct {
	Dir    string
	Folder string
	// Env is set when DLT_PROJECT_DIR pointed at the directory.
	Env bool
}

func (e *NotFoundError) Error() string {
	where := fmt.Sprintf("%s (or any parent directory)", e.Dir)
	if e.Env {
		where = fmt.Sprintf("%s (from DLT_PROJECT_DIR)", e.Dir)
	}
	return fmt.Sprintf("not a dlthub workspace: no %s/%s in %s\nrun `dlthub init` to make one, or `mkdir -p %s && touch %s/%s` to mark an existing dlt project",
		e.Folder, MarkerFile, where, e.Folder, e.Folder, MarkerFile)
}

// Find locates the workspace: DLT_PROJECT_DIR when set, else the nearest
// directory from Cwd upward that holds <folder>/.workspace.
func Find(env Env) (*Workspace, error) {
	folder := env.ConfigFolder()
	if dir := env.Get("DLT_PROJECT_DIR"); dir != "" {
		abs, err := absFrom(env.Cwd, dir)
		if err != nil {
			return nil, err
		}
		if !isFile(filepath.Join(abs, folder, MarkerFile)) {
			return nil, &NotFoundError{Dir: abs, Folder: folder, Env: true}
		}
		return &Workspace{Root: abs, Folder: folder}, nil
	}
	start, err := absFrom(env.Cwd, ".")
	if err != nil {
		return nil, err
	}
	if root := findUp(start, folder); root != "" {
		return &Workspace{Root: root, Folder: folder}, nil
	}
	return nil, &NotFoundError{Dir: start, Folder: folder}
}

// findUp returns the nearest directory from dir upward holding the marker.
func findUp(dir, folder string) string {
	for {
		if isFile(filepath.Join(dir, folder, MarkerFile)) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func absFrom(cwd, p string) (string, error) {
	if filepath.IsAbs(p) {
		return filepath.Clean(p), nil
	}
	if cwd == "" {
		var err error
		if cwd, err = os.Getwd(); err != nil {
			return "", fmt.Errorf("current directory: %w", err)
		}
	}
	return filepath.Join(cwd, p), nil
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func exists(p string) (fs.FileInfo, bool) {
	st, err := os.Lstat(p)
	if err != nil {
		return nil, false
	}
	return st, true
}

// Resolver builds the configuration resolver for a profile, reading the
// workspace's and the user's files for it. The access profile falls back to
// prod's files when it has none of its own; warn receives that notice.
func (w *Workspace) Resolver(env Env, p Profile, warn func(string)) (*config.Resolver, error) {
	fileProfile := p.Name
	if p.Name == "access" && !w.HasProfileFiles("access") {
		fileProfile = "prod"
		if warn != nil {
			warn("profile access has no .dlt/access.config.toml or access.secrets.toml; using prod's files")
		}
	}
	var ws string
	if w != nil {
		ws = w.ConfigDir()
	}
	r, err := config.New(config.Options{
		ConfigDir:   ws,
		GlobalDir:   env.GlobalDir(),
		Profile:     p.Name,
		FileProfile: fileProfile,
		LookupEnv:   env.LookupEnv,
		SecretsDir:  config.DefaultSecretsDir,
	})
	if err != nil {
		var fe *config.FileError
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("read configuration: %w (fix the file, then run the command again)", err)
		}
		return nil, err
	}
	return r, nil
}

// Name is [workspace.settings] name, or the root's basename.
func (w *Workspace) Name(r *config.Resolver) string {
	res, err := r.Lookup(config.Key{Fixed: []string{"workspace", "settings"}, Name: "name"})
	if err == nil && res.Found {
		if s, ok := res.Value.(string); ok && s != "" {
			return s
		}
	}
	return filepath.Base(w.Root)
}
