// Package ddbjson writes DynamoDB items as plain JSON: the images of a
// DynamoDB stream record as the JSON objects the data lake stores, for the
// DynamoDB-stream forwarder. It writes them from aws-lambda-go's
// events.DynamoDBAttributeValue (Marshal, AppendItem, AppendValue) or,
// on the hot path, straight from the DynamoDB JSON of the record
// (Transcoder, Transcode), with the same output for the same item.
//
// The mapping, one DynamoDB type at a time:
//
//	S     JSON string, escaped as encoding/json does (invalid UTF-8 becomes
//	      U+FFFD) but without HTML escaping: the output is data, not a page
//	N     JSON number with every digit as given (see below)
//	B     JSON string, standard base64 with padding
//	BOOL  true or false
//	NULL  null
//	M     JSON object, keys sorted bytewise so equal items give equal bytes
//	L     JSON array
//	SS    array of strings, NS array of numbers, BS array of base64 strings,
//	      in the order the stream gave them (Hive and Athena have no set type)
//
// Numbers never pass through float64, which holds about 16 significant
// digits where DynamoDB keeps 38. An N value is checked against the JSON
// number grammar and copied digit for digit. DynamoDB itself trims leading
// and trailing zeros and sends valid JSON numbers ("12.5", "-0.001",
// "1E+37"); values from other producers (hand-written events, emulators
// that keep what was put) may use forms that DynamoDB's API accepts but
// JSON does not, and these are normalised without touching a significant
// digit: a leading "+" is dropped ("+5" is written 5), leading zeros of the
// integer part are dropped ("007" is 7), a missing integer part becomes 0
// (".5" is 0.5) and a point with no digits after it is dropped ("5." is 5).
// Anything else that is not a number ("", "1e", "0x10", "NaN", " 1") fails
// with a *NumberError. Precision and range (38 digits, 1E-130 to 1E+126)
// are DynamoDB's to enforce: ddbjson rounds and rejects nothing for size.
package ddbjson

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"lakestream/shared/excerpt"
)

// Errors the writers wrap, for callers to branch on with errors.Is.
var (
	// ErrUnsupportedType means a value's type is none of DynamoDB's ten, or
	// it has no type at all: the zero events.DynamoDBAttributeValue, found
	// for example in a list built with make and never filled.
	ErrUnsupportedType = errors.New("unsupported attribute type")
	// ErrTooDeep means values nest deeper than MaxDepth, which no DynamoDB
	// item can; most likely a map or list was made to contain itself.
	ErrTooDeep = errors.New("attribute values nest too deep")
)

// MaxDepth is how deeply values may nest, counting a top-level attribute's
// value as depth 1. DynamoDB allows 32 levels; twice that refuses no item
// however the levels are counted, and still stops a value that contains
// itself long before it could exhaust the stack.
const MaxDepth = 64

// NumberError reports an N value, or an element of an NS value, that is not
// a number.
type NumberError struct {
	// Value is the number string as given.
	Value string
	// Reason says what is wrong with it ("no digits", "unexpected 'x' at
	// byte 3").
	Reason string
}

// Error implements error.
func (e *NumberError) Error() string {
	return fmt.Sprintf("invalid number %s: %s", excerpt.Quote(e.Value), e.Reason)
}

// AttributeError says where in an item a value could not be written. Err is
// a *NumberError or wraps ErrUnsupportedType or ErrTooDeep.
type AttributeError struct {
	// Path names the attribute from the top of the item (or of the value
	// given to AppendValue): map keys joined with dots, list and set
	// elements as [index], as in "orders[2].total".
	Path string
	Err  error
}

// Error implements error.
func (e *AttributeError) Error() string {
	return fmt.Sprintf("ddbjson: attribute %s: %v", excerpt.Quote(e.Path), e.Err)
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *AttributeError) Unwrap() error { return e.Err }

// within records that err happened under seg, a map key or a list index
// ("[2]"), by prefixing it to the path. Paths are built on the way out of
// the recursion, so a successful write spends nothing on them.
func within(err error, seg string) error {
	ae, ok := err.(*AttributeError)
	switch {
	case !ok:
		return &AttributeError{Path: seg, Err: err}
	case strings.HasPrefix(ae.Path, "["):
		ae.Path = seg + ae.Path
	default:
		ae.Path = seg + "." + ae.Path
	}
	return ae
}

// index is the path segment of element i of a list or set.
func index(i int) string { return "[" + strconv.Itoa(i) + "]" }
