package jobfile

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"sync/atomic"
	"unsafe"

	"github.com/parquet-go/parquet-go"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/loadpackage"
	"github.com/dlthub/dlthub/internal/schema"
)

// RowGroupRows is the number of rows in a Parquet row group: DuckDB's own
// row group size, the unit its Parquet reader hands to one thread, so a
// file of many groups is read on every core.
const RowGroupRows = 122_880

// batchRows is how many rows are handed to the Parquet writer at once: it
// spreads rows into columns per call, so calls per row would cost more
// than the values.
const batchRows = 128

// kind is how one column's values are written.
type kind uint8

const (
	kText kind = iota
	kDouble
	kBool
	kBigint
	kTimestamp // microseconds since the epoch, UTC
	kDate      // days since the epoch
	kTime      // microseconds since midnight
	kBinary
	kJSON
	// kNumericText is decimal and wei: written as the text the CSV file
	// would hold and cast by the reader (CAST AS DECIMAL), so their
	// parsing, rounding and range errors are DuckDB's, exactly as before.
	kNumericText
)

// kindOf maps a dlt type to its Parquet column.
func kindOf(t schema.DataType) (kind, parquet.Node) {
	switch t {
	case schema.Double:
		return kDouble, parquet.Leaf(parquet.DoubleType)
	case schema.Bool:
		return kBool, parquet.Leaf(parquet.BooleanType)
	case schema.Bigint:
		return kBigint, parquet.Leaf(parquet.Int64Type)
	case schema.Timestamp:
		return kTimestamp, parquet.Timestamp(parquet.Microsecond)
	case schema.Date:
		return kDate, parquet.Date()
	case schema.Time:
		return kTime, parquet.TimeAdjusted(parquet.Microsecond, false)
	case schema.Binary:
		return kBinary, parquet.Leaf(parquet.ByteArrayType)
	case schema.JSON:
		return kJSON, parquet.JSON()
	case schema.Decimal, schema.Wei:
		return kNumericText, parquet.String()
	}
	return kText, parquet.String()
}

// parquetFile is a Parquet job file of one table: every column optional,
// typed after the table's columns when the file was opened. Rows are
// converted on the caller's goroutine into batches of PLAIN-encoded
// columns; a goroutine of the file's own writes them as pages (levels,
// compression), so normalizing and encoding use two cores. At most
// batchesInFlight batches are held.
type parquetFile struct {
	out *loadpackage.FileWriter
	layout
	kinds []kind   // per leaf column
	names []string // per leaf column, for errors
	undo  []int    // per value of the row being written: its column's data length before it
	// A row with a column twice (writeRepeats) is converted value by
	// value into tmp first.
	tmp    []colBuf
	chosen []int
	cur    *batch
	made   int // batches made so far, up to batchesInFlight
	// groupRows counts the rows of the open row group: the batch that
	// completes it ends there.
	groupRows int
	full      chan *batch
	free      chan *batch
	// done is the encoder's first error (or nil), once the file is
	// complete; the encoder drains every batch it is handed, so batches
	// always come back.
	done chan error
	// written is how many bytes the encoder has written so far.
	written atomic.Int64
}

// batch is rows on their way to the encoder, column by column.
type batch struct {
	cols []colBuf
	n    int
	// endGroup: the batch's last row is the last of a row group.
	endGroup bool
}

// size is the bytes of the batch's values.
func (b *batch) size() int {
	n := 0
	for i := range b.cols {
		n += len(b.cols[i].data)
	}
	return n
}

// nextBatch is a batch to fill: a free one, or a new one while fewer than
// batchesInFlight exist (small tables make few), or the next one the
// encoder hands back.
func (f *parquetFile) nextBatch() *batch {
	select {
	case b := <-f.free:
		return b
	default:
	}
	if f.made < batchesInFlight {
		f.made++
		b := &batch{cols: make([]colBuf, len(f.kinds))}
		for i := range b.cols {
			b.cols[i].def = make([]byte, 0, batchRows)
		}
		return b
	}
	return <-f.free
}

// batchesInFlight bounds the batches between the caller and the encoder:
// enough for the encoder to fall behind by a scheduler time slice or a
// row group's write without the normalizer waiting (with 4 it waited
// 0.7 s of a 3.5 s normalize stage, and the stage kept 1.78 cores busy
// instead of 1.88). batchBytes bounds what a batch of large values holds.
const (
	batchesInFlight = 128
	batchBytes      = 256 << 10
)

func createParquet(path string, cols []*schema.Column) (*parquetFile, error) {
	group := parquet.Group{}
	var typed []*schema.Column
	for _, c := range cols {
		if c.DataType == "" {
			// No value has typed it yet; a row that has one starts the
			// next file, with the type.
			continue
		}
		if _, dup := group[c.Name]; dup {
			return nil, fmt.Errorf("column %q twice", c.Name)
		}
		_, node := kindOf(c.DataType)
		group[c.Name] = parquet.Optional(node)
		typed = append(typed, c)
	}
	sch := parquet.NewSchema("dlt", group)
	f := &parquetFile{layout: layout{pos: make(map[*schema.Column]int, len(typed))},
		kinds: make([]kind, len(typed)), names: make([]string, len(typed)),
		full: make(chan *batch, batchesInFlight), free: make(chan *batch, batchesInFlight), done: make(chan error, 1)}
	for _, c := range typed {
		leaf, ok := sch.Lookup(c.Name)
		if !ok {
			return nil, fmt.Errorf("column %q: not in the Parquet schema", c.Name)
		}
		k, _ := kindOf(c.DataType)
		f.pos[c] = leaf.ColumnIndex
		f.kinds[leaf.ColumnIndex] = k
		f.names[leaf.ColumnIndex] = c.Name
	}
	out, err := loadpackage.Create(path)
	if err != nil {
		return nil, err
	}
	f.out = out
	go f.encode(newPQEncoder(countingWriter{out, &f.written}, sch, f.kinds))
	return f, nil
}

// countingWriter counts what the encoder's goroutine writes, for bytes():
// the file writer's own count is that goroutine's alone (progress reads
// the size while the file is written).
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}

// encode writes the batches it is handed, then the file's footer.
func (f *parquetFile) encode(e *pqEncoder) {
	err := e.start()
	for b := range f.full {
		if err == nil {
			err = e.writeBatch(b)
		}
		for i := range b.cols {
			b.cols[i].reset()
		}
		b.n, b.endGroup = 0, false
		f.free <- b
	}
	if err == nil {
		err = e.close()
	}
	f.done <- err
}

func (f *parquetFile) path() string { return f.out.Path() }
func (f *parquetFile) bytes() int64 { return f.written.Load() }

func (f *parquetFile) write(cols []*schema.Column, vals []any) (bool, error) {
	pos, ok := f.positions(cols)
	if !ok {
		return false, nil
	}
	if f.cur == nil {
		f.cur = f.nextBatch()
	}
	b := f.cur
	if f.lastRepeats {
		return f.writeRepeats(b, pos, vals)
	}
	// Each column takes one value per row, in any order of columns: the
	// row's values go straight into their columns, then the columns the
	// row lacks take a null.
	if cap(f.undo) < len(pos) {
		f.undo = make([]int, len(pos))
	}
	undo := f.undo[:len(pos)]
	for i, j := range pos {
		c := &b.cols[j]
		undo[i] = len(c.data)
		if err := c.put(f.kinds[j], vals[i]); err != nil {
			for k, j := range pos[:i+1] { // the row is not written
				b.cols[j].def = b.cols[j].def[:b.n]
				b.cols[j].data = b.cols[j].data[:undo[k]]
			}
			return false, fmt.Errorf("column %q: %w", f.names[j], err)
		}
	}
	for _, j := range f.lastAbsent {
		b.cols[j].def = append(b.cols[j].def, 0)
	}
	f.rowDone(b)
	return true, nil
}

// rowDone counts a written row and hands a full batch to the encoder.
func (f *parquetFile) rowDone(b *batch) {
	b.n++
	f.groupRows++
	if f.groupRows == RowGroupRows {
		b.endGroup = true
		f.groupRows = 0
	}
	if b.n == batchRows || b.endGroup || (b.n%16 == 0 && b.size() > batchBytes) {
		f.full <- b
		f.cur = nil
	}
}

// writeRepeats writes a row that has a column twice: its values are
// converted one by one first, so that the last one that is not null wins,
// as in dlt.
func (f *parquetFile) writeRepeats(b *batch, pos []int, vals []any) (bool, error) {
	if len(f.tmp) < len(pos) {
		f.tmp = make([]colBuf, len(pos))
	}
	if len(f.chosen) < len(b.cols) {
		f.chosen = make([]int, len(b.cols))
	}
	chosen := f.chosen[:len(b.cols)]
	for j := range chosen {
		chosen[j] = -1
	}
	for i, j := range pos {
		t := &f.tmp[i]
		t.reset()
		if err := t.put(f.kinds[j], vals[i]); err != nil {
			return false, fmt.Errorf("column %q: %w", f.names[j], err)
		}
		if t.def[0] == 1 {
			chosen[j] = i
		}
	}
	for j, i := range chosen {
		c := &b.cols[j]
		if i < 0 {
			c.def = append(c.def, 0) // null, or a column the row lacks
			continue
		}
		c.def = append(c.def, 1)
		c.data = append(c.data, f.tmp[i].data...)
	}
	f.rowDone(b)
	return true, nil
}

func (f *parquetFile) close() error {
	if f.cur != nil && f.cur.n > 0 {
		f.full <- f.cur
	}
	f.cur = nil
	close(f.full)
	err := <-f.done
	if cerr := f.out.Finish(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write Parquet: %w", err)
	}
	return nil
}

func (f *parquetFile) wait() error { return f.out.Wait() }

// bytesOf is s's bytes without a copy.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// null appends a null.
func (c *colBuf) null() { c.def = append(c.def, 0) }

// bytes appends a BYTE_ARRAY value: its length, then its bytes.
func (c *colBuf) bytes(b []byte) {
	c.def = append(c.def, 1)
	c.data = binary.LittleEndian.AppendUint32(c.data, uint32(len(b)))
	c.data = append(c.data, b...)
}

// put appends one normalized value for a column of kind k, or nothing
// (and an error) when it cannot be one. The values are what the
// normalizer's coercion leaves (schema.Coerce, Canonical): strings for
// text, timestamps, dates, times, base64 binary and numeric text; Go
// numbers and booleans; JSON-able values for json columns.
func (c *colBuf) put(k kind, v any) error {
	if v == nil {
		c.null()
		return nil
	}
	switch k {
	case kText:
		if s, ok := v.(string); ok {
			c.bytes(bytesOf(s))
			return nil
		}
		// What CSV would hold: numbers and booleans as JSON, other values
		// as JSON text.
		return c.json(v)
	case kBigint:
		n, ok := toInt64(v)
		if !ok {
			return fmt.Errorf("%v (%T) is not a bigint", v, v)
		}
		c.def = append(c.def, 1)
		c.data = binary.LittleEndian.AppendUint64(c.data, uint64(n))
	case kDouble:
		x, ok := toFloat64(v)
		if !ok {
			return fmt.Errorf("%v (%T) is not a double", v, v)
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			c.null() // JSON has no NaN: CSV files hold null
			return nil
		}
		c.def = append(c.def, 1)
		c.data = binary.LittleEndian.AppendUint64(c.data, math.Float64bits(x))
	case kBool:
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("%v (%T) is not a bool", v, v)
		}
		c.def = append(c.def, 1)
		if b {
			c.data = append(c.data, 1)
		} else {
			c.data = append(c.data, 0)
		}
	case kTimestamp:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%v (%T) is not a timestamp", v, v)
		}
		us, ok := ParseTimestamp(s)
		if !ok {
			// DuckDB's CSV reader reads a timestamp it cannot parse as
			// NULL (where a cast would fail), and so did this engine's
			// tables when its job files were CSV: keep them the same.
			c.null()
			return nil
		}
		c.def = append(c.def, 1)
		c.data = binary.LittleEndian.AppendUint64(c.data, uint64(us))
	case kDate:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%v (%T) is not a date", v, v)
		}
		d, ok := ParseDate(s)
		if !ok {
			return fmt.Errorf("%q is not a date DuckDB reads", s)
		}
		c.def = append(c.def, 1)
		c.data = binary.LittleEndian.AppendUint32(c.data, uint32(d))
	case kTime:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%v (%T) is not a time", v, v)
		}
		us, ok := ParseTime(s)
		if !ok {
			return fmt.Errorf("%q is not a time DuckDB reads", s)
		}
		c.def = append(c.def, 1)
		c.data = binary.LittleEndian.AppendUint64(c.data, uint64(us))
	case kBinary:
		switch x := v.(type) {
		case []byte:
			c.bytes(x)
			return nil
		case string:
			start := len(c.data)
			n := base64.StdEncoding.DecodedLen(len(x))
			c.data = slices.Grow(c.data, 4+n)[:start+4+n]
			m, err := base64.StdEncoding.Decode(c.data[start+4:], bytesOf(x))
			if err != nil {
				c.data = c.data[:start]
				return fmt.Errorf("binary value is not base64: %w", err)
			}
			binary.LittleEndian.PutUint32(c.data[start:], uint32(m))
			c.data = c.data[:start+4+m]
			c.def = append(c.def, 1)
			return nil
		}
		return fmt.Errorf("%v (%T) is not binary", v, v)
	case kJSON:
		return c.json(v)
	case kNumericText:
		switch x := v.(type) {
		case string:
			c.bytes(bytesOf(x))
			return nil
		case json.Number:
			c.bytes(bytesOf(string(x)))
			return nil
		case jsonx.Number:
			c.bytes(bytesOf(string(x)))
			return nil
		}
		return c.json(v)
	default:
		return errors.New("unknown column kind")
	}
	return nil
}

// json appends v as JSON text.
func (c *colBuf) json(v any) error {
	start := len(c.data)
	b, err := jsonx.Append(append(c.data, 0, 0, 0, 0), v)
	if err != nil {
		c.data = c.data[:start]
		return err
	}
	binary.LittleEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	c.data = b
	c.def = append(c.def, 1)
	return nil
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), true
		}
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	case jsonx.Number:
		n, err := strconv.ParseInt(string(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}

func toFloat64(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case jsonx.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	}
	if n, ok := toInt64(v); ok {
		return float64(n), true
	}
	return 0, false
}
