// Package benchdata generates the benchmark data set: GitHub-issue-like
// records of about 690 bytes with a nested user object, reactions, a labels
// list of objects, an assignees list of strings and ISO timestamps — the
// shape of the shared gen_issues.py, so the project's benchmarks run from a
// clone alone. Output is deterministic for a seed.
package benchdata

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/jsonx"
)

const words = "error crash panic timeout connection failed when loading table column " +
	"schema type mismatch nested json array object null value missing support " +
	"postgres duckdb parquet csv export import incremental merge upsert primary " +
	"key index slow memory leak regression cli flag config yaml docs typo " +
	"windows linux macos build release version upgrade broken test flaky retry " +
	"stream batch chunk buffer encoding utf8 unicode emoji quote escape newline"

type label struct {
	id          int64
	name, color string
}

// WriteIssues writes n JSON lines to w.
func WriteIssues(w io.Writer, n int, seed uint64) error {
	rnd := rand.New(rand.NewPCG(seed, 42))
	ws := strings.Fields(words)
	labels := []label{
		{1001, "bug", "d73a4a"}, {1002, "enhancement", "a2eeef"},
		{1003, "documentation", "0075ca"}, {1004, "good first issue", "7057ff"},
		{1005, "help wanted", "008672"}, {1006, "question", "d876e3"},
		{1007, "wontfix", "ffffff"}, {1008, "duplicate", "cfd3d7"},
		{1009, "performance", "fbca04"}, {1010, "breaking-change", "b60205"},
	}
	reactions := []string{"plus_one", "minus_one", "laugh", "hooray", "confused", "heart", "rocket", "eyes"}
	base := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	span := int64(6 * 365 * 86400)
	text := func(target int) string {
		var b strings.Builder
		for b.Len() < target {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(ws[rnd.IntN(len(ws))])
		}
		s := b.String()
		if len(s) > target {
			s = s[:target]
		}
		return strings.TrimRight(s, " ")
	}
	iso := func(sec int64) string {
		return base.Add(time.Duration(sec) * time.Second).Format("2006-01-02T15:04:05Z")
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var b []byte
	for i := range n {
		title := text(30 + rnd.IntN(21))
		title = strings.ToUpper(title[:1]) + title[1:]
		state := "closed"
		if rnd.Float64() < 0.3 {
			state = "open"
		}
		c := rnd.Int64N(span)
		u := c + rnd.Int64N(90*86400)
		user := rnd.IntN(5000)
		b = b[:0]
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, 500_000_000+int64(i)*7, 10)
		b = append(b, `,"number":`...)
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, `,"title":`...)
		b = jsonx.AppendString(b, title)
		b = append(b, `,"state":"`...)
		b = append(b, state...)
		b = append(b, `","created_at":"`...)
		b = append(b, iso(c)...)
		b = append(b, `","updated_at":"`...)
		b = append(b, iso(u)...)
		b = append(b, `","user":{"login":"`...)
		b = append(b, fmt.Sprintf("user%04d", user)...)
		b = append(b, `","id":`...)
		b = strconv.AppendInt(b, int64(10_000+user), 10)
		b = append(b, `,"site_admin":`...)
		b = strconv.AppendBool(b, user%97 == 0)
		b = append(b, `},"labels":[`...)
		perm := rnd.Perm(len(labels))[:rnd.IntN(4)]
		for j, k := range perm {
			if j > 0 {
				b = append(b, ',')
			}
			l := labels[k]
			b = append(b, `{"id":`...)
			b = strconv.AppendInt(b, l.id, 10)
			b = append(b, `,"name":"`...)
			b = append(b, l.name...)
			b = append(b, `","color":"`...)
			b = append(b, l.color...)
			b = append(b, `"}`...)
		}
		b = append(b, `],"assignees":[`...)
		for j := range rnd.IntN(3) {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, fmt.Sprintf(`"user%04d"`, rnd.IntN(5000))...)
		}
		b = append(b, `],"reactions":{`...)
		vals := make([]int64, len(reactions))
		var total int64
		for j := range reactions {
			if rnd.Float64() < 0.2 {
				vals[j] = int64(rnd.IntN(21))
			}
			total += vals[j]
		}
		b = append(b, `"total_count":`...)
		b = strconv.AppendInt(b, total, 10)
		for j, r := range reactions {
			b = append(b, `,"`...)
			b = append(b, r...)
			b = append(b, `":`...)
			b = strconv.AppendInt(b, vals[j], 10)
		}
		body := text(150 + rnd.IntN(101))
		if rnd.Float64() < 0.05 {
			body += "\n\n```\n\"quoted\" \\ path\n```"
		}
		b = append(b, `},"body":`...)
		b = jsonx.AppendString(b, body)
		b = append(b, `,"score":`...)
		b = strconv.AppendFloat(b, float64(int64(rnd.Float64()*100*10000))/10000, 'f', -1, 64)
		b = append(b, "}\n"...)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}
