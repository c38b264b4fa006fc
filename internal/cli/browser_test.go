package cli

import (
	"errors"
	"os/exec"
	"testing"
)

// TestBrowserFailure: the programs tried are named one by one, other
// failures keep their own words.
func TestBrowserFailure(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{&exec.Error{Name: "xdg-open,x-www-browser,www-browser,wslview", Err: exec.ErrNotFound},
			"could not open a browser (tried xdg-open, x-www-browser, www-browser, wslview): open the URL above yourself"},
		{&exec.Error{Name: "open", Err: exec.ErrNotFound}, "could not open a browser (tried open): open the URL above yourself"},
		{errors.New("exit status 3"), "could not open a browser (exit status 3): open the URL above yourself"},
	}
	for _, tc := range cases {
		if got := browserFailure(tc.err); got != tc.want {
			t.Errorf("got %q\nwant %q", got, tc.want)
		}
	}
}
