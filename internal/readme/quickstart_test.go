package readme

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readmeMarker introduces the README's quickstart block: the fenced block
// right after it.
const readmeMarker = "<!-- quickstart:"

// The lines of scripts/demo.sh between these two are the quickstart.
const (
	demoBegin = "# --- quickstart: README.md ---"
	demoEnd   = "# --- end of quickstart ---"
)

// demoValues are the shell variables the demo uses where the README has a
// value: the demo takes the next free port when 8765 is in use.
var demoValues = strings.NewReplacer("${port}", "8765", "$port", "8765")

// TestQuickstartMatchesDemo checks that the README's quickstart block and
// the quickstart part of scripts/demo.sh are the same commands in the same
// order. Comments, blank lines and trailing "# …" comments do not count;
// in the demo, calls of demo_* functions stand in for what the README
// leaves to you in a browser and are left out.
func TestQuickstartMatchesDemo(t *testing.T) {
	readme := readFile(t, "README.md")
	demo := readFile(t, filepath.Join("scripts", "demo.sh"))
	want, err := readmeQuickstart(readme)
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	got, err := demoQuickstart(demo)
	if err != nil {
		t.Fatalf("scripts/demo.sh: %v", err)
	}
	if d := diffSteps(want, got); d != "" {
		t.Errorf("README.md's quickstart and scripts/demo.sh (what make demo runs) differ; edit both together:\n%s", d)
	}
	// The quickstart must reach what the README promises: a loaded table
	// and a deployed, scheduled job.
	for _, step := range []string{"dlthub local pipeline run ", "dlthub local pipeline show ", "trigger = [", "dlthub deploy", "dlthub job list"} {
		if !containsPrefix(want, step) {
			t.Errorf("the quickstart has no step starting with %q", step)
		}
	}
}

// TestQuickstartComparison checks that the comparison notices an edit to
// either side.
func TestQuickstartComparison(t *testing.T) {
	readme := "intro\n\n" + readmeMarker + " … -->\n```sh\nmkdir a && cd a\ndlthub init   # a comment\n\n# a section\ndlthub server --listen 127.0.0.1:8765 &\ndlthub local pipeline sql x \"SELECT '#' AS c\"\n```\nafter\n"
	demo := "#!/bin/bash\nrun() { :; }\n" + demoBegin + "\nmkdir a && cd a\ndlthub init\n# a comment\ndlthub server --listen 127.0.0.1:$port &\ndemo_create_owner\ndlthub  local pipeline sql x \"SELECT '#' AS c\"   # trailing\n" + demoEnd + "\necho done\n"
	want, err := readmeQuickstart(readme)
	if err != nil {
		t.Fatal(err)
	}
	got, err := demoQuickstart(demo)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffSteps(want, got); d != "" {
		t.Fatalf("same steps reported as different:\n%s", d)
	}
	for name, edited := range map[string][2]string{
		"README step changed": {strings.Replace(readme, "dlthub init", "dlthub init --force", 1), demo},
		"demo step removed":   {readme, strings.Replace(demo, "dlthub init\n", "", 1)},
		"demo step added":     {readme, strings.Replace(demo, "demo_create_owner\n", "demo_create_owner\ndlthub deploy\n", 1)},
		"steps reordered":     {strings.Replace(readme, "mkdir a && cd a\ndlthub init", "dlthub init\nmkdir a && cd a", 1), demo},
		"port changed":        {strings.Replace(readme, ":8765", ":9000", 1), demo},
	} {
		w, err := readmeQuickstart(edited[0])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		g, err := demoQuickstart(edited[1])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diffSteps(w, g) == "" {
			t.Errorf("%s: not noticed", name)
		}
	}
	if _, err := readmeQuickstart("no marker here\n```sh\nls\n```\n"); err == nil {
		t.Error("a README without the marker passed")
	}
	if _, err := demoQuickstart("ls\n"); err == nil {
		t.Error("a demo without the markers passed")
	}
}

// readFile reads a file of the repository (two levels up).
func readFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readmeQuickstart returns the steps of the fenced block after the marker.
func readmeQuickstart(doc string) ([]step, error) {
	i := strings.Index(doc, readmeMarker)
	if i < 0 {
		return nil, fmt.Errorf("no %q marker before the quickstart block", readmeMarker)
	}
	line := strings.Count(doc[:i], "\n") + 1
	lines := strings.Split(doc[i:], "\n")
	j := 1
	for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
		j++
	}
	if j == len(lines) || !strings.HasPrefix(lines[j], "```") {
		return nil, fmt.Errorf("line %d: the quickstart marker is not followed by a fenced block", line)
	}
	var body []string
	for k := j + 1; k < len(lines); k++ {
		if strings.HasPrefix(lines[k], "```") {
			return steps(body, line+j+1, nil), nil
		}
		body = append(body, lines[k])
	}
	return nil, fmt.Errorf("line %d: the quickstart block is not closed", line+j)
}

// demoQuickstart returns the steps between the demo's markers, without
// the demo_* stand-ins.
func demoQuickstart(script string) ([]step, error) {
	lines := strings.Split(script, "\n")
	begin, end := -1, -1
	for i, l := range lines {
		switch strings.TrimSpace(l) {
		case demoBegin:
			begin = i
		case demoEnd:
			end = i
		}
	}
	if begin < 0 || end < begin {
		return nil, fmt.Errorf("no %q … %q section", demoBegin, demoEnd)
	}
	return steps(lines[begin+1:end], begin+2, func(s string) bool {
		return strings.HasPrefix(s, "demo_")
	}), nil
}

// step is one command line and where it is.
type step struct {
	line int
	text string
}

// steps normalizes lines into steps: comments and blank lines dropped,
// runs of blanks made one, the demo's variables replaced by the README's
// values. skip drops more.
func steps(lines []string, first int, skip func(string) bool) []step {
	var out []step
	for i, l := range lines {
		s := strings.Join(strings.Fields(demoValues.Replace(stripComment(l))), " ")
		if s == "" || skip != nil && skip(s) {
			continue
		}
		out = append(out, step{first + i, s})
	}
	return out
}

// stripComment cuts a shell comment: a # at the start of a word, outside
// quotes.
func stripComment(l string) string {
	var quote byte
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '#' && (i == 0 || l[i-1] == ' ' || l[i-1] == '\t'):
			return l[:i]
		}
	}
	return l
}

// diffSteps says where two step lists part ways, or "" when they match.
func diffSteps(readme, demo []step) string {
	n := min(len(readme), len(demo))
	for i := range n {
		if readme[i].text != demo[i].text {
			return fmt.Sprintf("step %d:\n  README.md:%d:       %s\n  scripts/demo.sh:%d: %s", i+1, readme[i].line, readme[i].text, demo[i].line, demo[i].text)
		}
	}
	switch {
	case len(readme) > n:
		return fmt.Sprintf("step %d: README.md:%d has %q, scripts/demo.sh has no more steps", n+1, readme[n].line, readme[n].text)
	case len(demo) > n:
		return fmt.Sprintf("step %d: scripts/demo.sh:%d has %q, README.md has no more steps", n+1, demo[n].line, demo[n].text)
	}
	return ""
}

func containsPrefix(ss []step, prefix string) bool {
	for _, s := range ss {
		if strings.HasPrefix(s.text, prefix) {
			return true
		}
	}
	return false
}
