package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// lineReader reads an object's lines with bounded memory: a line is held
// whole only up to max bytes; of a longer one it keeps the first max bytes
// and skips the rest, so that one runaway line (a binary file, a log
// without newlines) fails alone instead of exhausting the function's
// memory. Lines end in LF; a CR before it is removed, and the last line
// needs no LF.
type lineReader struct {
	r   *bufio.Reader
	max int
	buf []byte // a line longer than the bufio buffer, assembled
	n   int    // the number of the line last returned, from 1
	err error  // met while skipping a long line, returned next
}

// readBuffer is the bufio buffer: most log lines fit in it, and are then
// returned without a copy.
const readBuffer = 64 << 10

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, readBuffer), max: max}
}

// next returns the next line, valid until the following call, and its
// number; tooLong reports a line over max bytes, of which line is the
// start. err is io.EOF after the last line, or the reader's error.
func (l *lineReader) next() (line []byte, n int, tooLong bool, err error) {
	if l.err != nil {
		return nil, l.n, false, l.err
	}
	l.buf = l.buf[:0]
	for {
		chunk, err := l.r.ReadSlice('\n')
		switch {
		case err == nil:
			l.n++
			if len(l.buf) == 0 {
				return l.clip(trimEOL(chunk))
			}
			return l.finish(chunk)
		case errors.Is(err, bufio.ErrBufferFull):
			if len(l.buf)+len(chunk) > l.max {
				l.n++
				l.buf = append(l.buf, chunk[:l.max-len(l.buf)]...)
				l.err = l.skipLine()
				return l.buf, l.n, true, nil
			}
			l.buf = append(l.buf, chunk...)
		case errors.Is(err, io.EOF) && len(chunk) == 0 && len(l.buf) == 0:
			return nil, l.n, false, io.EOF
		case errors.Is(err, io.EOF):
			// The last line, without an LF.
			l.n++
			if len(l.buf) == 0 {
				return l.clip(trimCR(chunk))
			}
			return l.finish(chunk)
		default:
			return nil, l.n, false, err
		}
	}
}

// finish ends an assembled line (at most max bytes so far) with its last
// chunk, so that a line holds at most max plus one buffer.
func (l *lineReader) finish(chunk []byte) ([]byte, int, bool, error) {
	l.buf = append(l.buf, chunk...)
	return l.clip(trimEOL(l.buf))
}

// clip reports a line over max, keeping its start.
func (l *lineReader) clip(line []byte) ([]byte, int, bool, error) {
	if len(line) > l.max {
		return line[:l.max], l.n, true, nil
	}
	return line, l.n, false, nil
}

// skipLine reads past the end of the current line. A reader error is
// returned; the end of the input is not one (the long line was the last).
func (l *lineReader) skipLine() error {
	for {
		_, err := l.r.ReadSlice('\n')
		switch {
		case err == nil, errors.Is(err, io.EOF):
			return nil
		case !errors.Is(err, bufio.ErrBufferFull):
			return err
		}
	}
}

func trimEOL(b []byte) []byte { return trimCR(bytes.TrimSuffix(b, []byte{'\n'})) }

func trimCR(b []byte) []byte { return bytes.TrimSuffix(b, []byte{'\r'}) }
