package cli

import (
	"errors"
	"fmt"
	"io/fs"
)

// describeWrite adds a hint to permission errors from writing workspace files.
func describeWrite(err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w (the workspace is read-only; make it writable and run the command again; nothing was changed)", err)
	}
	return err
}
