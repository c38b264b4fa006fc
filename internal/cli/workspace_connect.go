package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize/english"
	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/platform"
	"github.com/dlthub/dlthub/internal/store"
)

type workspaceConnectOptions struct {
	OrgID  string
	Create bool
}

func newWorkspaceConnectCmd(f *Factory) *cobra.Command {
	opts := &workspaceConnectOptions{}
	cmd := &cobra.Command{
		Use:   "connect [NAME_OR_ID]",
		Short: "Bind this repository to a remote workspace",
		Long: `Bind this repository to a remote workspace and write runtime.workspace_id
(and, the first time, runtime.organization_id) to .dlt/config.toml, keeping
its comments. Without NAME_OR_ID a picker lists your workspaces by
organization, with an option to create one; off a terminal the choices are
listed instead.

organization_id is written once: connecting into another organization fails
until you remove that line by hand. One repository binds to one workspace:
connecting a repository elsewhere moves it, and a workspace bound to another
repository refuses this one (the picker leaves those out, saying so). The
repository is named by its normalized origin remote, else by a
runtime.repository_id written on first connect.`,
		Example: `  dlthub workspace connect
  dlthub workspace connect analytics
  dlthub workspace connect analytics --create --org-id 3f2a…`,
		Args: rangeArgs(0, 1, "at most one workspace"),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := ""
			if len(args) == 1 {
				target = args[0]
			}
			return runWorkspaceConnect(cmd.Context(), f, opts, target)
		},
	}
	cmd.Flags().StringVar(&opts.OrgID, "org-id", "", "organization to look in or create in")
	cmd.Flags().BoolVar(&opts.Create, "create", false, "create the workspace when it does not exist")
	return cmd
}

func runWorkspaceConnect(ctx context.Context, f *Factory, opts *workspaceConnectOptions, target string) error {
	wc, err := f.Open()
	if err != nil {
		return err
	}
	c, rs, err := f.apiClient()
	if err != nil {
		return err
	}
	fixedOrg, _, err := lookupString(wc.resolver, "runtime.organization_id")
	if err != nil {
		return err
	}
	orgID := opts.OrgID
	if fixedOrg != "" && orgID != "" && orgID != fixedOrg {
		return orgLocked(fixedOrg, orgID)
	}
	if orgID == "" {
		orgID = fixedOrg
	}
	list, err := c.Workspaces(ctx)
	if err != nil {
		return apiErr(rs, err)
	}
	// The repository is named by its normalized origin remote, else by
	// runtime.repository_id (a new one is written once it is bound).
	var writes [][2]string
	repo := platform.NormalizeRepository(platform.OriginURL(wc.ws.Root))
	if repo == "" {
		id, _, err := lookupString(wc.resolver, "runtime.repository_id")
		if err != nil {
			return err
		}
		if id == "" {
			id = store.NewID()
			writes = append(writes, [2]string{"repository_id", id})
		}
		repo = "id:" + id
	}
	ws, err := pickWorkspace(ctx, f, c, list, orgID, target, opts.Create, repo)
	if err != nil {
		return err
	}
	if fixedOrg != "" && ws.OrganizationID != fixedOrg {
		return orgLocked(fixedOrg, ws.OrganizationID)
	}
	if store.RoleRank(ws.Role) < store.RoleRank(store.RoleDeveloper) {
		return fmt.Errorf("your role in %s is %s; connecting (and deploying) needs developer or owner: ask an owner of %s", workspaceLabel(ws), ws.Role, ws.Organization)
	}

	prev, deactivated, err := c.BindRepository(ctx, ws.ID, repo)
	if err != nil {
		return err
	}
	writes = append(writes, [2]string{"workspace_id", ws.ID})
	if fixedOrg == "" {
		writes = append(writes, [2]string{"organization_id", ws.OrganizationID})
	}
	if err := setWorkspaceConfig(wc, writes); err != nil {
		return err
	}
	if prev != "" && prev != ws.ID {
		fmt.Fprintf(f.IO.ErrOut, "This repository was bound to workspace %s; that binding is gone and its %d active jobs there are deactivated (history kept).\n", prev, deactivated)
	}
	fmt.Fprintf(f.IO.ErrOut, "%s Connected %s to %s (%s) as %s. runtime.workspace_id is in .dlt/config.toml.\n",
		mark(true), repo, workspaceLabel(ws), ws.ID, ws.Role)
	return nil
}

func orgLocked(fixed, other string) error {
	return fmt.Errorf("this workspace belongs to organization %s (runtime.organization_id in .dlt/config.toml), not %s; "+
		"to move it, remove the organization_id line from .dlt/config.toml by hand and connect again", fixed, other)
}

// pickWorkspace finds the workspace by id or name, creates it with
// --create, or lets the user pick on a terminal. Workspaces bound to
// another repository than repo are left out of the picker and the listing
// (the server would refuse them), with a line saying so; naming one is
// refused before asking the server.
func pickWorkspace(ctx context.Context, f *Factory, c *platform.Client, list []platform.Workspace, orgID, target string, create bool, repo string) (platform.Workspace, error) {
	var all, scoped, elsewhere []platform.Workspace
	for _, w := range list {
		if orgID != "" && w.OrganizationID != orgID {
			continue
		}
		all = append(all, w)
		if w.Repository != "" && w.Repository != repo {
			elsewhere = append(elsewhere, w)
		} else {
			scoped = append(scoped, w)
		}
	}
	if target != "" {
		var byName []platform.Workspace
		for _, w := range all {
			if w.ID == target {
				return w, boundElsewhere(w, repo)
			}
			if w.Name == target {
				byName = append(byName, w)
			}
		}
		switch {
		case len(byName) == 1:
			return byName[0], boundElsewhere(byName[0], repo)
		case len(byName) > 1:
			return platform.Workspace{}, usagef("%d organizations have a workspace named %s; add --org-id:\n%s", len(byName), target,
				groupByOrg(byName, func(_ int, w platform.Workspace) string { return w.Name + "  " + w.ID }))
		case create:
			return createWorkspace(ctx, c, orgID, target)
		}
		return platform.Workspace{}, fmt.Errorf("no workspace %s%s; add --create to create it, or pick one of:\n%s%s", target, inOrg(orgID),
			listing(scoped), leftOut(elsewhere))
	}
	if !f.IO.CanPrompt() {
		return platform.Workspace{}, usagef("name the workspace to connect: dlthub workspace connect NAME_OR_ID [--create]; yours%s:\n%s%s", inOrg(orgID), listing(scoped), leftOut(elsewhere))
	}
	fmt.Fprint(f.IO.ErrOut, leftOut(elsewhere))
	fmt.Fprint(f.IO.ErrOut, groupByOrg(scoped, func(i int, w platform.Workspace) string { return fmt.Sprintf("%d) %s (%s)", i+1, w.Name, w.Role) }))
	fmt.Fprintf(f.IO.ErrOut, "%d) create a new workspace\n", len(scoped)+1)
	for {
		ans, err := f.IO.Ask(fmt.Sprintf("Workspace [1-%d]:", len(scoped)+1))
		if err != nil {
			return platform.Workspace{}, err
		}
		n, err := strconv.Atoi(ans)
		if err != nil || n < 1 || n > len(scoped)+1 {
			fmt.Fprintf(f.IO.ErrOut, "Type a number from 1 to %d.\n", len(scoped)+1)
			continue
		}
		if n <= len(scoped) {
			return scoped[n-1], nil
		}
		name, err := f.IO.Ask("Name of the new workspace:")
		if err != nil {
			return platform.Workspace{}, err
		}
		return createWorkspace(ctx, c, orgID, name)
	}
}

// boundElsewhere refuses a workspace that another repository is bound to,
// as the server would.
func boundElsewhere(w platform.Workspace, repo string) error {
	if w.Repository == "" || w.Repository == repo {
		return nil
	}
	return fmt.Errorf("workspace %s is bound to another repository (%s), and a workspace holds one repository; this one is %s. "+
		"Connect this one to another workspace (dlthub workspace connect NAME --create makes one), or connect %s from that repository", workspaceLabel(w), w.Repository, repo, w.Name)
}

// leftOut says which workspaces a listing leaves out because another
// repository is bound to them.
func leftOut(ws []platform.Workspace) string {
	if len(ws) == 0 {
		return ""
	}
	var names []string
	for _, w := range ws {
		names = append(names, workspaceLabel(w)+" ← "+w.Repository)
	}
	return fmt.Sprintf("Left out %s bound to another repository (a workspace holds one repository): %s\n",
		english.Plural(len(ws), "workspace", ""), strings.Join(names, ", "))
}

func inOrg(orgID string) string {
	if orgID == "" {
		return ""
	}
	return " in organization " + orgID
}

func listing(ws []platform.Workspace) string {
	if len(ws) == 0 {
		return "  (none yet)\n"
	}
	return groupByOrg(ws, func(_ int, w platform.Workspace) string { return w.Name + "  " + w.ID + "  " + w.Role })
}

// createWorkspace creates name in orgID, or in the user's only
// organization when orgID is empty.
func createWorkspace(ctx context.Context, c *platform.Client, orgID, name string) (platform.Workspace, error) {
	if orgID == "" {
		me, err := c.Me(ctx)
		if err != nil {
			return platform.Workspace{}, err
		}
		switch len(me.Organizations) {
		case 0:
			return platform.Workspace{}, fmt.Errorf("%s belongs to no organization to create %s in", me.Email, name)
		case 1:
			orgID = me.Organizations[0].ID
		default:
			var b strings.Builder
			for _, o := range me.Organizations {
				fmt.Fprintf(&b, "  %s  %s (%s)\n", o.ID, o.Name, o.Role)
			}
			return platform.Workspace{}, usagef("you belong to %d organizations; add --org-id with one of:\n%s", len(me.Organizations), b.String())
		}
	}
	return c.CreateWorkspace(ctx, orgID, name)
}
