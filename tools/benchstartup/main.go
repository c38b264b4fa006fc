// Command benchstartup measures how long whole dlthub processes take to
// answer --help (cold process, warm page cache), next to /bin/true as a
// native baseline in the same run. It prints one BENCH line per command.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

func main() {
	bin := flag.String("bin", "bin/dlthub", "dlthub binary to measure")
	runs := flag.Int("runs", 30, "runs per command")
	flag.Parse()
	cmds := [][]string{
		{"/bin/true"},
		{*bin, "--help"},
		{*bin, "init", "--help"},
		{*bin, "config", "explain", "--help"},
		{*bin, "local", "info", "--help"},
		{*bin, "--version"},
	}
	for _, c := range cmds {
		var ds []time.Duration
		for range *runs {
			start := time.Now()
			cmd := exec.Command(c[0], c[1:]...)
			if err := cmd.Run(); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", strings.Join(c, " "), err)
				os.Exit(1)
			}
			ds = append(ds, time.Since(start))
		}
		slices.Sort(ds)
		name := "startup"
		if c[0] == "/bin/true" {
			name = "startup_baseline"
		}
		args := strings.Join(c[1:], " ")
		if args == "" {
			args = "true"
		}
		fmt.Printf("BENCH name=%s cmd=%q runs=%d median_ms=%.2f p95_ms=%.2f max_ms=%.2f\n",
			name, args, *runs, ms(ds[len(ds)/2]), ms(ds[len(ds)*95/100]), ms(ds[len(ds)-1]))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
