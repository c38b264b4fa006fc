package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/spf13/cobra"
)

type localCleanOptions struct{ SkipLocalDataDir bool }

func newLocalCleanCmd(f *Factory) *cobra.Command {
	opts := &localCleanOptions{}
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Delete the current profile's local state and data",
		Long: `Delete the current profile's data dir (pipeline working dirs: state, schemas,
load packages) and, unless --skip-local-data-dir, its local dir (locally loaded
data such as DuckDB files). Other profiles, configuration files and remote
destinations are not touched.

On a terminal it asks first; elsewhere it needs -y.`,
		Example: `  dlthub local clean
  dlthub --profile tests local clean -y
  dlthub local clean --skip-local-data-dir -y`,
		Args: noArgs,
		RunE: func(_ *cobra.Command, _ []string) error { return runLocalClean(f, opts) },
	}
	cmd.Flags().BoolVar(&opts.SkipLocalDataDir, "skip-local-data-dir", false, "keep the local dir (locally loaded data)")
	return cmd
}

func runLocalClean(f *Factory, opts *localCleanOptions) error {
	c, err := f.Open()
	if err != nil {
		return err
	}
	dirs := c.ws.Dirs(f.Env, c.resolver, c.profile.Name)
	targets := []string{dirs.Data}
	if !opts.SkipLocalDataDir {
		targets = append(targets, dirs.Local)
	}
	var present []string
	for _, t := range targets {
		if _, err := os.Stat(t); err == nil {
			present = append(present, t)
		}
	}
	if len(present) == 0 {
		fmt.Fprintf(f.IO.ErrOut, "Nothing to clean for profile %q.\n", c.profile.Name)
		return nil
	}
	for _, t := range present {
		fmt.Fprintf(f.IO.ErrOut, "Will delete %s\n", c.display(f, t))
	}
	if err := confirmDestructive(f, fmt.Sprintf("Delete local data of profile %q?", c.profile.Name), "delete", "deleted"); err != nil {
		return err
	}
	// Check first that everything can be deleted, so a read-only tree is
	// reported before anything is gone.
	for _, t := range present {
		if err := checkRemovable(t); err != nil {
			return describeWrite(fmt.Errorf("delete %s: %w", c.display(f, t), err))
		}
	}
	for _, t := range present {
		if err := os.RemoveAll(t); err != nil {
			return describeWrite(fmt.Errorf("delete %s: %w", c.display(f, t), err))
		}
		fmt.Fprintf(f.IO.ErrOut, "Deleted %s\n", c.display(f, t))
	}
	return nil
}

// checkRemovable reports the first directory in the tree at root (or its
// parent) that this process may not modify.
func checkRemovable(root string) error {
	if err := unix.Access(filepath.Dir(root), unix.W_OK|unix.X_OK); err != nil {
		return &fs.PathError{Op: "delete", Path: root, Err: err}
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if err := unix.Access(p, unix.W_OK|unix.X_OK); err != nil {
				return &fs.PathError{Op: "delete", Path: p, Err: err}
			}
		}
		return nil
	})
}
