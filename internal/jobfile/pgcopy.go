package jobfile

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/loadpackage"
	"github.com/dlthub/dlthub/internal/schema"
)

// pgcopySignature starts every file of PostgreSQL's binary COPY format.
const pgcopySignature = "PGCOPY\n\xff\r\n\x00"

// pgcopyColumns starts the header extension that names a pgcopy job
// file's columns and their PostgreSQL types. PostgreSQL skips a header
// extension it does not know ("a reader should silently skip over any
// header extension data it does not know what to do with"), so the file
// is COPied as it is.
const pgcopyColumns = "dlthub.columns\x00"

// pgcopyMaxHeader bounds the header extension a reader accepts.
const pgcopyMaxHeader = 1 << 20

// pgKind is how one column's values are encoded in binary COPY.
type pgKind uint8

const (
	pgText pgKind = iota
	pgBigint
	pgDouble
	pgBool
	pgTimestamp
	pgDate
	pgTime
	pgBytea
	pgJSONB
)

// pgType is the PostgreSQL type a pgcopy file encodes a dlt type's values
// for, as format_type() names it: a file can only be COPied into columns
// of exactly these types (binary input is not converted). ok is false for
// the types it does not encode.
func pgType(t schema.DataType) (k pgKind, name string, ok bool) {
	switch t {
	case schema.Text:
		return pgText, "character varying", true
	case schema.Bigint:
		return pgBigint, "bigint", true
	case schema.Double:
		return pgDouble, "double precision", true
	case schema.Bool:
		return pgBool, "boolean", true
	case schema.Timestamp:
		return pgTimestamp, "timestamp with time zone", true
	case schema.Date:
		return pgDate, "date", true
	case schema.Time:
		return pgTime, "time without time zone", true
	case schema.Binary:
		return pgBytea, "bytea", true
	case schema.JSON:
		return pgJSONB, "jsonb", true
	}
	return 0, "", false
}

// pgcopyWrites reports whether a table's columns can all be written in
// binary COPY. Decimal and wei (numeric) are not: their text goes to
// PostgreSQL's own numeric parser, so such tables keep CSV files.
func pgcopyWrites(cols []*schema.Column) bool {
	for _, c := range cols {
		if c.DataType == "" {
			continue
		}
		if _, _, ok := pgType(c.DataType); !ok {
			return false
		}
	}
	return true
}

// errNotExact is a value binary COPY would not store exactly as
// PostgreSQL's text input does (a timestamp shape this package does not
// read, a base64 text Go does not decode, a number out of range): the
// table's files are CSV from that row on, and PostgreSQL reads the text.
var errNotExact = errors.New("value needs PostgreSQL's text input")

// pgcopyFile is a job file in PostgreSQL's binary COPY format: typed
// values PostgreSQL stores without parsing text (no number, timestamp or
// quote parsing on the server, which was most of a CSV COPY's time). Its
// header extension names the columns and their types.
type pgcopyFile struct {
	w *loadpackage.FileWriter
	layout
	kinds []pgKind
	row   []any
	set   []bool
	buf   []byte
	tmp   []byte
}

func createPGCopy(path string, cols []*schema.Column) (*pgcopyFile, error) {
	f := &pgcopyFile{layout: layout{pos: map[*schema.Column]int{}}}
	ext := []byte(pgcopyColumns)
	for _, c := range cols {
		if c.DataType == "" {
			continue // untyped: a row with a value starts the next file
		}
		kind, name, ok := pgType(c.DataType)
		if !ok {
			return nil, fmt.Errorf("column %q: %s is not written in binary COPY", c.Name, c.DataType)
		}
		f.pos[c] = len(f.kinds)
		f.kinds = append(f.kinds, kind)
		ext = append(append(append(append(ext, c.Name...), 0), name...), 0)
	}
	if len(f.kinds) > math.MaxInt16 {
		return nil, fmt.Errorf("%d columns: binary COPY holds at most %d", len(f.kinds), math.MaxInt16)
	}
	f.row = make([]any, len(f.kinds))
	f.set = make([]bool, len(f.kinds))
	fw, err := loadpackage.Create(path)
	if err != nil {
		return nil, err
	}
	f.w = fw
	h := append([]byte{}, pgcopySignature...)
	h = binary.BigEndian.AppendUint32(h, 0) // flags: no OIDs
	h = binary.BigEndian.AppendUint32(h, uint32(len(ext)))
	h = append(h, ext...)
	if _, err := fw.Write(h); err != nil {
		_ = fw.Close()
		return nil, err
	}
	return f, nil
}

func (f *pgcopyFile) path() string { return f.w.Path() }
func (f *pgcopyFile) bytes() int64 { return f.w.Bytes }

func (f *pgcopyFile) close() error {
	_, _ = f.w.Write([]byte{0xff, 0xff}) // the trailer: a tuple of -1 fields
	return f.w.Finish()
}

func (f *pgcopyFile) wait() error { return f.w.Wait() }

func (f *pgcopyFile) write(cols []*schema.Column, vals []any) (bool, error) {
	pos, ok := f.positions(cols)
	if !ok {
		return false, nil
	}
	clear(f.set)
	for i, j := range pos {
		f.row[j], f.set[j] = vals[i], true
	}
	b := binary.BigEndian.AppendUint16(f.buf[:0], uint16(len(f.row)))
	for i, v := range f.row {
		if !f.set[i] || v == nil {
			b = append(b, 0xff, 0xff, 0xff, 0xff) // NULL
			continue
		}
		var err error
		if b, err = f.appendValue(b, f.kinds[i], v); err != nil {
			f.buf = b
			return false, err
		}
	}
	f.buf = b
	f.w.Rows++
	_, err := f.w.Write(b)
	return true, err
}

// appendValue appends one non-null field: its length, then its bytes.
func (f *pgcopyFile) appendValue(b []byte, k pgKind, v any) ([]byte, error) {
	switch k {
	case pgText:
		if s, ok := v.(string); ok {
			return appendField(b, s), nil
		}
		// What CSV would hold: numbers and booleans as JSON, other values
		// as JSON text.
		j, err := jsonx.Append(f.tmp[:0], v)
		if err != nil {
			return b, err
		}
		f.tmp = j
		return appendField(b, string(j)), nil
	case pgJSONB:
		j, err := jsonx.Append(append(f.tmp[:0], 1), v) // jsonb's version byte, then the text
		if err != nil {
			return b, err
		}
		f.tmp = j
		return appendField(b, string(j)), nil
	case pgBigint:
		n, ok := toInt64(v)
		if !ok {
			return b, errNotExact
		}
		return binary.BigEndian.AppendUint64(append(b, 0, 0, 0, 8), uint64(n)), nil
	case pgDouble:
		x, ok := toFloat64(v)
		if !ok {
			return b, errNotExact
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			// JSON has no NaN: as the Parquet files, and as the value read
			// back from the extracted JSON would be.
			return append(b, 0xff, 0xff, 0xff, 0xff), nil
		}
		return binary.BigEndian.AppendUint64(append(b, 0, 0, 0, 8), math.Float64bits(x)), nil
	case pgBool:
		x, ok := v.(bool)
		if !ok {
			return b, errNotExact
		}
		c := byte(0)
		if x {
			c = 1
		}
		return append(b, 0, 0, 0, 1, c), nil
	case pgTimestamp:
		s, ok := v.(string)
		if !ok {
			return b, errNotExact
		}
		us, ok := PGTimestamp(s)
		if !ok {
			return b, errNotExact
		}
		return binary.BigEndian.AppendUint64(append(b, 0, 0, 0, 8), uint64(us)), nil
	case pgDate:
		s, ok := v.(string)
		if !ok {
			return b, errNotExact
		}
		d, ok := PGDate(s)
		if !ok {
			return b, errNotExact
		}
		return binary.BigEndian.AppendUint32(append(b, 0, 0, 0, 4), uint32(d)), nil
	case pgTime:
		s, ok := v.(string)
		if !ok {
			return b, errNotExact
		}
		us, ok := PGTime(s)
		if !ok {
			return b, errNotExact
		}
		return binary.BigEndian.AppendUint64(append(b, 0, 0, 0, 8), uint64(us)), nil
	case pgBytea:
		switch x := v.(type) {
		case []byte:
			return appendField(b, string(x)), nil
		case string:
			n := base64.StdEncoding.DecodedLen(len(x))
			start := len(b) + 4
			b = slices.Grow(append(b, 0, 0, 0, 0), n)[:start+n]
			m, err := base64.StdEncoding.Decode(b[start:], bytesOf(x))
			if err != nil {
				return b[:start-4], errNotExact
			}
			b = b[:start+m]
			binary.BigEndian.PutUint32(b[start-4:], uint32(m))
			return b, nil
		}
		return b, errNotExact
	}
	return b, errors.New("unknown column kind")
}

func appendField(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// PGColumn is a column of a pgcopy job file.
type PGColumn struct {
	Name string
	// Type is the PostgreSQL type its values are encoded for, as
	// format_type() names it.
	Type string
}

// PGCopyColumns reads a pgcopy job file's columns from its header.
func PGCopyColumns(path string) ([]PGColumn, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	cols, err := ReadPGCopyHeader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cols, nil
}

// ReadPGCopyHeader reads the header of a pgcopy job file: the binary COPY
// signature, flags and the extension that names the columns.
func ReadPGCopyHeader(r io.Reader) ([]PGColumn, error) {
	var fixed [19]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return nil, errors.New("not a binary COPY file: the header is cut short")
	}
	if string(fixed[:11]) != pgcopySignature {
		return nil, errors.New("not a binary COPY file: wrong signature")
	}
	if flags := binary.BigEndian.Uint32(fixed[11:15]); flags != 0 {
		return nil, fmt.Errorf("binary COPY flags %#x: this engine writes none", flags)
	}
	n := binary.BigEndian.Uint32(fixed[15:19])
	if n > pgcopyMaxHeader {
		return nil, fmt.Errorf("binary COPY header extension of %d bytes: more than %d", n, pgcopyMaxHeader)
	}
	ext := make([]byte, n)
	if _, err := io.ReadFull(r, ext); err != nil {
		return nil, errors.New("binary COPY header extension cut short")
	}
	rest, ok := bytes.CutPrefix(ext, []byte(pgcopyColumns))
	if !ok {
		return nil, errors.New("binary COPY file without dlthub's column names")
	}
	var cols []PGColumn
	for len(rest) > 0 {
		name, after, ok1 := bytes.Cut(rest, []byte{0})
		typ, after, ok2 := bytes.Cut(after, []byte{0})
		if !ok1 || !ok2 || len(name) == 0 || len(typ) == 0 {
			return nil, errors.New("binary COPY header: a column's name or type is cut short")
		}
		cols = append(cols, PGColumn{Name: string(name), Type: string(typ)})
		rest = after
	}
	return cols, nil
}

// pgEpochDays is 2000-01-01, PostgreSQL's epoch, in days since 1970-01-01.
const pgEpochDays = 10_957

// PGTimestamp reads an ISO 8601 timestamp (dlt's shape: YYYY-MM-DD, T or a
// space, HH:MM[:SS[.fraction]], then nothing, Z or ±HH[[:]MM]) as
// microseconds since 2000-01-01 UTC, as PostgreSQL's timestamptz input
// reads it in a UTC session: more than six fraction digits are rounded
// half to even as its rint(strtod(fraction) * 1e6). It returns false for
// anything else, which is then left to PostgreSQL's text input.
func PGTimestamp(s string) (int64, bool) {
	if len(s) < 16 || (s[10] != 'T' && s[10] != ' ') {
		return 0, false
	}
	days, ok := PGDate(s[:10])
	if !ok {
		return 0, false
	}
	us, rest, ok := pgClock(s[11:])
	if !ok || us >= 86_400_000_000 {
		return 0, false // 24:00 and carries into the next day: PostgreSQL's
	}
	off, ok := pgOffset(rest)
	if !ok {
		return 0, false
	}
	return int64(days)*86_400_000_000 + us - off*60_000_000, true
}

// PGDate reads YYYY-MM-DD (years 1 to 9999) as days since 2000-01-01.
func PGDate(s string) (int32, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return int32(schema.DaysFromCivil(y, m, d) - pgEpochDays), true
}

// PGTime reads HH:MM[:SS[.ffffff]] as microseconds since midnight, as
// PostgreSQL's time input does (24:00:00 is the end of the day); longer
// fractions are left to PostgreSQL.
func PGTime(s string) (int64, bool) {
	us, rest, ok := pgClock(s)
	if !ok || rest != "" || us > 86_400_000_000 {
		return 0, false
	}
	if us == 86_400_000_000 && s != "24:00" && s != "24:00:00" {
		return 0, false
	}
	return us, true
}

// pgClock reads HH:MM[:SS[.fraction]] with hours 0-23 (or 24:00:00) and
// returns the rest. Fractions of up to six digits are exact; longer ones
// (up to nine) are rounded as PostgreSQL does.
func pgClock(s string) (us int64, rest string, ok bool) {
	if len(s) < 5 || s[2] != ':' {
		return 0, "", false
	}
	h, ok1 := digits(s[0:2])
	mi, ok2 := digits(s[3:5])
	if !ok1 || !ok2 || h > 24 || mi > 59 {
		return 0, "", false
	}
	s = s[5:]
	sec, frac := 0, int64(0)
	if len(s) > 0 && s[0] == ':' {
		if len(s) < 3 {
			return 0, "", false
		}
		var ok bool
		if sec, ok = digits(s[1:3]); !ok || sec > 59 {
			return 0, "", false
		}
		s = s[3:]
		if len(s) > 0 && s[0] == '.' {
			n := 1
			for n < len(s) && s[n] >= '0' && s[n] <= '9' {
				n++
			}
			switch {
			case n == 1 || n > 10:
				return 0, "", false
			case n <= 7:
				f, _ := digits(s[1:n])
				frac = int64(f)
				for k := n - 1; k < 6; k++ {
					frac *= 10
				}
			default:
				x, err := strconv.ParseFloat(s[:n], 64)
				if err != nil {
					return 0, "", false
				}
				frac = int64(math.RoundToEven(x * 1_000_000))
			}
			s = s[n:]
		}
	}
	if h == 24 && (mi != 0 || sec != 0 || frac != 0) {
		return 0, "", false
	}
	return ((int64(h)*60+int64(mi))*60+int64(sec))*1_000_000 + frac, s, true
}

// pgOffset reads "", Z or ±HH[[:]MM] (at most 15:59, PostgreSQL's limit)
// as minutes east of UTC.
func pgOffset(s string) (int64, bool) {
	switch {
	case s == "" || s == "Z":
		return 0, true
	case len(s) < 3 || s[0] != '+' && s[0] != '-':
		return 0, false
	}
	sign := int64(1)
	if s[0] == '-' {
		sign = -1
	}
	h, ok := digits(s[1:3])
	if !ok || h > 15 {
		return 0, false
	}
	m := 0
	switch rest := s[3:]; {
	case rest == "":
	case len(rest) == 3 && rest[0] == ':':
		m, ok = digits(rest[1:])
	case len(rest) == 2:
		m, ok = digits(rest)
	default:
		return 0, false
	}
	if !ok || m > 59 {
		return 0, false
	}
	return sign * int64(h*60+m), true
}
