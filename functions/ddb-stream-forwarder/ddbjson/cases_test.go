package ddbjson_test

import (
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/functions/ddb-stream-forwarder/ddbjson"
	"lakestream/shared/excerpt"
)

// valueCase is one attribute value and what AppendValue makes of it.
type valueCase struct {
	in   events.DynamoDBAttributeValue
	want string // the exact JSON; empty when the value fails
	err  string // the exact error from AppendValue
	// is is the sentinel the error wraps; nil for a *NumberError, whose
	// Value is then badNumber.
	is        error
	badNumber string
}

var (
	s    = events.NewStringAttribute
	n    = events.NewNumberAttribute
	b    = events.NewBinaryAttribute
	bl   = events.NewBooleanAttribute
	null = events.NewNullAttribute
	list = func(vs ...events.DynamoDBAttributeValue) events.DynamoDBAttributeValue {
		return events.NewListAttribute(vs)
	}
	obj = events.NewMapAttribute
)

type item = map[string]events.DynamoDBAttributeValue

// numberCase is a bad number: the error AppendValue returns for it.
func numberCase(value, reason string) valueCase {
	return valueCase{in: n(value), badNumber: value, err: "ddbjson: invalid number " + excerpt.Quote(value) + ": " + reason}
}

// cases is the one table of values that the tests of AppendValue,
// AppendItem and Marshal all run, and that seeds FuzzMarshal.
var cases = map[string]valueCase{
	// S
	"string":          {in: s("hello"), want: `"hello"`},
	"empty string":    {in: s(""), want: `""`},
	"escapes":         {in: s("q\" b\\ n\n r\r t\t b\b f\f nul\x00 us\x1f del\x7f"), want: `"q\" b\\ n\n r\r t\t b\b f\f nul\u0000 us\u001f del` + "\x7f" + `"`},
	"no HTML escape":  {in: s("<a href='x'>&amp;</a>"), want: `"<a href='x'>&amp;</a>"`},
	"unicode":         {in: s("Grüße 東京 🚀"), want: `"Grüße 東京 🚀"`},
	"line separators": {in: s("a\u2028b\u2029c"), want: `"a\u2028b\u2029c"`},
	"invalid UTF-8":   {in: s("a\xffb\xc3(\xe2\x82"), want: `"a\ufffdb\ufffd(\ufffd\ufffd"`},

	// N: valid JSON numbers are written verbatim.
	"integer":              {in: n("42"), want: `42`},
	"zero":                 {in: n("0"), want: `0`},
	"negative zero":        {in: n("-0"), want: `-0`},
	"decimal":              {in: n("-12.50"), want: `-12.50`},
	"38 digits":            {in: n("12345678901234567890123456789012345678"), want: `12345678901234567890123456789012345678`},
	"38 digits negative":   {in: n("-99999999999999999999999999999999999999"), want: `-99999999999999999999999999999999999999`},
	"smallest magnitude":   {in: n("-0.000000000000000000000000000000000001"), want: `-0.000000000000000000000000000000000001`},
	"exponent":             {in: n("1E+37"), want: `1E+37`},
	"exponent lower case":  {in: n("1e37"), want: `1e37`},
	"negative exponent":    {in: n("1E-130"), want: `1E-130`},
	"largest":              {in: n("9.9999999999999999999999999999999999999E+125"), want: `9.9999999999999999999999999999999999999E+125`},
	"exponent zeros":       {in: n("1e007"), want: `1e007`},
	"more than 38 digits":  {in: n("1234567890123456789012345678901234567890"), want: `1234567890123456789012345678901234567890`},
	"leading plus":         {in: n("+5"), want: `5`},
	"leading zeros":        {in: n("007"), want: `7`},
	"all zeros":            {in: n("-000"), want: `-0`},
	"zeros and fraction":   {in: n("-007.50"), want: `-7.50`},
	"no integer part":      {in: n(".5"), want: `0.5`},
	"negative no integer":  {in: n("-.25e-3"), want: `-0.25e-3`},
	"trailing point":       {in: n("5."), want: `5`},
	"trailing point, exp":  {in: n("+5.E3"), want: `5E3`},
	"empty number":         numberCase("", "empty"),
	"sign only":            numberCase("-", "no digits"),
	"point only":           numberCase(".", "no digits"),
	"word":                 numberCase("abc", `unexpected 'a' at byte 0`),
	"NaN":                  numberCase("NaN", `unexpected 'N' at byte 0`),
	"infinity":             numberCase("-Infinity", `unexpected 'I' at byte 1`),
	"hex":                  numberCase("0x10", `unexpected 'x' at byte 1`),
	"two points":           numberCase("1.2.3", `unexpected '.' at byte 3`),
	"thousands separator":  numberCase("1,000", `unexpected ',' at byte 1`),
	"leading space":        numberCase(" 1", `unexpected ' ' at byte 0`),
	"trailing space":       numberCase("1 ", `unexpected ' ' at byte 1`),
	"two signs":            numberCase("+-1", `unexpected '-' at byte 1`),
	"exponent only":        numberCase("e5", `unexpected 'e' at byte 0`),
	"no exponent digits":   numberCase("1e", "no digits in the exponent"),
	"exponent sign only":   numberCase("1E+", "no digits in the exponent"),
	"exponent not a digit": numberCase("1e+x", `unexpected 'x' at byte 3`),
	"fullwidth digit":      numberCase("１", `unexpected '１' at byte 0`),
	"invalid UTF-8 number": numberCase("1\xff", `unexpected '�' at byte 1`),
	"long value is cut":    numberCase(strings.Repeat("9", 70)+"x", `unexpected 'x' at byte 70`),

	// B, BOOL, NULL
	"binary":       {in: b([]byte{0, 1, 2, 0xfe, 0xff}), want: `"AAEC/v8="`},
	"empty binary": {in: b([]byte{}), want: `""`},
	"nil binary":   {in: b(nil), want: `""`},
	"true":         {in: bl(true), want: `true`},
	"false":        {in: bl(false), want: `false`},
	"null":         {in: null(), want: `null`},

	// M and L
	"map, keys sorted bytewise": {
		in:   obj(item{"b": n("1"), "a": s("x"), "Z": bl(true), "é": null(), "": s("empty key"), "a\"q": s("q")}),
		want: `{"":"empty key","Z":true,"a":"x","a\"q":"q","b":1,"é":null}`,
	},
	"empty map":  {in: obj(item{}), want: `{}`},
	"nil map":    {in: obj(nil), want: `{}`},
	"list":       {in: list(s("a"), n("1"), bl(false), null(), b([]byte("hi"))), want: `["a",1,false,null,"aGk="]`},
	"empty list": {in: list(), want: `[]`},
	"nested": {
		in: obj(item{
			"order": obj(item{
				"lines": list(obj(item{"sku": s("SKU-1"), "qty": n("2")}), obj(item{})),
				"notes": list(list(), list(list(s("deep")))),
			}),
			"empty": obj(item{"m": obj(item{}), "l": list()}),
		}),
		want: `{"empty":{"l":[],"m":{}},"order":{"lines":[{"qty":2,"sku":"SKU-1"},{}],"notes":[[],[["deep"]]]}}`,
	},

	// Sets keep their order: DynamoDB gives no order to keep, and sorting
	// would cost every record.
	"string set":       {in: events.NewStringSetAttribute([]string{"b", "a", "new\nline"}), want: `["b","a","new\nline"]`},
	"number set":       {in: events.NewNumberSetAttribute([]string{"3", "-1.5", "1E+37", "+2"}), want: `[3,-1.5,1E+37,2]`},
	"binary set":       {in: events.NewBinarySetAttribute([][]byte{{1}, {}, {0xff, 0xfe}}), want: `["AQ==","","//4="]`},
	"empty string set": {in: events.NewStringSetAttribute([]string{}), want: `[]`},
	"empty number set": {in: events.NewNumberSetAttribute(nil), want: `[]`},
	"empty binary set": {in: events.NewBinarySetAttribute(nil), want: `[]`},

	// Errors inside containers name the path to the bad value.
	"bad number in a set": {
		in: events.NewNumberSetAttribute([]string{"1", "2", "x"}), badNumber: "x",
		err: `ddbjson: attribute "[2]": invalid number "x": unexpected 'x' at byte 0`,
	},
	"bad number deep inside": {
		in:        obj(item{"order": obj(item{"lines": list(obj(item{"price": n("1..2")}))})}),
		badNumber: "1..2",
		err:       `ddbjson: attribute "order.lines[0].price": invalid number "1..2": unexpected '.' at byte 2`,
	},
	"bad number in nested lists": {
		in:        list(s("ok"), list(n("1"), list(n("--1")))),
		badNumber: "--1",
		err:       `ddbjson: attribute "[1][1][0]": invalid number "--1": unexpected '-' at byte 1`,
	},
	"zero value": {
		in: events.DynamoDBAttributeValue{}, is: ddbjson.ErrUnsupportedType,
		err: "ddbjson: unsupported attribute type: the zero events.DynamoDBAttributeValue has no type",
	},
	"zero value in a list": {
		in: events.NewListAttribute(make([]events.DynamoDBAttributeValue, 2)), is: ddbjson.ErrUnsupportedType,
		err: `ddbjson: attribute "[0]": unsupported attribute type: the zero events.DynamoDBAttributeValue has no type`,
	},
	"zero value in a map": {
		in: obj(item{"a": s("ok"), "b": {}}), is: ddbjson.ErrUnsupportedType,
		err: `ddbjson: attribute "b": unsupported attribute type: the zero events.DynamoDBAttributeValue has no type`,
	},
}
