package cli

import (
	"errors"
	"fmt"
	"testing"

	"github.com/dlthub/dlthub/internal/workspace"
)

func TestExitCodeMapping(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("boom"), ExitError},
		{&workspace.NotFoundError{Dir: "/x", Folder: ".dlt"}, ExitError},
		{usagef("bad"), ExitUsage},
		{fmt.Errorf("wrapped: %w", usagef("bad")), ExitUsage},
		{&AuthError{Err: errors.New("log in with `dlthub login`")}, ExitAuth},
		{fmt.Errorf("deploy: %w", &AuthError{Err: errors.New("no token")}), ExitAuth},
		{errors.New(`unknown command "x" for "dlthub"`), ExitUsage},
		{errSilent{code: ExitError}, ExitError},
	}
	for _, tc := range cases {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
