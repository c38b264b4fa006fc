package benchdata

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Child is what one benchmark side cost, measured from outside it.
type Child struct {
	Wall  time.Duration
	RSSMB float64 // peak resident memory
}

// RunSelf runs this executable again with args, as its own process so its
// peak RSS is its own, passing its output through to stderr (stdout is for
// BENCH lines).
func RunSelf(args ...string) (Child, error) {
	exe, err := os.Executable()
	if err != nil {
		return Child{}, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return Child{}, fmt.Errorf("%v: %w", args, err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return Child{}, errors.New("no resource usage for the child process")
	}
	return Child{Wall: wall, RSSMB: float64(ru.Maxrss) / 1024}, nil
}
