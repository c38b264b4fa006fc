package workspace

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlthub/dlthub/internal/atomicfile"
	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/tomledit"
)

// Action is what init does with one file.
type Action string

// Plan actions.
const (
	Create   Action = "CREATE"
	Keep     Action = "KEEP"
	Update   Action = "UPDATE"
	Conflict Action = "CONFLICT"
)

// PlanItem is one file of the init plan.
type PlanItem struct {
	Action Action `json:"action"`
	Path   string `json:"path"` // relative to the workspace root, slash-separated
	Detail string `json:"detail,omitempty"`
	// Fatal conflicts stop init even with --force.
	Fatal bool `json:"-"`
	apply func() error
}

// InitOptions configure init.
type InitOptions struct {
	// Dir is the directory to make a workspace of.
	Dir string
	// Folder is the configuration folder name (.dlt).
	Folder string
	// Name goes to [workspace.settings] name; default: Dir's basename.
	Name string
}

// Plan is what init will do.
type Plan struct {
	Root  string     `json:"root"`
	Name  string     `json:"name"`
	Items []PlanItem `json:"items"`
}

// Conflicts counts conflicting items.
func (p *Plan) Conflicts() (n int, fatal bool) {
	for _, it := range p.Items {
		if it.Action == Conflict {
			n++
			fatal = fatal || it.Fatal
		}
	}
	return n, fatal
}

// ConflictError stops init before anything is written.
type ConflictError struct {
	N     int
	Fatal bool
}

func (e *ConflictError) Error() string {
	if e.Fatal {
		return fmt.Sprintf("%d conflict(s) that init cannot work around; nothing was written. Fix the paths marked [CONFLICT] and run init again", e.N)
	}
	return fmt.Sprintf("%d conflict(s); nothing was written. Resolve them, or run init with --force to create the other files and leave the conflicting ones as they are", e.N)
}

// GitignoreEntries are the lines a workspace's .gitignore must have.
func GitignoreEntries(folder string) []string {
	return []string{
		"secrets.toml",
		"*.secrets.toml",
		folder + "/" + PinFile,
		folder + "/state",
		folder + "/data",
		"*.duckdb",
		"*.wal",
	}
}

// ConfigTemplate is the config.toml that init writes.
func ConfigTemplate(folder, name string) string {
	q, _ := tomledit.EncodeValue(name)
	return fmt.Sprintf(`# Workspace configuration, committed to git. Values here apply to every
# profile; profile values go in %[1]s/<profile>.config.toml (dev, tests, prod,
# access or your own) and secrets in %[1]s/secrets.toml or
# %[1]s/<profile>.secrets.toml, which git ignores. Environment variables win
# over files: [runtime] log_level is RUNTIME__LOG_LEVEL.

[runtime]
log_level = "WARNING"
dlthub_telemetry = true
# api_base_url = "http://127.0.0.1:8765"  # a self-hosted dlthub server

[workspace.settings]
name = %[2]s
`, folder, q)
}

// SecretsTemplate is the secrets.toml that init writes.
func SecretsTemplate(folder string) string {
	return fmt.Sprintf(`# Workspace secrets: never commit this file (it is in .gitignore).
# Profile secrets go in %s/<profile>.secrets.toml. For example:
#
# [destination.warehouse.credentials]
# password = "..."
`, folder)
}

// PlanInit works out what init would do in o.Dir without writing anything.
func PlanInit(o InitOptions) (*Plan, error) {
	folder := o.Folder
	if folder == "" {
		folder = DefaultConfigFolder
	}
	root, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("init: %s is not a directory", root)
	}
	name := o.Name
	if name == "" {
		name = filepath.Base(root)
	}
	p := &Plan{Root: root, Name: name}
	add := func(it PlanItem) { p.Items = append(p.Items, it) }
	rel := func(parts ...string) string { return filepath.ToSlash(filepath.Join(parts...)) }
	dir := filepath.Join(root, folder)

	if outer := findUp(filepath.Dir(root), folder); outer != "" {
		add(PlanItem{Action: Conflict, Path: rel(folder), Detail: fmt.Sprintf("inside the workspace %s; --force makes a nested workspace here", outer)})
	}
	if st, ok := exists(dir); ok && !st.IsDir() {
		add(PlanItem{Action: Conflict, Path: rel(folder), Detail: "exists and is not a directory", Fatal: true})
		return p, nil
	}
	mkdir := func() error { return os.MkdirAll(dir, 0o755) }

	// Files: never overwritten.
	type file struct {
		name, body string
		check      func(b []byte) *PlanItem
	}
	files := []file{
		{name: "config.toml", body: ConfigTemplate(folder, name), check: func(b []byte) *PlanItem {
			doc, err := config.ParseTOML(rel(folder, "config.toml"), b)
			if err != nil {
				return &PlanItem{Action: Conflict, Detail: err.Error() + "; kept as is"}
			}
			if o.Name != "" {
				if existing := settingsName(doc); existing != "" && existing != o.Name {
					return &PlanItem{Action: Conflict, Detail: fmt.Sprintf("workspace name is %q, not %q; kept (change it with `dlthub config set workspace.settings.name %s`)", existing, o.Name, o.Name)}
				}
			}
			return nil
		}},
		{name: "secrets.toml", body: SecretsTemplate(folder)},
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		st, ok := exists(path)
		switch {
		case ok && !st.Mode().IsRegular():
			add(PlanItem{Action: Conflict, Path: rel(folder, f.name), Detail: "exists and is not a regular file", Fatal: true})
		case ok:
			it := PlanItem{Action: Keep, Path: rel(folder, f.name), Detail: "never overwritten"}
			if f.check != nil {
				b, err := os.ReadFile(path)
				if err != nil {
					return nil, fmt.Errorf("init: read %s: %w", path, err)
				}
				if c := f.check(b); c != nil {
					c.Path = it.Path
					it = *c
				}
			}
			add(it)
		default:
			body := f.body
			add(PlanItem{Action: Create, Path: rel(folder, f.name), apply: func() error {
				if err := mkdir(); err != nil {
					return err
				}
				return writeNew(path, []byte(body), 0o644)
			}})
		}
	}

	// .gitignore: missing lines are appended, nothing is removed.
	gi := filepath.Join(root, ".gitignore")
	st, ok := exists(gi)
	switch {
	case ok && !st.Mode().IsRegular():
		add(PlanItem{Action: Conflict, Path: ".gitignore", Detail: "exists and is not a regular file", Fatal: true})
	case ok:
		b, err := os.ReadFile(gi)
		if err != nil {
			return nil, fmt.Errorf("init: read %s: %w", gi, err)
		}
		missing := missingLines(b, GitignoreEntries(folder))
		if len(missing) == 0 {
			add(PlanItem{Action: Keep, Path: ".gitignore", Detail: "has every entry"})
		} else {
			add(PlanItem{Action: Update, Path: ".gitignore", Detail: "append " + strings.Join(missing, " "), apply: func() error {
				return appendLines(gi, b, missing)
			}})
		}
	default:
		body := "# dlthub workspace\n" + strings.Join(GitignoreEntries(folder), "\n") + "\n"
		add(PlanItem{Action: Create, Path: ".gitignore", apply: func() error { return writeNew(gi, []byte(body), 0o644) }})
	}

	// The marker goes last, so a workspace only exists once it is complete.
	marker := filepath.Join(dir, MarkerFile)
	if st, ok := exists(marker); ok {
		if st.Mode().IsRegular() {
			add(PlanItem{Action: Keep, Path: rel(folder, MarkerFile)})
		} else {
			add(PlanItem{Action: Conflict, Path: rel(folder, MarkerFile), Detail: "exists and is not a regular file", Fatal: true})
		}
	} else {
		add(PlanItem{Action: Create, Path: rel(folder, MarkerFile), Detail: "marks the workspace root", apply: func() error {
			if err := mkdir(); err != nil {
				return err
			}
			return writeNew(marker, nil, 0o644)
		}})
	}
	return p, nil
}

func settingsName(doc map[string]any) string {
	ws, _ := doc["workspace"].(map[string]any)
	settings, _ := ws["settings"].(map[string]any)
	s, _ := settings["name"].(string)
	return s
}

// Apply carries out the plan. Conflicts stop it before anything is written
// unless force is set (fatal conflicts always stop it).
func (p *Plan) Apply(force bool) error {
	if n, fatal := p.Conflicts(); n > 0 && (fatal || !force) {
		return &ConflictError{N: n, Fatal: fatal}
	}
	for _, it := range p.Items {
		if it.apply == nil {
			continue
		}
		if err := it.apply(); err != nil {
			return fmt.Errorf("init: write %s: %w", it.Path, describeWriteError(err))
		}
	}
	return nil
}

func describeWriteError(err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w (is the workspace read-only? check the directory's permissions)", err)
	}
	return err
}

// writeNew creates path and fails if it already exists, so a race with
// another writer never overwrites a file.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return err
	}
	return f.Close()
}

func normalizeIgnore(line string) string {
	l := strings.TrimSpace(line)
	l = strings.TrimPrefix(l, "/")
	return strings.TrimSuffix(l, "/")
}

func missingLines(content []byte, want []string) []string {
	have := map[string]bool{}
	for _, l := range strings.Split(string(content), "\n") {
		have[normalizeIgnore(l)] = true
	}
	var missing []string
	for _, w := range want {
		if !have[normalizeIgnore(w)] {
			missing = append(missing, w)
		}
	}
	return missing
}

func appendLines(path string, content []byte, lines []string) error {
	var b bytes.Buffer
	b.Write(content)
	if len(content) > 0 && !bytes.HasSuffix(content, []byte("\n")) {
		b.WriteByte('\n')
	}
	b.WriteString("# dlthub workspace\n")
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return atomicfile.Write(path, b.Bytes(), 0o644)
}
