package cli

import (
	"os"

	"github.com/cli/browser"

	"github.com/dlthub/dlthub/internal/iostreams"
	"github.com/dlthub/dlthub/internal/workspace"
)

// NewSystemFactory builds a Factory from the real process: its streams,
// environment, working directory and home directory.
func NewSystemFactory(version string) *Factory {
	cwd, _ := os.Getwd()
	home, _ := os.UserHomeDir()
	return &Factory{
		IO:      iostreams.System(os.Getenv),
		Env:     workspace.Env{LookupEnv: os.LookupEnv, Cwd: cwd, Home: home},
		Version: version,
		// xdg-open, open or rundll32, whichever the system has.
		OpenBrowser: browser.OpenURL,
	}
}
