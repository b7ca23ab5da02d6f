package pipeline

import (
	"bytes"
	"unicode/utf8"

	"lakestream/shared/record"
)

// appendLine writes r as one output line in the configured format.
func (s *stages) appendLine(dst []byte, r *record.Record, scratch *[]byte) ([]byte, error) {
	if s.format == FormatJSON {
		dst, err := AppendJSON(dst, r)
		return append(dst, '\n'), err
	}
	sep := byte(',')
	if s.format == FormatTSV {
		sep = '\t'
	}
	for i, col := range s.columns {
		if i > 0 {
			dst = append(dst, sep)
		}
		var err error
		if *scratch, err = appendText((*scratch)[:0], col.get(r)); err != nil {
			return dst, &FieldError{Field: col.name, Err: err}
		}
		if s.format == FormatTSV {
			dst = appendTSVField(dst, *scratch)
		} else {
			dst = appendCSVField(dst, *scratch)
		}
	}
	return append(dst, '\n'), nil
}

// appendCSVField quotes a field as RFC 4180 requires: when it holds a
// comma, a quote, CR or LF, with quotes doubled.
func appendCSVField(dst, text []byte) []byte {
	if bytes.IndexAny(text, ",\"\r\n") < 0 {
		return appendValidUTF8(dst, text)
	}
	dst = append(dst, '"')
	for {
		i := bytes.IndexByte(text, '"')
		if i < 0 {
			break
		}
		dst = append(appendValidUTF8(dst, text[:i+1]), '"')
		text = text[i+1:]
	}
	dst = appendValidUTF8(dst, text)
	return append(dst, '"')
}

// appendTSVField escapes the characters that would break a TSV row, and
// the backslash that introduces the escapes.
func appendTSVField(dst, text []byte) []byte {
	for {
		i := bytes.IndexAny(text, "\\\t\n\r")
		if i < 0 {
			return appendValidUTF8(dst, text)
		}
		dst = appendValidUTF8(dst, text[:i])
		switch text[i] {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		}
		text = text[i+1:]
	}
}

// appendValidUTF8 appends text with each invalid byte replaced by U+FFFD,
// as the JSON writer does.
func appendValidUTF8(dst, text []byte) []byte {
	if utf8.Valid(text) {
		return append(dst, text...)
	}
	for len(text) > 0 {
		r, size := utf8.DecodeRune(text)
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, text[:size]...)
		}
		text = text[size:]
	}
	return dst
}
