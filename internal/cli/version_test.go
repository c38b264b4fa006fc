package cli_test

import (
	"context"
	"runtime/debug"
	"testing"

	"github.com/dlthub/dlthub/internal/cli"
	"github.com/dlthub/dlthub/internal/iostreams"
)

// TestFormatVersion: the version line names the commit (and whether the
// tree was modified) and its date whenever the build info has them, so a
// binary built from the repository is never just "dev".
func TestFormatVersion(t *testing.T) {
	vcs := func(version string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/dlthub/dlthub", Version: version}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	const rev = "abc1234def5678901234567890abcdef12345678"
	cases := []struct {
		name     string
		override string
		bi       *debug.BuildInfo
		want     string
	}{
		{"no build info", "", nil, "dev"},
		{"go run without vcs", "", vcs("(devel)"), "dev"},
		{"built from the repo", "", vcs("(devel)", "vcs", "git", "vcs.revision", rev, "vcs.time", "2026-12-05T10:15:00Z", "vcs.modified", "false"),
			"dev (commit abc1234, 2026-12-05)"},
		{"modified tree", "", vcs("(devel)", "vcs.revision", rev, "vcs.modified", "true"), "dev (commit abc1234-dirty)"},
		{"pseudo-version is left for the commit", "", vcs("v0.0.0-20261205101500-abc1234def56+dirty", "vcs.revision", rev, "vcs.time", "2026-12-05T10:15:00Z", "vcs.modified", "true"),
			"dev (commit abc1234-dirty, 2026-12-05)"},
		{"release tag", "", vcs("v0.3.0", "vcs.revision", rev, "vcs.time", "2026-12-05T10:15:00Z"), "v0.3.0 (commit abc1234, 2026-12-05)"},
		{"go install of a release", "", vcs("v0.3.0"), "v0.3.0"},
		{"ldflags override", "v0.4.0-rc1", vcs("(devel)", "vcs.revision", rev, "vcs.time", "2026-12-05T10:15:00Z"), "v0.4.0-rc1 (commit abc1234, 2026-12-05)"},
		{"git describe without a tag", "abc1234-dirty", nil, "dev (commit abc1234-dirty)"},
		{"git describe without a tag, and build info", "abc1234", vcs("(devel)", "vcs.revision", rev, "vcs.time", "2026-12-05T10:15:00Z", "vcs.modified", "true"),
			"dev (commit abc1234-dirty, 2026-12-05)"},
		{"git describe names the commit", "v0.3.0-4-gabc1234-dirty", vcs("(devel)", "vcs.revision", rev, "vcs.time", "2026-12-05T10:15:00Z", "vcs.modified", "true"),
			"v0.3.0-4-gabc1234-dirty (2026-12-05)"},
	}
	for _, tc := range cases {
		if got := cli.FormatVersion(tc.override, tc.bi); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestVersionFlagPrintsTheVersionLine: --version prints "dlthub " and the
// factory's version line.
func TestVersionFlagPrintsTheVersionLine(t *testing.T) {
	line := cli.FormatVersion("", &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}}})
	io, _, out, _ := iostreams.Test()
	code := cli.Run(context.Background(), &cli.Factory{IO: io, Version: line}, []string{"--version"})
	if code != 0 || out.String() != "dlthub dev (commit 0123456)\n" {
		t.Errorf("%d %q", code, out.String())
	}
}
