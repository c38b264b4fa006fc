package jobs

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/dlthub/dlthub/internal/suggest"
)

// Select returns the jobs a selector names, in manifest order:
//
//	batch, interactive        by type
//	schedule:*, tag:ingest    jobs with a matching trigger (globs; implicit
//	manual:jobs.etl.*         manual: and tag: triggers count)
//	jobs.ingest.github        a job ref; "ingest.github" and "github" work
//	jobs.ingest.*             a glob over job refs
//
// An empty selector selects every job.
func (m *Manifest) Select(sel string) ([]*Job, error) {
	sel = strings.TrimSpace(sel)
	var out []*Job
	switch {
	case sel == "":
		return m.Jobs, nil
	case sel == "batch" || sel == "interactive":
		for _, j := range m.Jobs {
			if j.Type == sel {
				out = append(out, j)
			}
		}
		return out, nil
	case strings.Contains(sel, ":"):
		re := glob(sel)
		for _, j := range m.Jobs {
			for _, t := range j.AllTriggers() {
				if re.MatchString(t.String()) {
					out = append(out, j)
					break
				}
			}
		}
	default:
		full := sel
		if !strings.HasPrefix(full, "jobs.") {
			full = "jobs." + full
		}
		if strings.ContainsAny(sel, "*?") {
			re := glob(full)
			for _, j := range m.Jobs {
				if re.MatchString(j.Ref) {
					out = append(out, j)
				}
			}
			break
		}
		for _, j := range m.Jobs {
			if j.Ref == full || j.Name == sel || strings.HasSuffix(j.Ref, "."+sel) {
				out = append(out, j)
			}
		}
	}
	if len(out) == 0 {
		var refs, names []string
		byName := map[string]string{}
		for _, j := range m.Jobs {
			refs = append(refs, j.Ref)
			for _, n := range []string{j.Ref, j.Section + "." + j.Name, j.Name} {
				names = append(names, n)
				byName[n] = j.Ref
			}
		}
		msg := fmt.Sprintf("no job matches %q (jobs: %s)", sel, strings.Join(refs, ", "))
		if s := suggest.Closest(sel, names); s != "" {
			msg = fmt.Sprintf("no job matches %q; did you mean %s? (jobs: %s)", sel, byName[s], strings.Join(refs, ", "))
		}
		return nil, fmt.Errorf("%s", msg)
	}
	return out, nil
}

// SelectOne is Select for commands that act on exactly one job; more than
// one match is an error that lists the candidates.
func (m *Manifest) SelectOne(sel string) (*Job, error) {
	js, err := m.Select(sel)
	if err != nil {
		return nil, err
	}
	if len(js) > 1 {
		var refs []string
		for _, j := range js {
			refs = append(refs, j.Ref)
		}
		return nil, fmt.Errorf("%q matches %d jobs: %s; name one of them", sel, len(js), strings.Join(refs, ", "))
	}
	return js[0], nil
}

// glob turns a shell-style pattern into an anchored regexp in which * and ?
// match any characters (dots and spaces included).
func glob(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}
