package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func newServerWorkerListCmd(f *Factory) *cobra.Command {
	opts := &serverStoreOptions{}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List worker credentials",
		Example: `  dlthub server worker list
  dlthub server worker list --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := opts.open(cmd.Context(), f)
			if err != nil {
				return err
			}
			defer func() { _ = st.Close() }()
			creds, err := st.WorkerCredentials(cmd.Context())
			if err != nil {
				return err
			}
			type row struct {
				Name       string     `json:"name"`
				CreatedAt  time.Time  `json:"created_at"`
				LastSeenAt *time.Time `json:"last_seen_at"`
				RevokedAt  *time.Time `json:"revoked_at"`
			}
			rows := make([]row, 0, len(creds))
			for _, c := range creds {
				rows = append(rows, row{c.Name, c.CreatedAt, c.LastSeenAt, c.RevokedAt})
			}
			if asJSON {
				return writeJSON(f.IO.Out, rows)
			}
			tw := newTable(f.IO.Out)
			fmt.Fprintln(tw, "NAME\tCREATED\tLAST SEEN\tSTATE")
			when := func(t *time.Time) string {
				if t == nil {
					return "never"
				}
				return t.Local().Format(time.DateTime)
			}
			for _, r := range rows {
				state := "active"
				if r.RevokedAt != nil {
					state = "revoked " + when(r.RevokedAt)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, r.CreatedAt.Local().Format(time.DateTime), when(r.LastSeenAt), state)
			}
			return tw.Flush()
		},
	}
	opts.flags(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
