package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newJobPublishCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "publish JOB",
		Short: "Make a public link to an interactive job's app (anyone with it may use the app)",
		Long: `Make a link that opens the app of an interactive job without signing in;
the app starts for its visitors when it is not running. The link is shown
once. dlthub job unpublish JOB withdraws every link of the app.`,
		Example: `  dlthub job publish dashboard`,
		Args:    exactArgs("JOB"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, j, err := f.targetJob(ctx, args[0])
			if err != nil {
				return err
			}
			link, err := t.c.PublishApp(ctx, t.wsID, j.JobRef)
			if err != nil {
				return apiErr(t.rs, err)
			}
			fmt.Fprintln(f.IO.Out, link)
			fmt.Fprintf(f.IO.ErrOut, "Anyone with this link can use %s; withdraw it with: dlthub job unpublish %s\n", j.JobRef, j.JobRef)
			return nil
		},
	}
}

func newJobUnpublishCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "unpublish JOB",
		Short:   "Withdraw the public links to an app",
		Example: `  dlthub job unpublish dashboard`,
		Args:    exactArgs("JOB"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, j, err := f.targetJob(ctx, args[0])
			if err != nil {
				return err
			}
			n, err := t.c.UnpublishApp(ctx, t.wsID, j.JobRef)
			if err != nil {
				return apiErr(t.rs, err)
			}
			fmt.Fprintf(f.IO.ErrOut, "%s Withdrew %d link(s) to %s.\n", mark(true), n, j.JobRef)
			return nil
		},
	}
}
