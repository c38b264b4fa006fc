package dlt

import (
	"encoding/json"
	"os"
	"strings"
	"time"
)

// RunContext is what a code job learns from the platform (or
// `dlthub local run`) that started it: the same launch contract a Python
// dlt script sees.
type RunContext struct {
	// JobRef is the job's reference ("jobs.ingest.github"); empty when the
	// program was not started as a job.
	JobRef string
	// Profile is the active profile (WORKSPACE__PROFILE).
	Profile string
	// RunID identifies the run (DLTHUB_RUN_ID).
	RunID string
	// Trigger is the full trigger that started the run (DLTHUB_TRIGGER).
	Trigger string
	// Refresh asks the job to start over (DLTHUB_REFRESH).
	Refresh bool
	// IntervalStart and IntervalEnd bound the run's window [start, end);
	// zero when the job has no interval.
	IntervalStart, IntervalEnd time.Time
	// Timezone is the job's time zone (DLT_INTERVAL_TIMEZONE).
	Timezone string
	// Config is the job's configuration from JOBS__<SECTION>__<NAME>__*
	// variables, keyed by the lower-cased path below the job
	// ("limit", "api__page_size"); JSON values are decoded.
	Config map[string]any
	// Port and BasePath are set for interactive jobs.
	Port     string
	BasePath string
}

// CurrentRun reads the run context from the environment.
func CurrentRun() RunContext { return runContextFrom(os.Environ()) }

func runContextFrom(environ []string) RunContext {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	rc := RunContext{
		JobRef: env["DLTHUB_JOB_REF"], Profile: env["WORKSPACE__PROFILE"], RunID: env["DLTHUB_RUN_ID"],
		Trigger: env["DLTHUB_TRIGGER"], Refresh: env["DLTHUB_REFRESH"] == "true", Timezone: env["DLT_INTERVAL_TIMEZONE"],
		Port: env["PORT"], BasePath: env["DLTHUB_BASE_PATH"], Config: map[string]any{},
	}
	rc.IntervalStart, _ = time.Parse(time.RFC3339, env["DLT_INTERVAL_START"])
	rc.IntervalEnd, _ = time.Parse(time.RFC3339, env["DLT_INTERVAL_END"])
	if parts := strings.Split(rc.JobRef, "."); len(parts) == 3 {
		prefix := strings.ToUpper("JOBS__" + parts[1] + "__" + parts[2] + "__")
		for k, v := range env {
			key, ok := strings.CutPrefix(k, prefix)
			if !ok {
				continue
			}
			var decoded any
			if json.Unmarshal([]byte(v), &decoded) == nil {
				if _, isStr := decoded.(string); !isStr {
					rc.Config[strings.ToLower(key)] = decoded
					continue
				}
			}
			rc.Config[strings.ToLower(key)] = v
		}
	}
	return rc
}

// HasInterval reports whether the run has a window.
func (rc RunContext) HasInterval() bool {
	return !rc.IntervalStart.IsZero() && !rc.IntervalEnd.IsZero()
}
