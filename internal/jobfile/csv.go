package jobfile

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/loadpackage"
	"github.com/dlthub/dlthub/internal/schema"
)

// csvFile is a CSV job file: a header with the file's columns, then one
// line per row. Strings are always quoted, so "" is an empty string and an
// empty field is NULL; numbers and booleans are bare; lists and objects,
// and every value of a json column, are quoted JSON.
type csvFile struct {
	w *loadpackage.FileWriter
	layout
	row  []any
	set  []bool
	json []bool // the column holds json: every value is encoded as JSON text
	buf  []byte
}

func createCSV(path string, cols []*schema.Column) (*csvFile, error) {
	fw, err := loadpackage.Create(path)
	if err != nil {
		return nil, err
	}
	f := &csvFile{w: fw, layout: layout{pos: make(map[*schema.Column]int, len(cols))},
		row: make([]any, len(cols)), set: make([]bool, len(cols)), json: make([]bool, len(cols))}
	header := make([]byte, 0, 256)
	for i, c := range cols {
		f.pos[c] = i
		f.json[i] = c.DataType == schema.JSON
		if i > 0 {
			header = append(header, ',')
		}
		header = append(header, c.Name...)
	}
	if err := fw.WriteLine(header); err != nil {
		_ = fw.Close()
		return nil, err
	}
	return f, nil
}

func (f *csvFile) path() string { return f.w.Path() }
func (f *csvFile) bytes() int64 { return f.w.Bytes }
func (f *csvFile) close() error { return f.w.Finish() }
func (f *csvFile) wait() error  { return f.w.Wait() }

func (f *csvFile) write(cols []*schema.Column, vals []any) (bool, error) {
	pos, ok := f.positions(cols)
	if !ok {
		return false, nil
	}
	for i := range f.set {
		f.set[i] = false
	}
	for i, j := range pos {
		f.row[j], f.set[j] = vals[i], true
	}
	b := f.buf[:0]
	for i, v := range f.row {
		if i > 0 {
			b = append(b, ',')
		}
		if !f.set[i] || v == nil {
			continue // NULL, also in a json column (not JSON's null)
		}
		var err error
		if f.json[i] {
			var j []byte
			if j, err = jsonx.Append(nil, v); err == nil {
				b = appendQuoted(b, string(j))
			}
		} else {
			b, err = appendCSV(b, v)
		}
		if err != nil {
			return false, err
		}
	}
	f.buf = b
	return true, f.w.WriteLine(b)
}

// appendCSV writes one value: strings always quoted (so "" is an empty
// string and an empty field is NULL), numbers and booleans bare, lists and
// objects as quoted JSON.
func appendCSV(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return b, nil
	case string:
		return appendQuoted(b, x), nil
	case []byte:
		// As the normalizer hands binary values: base64 text, which the
		// loaders decode.
		return appendQuoted(b, base64.StdEncoding.EncodeToString(x)), nil
	case bool, int64, int, float64, jsonx.Number, json.Number:
		return jsonx.Append(b, x)
	default:
		j, err := jsonx.Append(nil, x)
		if err != nil {
			return nil, err
		}
		return appendQuoted(b, string(j)), nil
	}
}

func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}
