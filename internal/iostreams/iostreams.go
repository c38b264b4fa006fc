// Package iostreams carries the three standard streams and what is known about
// them (is it a terminal?), so commands never touch os.Stdout directly and tests
// can run any command against buffers, as a terminal or not.
package iostreams

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// IOStreams is what a command reads from and writes to. Data goes to Out,
// progress and messages to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
	// NonInteractive is set by --non-interactive: never prompt, even on a TTY.
	NonInteractive bool

	reader *bufio.Reader
}

// System returns the process's streams. DLTHUB_FORCE_TTY=1 makes every stream
// count as a terminal (useful when piping through a pager or in scripted
// demos), DLTHUB_FORCE_TTY=0 makes none.
func System(getenv func(string) string) *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	s.stdinTTY = isTerminal(os.Stdin)
	s.stdoutTTY = isTerminal(os.Stdout)
	s.stderrTTY = isTerminal(os.Stderr)
	switch getenv("DLTHUB_FORCE_TTY") {
	case "1", "true":
		s.stdinTTY, s.stdoutTTY, s.stderrTTY = true, true, true
	case "0", "false":
		s.stdinTTY, s.stdoutTTY, s.stderrTTY = false, false, false
	}
	return s
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// Test returns streams backed by buffers: stdin, stdout, stderr.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// SetTTY marks all streams as terminals or not (tests).
func (s *IOStreams) SetTTY(tty bool) { s.stdinTTY, s.stdoutTTY, s.stderrTTY = tty, tty, tty }

// IsStdoutTTY reports whether stdout is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether stderr is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// CanPrompt reports whether the user can be asked a question: stdin and
// stderr are terminals and --non-interactive is not set.
func (s *IOStreams) CanPrompt() bool {
	return s.stdinTTY && s.stderrTTY && !s.NonInteractive
}

// ErrNoAnswer means stdin closed before the user answered a prompt.
var ErrNoAnswer = errors.New("no answer: input closed")

// Confirm asks a yes/no question on stderr and reads the answer from stdin.
// An empty answer means def.
func (s *IOStreams) Confirm(question string, def bool) (bool, error) {
	hint := "[y/N]"
	if def {
		hint = "[Y/n]"
	}
	fmt.Fprintf(s.ErrOut, "? %s %s ", question, hint)
	if s.reader == nil {
		s.reader = bufio.NewReader(s.In)
	}
	line, err := s.reader.ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		fmt.Fprintln(s.ErrOut)
		return false, ErrNoAnswer
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "":
		return def, nil
	case "y", "yes":
		return true, nil
	default:
		return false, nil
	}
}

// Ask prints a question on stderr and returns the trimmed answer line from
// stdin. It is the accessible prompt: plain lines, no cursor movement, so it
// works with screen readers and scripted input alike.
func (s *IOStreams) Ask(question string) (string, error) {
	fmt.Fprintf(s.ErrOut, "? %s ", question)
	if s.reader == nil {
		s.reader = bufio.NewReader(s.In)
	}
	line, err := s.reader.ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		fmt.Fprintln(s.ErrOut)
		return "", ErrNoAnswer
	}
	return strings.TrimSpace(line), nil
}
