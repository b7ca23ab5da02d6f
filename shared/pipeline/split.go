package pipeline

import (
	"bytes"
	"iter"
)

// splitter cuts a Firehose record's data into the pieces to parse: a
// cursor rather than an iterator, so that the per-line loop captures
// nothing in a closure (which moved its variables to the heap, several
// allocations per record).
type splitter struct {
	json bool
	data []byte
	n    int // the line the unread data starts on, 1-based
}

func (s Split) splitter(data []byte) splitter {
	return splitter{json: s == SplitJSON, data: data, n: 1}
}

// next returns the next piece and the line it starts on (1-based, blank
// lines counted, so it matches an editor's), or false at the end.
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
		var line []byte
		if i := bytes.IndexByte(sp.data, '\n'); i >= 0 {
			line, sp.data = sp.data[:i], sp.data[i+1:]
		} else {
			line, sp.data = sp.data, nil
		}
		n := sp.n
		sp.n++
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if !isBlank(line) {
			return n, line, true
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

// skipSpace moves past the white space before the next document, counting
// its lines, and reports whether there is one.
func (sp *splitter) skipSpace() bool {
	d := sp.data
	i := 0
	for i < len(d) && isSpace(d[i]) {
		if d[i] == '\n' {
			sp.n++
		}
		i++
	}
	sp.data = d[i:]
	return len(sp.data) > 0
}

// take moves past the document of n bytes that the unread data starts
// with and returns the line it starts on.
func (sp *splitter) take(n int) int {
	line := sp.n
	sp.n += bytes.Count(sp.data[:n], []byte{'\n'})
	sp.data = sp.data[n:]
	return line
}

// pieces yields the pieces of data with the line each starts on, as the
// splitter cuts them.
func (s Split) pieces(data []byte) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		sp := s.splitter(data)
		for {
			n, piece, ok := sp.next()
			if !ok || !yield(n, piece) {
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
