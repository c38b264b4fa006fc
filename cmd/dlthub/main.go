// Command dlthub is the dlthub CLI: a few lines that hand over to
// internal/cli with a signal-aware context and exit with its code.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/dlthub/dlthub/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=…" (make
// build passes git describe); otherwise the module version from the build
// info is used. The commit and its date come from the build info that go
// build stamps either way.
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, cli.NewSystemFactory(cli.BuildVersion(version)), os.Args[1:])
	stop()
	os.Exit(code)
}
