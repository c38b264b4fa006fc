package jobfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/klauspost/compress/s2"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// This file writes the Parquet format itself: pages, column chunks, row
// groups and the footer. It is written here rather than through
// parquet-go's writer because job files need only a small part of the
// format (flat, optional columns of a few types, PLAIN values) and the
// general writer cost most of the normalize stage's Parquet time: every
// value went through a 24-byte parquet.Value, was copied into a column
// buffer and encoded again from there (write and encode measured 3.4
// CPU-seconds of the 1M-record benchmark). Here the normalizer appends
// each value's PLAIN bytes once, and pages are those bytes with their
// definition levels in front: the normalize stage of that benchmark went
// from 6.6–7.6 to 5.9–6.3 CPU-seconds (docs/performance.md). parquet-go
// still supplies the format's Thrift structures and their encoding, and
// reads the files back in the tests.

// pageBytes is the size at which a column's page is written out: the
// default page size of parquet-go and of Arrow's writer (1 MiB there).
const pageBytes = 256 << 10

// colBuf is one column's rows: definition levels (one byte per row, 1 for
// a value, 0 for null) and the values of the non-null rows in Parquet's
// PLAIN encoding (booleans one byte each, packed when a page is written).
type colBuf struct {
	def  []byte
	data []byte
}

func (c *colBuf) reset() { c.def, c.data = c.def[:0], c.data[:0] }

// chunk is one column of the open row group: the page being filled, the
// group's finished pages (headers included) and what the footer says of
// them.
type chunk struct {
	page          colBuf
	pages         []byte
	values, nulls int64
	uncompressed  int64
	minV, maxV    []byte // the least and greatest value, PLAIN-encoded
	hasMinMax     bool
	typ           format.Type
	kind          kind
	name          string
	skip          int // pages not to compress (compressWorth)
}

// pqEncoder writes one Parquet file (start, then batches, then close): columns in the order of the schema's
// leaves, a row group wherever the writer ends one (every RowGroupRows
// rows).
type pqEncoder struct {
	out      io.Writer
	offset   int64
	schema   []format.SchemaElement
	orders   []format.ColumnOrder
	chunks   []chunk
	inGroup  int64
	rows     int64
	groups   []format.RowGroup
	scratch  []byte // a page's levels and values before compression
	comp     []byte // compressed values
	header   bytes.Buffer
	protocol thrift.CompactProtocol
}

func newPQEncoder(out io.Writer, sch *parquet.Schema, kinds []kind) *pqEncoder {
	e := &pqEncoder{out: out}
	fields := sch.Fields()
	e.schema = append(e.schema, format.SchemaElement{Name: sch.Name()})
	e.schema[0].NumChildren.Set(int32(len(fields)))
	for i, f := range fields {
		t := f.Type()
		el := format.SchemaElement{Name: f.Name()}
		el.RepetitionType.Set(format.Optional)
		if lt := t.LogicalType(); lt != nil {
			el.LogicalType = *lt
		}
		if n := t.Length(); n > 0 { // as parquet-go writes it (bits of fixed-width types)
			el.TypeLength.Set(int32(n))
		}
		if pt := t.PhysicalType(); pt != nil {
			el.Type.Set(*pt)
		}
		if ct := t.ConvertedType(); ct != nil {
			el.ConvertedType.Set(*ct)
		}
		e.schema = append(e.schema, el)
		e.orders = append(e.orders, *t.ColumnOrder())
		e.chunks = append(e.chunks, chunk{typ: *t.PhysicalType(), kind: kinds[i], name: f.Name()})
	}
	return e
}

// start writes the file's leading magic bytes.
func (e *pqEncoder) start() error { return e.write([]byte("PAR1")) }

// writeBatch appends a batch's rows to the open row group, closing it
// after the batch that ends it (parquetFile.rowDone).
func (e *pqEncoder) writeBatch(b *batch) error {
	for i := range e.chunks {
		c := &e.chunks[i]
		src := &b.cols[i]
		if len(c.page.def) > 0 && len(c.page.def)+len(c.page.data)+len(src.def)+len(src.data) > pageBytes {
			// A page holds whole batches, up to pageBytes; a batch of
			// huge values is a page by itself (sizes in the format are
			// 32-bit).
			if err := e.flushPage(c); err != nil {
				return err
			}
		}
		c.page.def = append(c.page.def, src.def...)
		c.page.data = append(c.page.data, src.data...)
	}
	e.inGroup += int64(b.n)
	if b.endGroup {
		return e.flushGroup()
	}
	return nil
}

// flushPage writes a column's filled page into its chunk as a V2 data
// page (levels outside the compression, as parquet-go writes them too):
// the definition levels in the RLE/bit-packed hybrid encoding, then the
// PLAIN values, Snappy-compressed unless that saves too little (random
// ids do not compress, and a reader skips decompressing them).
func (e *pqEncoder) flushPage(c *chunk) error {
	rows := len(c.page.def)
	if rows == 0 {
		return nil
	}
	if len(c.page.data) > math.MaxInt32/2 {
		return fmt.Errorf("column %q: %d MB of values in %d rows: larger than a Parquet page can hold", c.name, len(c.page.data)>>20, rows)
	}
	nulls := bytes.Count(c.page.def, []byte{0})
	levels := appendLevels(e.scratch[:0], c.page.def, nulls)
	nLevels := len(levels)
	vals := c.page.data
	if c.kind == kBool {
		levels = appendBits(levels, vals)
		vals = levels[nLevels:]
	}
	if len(vals) > 0 {
		c.stats(vals)
	}
	isCompressed := len(vals) > 0 && c.compressWorth()
	body := vals
	if isCompressed {
		// Snappy's fast block encoder (s2's): parquet-go's codec used the
		// "better" one, about twice the time for files a little smaller,
		// and job files live only until loaded. Every reader decodes it.
		e.comp = s2.EncodeSnappy(e.comp[:cap(e.comp)], vals)
		body = e.comp
		if len(body)*8 > len(vals)*7 {
			c.skip = 15
			if len(body) >= len(vals) {
				isCompressed, body = false, vals
			}
		}
	}
	h := format.PageHeader{
		Type:                 format.DataPageV2,
		UncompressedPageSize: int32(nLevels + len(vals)),
		CompressedPageSize:   int32(nLevels + len(body)),
		DataPageHeaderV2: thrift.New(format.DataPageHeaderV2{
			NumValues:                  int32(rows),
			NumNulls:                   int32(nulls),
			NumRows:                    int32(rows),
			Encoding:                   format.Plain,
			DefinitionLevelsByteLength: int32(nLevels),
			IsCompressed:               thrift.New(isCompressed),
		}),
	}
	e.header.Reset()
	if err := thrift.NewEncoder(e.protocol.NewWriter(&e.header)).Encode(&h); err != nil {
		return fmt.Errorf("column %q: page header: %w", c.name, err)
	}
	c.pages = append(c.pages, e.header.Bytes()...)
	c.pages = append(c.pages, levels[:nLevels]...)
	c.pages = append(c.pages, body...)
	c.uncompressed += int64(e.header.Len() + nLevels + len(vals))
	c.values += int64(rows)
	c.nulls += int64(nulls)
	e.scratch = levels[:0]
	c.page.reset()
	return nil
}

// compressWorth says whether a column's next page is compressed: not for
// the next 15 pages after one that Snappy left at more than 7/8 of its
// size, then it is tried again (the data may have changed).
func (c *chunk) compressWorth() bool {
	if c.skip > 0 {
		c.skip--
		return false
	}
	return true
}

// stats folds a page's PLAIN values into the chunk's min and max
// statistics, which readers use to skip row groups. Numeric columns get
// them; text, JSON and binary only null counts, like booleans: job files
// are read whole (DuckDB loads them, the filesystem destination writes its
// own files from them), and comparing every string was 7 % of the
// writer's CPU profile.
func (c *chunk) stats(vals []byte) {
	switch c.typ {
	case format.Int64:
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		for i := 0; i+8 <= len(vals); i += 8 {
			v := int64(binary.LittleEndian.Uint64(vals[i:]))
			lo, hi = min(lo, v), max(hi, v)
		}
		if c.hasMinMax {
			lo = min(lo, int64(binary.LittleEndian.Uint64(c.minV)))
			hi = max(hi, int64(binary.LittleEndian.Uint64(c.maxV)))
		}
		c.minV = binary.LittleEndian.AppendUint64(c.minV[:0], uint64(lo))
		c.maxV = binary.LittleEndian.AppendUint64(c.maxV[:0], uint64(hi))
	case format.Int32:
		lo, hi := int32(math.MaxInt32), int32(math.MinInt32)
		for i := 0; i+4 <= len(vals); i += 4 {
			v := int32(binary.LittleEndian.Uint32(vals[i:]))
			lo, hi = min(lo, v), max(hi, v)
		}
		if c.hasMinMax {
			lo = min(lo, int32(binary.LittleEndian.Uint32(c.minV)))
			hi = max(hi, int32(binary.LittleEndian.Uint32(c.maxV)))
		}
		c.minV = binary.LittleEndian.AppendUint32(c.minV[:0], uint32(lo))
		c.maxV = binary.LittleEndian.AppendUint32(c.maxV[:0], uint32(hi))
	case format.Double:
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := 0; i+8 <= len(vals); i += 8 {
			v := math.Float64frombits(binary.LittleEndian.Uint64(vals[i:]))
			lo, hi = min(lo, v), max(hi, v) // NaN is never written (it is null)
		}
		if c.hasMinMax {
			lo = min(lo, math.Float64frombits(binary.LittleEndian.Uint64(c.minV)))
			hi = max(hi, math.Float64frombits(binary.LittleEndian.Uint64(c.maxV)))
		}
		if lo == 0 {
			lo = math.Copysign(0, -1) // the format's rule: -0.0 for a zero minimum
		}
		if hi == 0 {
			hi = 0 // and +0.0 for a zero maximum
		}
		c.minV = binary.LittleEndian.AppendUint64(c.minV[:0], math.Float64bits(lo))
		c.maxV = binary.LittleEndian.AppendUint64(c.maxV[:0], math.Float64bits(hi))
	default:
		return
	}
	c.hasMinMax = true
}

// appendLevels appends definition levels (0 or 1 per row) in the
// RLE/bit-packed hybrid encoding with bit width 1: one run when every row
// is null or none is, else bit-packed groups of eight.
func appendLevels(dst, def []byte, nulls int) []byte {
	if nulls == 0 || nulls == len(def) {
		dst = binary.AppendUvarint(dst, uint64(len(def))<<1)
		if nulls == 0 {
			return append(dst, 1)
		}
		return append(dst, 0)
	}
	groups := (len(def) + 7) / 8
	dst = binary.AppendUvarint(dst, uint64(groups)<<1|1)
	return appendBits(dst, def)
}

// appendBits packs bytes of 0 or 1 into bits, least significant first, in
// whole bytes (the last one padded with zeros).
func appendBits(dst, bits []byte) []byte {
	i := 0
	for ; i+8 <= len(bits); i += 8 {
		x := binary.LittleEndian.Uint64(bits[i:])
		// Gather the low bit of each byte into the top byte: bit k of
		// byte k lands at bit 56+k.
		dst = append(dst, byte((x&0x0101010101010101)*0x0102040810204080>>56))
	}
	if i < len(bits) {
		var b byte
		for k, v := range bits[i:] {
			b |= (v & 1) << k
		}
		dst = append(dst, b)
	}
	return dst
}

// flushGroup writes the open row group's column chunks to the file.
func (e *pqEncoder) flushGroup() error {
	if e.inGroup == 0 {
		return nil
	}
	g := format.RowGroup{NumRows: e.inGroup, FileOffset: e.offset, Ordinal: int16(len(e.groups))}
	for i := range e.chunks {
		c := &e.chunks[i]
		if err := e.flushPage(c); err != nil {
			return err
		}
		md := format.ColumnMetaData{
			Type:                  c.typ,
			Encoding:              []format.Encoding{format.Plain, format.RLE},
			PathInSchema:          []string{c.name},
			Codec:                 format.Snappy,
			NumValues:             c.values,
			TotalUncompressedSize: c.uncompressed,
			TotalCompressedSize:   int64(len(c.pages)),
			DataPageOffset:        e.offset,
			Statistics:            format.Statistics{NullCount: c.nulls},
		}
		if c.hasMinMax {
			md.Statistics.MinValue = bytes.Clone(c.minV)
			md.Statistics.MaxValue = bytes.Clone(c.maxV)
		}
		g.Columns = append(g.Columns, format.ColumnChunk{FileOffset: e.offset, MetaData: md})
		g.TotalByteSize += c.uncompressed
		g.TotalCompressedSize += int64(len(c.pages))
		if err := e.write(c.pages); err != nil {
			return err
		}
		c.pages = c.pages[:0]
		c.values, c.nulls, c.uncompressed, c.hasMinMax = 0, 0, 0, false
	}
	e.groups = append(e.groups, g)
	e.rows += e.inGroup
	e.inGroup = 0
	return nil
}

// close writes the last row group and the footer.
func (e *pqEncoder) close() error {
	if err := e.flushGroup(); err != nil {
		return err
	}
	md := format.FileMetaData{
		Version:      2,
		Schema:       e.schema,
		NumRows:      e.rows,
		RowGroups:    e.groups,
		CreatedBy:    "dlthub",
		ColumnOrders: e.orders,
	}
	var footer bytes.Buffer
	if err := thrift.NewEncoder(e.protocol.NewWriter(&footer)).Encode(&md); err != nil {
		return fmt.Errorf("footer: %w", err)
	}
	footer.Write(binary.LittleEndian.AppendUint32(nil, uint32(footer.Len())))
	footer.WriteString("PAR1")
	return e.write(footer.Bytes())
}

func (e *pqEncoder) write(b []byte) error {
	n, err := e.out.Write(b)
	e.offset += int64(n)
	return err
}
