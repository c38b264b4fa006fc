// Package jsonl reads JSON lines without copying them.
package jsonl

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// bufSize is the size of the buffers a Reader reads into.
const bufSize = 512 << 10

// Reader splits lines read from r without copying them: it reads straight
// into buffers it never writes again, so a line it returns stays valid and
// unchanged for as long as anything points into it (a parser's strings, a
// raw record handed on). Through bufio each byte was copied twice (into
// bufio's buffer, then out of it into such a buffer); here only a line cut
// by the end of a buffer is copied, into the next one.
type Reader struct {
	r   io.Reader
	max int    // longest line allowed, 0 for any
	buf []byte // the current buffer; buf[pos:] is not yet returned
	pos int
	err error // from r, once buf is drained
	bad error // a line that was too long: every later call returns it
}

// NewReader reads lines from r; max, when above 0, is the longest line it
// returns (a longer one is an error, so that input without newlines cannot
// take all memory).
func NewReader(r io.Reader, max int) *Reader {
	return &Reader{r: r, max: max, buf: make([]byte, 0, bufSize)}
}

// Next returns the next line without its '\n' (a last line may lack one),
// or io.EOF after the last.
func (l *Reader) Next() ([]byte, error) {
	if l.bad != nil {
		return nil, l.bad
	}
	for {
		if i := bytes.IndexByte(l.buf[l.pos:], '\n'); i >= 0 {
			line := l.buf[l.pos : l.pos+i : l.pos+i]
			l.pos += i + 1
			return l.checked(line)
		}
		if l.err != nil {
			if l.pos < len(l.buf) { // the last line, without '\n'
				line := l.buf[l.pos:len(l.buf):len(l.buf)]
				l.pos = len(l.buf)
				return l.checked(line)
			}
			return nil, l.err
		}
		if err := l.check(l.buf[l.pos:]); err != nil {
			return nil, err
		}
		if len(l.buf) == cap(l.buf) {
			// Full: the unfinished line moves to a new buffer (twice as
			// large as the line, for a line longer than a buffer).
			tail := l.buf[l.pos:]
			nb := make([]byte, len(tail), max(bufSize, 2*len(tail)))
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

// checked returns line, or no line and an error when it is too long.
func (l *Reader) checked(line []byte) ([]byte, error) {
	if err := l.check(line); err != nil {
		return nil, err
	}
	return line, nil
}

// check refuses a line (or the start of one) longer than max.
func (l *Reader) check(line []byte) error {
	if l.max > 0 && len(line) > l.max {
		l.bad = fmt.Errorf("a line is longer than %d MB", l.max>>20)
		return l.bad
	}
	return nil
}
