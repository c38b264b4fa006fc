package cli

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/dlthub/dlthub/internal/tomledit"
)

// describeWrite adds a hint to permission errors from writing workspace files.
func describeWrite(err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w (the workspace is read-only; make it writable and run the command again; nothing was changed)", err)
	}
	return err
}

// tomlEditErr turns a tomledit failure into a message that points at the
// file with line and column when it does not parse, else says what failed.
func tomlEditErr(path, what string, err error) error {
	var pe *tomledit.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d:%d: %s; fix the file and run the command again", path, pe.Line, pe.Column, pe.Msg)
	}
	return fmt.Errorf("%s: %w", what, err)
}
