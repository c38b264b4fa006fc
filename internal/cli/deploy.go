package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/dustin/go-humanize/english"
	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/deploy"
	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/platform"
	"github.com/dlthub/dlthub/internal/python"
	"github.com/dlthub/dlthub/internal/server"
)

type deployOptions struct {
	ShowManifest bool
	DryRun       bool
	File         string
	Format       string
	// Script adds the single job dlt makes of one Python file (ad-hoc
	// `dlthub run script.py`, `dlthub serve notebook.py`); its ref is
	// written to AdHocRef.
	Script   string
	AdHocRef string
}

func newDeployCmd(f *Factory) *cobra.Command {
	opts := &deployOptions{}
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Validate the job manifest and deploy the code to the connected workspace",
		Long: `Validate the jobs (dlthub.toml, and in a Python workspace the jobs dlt's
manifest worker reads from __deployment__.py in the workspace's Python:
uv run in a uv project, else the active virtual environment) and deploy to
the remote workspace this folder is
connected to (dlthub workspace connect): the code, the configuration
(.dlt/config.toml, .dlt/secrets.toml and the files of prod, access and the
profiles jobs require; never dev or tests), and the jobs, each reported as
added, updated, unchanged or archived. On a terminal, a missing login or
connection is offered; off one, the error names the command to run.

The package holds every file except .git, the .dlt configuration folder and
what .gitignore excludes; symlinks that leave the workspace are skipped with a
warning. Unchanged code (the same content hash) uploads nothing. Code over
10 MiB, or with a file over 5 MiB, is likely data: a warning names the
largest files (data belongs in a destination or a bucket).

--show-manifest prints the expanded manifest instead: every job with its
default trigger, the implicit manual: and tag: triggers, human descriptions
of the triggers, execution defaults and a content hash per job and for the
whole manifest. Validation errors name the job and the key; dlt's errors
(a syntax error, an import error, an invalid trigger) are shown as dlt
reports them, and nothing is deployed then. A Python workspace's
requirements (exported by dlt from pyproject.toml, uv.lock or
requirements.txt) travel with the code; workers build the jobs'
environments from them.`,
		Example: `  dlthub deploy
  dlthub deploy --dry-run -v        # what would change: files, config keys, jobs
  dlthub deploy --show-manifest --format json --file jobs/dlthub.toml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDeploy(cmd.Context(), f, opts) },
	}
	cmd.Flags().BoolVar(&opts.ShowManifest, "show-manifest", false, "print the expanded manifest and stop")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "package and compare with the active deployment, upload nothing")
	cmd.Flags().StringVar(&opts.File, "file", jobs.DefaultFile, "manifest file, relative to the workspace root")
	cmd.Flags().StringVar(&opts.Format, "format", "yaml", "yaml or json (with --show-manifest)")
	return cmd
}

func runDeploy(ctx context.Context, f *Factory, opts *deployOptions) error {
	ws, err := f.Workspace()
	if err != nil {
		return err
	}
	wj, err := f.loadJobs(ctx, ws, opts.File)
	if err != nil {
		return err
	}
	if opts.Script != "" {
		j, err := f.adHocJob(ctx, ws, wj, opts.Script)
		if err != nil {
			return err
		}
		opts.AdHocRef = j.Ref
	}
	m := wj.Manifest
	if opts.ShowManifest {
		e := m.Expand()
		switch opts.Format {
		case "json":
			return writeJSON(f.IO.Out, e)
		case "yaml":
			return writeYAML(f.IO.Out, e)
		}
		return usagef("--format must be yaml or json, not %q", opts.Format)
	}
	fmt.Fprintf(f.IO.ErrOut, "%s %s is valid (%s)\n", mark(true), m.Path, jobCount(m))
	// A Python workspace's requirements travel with its code: the worker
	// builds the jobs' environments from them.
	var extra map[string][]byte
	if wj.py != nil {
		req, err := wj.py.Requirements(ctx, ws.Root)
		if err != nil {
			return err
		}
		extra = map[string][]byte{python.RequirementsFile: req}
	}

	t, err := f.deployTargetGuided(ctx)
	if err != nil {
		return err
	}
	// Configuration first: a broken file stops the deploy before any code
	// changes on the server.
	profiles := syncedProfiles(m)
	if _, err := t.configFiles(profiles); err != nil {
		return err
	}
	start := time.Now()
	codeChanged, err := t.syncCode(ctx, f, extra, opts.DryRun)
	if err != nil {
		return err
	}
	cfgChanged, err := t.syncConfig(ctx, f, profiles, opts.DryRun)
	if err != nil {
		return err
	}
	jobsChanged, err := t.syncJobs(ctx, f, m, opts.DryRun)
	if err != nil {
		return err
	}
	t.summary(f, start, opts.DryRun, codeChanged || cfgChanged || jobsChanged)
	return nil
}

// jobCount says how many jobs the manifest declares, and that the
// dashboard comes built in where nobody declared it.
func jobCount(m *jobs.Manifest) string {
	declared := 0
	for _, j := range m.Jobs {
		if !j.Builtin {
			declared++
		}
	}
	s := english.Plural(declared, "job", "")
	if declared < len(m.Jobs) {
		s += ", and the built-in " + jobs.DashboardRef
	}
	return s
}

// summary ends a deploy with one line.
func (t *deployTarget) summary(f *Factory, start time.Time, dryRun, changed bool) {
	switch {
	case dryRun:
		fmt.Fprintln(f.IO.ErrOut, "Dry run: nothing was sent.")
	case !changed:
		fmt.Fprintf(f.IO.ErrOut, "%s Nothing to deploy (%d ms).\n", mark(true), time.Since(start).Milliseconds())
	default:
		fmt.Fprintf(f.IO.ErrOut, "%s Deployed to %s in %s. See it at %s%s\n", mark(true), t.rs.BaseURL, time.Since(start).Round(time.Millisecond),
			strings.TrimSuffix(t.rs.BaseURL, "/"), server.WorkspacePagePath(t.wsID))
	}
}

// deployTarget is a connected workspace with a logged-in client.
type deployTarget struct {
	wc   *wsContext
	c    *platform.Client
	rs   runtimeSettings
	wsID string
}

func (f *Factory) deployTarget() (*deployTarget, error) {
	wc, err := f.Open()
	if err != nil {
		return nil, err
	}
	c, rs, err := f.apiClient()
	if err != nil {
		return nil, err
	}
	wsID, err := connectedWorkspaceID(wc)
	if err != nil {
		return nil, err
	}
	if wsID == "" {
		return nil, errNotConnected
	}
	return &deployTarget{wc: wc, c: c, rs: rs, wsID: wsID}, nil
}

var errNotConnected = errors.New("this folder is not connected to a remote workspace: run `dlthub workspace list`, then `dlthub workspace connect NAME_OR_ID` (add --create for a new one)")

// deployTargetGuided is deployTarget that, on a terminal, offers to log in
// and to connect when either is missing; off a terminal the errors name
// the commands to run.
func (f *Factory) deployTargetGuided(ctx context.Context) (*deployTarget, error) {
	t, err := f.deployTarget()
	var ae *AuthError
	if errors.As(err, &ae) && f.IO.CanPrompt() {
		rs, _ := f.runtimeSettings()
		if ok, perr := f.IO.Confirm("Not logged in to "+rs.BaseURL+". Log in now?", true); perr != nil || !ok {
			return nil, err
		}
		if err := runLogin(ctx, f, &loginOptions{}); err != nil {
			return nil, err
		}
		t, err = f.deployTarget()
	}
	if errors.Is(err, errNotConnected) && f.IO.CanPrompt() {
		if ok, perr := f.IO.Confirm("This folder is not connected to a remote workspace. Connect it now?", true); perr != nil || !ok {
			return nil, err
		}
		if err := runWorkspaceConnect(ctx, f, &workspaceConnectOptions{}, ""); err != nil {
			return nil, err
		}
		t, err = f.deployTarget()
	}
	return t, err
}

// syncCode packages the code and uploads it unless the active deployment
// already has the same content hash.
func (t *deployTarget) syncCode(ctx context.Context, f *Factory, extra map[string][]byte, dryRun bool) (changed bool, err error) {
	pkg, err := deploy.Scan(t.wc.ws.Root, deploy.Options{ConfigFolder: t.wc.ws.Folder})
	if err != nil {
		return false, err
	}
	for name, content := range extra {
		pkg.AddFile(name, content)
	}
	for _, s := range pkg.Skipped {
		f.warn("skipped " + s)
	}
	active, err := t.c.ActiveDeployment(ctx, t.wsID)
	if err != nil {
		return false, fmt.Errorf("workspace %s (runtime.workspace_id): %w", t.wsID, apiErr(t.rs, err))
	}
	code := fmt.Sprintf("%d files, %s, hash %s", len(pkg.Files), humanize.IBytes(uint64(pkg.Size)), pkg.Hash[:12])
	if active != nil && active.ContentHash == pkg.Hash {
		fmt.Fprintf(f.IO.ErrOut, "  code           unchanged  version %d (%s)\n", active.Version, code)
		return false, nil
	}
	// Data in the code ships with every version: say so before it does.
	if w := pkg.SizeWarning(); w != "" {
		f.warn(w)
	}
	if dryRun {
		fmt.Fprintf(f.IO.ErrOut, "  code           would deploy a new version (%s)\n", code)
		if f.Verbose {
			var deployed []platform.DeployedFile
			if active != nil {
				if deployed, err = t.c.DeploymentFiles(ctx, t.wsID, active.Version); err != nil {
					return true, apiErr(t.rs, err)
				}
			}
			printFileDiff(f, pkg.Files, deployed)
		}
		return true, nil
	}
	d, unchanged, err := t.c.Deploy(ctx, t.wsID, f.uploadProgress(pkg), pkg.Hash)
	if err != nil {
		return false, fmt.Errorf("deploy to %s: %w", t.wsID, apiErr(t.rs, err))
	}
	if f.IO.IsStderrTTY() {
		fmt.Fprintln(f.IO.ErrOut) // end the progress line
	}
	state := "new"
	if unchanged {
		state = "unchanged"
	}
	fmt.Fprintf(f.IO.ErrOut, "  code           %-9s  version %d (%s)\n", state, d.Version, code)
	return !unchanged, nil
}

// printFileDiff shows, per file, what a deploy changes against the active
// version: + added, ~ changed, - removed.
func printFileDiff(f *Factory, local []deploy.File, deployed []platform.DeployedFile) {
	have := make(map[string]string, len(deployed))
	for _, d := range deployed {
		have[d.Path] = d.SHA256
	}
	seen := make(map[string]bool, len(local))
	for _, l := range local {
		seen[l.Path] = true
		switch h, ok := have[l.Path]; {
		case !ok:
			fmt.Fprintf(f.IO.ErrOut, "      + %s\n", l.Path)
		case h != l.SHA256:
			fmt.Fprintf(f.IO.ErrOut, "      ~ %s\n", l.Path)
		}
	}
	for _, d := range deployed {
		if !seen[d.Path] {
			fmt.Fprintf(f.IO.ErrOut, "      - %s\n", d.Path)
		}
	}
}

// uploadProgress streams the package's tar.gz, reporting bytes sent on a
// terminal about twice a second.
func (f *Factory) uploadProgress(pkg *deploy.Package) io.Reader {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(pkg.WriteTarGz(pw)) }()
	if !f.IO.IsStderrTTY() {
		return pr
	}
	return &progressReader{r: pr, report: func(n int64) {
		fmt.Fprintf(f.IO.ErrOut, "\r  uploading %s…", humanize.IBytes(uint64(n)))
	}}
}

type progressReader struct {
	r      io.Reader
	n      atomic.Int64
	last   time.Time
	report func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	total := p.n.Add(int64(n))
	if time.Since(p.last) > 500*time.Millisecond || errors.Is(err, io.EOF) {
		p.last = time.Now()
		p.report(total)
	}
	return n, err
}
