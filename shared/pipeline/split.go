package pipeline

import (
	"bytes"
	"iter"
)

// pieces yields the parts of data to parse with the line number each
// starts on (1-based, blank lines counted, so it matches an editor's).
func (s Split) pieces(data []byte) iter.Seq2[int, []byte] {
	if s == SplitJSON {
		return jsonDocuments(data)
	}
	return lines(data)
}

// lines yields LF-terminated lines without the LF or a CR before it; the
// last line needs no LF. Lines of only spaces, tabs and CRs are skipped.
func lines(data []byte) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		for n := 1; len(data) > 0; n++ {
			var line []byte
			line, data, _ = bytes.Cut(data, []byte{'\n'})
			line = bytes.TrimSuffix(line, []byte{'\r'})
			if isBlank(line) {
				continue
			}
			if !yield(n, line) {
				return
			}
		}
	}
}

// jsonDocuments yields each top-level JSON object or array in data,
// however it is spread over lines. Anything else runs to the end of its
// line, so a stray word fails with its own line number instead of
// swallowing the documents after it.
func jsonDocuments(data []byte) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		n, i := 1, 0
		for {
			for i < len(data) && isSpace(data[i]) {
				if data[i] == '\n' {
					n++
				}
				i++
			}
			if i == len(data) {
				return
			}
			start := i
			if c := data[i]; c == '{' || c == '[' {
				i = valueEnd(data, i)
			} else if j := bytes.IndexByte(data[i:], '\n'); j >= 0 {
				i += j
			} else {
				i = len(data)
			}
			doc := data[start:i]
			if !yield(n, doc) {
				return
			}
			n += bytes.Count(doc, []byte{'\n'})
		}
	}
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
