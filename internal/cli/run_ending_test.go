package cli

import "testing"

// TestRunEnding: the line that ends a followed run says its status once.
func TestRunEnding(t *testing.T) {
	cases := []struct{ status, reason, want string }{
		{"completed", "completed in 185ms", "completed in 185ms"},
		{"failed", "failed with exit code 7 in 1.2s", "failed with exit code 7 in 1.2s"},
		{"cancelled", "cancelled: cancelled: stopped by SIGTERM", "cancelled: stopped by SIGTERM"},
		{"cancelled", "cancelled: timed out: stopped by SIGTERM after 1m0s", "cancelled: timed out: stopped by SIGTERM after 1m0s"},
		{"completed", "stopped: nobody used the app for 15m0s", "completed: stopped: nobody used the app for 15m0s"},
		{"failed", "could not start: no such file", "failed: could not start: no such file"},
		{"skipped", "", "skipped"},
		{"completed", "completed", "completed"},
		{"failed", "failed", "failed"},
	}
	for _, tc := range cases {
		if got := runEnding(tc.status, tc.reason); got != tc.want {
			t.Errorf("runEnding(%q, %q) = %q, want %q", tc.status, tc.reason, got, tc.want)
		}
	}
}
