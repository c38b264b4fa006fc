package cli_test

import (
	"regexp"
	"strings"
	"testing"
)

// On a terminal, a run shows a line per stage with rows, bytes, rate and
// elapsed time; elsewhere it prints only the summary.
func TestPipelineRunProgress(t *testing.T) {
	t.Parallel()
	dir := eventsPipeline(t, "duckdb")
	code, out, errOut := runInProcess(t, dir, nil, true, "", "local", "pipeline", "run", "events")
	if code != 0 {
		t.Fatalf("run: %d %s", code, errOut)
	}
	for _, stage := range []string{"extract events", "normalize", "load"} {
		// The last frame of each stage: its final numbers. A redrawn
		// block's first line starts with the cursor moves that redraw it.
		re := regexp.MustCompile(`(?m)^(\x1b\[\d*[AJ])*` + stage + ` +\S.* (30|90) rows · [\d.]+ (B|KiB) · [\d,]+ rows/s · [\d.]+(µs|ms|s)\s*$`)
		if !re.MatchString(errOut) {
			t.Errorf("no progress of %s in:\n%s", stage, errOut)
		}
	}
	if !strings.Contains(errOut, "\x1b[") {
		t.Errorf("the progress lines are not redrawn in place:\n%q", errOut)
	}
	if !strings.HasSuffix(errOut, "\n") || !strings.Contains(errOut, "\nLoaded 90 rows in 2 table(s)") {
		t.Errorf("the summary does not follow the progress:\n%s", errOut)
	}
	summary := "TABLE         ROWS\nevents        30\nevents__tags  60\n"
	if out != summary {
		t.Errorf("stdout %q, want %q", out, summary)
	}

	// Off a terminal: the summary only.
	code, out, errOut = runInProcess(t, dir, nil, false, "", "local", "pipeline", "run", "events")
	if code != 0 || out != summary {
		t.Fatalf("run: %d %q %s", code, out, errOut)
	}
	if lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "Loaded 90 rows in 2 table(s)") {
		t.Errorf("off a terminal stderr is more than the summary:\n%q", errOut)
	}
}
