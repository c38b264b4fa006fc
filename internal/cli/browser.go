package cli

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// browserFailure says that a browser did not open and what to do instead.
// github.com/cli/browser reports the programs it looked for as one name
// ("xdg-open,x-www-browser,www-browser,wslview"); they are listed here.
func browserFailure(err error) string {
	why := err.Error()
	var ee *exec.Error
	if errors.As(err, &ee) && errors.Is(ee.Err, exec.ErrNotFound) {
		why = "tried " + strings.Join(strings.Split(ee.Name, ","), ", ")
	}
	return fmt.Sprintf("could not open a browser (%s): open the URL above yourself", why)
}
