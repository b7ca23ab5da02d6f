package benchdata

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strconv"
	"unicode/utf16"
)

// dynamoDBStreamARN is the stream the DynamoDB batch's records come from.
const dynamoDBStreamARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders-prod/stream/2024-01-01T00:00:00.000"

// DynamoDB is a DynamoDB stream event of n records, as gen_batches.py
// writes its ddb batch: record i an INSERT of order i, every third a
// MODIFY with its old image too, each image holding every attribute type
// (S, N, SS, NS, BOOL, NULL, L of M, M, B) and non-ASCII text, laid out as
// Python's json.dump writes it (keys in the generator's order, ", " and
// ": " separators, non-ASCII escaped as \uXXXX). Values are drawn from a
// Go random source: the same kind of items, not the same ones.
func DynamoDB(n int) []byte {
	rnd := rand.New(rand.NewPCG(11, 11))
	b := make([]byte, 0, n*1200)
	b = append(b, `{"Records": [`...)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		event := "INSERT"
		if i%3 == 0 {
			event = "MODIFY"
		}
		b = fmt.Appendf(b, `{"eventID": "e%05d", "eventName": "%s", "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1", "eventSourceARN": "%s", "dynamodb": {"ApproximateCreationDateTime": %d, "Keys": {"pk": {"S": "order#%06d"}, "sk": {"N": "%d"}}, "NewImage": `,
			i, event, dynamoDBStreamARN, 1700000000+i, i, i)
		b = appendOrder(b, rnd, i)
		// 10^20 + i, as the generator numbers them: 21 digits.
		b = fmt.Appendf(b, `, "SequenceNumber": "1%020d", "SizeBytes": %d, "StreamViewType": "NEW_AND_OLD_IMAGES"`, i, 100+i)
		if i%3 == 0 {
			b = append(b, `, "OldImage": `...)
			b = appendOrder(b, rnd, i)
		}
		b = append(b, "}}"...)
	}
	return append(b, "]}"...)
}

// appendOrder appends order i's item image in DynamoDB JSON, drawing its
// values in the order gen_batches.py draws them.
func appendOrder(b []byte, rnd *rand.Rand, i int) []byte {
	between := func(lo, hi int) int { return lo + rnd.IntN(hi-lo+1) } // Python's randint
	customers := []string{"ann", "bob", "čeněk", "李"}
	b = fmt.Appendf(b, `{"pk": {"S": "order#%06d"}, "sk": {"N": "%d"}, "customer": {"S": `, i, i)
	b = appendPyString(b, customers[rnd.IntN(len(customers))])
	b = fmt.Appendf(b, `}, "total": {"N": "%d.%02d"}, "tags": {"SS": [`, between(1, 9999), between(0, 99))
	for k, tag := range []string{"a", "b", "c"}[:between(1, 3)] {
		if k > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendQuote(b, tag)
	}
	b = fmt.Appendf(b, `]}, "qty": {"NS": ["%d", "%d"]}, "paid": {"BOOL": %t}, "note": {"NULL": true}, "lines": {"L": [`,
		between(1, 9), between(1, 9), rnd.Float64() > 0.5)
	for j := range between(1, 4) {
		if j > 0 {
			b = append(b, ", "...)
		}
		b = fmt.Appendf(b, `{"M": {"sku": {"S": "sku-%d"}, "n": {"N": "%d"}}}`, j, j)
	}
	blob := make([]byte, 16)
	for k := range blob {
		blob[k] = byte(rnd.IntN(256))
	}
	b = append(b, `]}, "addr": {"M": {"city": {"S": "Brno"}, "zip": {"S": "60200"}}}, "blob": {"B": "`...)
	b = base64.StdEncoding.AppendEncode(b, blob)
	return append(b, `"}}`...)
}

// appendPyString appends s as a JSON string the way Python's json.dumps
// writes it by default (ensure_ascii): everything outside printable ASCII
// (space to ~) as \uXXXX escapes but for the short ones, UTF-16
// surrogate pairs above U+FFFF.
func appendPyString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	u := func(b []byte, r rune) []byte {
		return append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
	}
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r == '\b':
			b = append(b, `\b`...)
		case r == '\f':
			b = append(b, `\f`...)
		case r < 0x20 || r > 0x7e && r <= 0xffff:
			b = u(b, r)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			b = u(u(b, hi), lo)
		default:
			b = append(b, byte(r))
		}
	}
	return append(b, '"')
}
