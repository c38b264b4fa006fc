package cli

import "strings"

// runEnding is how a run ended, for "✔ jobs.x #1 <runEnding>": the status,
// then the worker's reason unless the reason says the status already
// ("completed in 185ms", not "completed: completed in 185ms").
func runEnding(status, reason string) string {
	// "cancelled: cancelled: stopped by SIGTERM" says it twice.
	for {
		rest, ok := strings.CutPrefix(reason, status+": ")
		if !ok || !strings.HasPrefix(rest, status) {
			break
		}
		reason = rest
	}
	switch {
	case reason == "":
		return status
	case reason == status || strings.HasPrefix(reason, status+" ") || strings.HasPrefix(reason, status+":"):
		return reason
	}
	return status + ": " + reason
}
