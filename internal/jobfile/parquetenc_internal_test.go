package jobfile

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/dlthub/dlthub/internal/schema"
)

// appendBitsNaive packs bits one at a time, as the format describes.
func appendBitsNaive(dst, bits []byte) []byte {
	for i := 0; i < len(bits); i += 8 {
		var b byte
		for k := 0; k < 8 && i+k < len(bits); k++ {
			b |= bits[i+k] << k
		}
		dst = append(dst, b)
	}
	return dst
}

func TestAppendBitsMatchesTheFormat(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 70 {
		bits := make([]byte, n)
		for i := range bits {
			bits[i] = byte(r.IntN(2))
		}
		if got, want := appendBits([]byte{0xAA}, bits), appendBitsNaive([]byte{0xAA}, bits); !bytes.Equal(got, want) {
			t.Fatalf("%d bits %v: got %08b, want %08b", n, bits, got, want)
		}
	}
}

func TestAppendLevels(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		def  []byte
		want []byte
	}{
		{[]byte{1, 1, 1}, []byte{3 << 1, 1}},                  // one RLE run of 1s
		{[]byte{0, 0}, []byte{2 << 1, 0}},                     // one RLE run of 0s
		{[]byte{1, 0, 1}, []byte{1<<1 | 1, 0b101}},            // one bit-packed group
		{bytes.Repeat([]byte{1}, 200), []byte{0x90, 0x03, 1}}, // 200<<1 as a varint
		{append(bytes.Repeat([]byte{1}, 8), 0), []byte{2<<1 | 1, 0xFF, 0}},
	} {
		nulls := bytes.Count(tc.def, []byte{0})
		if got := appendLevels(nil, tc.def, nulls); !bytes.Equal(got, tc.want) {
			t.Errorf("%v: got %x, want %x", tc.def, got, tc.want)
		}
	}
}

// The schema in the footer is the one parquet-go writes for the same
// columns: readers see the same types, logical and converted, as before
// the job files had a writer of their own.
func TestParquetSchemaIsParquetGos(t *testing.T) {
	t.Parallel()
	var cols []*schema.Column
	group := parquet.Group{}
	for _, dt := range []schema.DataType{schema.Text, schema.Double, schema.Bool, schema.Bigint, schema.Timestamp,
		schema.Date, schema.Time, schema.Binary, schema.JSON, schema.Decimal, schema.Wei} {
		c := &schema.Column{Name: "c_" + string(dt), DataType: dt, Nullable: true}
		cols = append(cols, c)
		_, node := kindOf(dt)
		group[c.Name] = parquet.Optional(node)
	}
	path := filepath.Join(t.TempDir(), "t.0.0.parquet")
	f, err := createParquet(path, cols)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.close(); err != nil {
		t.Fatal(err)
	}
	if err := f.wait(); err != nil {
		t.Fatal(err)
	}
	var ref bytes.Buffer
	w := parquet.NewGenericWriter[any](&ref, parquet.NewSchema("dlt", group))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ours, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := parquet.OpenFile(bytes.NewReader(ours), int64(len(ours)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := parquet.OpenFile(bytes.NewReader(ref.Bytes()), int64(ref.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Metadata().Schema, b.Metadata().Schema; !reflect.DeepEqual(got, want) {
		t.Fatalf("schema\n%+v\nparquet-go writes\n%+v", got, want)
	}
	if got, want := a.Metadata().ColumnOrders, b.Metadata().ColumnOrders; !reflect.DeepEqual(got, want) {
		t.Fatalf("column orders %+v, parquet-go writes %+v", got, want)
	}
}
