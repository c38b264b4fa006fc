package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/atomicfile"
	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/loadpackage"
	"github.com/dlthub/dlthub/internal/runner"
)

type localRunOptions struct {
	Start, End string
	Refresh    bool
	Config     []string
	DryRun     bool
	Timestamps bool
	File       string
}

func newLocalRunCmd(f *Factory) *cobra.Command {
	opts := &localRunOptions{}
	cmd := &cobra.Command{
		Use:   "run [SELECTOR|JOB_REF]",
		Short: "Run batch jobs of dlthub.toml here, as the platform would",
		Long: `Run the batch jobs a selector names (all batch jobs without one) with the
same launch contract the platform uses: the working directory is the
workspace, and the process gets WORKSPACE__PROFILE, DLTHUB_RUN_ID,
DLTHUB_TRIGGER, DLTHUB_REFRESH, DLT_INTERVAL_START/END/TIMEZONE and the job's
configuration as JOBS__<SECTION>__<NAME>__<KEY> variables. A pipeline job runs
its declarative pipeline with the interval bound to the incremental window.

Jobs with a schedule or every trigger get the window from their last
completed end to the latest tick (often empty); --start/--end give one. A
job past execute.timeout gets SIGTERM, then SIGKILL after the grace period.

Selectors: batch, schedule:*, tag:ingest, manual:jobs.etl.*, jobs.ingest.*,
a job ref or just its name.`,
		Example: `  dlthub local run
  dlthub local run jobs.ingest.github --start 2024-01-01T00:00:00Z --end 2024-02-01T00:00:00Z
  dlthub local run tag:ingest -c limit=10 --dry-run`,
		Args: rangeArgs(0, 1, "at most one selector"),
		RunE: func(cmd *cobra.Command, args []string) error {
			sel := ""
			if len(args) == 1 {
				sel = args[0]
			}
			ctx := cmd.Context() // always set: Run executes with a context
			return runLocalRun(ctx, f, opts, sel)
		},
	}
	cmd.Flags().StringVar(&opts.Start, "start", "", "interval start (ISO 8601)")
	cmd.Flags().StringVar(&opts.End, "end", "", "interval end (ISO 8601)")
	cmd.Flags().BoolVar(&opts.Refresh, "refresh", false, "restart from interval.start (pipelines drop their data first)")
	cmd.Flags().StringArrayVarP(&opts.Config, "config", "c", nil, "job configuration KEY=VALUE (repeatable)")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the plan and run nothing")
	cmd.Flags().BoolVar(&opts.Timestamps, "timestamps", false, "prefix output lines with their time")
	cmd.Flags().StringVar(&opts.File, "file", jobs.DefaultFile, "manifest file")
	return cmd
}

// jobState is a job's local record: the end of its last completed window.
type jobState struct {
	LastEnd *time.Time `json:"last_end,omitempty"`
	// DeployedAt stands in for the deployment time of the platform: the
	// first time the job ran here.
	DeployedAt time.Time `json:"deployed_at"`
}

func jobStatePath(c *wsContext, f *Factory, ref string) string {
	return filepath.Join(c.ws.Dirs(f.Env, c.resolver, c.profile.Name).Data, "jobs", ref+".json")
}

func loadJobState(path string, now time.Time) (*jobState, error) {
	st := &jobState{}
	err := loadpackage.ReadJSON(path, st)
	if errors.Is(err, fs.ErrNotExist) {
		return &jobState{DeployedAt: now}, nil
	}
	return st, err
}

func parseISO(flag, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		if d, err2 := time.Parse(time.DateOnly, s); err2 == nil {
			return d, nil
		}
		return t, usagef("--%s %q: want an ISO 8601 time such as 2024-01-01T00:00:00Z", flag, s)
	}
	return t.UTC(), nil
}

func newRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func runLocalRun(ctx context.Context, f *Factory, opts *localRunOptions, sel string) error {
	c, err := f.Open()
	if err != nil {
		return err
	}
	m, err := f.loadJobs(ctx, c.ws, opts.File)
	if err != nil {
		return err
	}
	selected, err := m.Select(sel)
	if err != nil {
		return usageErr(err)
	}
	if sel == "" {
		selected, _ = m.Select("batch")
	}
	var batch []*jobs.Job
	for _, j := range selected {
		if j.Type == "interactive" {
			if sel != "" {
				return usagef("%s is an interactive job: run it with `dlthub local serve %s`", j.Ref, j.Ref)
			}
			continue
		}
		batch = append(batch, j)
	}
	if len(batch) == 0 {
		return usagef("no batch jobs to run")
	}
	var explicit *jobs.Window
	if opts.Start != "" || opts.End != "" {
		if opts.Start == "" || opts.End == "" {
			return usagef("--start and --end go together")
		}
		s, err := parseISO("start", opts.Start)
		if err != nil {
			return err
		}
		e, err := parseISO("end", opts.End)
		if err != nil {
			return err
		}
		if !e.After(s) {
			return usagef("--end must be after --start")
		}
		explicit = &jobs.Window{Start: s, End: e}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if opts.Refresh && !opts.DryRun {
		// A refresh restarts the jobs downstream of a refreshed one too
		// (through their freshness gates), up to a refresh = "block".
		for _, j := range batch {
			for _, ref := range m.RefreshCascade(j.Ref)[1:] {
				p := jobStatePath(c, f, ref)
				if st, err := loadJobState(p, now); err == nil && st.LastEnd != nil {
					st.LastEnd = nil
					if err := saveJobState(p, st); err != nil {
						return err
					}
					fmt.Fprintf(f.IO.ErrOut, "Refresh cascades to %s: it starts over at its next run.\n", ref)
				}
			}
		}
	}
	failed := 0
	for _, j := range batch {
		if j.Require.Profile != "" && j.Require.Profile != c.profile.Name {
			f.warn(fmt.Sprintf("%s requires profile %q; running it with %q", j.Ref, j.Require.Profile, c.profile.Name))
		}
		statePath := jobStatePath(c, f, j.Ref)
		st, err := loadJobState(statePath, now)
		if err != nil {
			return err
		}
		l := jobs.Launch{Job: j, Profile: c.profile.Name, RunID: newRunID(), Trigger: jobs.KindManual + ":" + j.Ref, Refresh: opts.Refresh, Config: jobs.ConfigOf(c.resolver, j)}
		for _, kv := range opts.Config {
			if err := l.SetConfig(kv); err != nil {
				return usageErr(err)
			}
		}
		switch {
		case explicit != nil:
			l.Window = explicit
		default:
			last := st.LastEnd
			if opts.Refresh {
				last = nil
			}
			if w, ok := j.ManualWindow(last, st.DeployedAt, now); ok {
				l.Window = &w
			}
		}
		if l.Window != nil {
			if ok, why := freshness(c, f, j, *l.Window, now); !ok {
				fmt.Fprintf(f.IO.ErrOut, "⏭ %s: skipped: %s\n", j.Ref, why)
				continue
			}
		}
		argv := j.Command
		switch {
		case j.Pipeline != "":
			argv = []string{self, "local", "pipeline", "run", j.Pipeline}
			if opts.Refresh {
				argv = append(argv, "--refresh")
			}
		case j.EntryPoint != nil:
			// dlt's launcher in the workspace's own Python, as on a worker.
			argv = l.PythonArgv(m.py.Argv...)
		}
		env := l.Env()
		if opts.DryRun {
			window := "(none)"
			if l.Window != nil {
				window = l.Window.String()
			}
			keys := make([]string, len(env))
			for i, e := range env {
				keys[i], _, _ = strings.Cut(e, "=")
			}
			fmt.Fprintf(f.IO.Out, "%s\n  trigger:  %s\n  interval: %s\n  profile:  %s\n  command:  %s\n  env:      %s\n",
				j.Ref, l.Trigger, window, c.profile.Name, strings.Join(argv, " "), strings.Join(keys, " "))
			continue
		}
		fmt.Fprintf(f.IO.ErrOut, "▶ %s (run %s)\n", j.Ref, l.RunID)
		res, err := runner.Run(ctx, argv, runner.Options{
			Dir: c.ws.Root, Env: append(os.Environ(), env...), Timeout: j.Execute.Timeout, GracePeriod: j.Execute.GracePeriod,
			Stdout: f.IO.Out, Stderr: f.IO.ErrOut, Timestamps: opts.Timestamps,
		})
		if err != nil {
			return fmt.Errorf("%s: %w", j.Ref, err)
		}
		fmt.Fprintf(f.IO.ErrOut, "%s %s: %s\n", mark(res.OK()), j.Ref, res.Describe())
		if !res.OK() {
			failed++
			if res.Cancelled {
				return errSilent{code: ExitError}
			}
			continue
		}
		if l.Window != nil && (st.LastEnd == nil || l.Window.End.After(*st.LastEnd) || opts.Refresh) && explicit == nil {
			end := l.Window.End
			st.LastEnd = &end
		}
		if err := saveJobState(statePath, st); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d job(s) did not complete", failed, len(batch))
	}
	return nil
}

// freshness applies a job's gates: every upstream must have completed up
// to the end of the window.
func freshness(c *wsContext, f *Factory, j *jobs.Job, w jobs.Window, now time.Time) (bool, string) {
	for _, up := range j.Freshness {
		st, err := loadJobState(jobStatePath(c, f, up), now)
		if err != nil {
			return false, err.Error()
		}
		if ok, why := jobs.IsFresh(up, st.LastEnd, w); !ok {
			return false, why
		}
	}
	return true, ""
}

func mark(ok bool) string {
	if ok {
		return "✔"
	}
	return "✘"
}

func saveJobState(path string, st *jobState) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := jsonIndent(st)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b, 0o644)
}
