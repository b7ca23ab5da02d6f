package pipeline

import (
	"bytes"
	"iter"
)

// splitter cuts a Firehose record's data into the pieces to parse: a
// cursor rather than an iterator, so that the per-line loop captures
// nothing in a closure (which moved its variables to the heap, several
// allocations per record).
//
// It hands out where each piece starts rather than its line number: only
// a failing line needs the number, and counting the newlines inside every
// JSON document as it went cost ~1% of a firehose-json invocation.
type splitter struct {
	json bool
	all  []byte // the record's data, which line numbers are counted in
	data []byte // the unread rest of all
}

func (s Split) splitter(data []byte) splitter {
	return splitter{json: s == SplitJSON, all: data, data: data}
}

// line returns the line (1-based, blank lines counted, so it matches an
// editor's) that the piece starting at offset at is on.
func (sp *splitter) line(at int) int { return 1 + bytes.Count(sp.all[:at], []byte{'\n'}) }

// next returns the next piece and the offset in the data it starts at
// (see line), or false at the end.
func (sp *splitter) next() (int, []byte, bool) {
	if sp.json {
		return sp.nextDocument()
	}
	return sp.nextLine()
}

// nextLine returns the next LF-terminated line without the LF or a CR
// before it; the last line needs no LF. Lines of only spaces, tabs and CRs
// are skipped.
func (sp *splitter) nextLine() (int, []byte, bool) {
	for len(sp.data) > 0 {
		at := len(sp.all) - len(sp.data)
		var line []byte
		if i := bytes.IndexByte(sp.data, '\n'); i >= 0 {
			line, sp.data = sp.data[:i], sp.data[i+1:]
		} else {
			line, sp.data = sp.data, nil
		}
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if !isBlank(line) {
			return at, line, true
		}
	}
	return 0, nil, false
}

// nextDocument returns the next top-level JSON object or array, however
// it is spread over lines. Anything else runs to the end of its line, so
// a stray word fails with its own line number instead of swallowing the
// documents after it.
func (sp *splitter) nextDocument() (int, []byte, bool) {
	if !sp.skipSpace() {
		return 0, nil, false
	}
	d := sp.data
	i, start := 0, 0
	if c := d[i]; c == '{' || c == '[' {
		i = valueEnd(d, i)
	} else if j := bytes.IndexByte(d[i:], '\n'); j >= 0 {
		i += j
	} else {
		i = len(d)
	}
	return sp.take(i), d[start:i], true
}

// skipSpace moves past the white space before the next document and
// reports whether there is one.
func (sp *splitter) skipSpace() bool {
	d := sp.data
	i := 0
	for i < len(d) && isSpace(d[i]) {
		i++
	}
	sp.data = d[i:]
	return len(sp.data) > 0
}

// take moves past the document of n bytes that the unread data starts
// with and returns the offset it starts at (see line).
func (sp *splitter) take(n int) int {
	at := len(sp.all) - len(sp.data)
	sp.data = sp.data[n:]
	return at
}

// pieces yields the pieces of data with the line each starts on, as the
// splitter cuts them.
func (s Split) pieces(data []byte) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		sp := s.splitter(data)
		line, last := 1, 0
		for {
			at, piece, ok := sp.next()
			if !ok {
				return
			}
			line += bytes.Count(data[last:at], []byte{'\n'})
			last = at
			if !yield(line, piece) {
				return
			}
		}
	}
}

// jsonDocuments yields each JSON document of data (SplitJSON).
func jsonDocuments(data []byte) iter.Seq2[int, []byte] { return SplitJSON.pieces(data) }

func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
