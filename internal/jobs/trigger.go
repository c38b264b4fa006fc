package jobs

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Trigger kinds.
const (
	KindSchedule   = "schedule"
	KindEvery      = "every"
	KindOnce       = "once"
	KindHTTP       = "http"
	KindJobSuccess = "job.success"
	KindJobFail    = "job.fail"
	KindTag        = "tag"
	KindManual     = "manual"
	KindDeployment = "deployment"
	KindIsFresh    = "job.is_fresh" // freshness gates, not triggers
)

// Trigger is a parsed trigger.
type Trigger struct {
	Kind string
	// Value is what follows "kind:" in canonical form.
	Value string
	// Every is the period of an every trigger.
	Every time.Duration
	// At is the instant of a once trigger.
	At time.Time
	// Port and Path of an http trigger.
	Port int
	Path string
	// Schedule is the parsed cron of a schedule trigger.
	Schedule cron.Schedule
}

// String is the canonical trigger string.
func (t Trigger) String() string { return t.Kind + ":" + t.Value }

func cronParser() cron.Parser {
	return cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
}

// ParseTrigger parses one trigger string. A bare cron expression
// ("0 3 * * *" or "@daily") is a schedule.
func ParseTrigger(s string) (Trigger, error) {
	s = strings.TrimSpace(s)
	kind, value, ok := strings.Cut(s, ":")
	if !ok || strings.ContainsAny(kind, " *@") {
		if _, err := cronParser().Parse(s); err == nil {
			kind, value = KindSchedule, s
		} else {
			return Trigger{}, fmt.Errorf("trigger %q: not a trigger (schedule:, every:, once:, http:, job.success:, job.fail:, tag:, manual:, deployment:) nor a cron expression", s)
		}
	}
	t := Trigger{Kind: kind, Value: strings.TrimSpace(value)}
	switch kind {
	case KindSchedule:
		sch, err := cronParser().Parse(t.Value)
		if err != nil {
			return t, fmt.Errorf("trigger %q: invalid cron expression: %w", s, err)
		}
		// An expression that matches no time (an empty field such as ",")
		// parses but never fires: the scheduler would compute zero times.
		// Any real schedule fires within the cron library's 5-year search
		// from a fixed reference (no clock read here).
		if sch.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
			return t, fmt.Errorf("trigger %q: the cron expression never fires", s)
		}
		t.Schedule = sch
	case KindEvery:
		d, err := parseEvery(t.Value)
		if err != nil {
			return t, fmt.Errorf("trigger %q: %w", s, err)
		}
		if d < time.Minute {
			return t, fmt.Errorf("trigger %q: every must be at least 1 minute", s)
		}
		t.Every = d
		t.Value = formatEvery(d)
	case KindOnce:
		at, err := time.Parse(time.RFC3339, t.Value)
		if err != nil {
			return t, fmt.Errorf("trigger %q: want an ISO 8601 time with a zone, such as 2025-01-01T00:00:00Z", s)
		}
		t.At = at.UTC()
		t.Value = t.At.Format(time.RFC3339)
	case KindHTTP:
		v := t.Value
		port, path := v, ""
		if i := strings.IndexByte(v, '/'); i >= 0 {
			port, path = v[:i], v[i:]
		}
		if port != "" {
			n, err := strconv.Atoi(port)
			if err != nil || n < 1 || n > 65535 {
				return t, fmt.Errorf("trigger %q: port %q must be a number from 1 to 65535", s, port)
			}
			t.Port = n
		}
		t.Path = path
	case KindJobSuccess, KindJobFail, KindManual:
		if !strings.HasPrefix(t.Value, "jobs.") {
			return t, fmt.Errorf("trigger %q: want a job reference such as jobs.ingest.github", s)
		}
	case KindTag:
		if t.Value == "" {
			return t, fmt.Errorf("trigger %q: tag is empty", s)
		}
	case KindDeployment:
		t.Value = ""
	default:
		return t, fmt.Errorf("trigger %q: unknown trigger type %q (schedule, every, once, http, job.success, job.fail, tag, manual, deployment)", s, kind)
	}
	return t, nil
}

func parseEvery(v string) (time.Duration, error) {
	if len(v) < 2 {
		return 0, fmt.Errorf("every %q: want a number and a unit, such as 5m, 2h or 1d", v)
	}
	n, err := strconv.Atoi(v[:len(v)-1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("every %q: want a positive number and a unit (s, m, h, d)", v)
	}
	switch v[len(v)-1] {
	case 's':
		return time.Duration(n) * time.Second, nil
	case 'm':
		return time.Duration(n) * time.Minute, nil
	case 'h':
		return time.Duration(n) * time.Hour, nil
	case 'd':
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return 0, fmt.Errorf("every %q: unit must be s, m, h or d", v)
}

func formatEvery(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	}
	return strconv.Itoa(int(d/time.Second)) + "s"
}

// Describe is a short human description: "every 5m", "after jobs.a succeeds".
func (t Trigger) Describe() string {
	switch t.Kind {
	case KindSchedule:
		return "on schedule " + t.Value
	case KindEvery:
		return "every " + t.Value
	case KindOnce:
		return "once at " + t.Value
	case KindHTTP:
		if t.Port != 0 {
			return fmt.Sprintf("HTTP on port %d%s", t.Port, t.Path)
		}
		return "HTTP" + t.Path
	case KindJobSuccess:
		return "after " + t.Value + " succeeds"
	case KindJobFail:
		return "after " + t.Value + " fails"
	case KindTag:
		return "with tag " + t.Value
	case KindManual:
		return "manually"
	case KindDeployment:
		return "on deployment"
	}
	return t.String()
}

// IsTimed reports schedule and every triggers (at most one per job).
func (t Trigger) IsTimed() bool { return t.Kind == KindSchedule || t.Kind == KindEvery }
