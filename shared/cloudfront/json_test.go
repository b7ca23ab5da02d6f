package cloudfront

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"lakestream/shared/record"
)

// recordJSON writes r as a JSON object with its fields in order, the form
// the goldens hold. A float64 always shows a decimal point or an exponent,
// so a golden tells int64 from float64. Any type outside the record
// contract is an error, which checks the parser's output types too.
func recordJSON(r *record.Record) ([]byte, error) {
	var b bytes.Buffer
	if err := writeRecord(&b, r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeRecord(b *bytes.Buffer, r *record.Record) error {
	if r == nil {
		b.WriteString("null")
		return nil
	}
	b.WriteByte('{')
	for i, f := range r.Fields {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, f.Name)
		b.WriteByte(':')
		switch v := f.Value.(type) {
		case nil:
			b.WriteString("null")
		case string:
			writeString(b, v)
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case float64:
			s := strconv.FormatFloat(v, 'g', -1, 64)
			if !strings.ContainsAny(s, ".e") {
				s += ".0"
			}
			b.WriteString(s)
		case bool:
			b.WriteString(strconv.FormatBool(v))
		case *record.Record:
			if err := writeRecord(b, v); err != nil {
				return err
			}
		default:
			return fmt.Errorf("field %q has type %T, outside the record contract", f.Name, v)
		}
	}
	b.WriteByte('}')
	return nil
}

// writeString writes s as encoding/json does without HTML escaping: each
// invalid UTF-8 byte becomes U+FFFD, as the pipeline's writer does.
func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // Encode adds a newline
}

// jsonTokens lists a JSON text's tokens, numbers as written, so that two
// texts compare equal only with the same keys in the same order.
func jsonTokens(text []byte) ([]any, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var tokens []any
	for {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return tokens, nil
			}
			return nil, err
		}
		tokens = append(tokens, tok)
	}
}
