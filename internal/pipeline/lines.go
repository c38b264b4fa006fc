package pipeline

import (
	"bytes"
	"errors"
	"io"
)

// lineArena is the size of the buffers lineReader reads into.
const lineArena = 512 << 10

// lineReader splits JSON lines read from r without copying them: it reads
// straight into buffers it never writes again, so a line it returns stays
// valid and unchanged for as long as anything points into it (the parser's
// strings do, ParseShared). Through bufio each byte was copied twice (into
// bufio's buffer, then out of it into such a buffer); here only a line cut
// by the end of a buffer is copied, into the next one.
type lineReader struct {
	r   io.Reader
	buf []byte // the current buffer; buf[pos:] is not yet returned
	pos int
	err error // from r, once buf is drained
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: r, buf: make([]byte, 0, lineArena)}
}

// next returns the next line without its '\n' (a last line may lack one),
// or io.EOF after the last.
func (l *lineReader) next() ([]byte, error) {
	for {
		if i := bytes.IndexByte(l.buf[l.pos:], '\n'); i >= 0 {
			line := l.buf[l.pos : l.pos+i : l.pos+i]
			l.pos += i + 1
			return line, nil
		}
		if l.err != nil {
			if l.pos < len(l.buf) { // the last line, without '\n'
				line := l.buf[l.pos:len(l.buf):len(l.buf)]
				l.pos = len(l.buf)
				return line, nil
			}
			return nil, l.err
		}
		if len(l.buf) == cap(l.buf) {
			// Full: the unfinished line moves to a new buffer (twice as
			// large as the line, for a line longer than a buffer).
			tail := l.buf[l.pos:]
			nb := make([]byte, len(tail), max(lineArena, 2*len(tail)))
			copy(nb, tail)
			l.buf, l.pos = nb, 0
		}
		n, err := l.r.Read(l.buf[len(l.buf):cap(l.buf)])
		l.buf = l.buf[:len(l.buf)+n]
		if err != nil {
			l.err = err
		} else if n == 0 {
			l.err = errors.New("read no bytes and no error")
		}
	}
}
