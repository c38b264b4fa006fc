package cli

import (
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/pipeline"
)

func newLocalPipelineCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Inspect and manage the pipelines that ran in this workspace",
		Long: `Inspect the pipelines that ran in this workspace under the active profile:
their working dirs (.dlt/state/<profile>/pipelines/<name>), schemas, load
packages and last run, read the data they loaded (show, sql; read-only),
and drop resources from their destinations.`,
		Args: noArgs,
	}
	cmd.AddCommand(
		newLocalPipelineRunCmd(f),
		newLocalPipelineListCmd(f),
		newLocalPipelineInfoCmd(f),
		newLocalPipelineTraceCmd(f),
		newLocalPipelineSchemaCmd(f),
		newLocalPipelineShowCmd(f),
		newLocalPipelineSQLCmd(f),
		newLocalPipelineDropCmd(f),
		newLocalPipelineFailedJobsCmd(f),
		newLocalPipelineDropPendingCmd(f),
		newLocalPipelineLoadPackageCmd(f),
	)
	return cmd
}

// pipelineOptions are the engine options of the active profile.
func (c *wsContext) pipelineOptions(f *Factory, name string) pipeline.Options {
	dirs := c.ws.Dirs(f.Env, c.resolver, c.profile.Name)
	return pipeline.Options{Name: name, PipelinesDir: filepath.Join(dirs.Data, "pipelines"), LocalDir: dirs.Local, Resolver: c.resolver}
}

// attach opens an existing pipeline of the active profile.
func (f *Factory) attach(name string) (*wsContext, *pipeline.Pipeline, error) {
	c, err := f.Open()
	if err != nil {
		return nil, nil, err
	}
	p, err := pipeline.Attach(c.pipelineOptions(f, name))
	if err != nil {
		return nil, nil, err
	}
	return c, p, nil
}
