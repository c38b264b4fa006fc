package cli

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dlthub/dlthub/internal/datasets"
	"github.com/dlthub/dlthub/internal/pipeline"
)

// maxCell is how many characters of a value the row table shows; longer
// values are cut with "…" (--json prints them whole).
const maxCell = 40

// defaultRowLimit is how many rows show and sql print without --limit.
const defaultRowLimit = 20

// openDataset attaches a pipeline of the active profile and opens its
// dataset read-only.
func (f *Factory) openDataset(ctx context.Context, name string) (*pipeline.Pipeline, *datasets.Reader, error) {
	c, p, err := f.attach(name)
	if err != nil {
		return nil, nil, err
	}
	a, err := p.DatasetAccess()
	if err != nil {
		return nil, nil, err
	}
	switch a.Type {
	case "duckdb":
		a.Location = c.display(f, a.DuckDBPath)
	case "filesystem":
		a.Location = c.display(f, filepath.Dir(a.Dir))
	}
	r, err := datasets.OpenReader(ctx, a)
	if err != nil {
		return nil, nil, fmt.Errorf("pipeline %s: %w", name, err)
	}
	return p, r, nil
}

// rowCount is "1 row" or "n rows".
func rowCount(n int) string {
	if n == 1 {
		return "1 row"
	}
	return strconv.Itoa(n) + " rows"
}

func checkLimit(n int) error {
	if n < 0 {
		return usagef("--limit %d: give a number of rows, or 0 for all", n)
	}
	return nil
}

// writeRowsTable prints rows as aligned columns under their names.
func writeRowsTable(w io.Writer, res *datasets.Result) error {
	tw := newTable(w)
	for i, c := range res.Columns {
		if i > 0 {
			fmt.Fprint(tw, "\t")
		}
		fmt.Fprint(tw, cut(oneLine(c)))
	}
	fmt.Fprintln(tw)
	for _, row := range res.Rows {
		for i, v := range row {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, cut(cellText(v, typeOf(res, i))))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// writeRowsJSON prints rows as one JSON array of objects, keys in column
// order (a repeated column name gets _2, _3, …).
func writeRowsJSON(w io.Writer, res *datasets.Result) error {
	keys := make([]string, len(res.Columns))
	seen := map[string]int{}
	for i, c := range res.Columns {
		seen[c]++
		keys[i] = c
		if n := seen[c]; n > 1 {
			keys[i] = fmt.Sprintf("%s_%d", c, n)
		}
	}
	var b bytes.Buffer
	b.WriteString("[")
	for r, row := range res.Rows {
		if r > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  {")
		for i, v := range row {
			if i > 0 {
				b.WriteString(", ")
			}
			k, _ := json.Marshal(keys[i])
			b.Write(k)
			b.WriteString(": ")
			val, err := json.Marshal(jsonCell(v, typeOf(res, i)))
			if err != nil {
				return fmt.Errorf("column %s: %w", res.Columns[i], err)
			}
			b.Write(val)
		}
		b.WriteString("}")
	}
	if len(res.Rows) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	_, err := w.Write(b.Bytes())
	return err
}

func typeOf(res *datasets.Result, i int) string {
	if i < len(res.Types) {
		return res.Types[i]
	}
	return ""
}

// cellText is how a value shows in the row table.
func cellText(v any, typ string) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return oneLine(x)
	case time.Time:
		return formatTime(x, typ)
	case float64:
		return formatFloat(x)
	case []byte:
		return `\x` + hex.EncodeToString(x)
	case []any, map[string]any:
		b, err := json.Marshal(jsonCell(x, ""))
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
	return oneLine(fmt.Sprint(v))
}

// jsonCell is how a value shows in --json output.
func jsonCell(v any, typ string) any {
	switch x := v.(type) {
	case time.Time:
		return formatTime(x, typ)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return formatFloat(x)
		}
	case float32:
		return jsonCell(float64(x), typ)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonCell(e, "")
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonCell(e, "")
		}
		return out
	}
	return v
}

func formatTime(t time.Time, typ string) string {
	switch {
	case typ == "date":
		return t.Format(time.DateOnly)
	case strings.HasPrefix(typ, "time") && !strings.HasPrefix(typ, "timestamp"):
		return t.Format("15:04:05.999999")
	}
	return t.Format(time.RFC3339Nano)
}

func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.Abs(f) < 1e15:
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// oneLine keeps a value on its line: line breaks and tabs show escaped.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\n\r\t") {
		return s
	}
	return strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s)
}

// cut shortens s to maxCell characters, the last one "…".
func cut(s string) string {
	if utf8.RuneCountInString(s) <= maxCell {
		return s
	}
	r := []rune(s)
	return string(r[:maxCell-1]) + "…"
}
