package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dlthub/dlthub/internal/suggest"
	"github.com/dlthub/dlthub/internal/workspace"
)

// checkProfileFlag warns, once, when --profile names a profile that is not
// built in and has no files of its own, in the workspace or in ~/.dlt: most
// often a typo (prdo), which would otherwise run on the shared files alone.
func (f *Factory) checkProfileFlag(ws *workspace.Workspace, p workspace.Profile) {
	if p.Source != workspace.SourceFlag || f.profileChecked {
		return
	}
	f.profileChecked = true
	var known []string
	for _, b := range workspace.BuiltinProfiles() {
		known = append(known, b.Name)
	}
	if slices.Contains(known, p.Name) || ws.HasProfileFiles(p.Name) {
		return
	}
	if g := f.Env.GlobalDir(); g != "" {
		for _, kind := range []string{"config", "secrets"} {
			if st, err := os.Stat(filepath.Join(g, p.Name+"."+kind+".toml")); err == nil && st.Mode().IsRegular() {
				return
			}
		}
	}
	if infos, err := ws.Profiles(""); err == nil {
		for _, i := range infos {
			if i.Configured && !slices.Contains(known, i.Name) {
				known = append(known, i.Name)
			}
		}
	}
	msg := fmt.Sprintf("no configuration for profile %q", p.Name)
	if s := suggest.Closest(p.Name, known); s != "" {
		msg += fmt.Sprintf("; did you mean %s?", s)
	} else {
		msg += "; the profiles are " + strings.Join(known, ", ")
	}
	f.warn(msg + fmt.Sprintf(" (there is no %s/%s.config.toml or %s.secrets.toml, so only the shared files apply)", ws.Folder, p.Name, p.Name))
}
