package cli

import (
	"regexp"
	"runtime/debug"
	"strings"
)

// BuildVersion is what `dlthub --version` prints after "dlthub": the
// version (override, set with -ldflags "-X main.version=…", else the main
// module's version when it is a release), then the commit and its date from
// the build info that `go build` stamps in a git checkout.
func BuildVersion(override string) string {
	bi, _ := debug.ReadBuildInfo()
	return FormatVersion(override, bi)
}

// pseudoVersion matches the versions Go makes up for a commit without a
// release tag (v0.0.0-20261205101500-abcdef123456, +dirty): the commit says
// the same, better.
var pseudoVersion = regexp.MustCompile(`\d{14}-[0-9a-f]{12}(\+dirty)?$`)

// bareCommit is what git describe --always gives without a tag.
var bareCommit = regexp.MustCompile(`^[0-9a-f]{7,40}(-dirty)?$`)

// FormatVersion builds the version line from override and bi (nil when the
// binary has no build info): "v0.3.0 (commit abc1234, 2026-12-05)",
// "dev (commit abc1234-dirty, 2026-12-05)", or "dev".
func FormatVersion(override string, bi *debug.BuildInfo) string {
	version := override
	var revision, date string
	dirty := false
	if bareCommit.MatchString(override) {
		// No tag: the override is the commit (built with -buildvcs=false).
		version = ""
		revision, _, _ = strings.Cut(override, "-")
		dirty = strings.HasSuffix(override, "-dirty")
	}
	if bi != nil {
		if v := bi.Main.Version; version == "" && v != "" && v != "(devel)" && !pseudoVersion.MatchString(v) {
			version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.time":
				date, _, _ = strings.Cut(s.Value, "T")
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if version == "" {
		version = "dev"
	}
	var details []string
	if revision != "" {
		short := revision[:min(7, len(revision))]
		if dirty {
			short += "-dirty"
		}
		// git describe already names the commit (v0.3.0-4-gabc1234).
		if !strings.Contains(version, revision[:min(7, len(revision))]) {
			details = append(details, "commit "+short)
		}
	}
	if date != "" {
		details = append(details, date)
	}
	if len(details) == 0 {
		return version
	}
	return version + " (" + strings.Join(details, ", ") + ")"
}
