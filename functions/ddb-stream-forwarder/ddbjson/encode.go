package ddbjson

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/jsonenc"
)

// encoder is the scratch space for sorting map keys, reused through
// encoders so that writing an item allocates nothing beyond growing dst.
type encoder struct {
	// keys is a stack: each map being written sorts its keys in its own
	// segment above those of the maps it is nested in.
	keys []string
}

var encoders = sync.Pool{New: func() any { return new(encoder) }}

func getEncoder() *encoder { return encoders.Get().(*encoder) }

// release returns e to the pool without the keys it held, which would
// otherwise keep the strings of the last item alive.
func (e *encoder) release() {
	clear(e.keys)
	e.keys = e.keys[:0]
	encoders.Put(e)
}

// Marshal returns item as one JSON object; a nil or empty item is {}.
// Errors are as for AppendItem.
func Marshal(item map[string]events.DynamoDBAttributeValue) ([]byte, error) {
	return AppendItem(nil, item)
}

// AppendItem appends item as one JSON object to dst and returns the
// extended buffer; a nil or empty item is {}. On error it returns dst as it
// was given (its spare capacity may have been written to) and an
// *AttributeError naming the attribute that failed.
func AppendItem(dst []byte, item map[string]events.DynamoDBAttributeValue) ([]byte, error) {
	e := getEncoder()
	defer e.release()
	out, err := e.appendMap(dst, item, 0)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// AppendValue appends one attribute value as JSON to dst and returns the
// extended buffer. On error it returns dst as it was given; an error inside
// an M, L or set value is an *AttributeError with the path below v.
func AppendValue(dst []byte, v events.DynamoDBAttributeValue) ([]byte, error) {
	e := getEncoder()
	defer e.release()
	out, err := e.appendValue(dst, v, 1)
	if err != nil {
		if _, ok := err.(*AttributeError); !ok {
			err = fmt.Errorf("ddbjson: %w", err)
		}
		return dst, err
	}
	return out, nil
}

// appendMap writes m with its keys sorted; m itself is at depth, its values
// one level deeper.
func (e *encoder) appendMap(dst []byte, m map[string]events.DynamoDBAttributeValue, depth int) ([]byte, error) {
	base := len(e.keys)
	for k := range m {
		e.keys = append(e.keys, k)
	}
	keys := e.keys[base:]
	slices.Sort(keys)

	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonenc.AppendString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = e.appendValue(dst, m[k], depth+1); err != nil {
			return dst, within(err, k)
		}
	}
	// Nested maps have popped their keys, so e.keys[base:] is this map's
	// segment again (in e.keys's current array, which they may have moved).
	clear(e.keys[base:])
	e.keys = e.keys[:base]
	return append(dst, '}'), nil
}

// appendValue writes v, found at depth. The switch covers every type that
// aws-lambda-go defines; each accessor is called only in its own case
// because the accessors panic on any other type.
func (e *encoder) appendValue(dst []byte, v events.DynamoDBAttributeValue, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return dst, fmt.Errorf("%w: deeper than %d levels", ErrTooDeep, MaxDepth)
	}
	var err error
	switch v.DataType() {
	case events.DataTypeString:
		return jsonenc.AppendString(dst, v.String()), nil
	case events.DataTypeNumber:
		return appendNumber(dst, v.Number())
	case events.DataTypeBinary:
		// The zero DynamoDBAttributeValue reports DataTypeBinary with no value,
		// and Binary would panic on it.
		if v.IsNull() {
			return dst, fmt.Errorf("%w: the zero events.DynamoDBAttributeValue has no type", ErrUnsupportedType)
		}
		return appendBinary(dst, v.Binary()), nil
	case events.DataTypeBoolean:
		return strconv.AppendBool(dst, v.Boolean()), nil
	case events.DataTypeNull:
		return append(dst, "null"...), nil
	case events.DataTypeMap:
		return e.appendMap(dst, v.Map(), depth)
	case events.DataTypeList:
		dst = append(dst, '[')
		for i, el := range v.List() {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = e.appendValue(dst, el, depth+1); err != nil {
				return dst, within(err, index(i))
			}
		}
		return append(dst, ']'), nil
	case events.DataTypeStringSet:
		dst = append(dst, '[')
		for i, s := range v.StringSet() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonenc.AppendString(dst, s)
		}
		return append(dst, ']'), nil
	case events.DataTypeNumberSet:
		dst = append(dst, '[')
		for i, n := range v.NumberSet() {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendNumber(dst, n); err != nil {
				return dst, within(err, index(i))
			}
		}
		return append(dst, ']'), nil
	case events.DataTypeBinarySet:
		dst = append(dst, '[')
		for i, b := range v.BinarySet() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendBinary(dst, b)
		}
		return append(dst, ']'), nil
	default:
		return dst, fmt.Errorf("%w %d", ErrUnsupportedType, v.DataType())
	}
}

func appendBinary(dst, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}
