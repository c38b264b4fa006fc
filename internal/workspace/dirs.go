package workspace

import (
	"path/filepath"

	"github.com/dlthub/dlthub/internal/config"
)

// Dirs are a profile's working directories.
type Dirs struct {
	// Data holds pipeline working dirs (state, schemas, load packages):
	// .dlt/state/<profile> by default.
	Data string
	// Local holds locally loaded data (DuckDB files, filesystem
	// destination): .dlt/data/<profile> by default.
	Local string
	// DataSource and LocalSource say where each came from.
	DataSource, LocalSource string
}

// Dirs computes the profile's directories: DLT_DATA_DIR / DLT_LOCAL_DIR
// first, then [workspace.settings] working_dir / local_dir (through the
// normal config lookup, so WORKSPACE__SETTINGS__WORKING_DIR works too), then
// the defaults. Overrides are used as given; relative ones are relative to
// the workspace root.
func (w *Workspace) Dirs(env Env, r *config.Resolver, profile string) Dirs {
	d := Dirs{
		Data:        w.Path("state", profile),
		Local:       w.Path("data", profile),
		DataSource:  SourceDefault,
		LocalSource: SourceDefault,
	}
	pick := func(envName, setting string, dst, src *string) {
		if v := env.Get(envName); v != "" {
			*dst, *src = w.abs(v), envName
			return
		}
		res, err := r.Lookup(config.Key{Fixed: []string{"workspace", "settings"}, Name: setting})
		if err == nil && res.Found {
			if s, ok := res.Value.(string); ok && s != "" {
				*dst, *src = w.abs(s), "workspace.settings."+setting+" ("+res.Winner.Origin+")"
			}
		}
	}
	pick("DLT_DATA_DIR", "working_dir", &d.Data, &d.DataSource)
	pick("DLT_LOCAL_DIR", "local_dir", &d.Local, &d.LocalSource)
	return d
}

func (w *Workspace) abs(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(w.Root, p)
}
