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
	cands := make([]candidate, len(m.Jobs))
	for i, j := range m.Jobs {
		cands[i] = candidate{ref: j.Ref, typ: j.Type}
		for _, t := range j.AllTriggers() {
			cands[i].triggers = append(cands[i].triggers, t.String())
		}
	}
	idx, err := selectJobs(cands, sel)
	out := make([]*Job, len(idx))
	for i, k := range idx {
		out[i] = m.Jobs[k]
	}
	return out, err
}

// SelectExpanded is Select over expanded jobs, as the control plane keeps
// them (their trigger lists already hold the implicit ones).
func SelectExpanded(list []*ExpandedJob, sel string) ([]*ExpandedJob, error) {
	cands := make([]candidate, len(list))
	for i, j := range list {
		cands[i] = candidate{ref: j.JobRef, typ: j.Type, triggers: j.Triggers}
	}
	idx, err := selectJobs(cands, sel)
	out := make([]*ExpandedJob, len(idx))
	for i, k := range idx {
		out[i] = list[k]
	}
	return out, err
}

// candidate is what selection looks at: the ref, the type and every
// trigger as "kind:value".
type candidate struct {
	ref, typ string
	triggers []string
}

// section and name of a ref "jobs.<section>.<name>".
func (c candidate) sectionName() (string, string) {
	rest := strings.TrimPrefix(c.ref, "jobs.")
	sec, name, ok := strings.Cut(rest, ".")
	if !ok {
		return "", rest
	}
	return sec, name
}

// selectJobs returns the indexes of the candidates sel names.
func selectJobs(cands []candidate, sel string) ([]int, error) {
	sel = strings.TrimSpace(sel)
	var out []int
	switch {
	case sel == "":
		for i := range cands {
			out = append(out, i)
		}
		return out, nil
	case sel == "batch" || sel == "interactive":
		for i, c := range cands {
			if c.typ == sel {
				out = append(out, i)
			}
		}
		return out, nil
	case strings.Contains(sel, ":"):
		re := glob(sel)
		for i, c := range cands {
			for _, t := range c.triggers {
				if re.MatchString(t) {
					out = append(out, i)
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
			for i, c := range cands {
				if re.MatchString(c.ref) {
					out = append(out, i)
				}
			}
			break
		}
		for i, c := range cands {
			if _, name := c.sectionName(); c.ref == full || name == sel || strings.HasSuffix(c.ref, "."+sel) {
				out = append(out, i)
			}
		}
	}
	if len(out) == 0 {
		var refs, names []string
		byName := map[string]string{}
		for _, c := range cands {
			refs = append(refs, c.ref)
			sec, name := c.sectionName()
			for _, n := range []string{c.ref, sec + "." + name, name} {
				names = append(names, n)
				byName[n] = c.ref
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
// one match is an error that lists the candidates, unless the built-in
// dashboard is one of two (PickOne: the other is meant).
func (m *Manifest) SelectOne(sel string) (*Job, error) {
	js, err := m.Select(sel)
	if err != nil {
		return nil, err
	}
	var refs []string
	for _, j := range js {
		refs = append(refs, j.Ref)
	}
	if i := PickOne(refs); i >= 0 {
		return js[i], nil
	}
	return nil, fmt.Errorf("%q matches %d jobs: %s; name one of them", sel, len(js), strings.Join(refs, ", "))
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
