package firehose

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"time"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/jsonenc"
	"lakestream/shared/jsonscan"
)

// ErrInvalidRequest is wrapped by every error DecodeRequest returns: the
// payload is not a Firehose data-transformation request, or not one
// Firehose could have sent.
var ErrInvalidRequest = errors.New("not a Firehose data-transformation request")

// Request is a Firehose data-transformation request as DecodeRequest reads
// it: the fields of aws-lambda-go's events.KinesisFirehoseEvent, each
// record's data decoded from base64 into one buffer shared by them all.
type Request struct {
	InvocationID           string
	DeliveryStreamArn      string
	SourceKinesisStreamArn string
	Region                 string
	Records                []RequestRecord
	// buf is the memory records' data is decoded into, with room for all
	// of it (see decodeAs): records read the plain way are decoded into
	// it when first needed (data).
	buf []byte
	// idLens is the sum of the records' idLen: what their ids take in
	// the response, which the handler reserves before it transforms the
	// first record, known without going over the records again.
	idLens int
}

// RequestRecord is one record of a Request.
type RequestRecord struct {
	RecordID string
	// ArrivalTime is approximateArrivalTimestamp (Unix milliseconds) as
	// aws-lambda-go reads it; the zero Time when absent.
	ArrivalTime time.Time
	// Kinesis is kinesisRecordMetadata, set when the delivery stream reads
	// from a Kinesis stream.
	Kinesis events.KinesisFirehoseRecordMetadata
	// data is the record's data, base64-decoded: a slice of the request's
	// buffer, capped at its end. dataErr is set instead when "data" is
	// not valid base64; hasData is false when "data" was absent or null.
	data    []byte
	dataErr error
	hasData bool
	// raw is the record's base64 text as it came (a slice of the payload,
	// which is never written; its capacity reaches the closing quote),
	// set when the record was read the plain way (plainRecord), which
	// checks the text is plain base64 without decoding it. lazy is set
	// until data is decoded from it: a record that goes back to its
	// stream untouched (the response full, the deadline near) is never
	// decoded, and travels as the text it came as (see encoded).
	raw  []byte
	lazy bool
	// idLen is what RecordID takes in the response: the length of its
	// JSON string (jsonenc.StringLen), worked out once.
	idLen int
}

// AppendData appends the record's data, base64-decoded, to dst. Invalid
// base64 is an error for this record alone (dst comes back as it was).
// Like encoding/json, it skips line breaks in the base64 text.
func (r *RequestRecord) AppendData(dst []byte) ([]byte, error) {
	if r.dataErr != nil {
		return dst, fmt.Errorf("data is not valid base64: %w", r.dataErr)
	}
	if r.lazy {
		return decodeRaw(dst, r.raw), nil
	}
	return append(dst, r.data...), nil
}

// decodeRaw appends the value of raw, text plainRecord checked to be
// plain base64 (plainBase64Len), to dst.
func decodeRaw(dst, raw []byte) []byte {
	// The text with its closing quote, as DecodeBase64Text reads it.
	out, _, ok := jsonscan.DecodeBase64Text(dst, raw[:len(raw)+1])
	if !ok {
		// plainBase64Len takes only what DecodeBase64Text decodes
		// (FuzzPlainBase64Len): this is a bug, not bad input.
		panic("firehose: plain base64 text did not decode")
	}
	return out
}

// data returns in's data, decoding it into the request's buffer first if
// it has not been, or why it could not be decoded (as AppendData says it).
func (r *Request) data(in *RequestRecord) ([]byte, error) {
	if in.dataErr != nil {
		return nil, fmt.Errorf("data is not valid base64: %w", in.dataErr)
	}
	if in.lazy {
		start := len(r.buf)
		r.buf = decodeRaw(r.buf, in.raw)
		in.data, in.lazy = r.buf[start:len(r.buf):len(r.buf)], false // capped: see Record.Data
	}
	return in.data, nil
}

// dataLen is the length of the record's data, decoded or not: known from
// the base64 text's length and padding.
func (r *RequestRecord) dataLen() int {
	if !r.lazy {
		return len(r.data)
	}
	return base64Len(r.raw)
}

// base64Len is the length of the value of plain, padded base64 text.
func base64Len(text []byte) int {
	n := len(text) / 4 * 3
	if k := len(text); k > 0 && text[k-1] == '=' {
		n--
		if text[k-2] == '=' {
			n--
		}
	}
	return n
}

// encoded returns the record's data as the base64 text it came in, when
// that is exactly what encoding it would give (standard alphabet, padded,
// no line breaks or escapes, the bits after the last byte zero), so that
// it can go back to a stream without being decoded and encoded again;
// otherwise nil. Its capacity is its length: the payload is not written.
func (r *RequestRecord) encoded() []byte {
	if r.raw == nil || !canonicalBase64(r.raw) {
		return nil
	}
	return r.raw[:len(r.raw):len(r.raw)]
}

// Event returns the request as encoding/json decodes it into aws-lambda-go's
// type, every record's data decoded; the first record whose data is not
// valid base64 is an error, as it is for encoding/json.
func (r *Request) Event() (events.KinesisFirehoseEvent, error) {
	ev := r.header()
	ev.Records = make([]events.KinesisFirehoseEventRecord, len(r.Records))
	for i := range r.Records {
		in := &r.Records[i]
		out := &ev.Records[i]
		out.RecordID = in.RecordID
		out.ApproximateArrivalTimestamp = events.MilliSecondsEpochTime{Time: in.ArrivalTime}
		out.KinesisFirehoseRecordMetadata = in.Kinesis
		if in.hasData {
			data, err := in.AppendData([]byte{})
			if err != nil {
				return ev, fmt.Errorf("records[%d]: %w", i, err)
			}
			out.Data = data
		}
	}
	return ev, nil
}

// header is the request without its records: what a Reingester is given.
func (r *Request) header() events.KinesisFirehoseEvent {
	return events.KinesisFirehoseEvent{
		InvocationID:           r.InvocationID,
		DeliveryStreamArn:      r.DeliveryStreamArn,
		SourceKinesisStreamArn: r.SourceKinesisStreamArn,
		Region:                 r.Region,
	}
}

// DecodeRequest reads a Firehose data-transformation request without
// reflection. What it accepts, encoding/json accepts into
// events.KinesisFirehoseEvent with the same values, but it is strict where
// encoding/json is lax, so that a payload Firehose did not send is
// rejected rather than answered: keys must match exactly (an S3 or
// DynamoDB event's "Records" is not "records"), a known key may appear
// once, "records" must be an array, and every record must have a non-empty
// string "recordId" (Firehose rejects an answer without one). Unknown keys
// are skipped. A record whose data is not valid base64 fails alone (see
// AppendData), where encoding/json fails the whole request. The error
// wraps ErrInvalidRequest and says what the payload looks like instead
// where that is cheap to tell.
func DecodeRequest(payload []byte) (*Request, error) {
	r := &Request{}
	_, err := r.decode(&jsonscan.Scanner{}, payload, nil, math.MaxInt)
	return r, err
}

// decode is DecodeRequest into r, reusing its records and the scanner.
// The records' data is decoded into buf's memory (grown when it has too
// little), which comes back for the next request. Records read the plain
// way are decoded as they are read until eager bytes of data are, the
// rest only checked, and decoded when first needed (Request.data): one
// pass over the text is faster than a check and a decoding later, for
// the records that will be transformed, and the handler knows from the
// last invocation about how many those are (see invocation.eager).
func (r *Request) decode(s *jsonscan.Scanner, payload, buf []byte, eager int) ([]byte, error) {
	return r.decodeAs(s, payload, buf, false, eager)
}

// decodeAs is decode, reading every record the general way when generic
// is set (see plainRecord).
func (r *Request) decodeAs(s *jsonscan.Scanner, payload, buf []byte, generic bool, eager int) ([]byte, error) {
	s.Reset(payload)
	clear(r.Records)
	*r = Request{Records: r.Records[:0]}
	// Base64 decodes to 3 bytes in 4: the whole payload's worth is room
	// for every record's data, never moved while records point into it
	// (see jsonscan.Scanner.AppendBase64).
	if room := len(payload)/4*3 + 8; cap(buf) < room {
		buf = make([]byte, 0, room)
	}
	d := requestDecoder{s: s, payload: payload, generic: generic, eager: eager, rec: -1, data: buf[:0]}
	d.request(r)
	r.buf = d.data
	return d.data, d.result()
}

// requestDecoder holds what decoding one request needs besides the
// scanner: a buffer for strings that need unescaping, the buffer the
// records' data is decoded into, the memory their ids are copied to,
// which record it is in (for error messages) and the first error with
// where it happened.
type requestDecoder struct {
	s       *jsonscan.Scanner
	payload []byte
	// generic turns plainRecord off, so that tests can hold it to the
	// general way.
	generic bool
	// eager is how many bytes of data plainRecord decodes as it reads
	// them; after that it only checks the text (see decode).
	eager int
	// meta is plainRecord's scanner for a timestamp and plainMetadata's.
	meta jsonscan.Scanner
	// layout is how the last record plainHead read was laid out.
	layout recordLayout
	// lastKinesis is the last metadata read, whose strings the next
	// record's may be (see metadataString).
	lastKinesis events.KinesisFirehoseRecordMetadata
	buf         []byte
	data        []byte
	ids         []byte
	rec         int // index of the record being read; -1 outside "records"
	err         error
	hint        string // what the payload looks like instead, from its keys
	// clash is the error for a top-level "Records" in a payload that turns
	// out to have "records" as well.
	clash string
}

// Keys of the objects in a request, in the order of the seen bits.
var (
	requestKeys = []string{"invocationId", "deliveryStreamArn", "sourceKinesisStreamArn", "region", "records"}
	recordKeys  = []string{"recordId", "approximateArrivalTimestamp", "data", "kinesisRecordMetadata"}
	kinesisKeys = []string{"shardId", "partitionKey", "approximateArrivalTimestamp", "sequenceNumber", "subsequenceNumber"}
)

// telltales are top-level keys of other events a function may be sent by
// mistake, and what they are.
var telltales = map[string]string{
	"Records":     `an S3 or DynamoDB event has "Records"`,
	"awslogs":     `a CloudWatch Logs subscription event has "awslogs"`,
	"detail-type": `an EventBridge event has "detail-type"`,
}

func (d *requestDecoder) request(r *Request) {
	s := d.s
	if !d.is(jsonscan.Object, "") {
		return
	}
	var seen uint
	for key := range s.Object() {
		if !d.once(&seen, requestKeys, key, "") {
			continue
		}
		switch string(key) {
		case "invocationId":
			r.InvocationID = d.string("invocationId")
		case "deliveryStreamArn":
			r.DeliveryStreamArn = d.string("deliveryStreamArn")
		case "sourceKinesisStreamArn":
			r.SourceKinesisStreamArn = d.string("sourceKinesisStreamArn")
		case "region":
			r.Region = d.string("region")
		case "records":
			d.records(r)
		}
	}
	if d.s.End() != nil {
		return
	}
	switch {
	case seen&(1<<4) == 0:
		msg := `it has no "records" array`
		if d.hint != "" {
			msg += " (" + d.hint + ")"
		}
		d.fail("", errors.New(msg))
	case d.clash != "":
		d.fail("", errors.New(d.clash))
	}
}

// records reads the "records" array into r.Records. It is the hottest
// loop of the decoding, a method of its own (not in the body of request's
// loop, a closure whose variables it would reach through a pointer) and
// walking the array without Array's closure.
func (d *requestDecoder) records(r *Request) {
	s := d.s
	if !d.is(jsonscan.Array, "records") {
		return
	}
	for i, ok := 0, s.FirstElement(); ok; i, ok = i+1, s.NextElement() {
		d.rec = i
		r.Records = append(r.Records, RequestRecord{})
		in := &r.Records[i]
		if !d.plainRecord(in) {
			d.record(in)
		}
		r.idLens += in.idLen
	}
	if s.Err() == nil {
		d.rec = -1 // an error in the array is said of its record
	}
}

func (d *requestDecoder) record(r *RequestRecord) {
	s := d.s
	if !d.is(jsonscan.Object, "") {
		return
	}
	var seen uint
	for key := range s.Object() {
		// The keys Firehose sends, told apart by a switch rather than by
		// once's search: a request holds thousands of records.
		i := -1
		switch string(key) {
		case "recordId":
			i = 0
		case "approximateArrivalTimestamp":
			i = 1
		case "data":
			i = 2
		case "kinesisRecordMetadata":
			i = 3
		}
		if i < 0 || seen&(1<<i) != 0 {
			d.once(&seen, recordKeys, key, "") // says why, or skips an unknown key
			continue
		}
		seen |= 1 << i
		switch i {
		case 0:
			if s.Peek() == jsonscan.Null {
				d.fail("recordId", errors.New("it is null, not a string"))
				break
			}
			r.RecordID, r.idLen = d.id()
		case 1:
			r.ArrivalTime = d.millis("approximateArrivalTimestamp")
		case 2:
			if s.Null() {
				break
			}
			start := len(d.data)
			data, err := s.AppendBase64(d.data)
			if s.Err() != nil {
				d.fail("data", err)
				break
			}
			r.hasData = true
			if err != nil {
				r.dataErr = err
				break
			}
			d.data = data
			r.data = data[start:len(data):len(data)] // capped: see Record.Data
		case 3:
			d.kinesis(&r.Kinesis)
		}
	}
	switch {
	case s.Err() != nil:
	case seen&1 == 0:
		d.fail("", errors.New(`it has no "recordId"`))
	case r.RecordID == "":
		d.fail("recordId", errors.New("it is empty"))
	}
}

// plainRecord reads the record that comes next when it is laid out as
// Firehose lays out records: "recordId" (printable ASCII, no escapes),
// "approximateArrivalTimestamp" (an integer) and "data" (plain base64),
// in that order, then "kinesisRecordMetadata" or nothing (from a Kinesis
// stream or not), with any whitespace around the punctuation. It reads
// the bytes itself, the scanner still before the record, and moves the
// scanner past the record only when all of it was of that shape;
// otherwise it reports false, having changed nothing, and record reads it
// the general way (nulls, escapes, keys in another order or unknown ones,
// any error). What it takes, record reads the same (TestPlainRecord,
// FuzzPlainRecords). Decoding the access-log batch's request (4,184
// records, the JSON around the data a good part of the work) took a
// third less time than with record alone.
func (d *requestDecoder) plainRecord(r *RequestRecord) bool {
	if d.generic {
		return false
	}
	p := d.payload
	h, ok := d.layout.read(p, d.s.Offset())
	if !ok {
		if h, ok = d.plainHead(p, d.s.Offset()); !ok {
			return false
		}
	}
	id, ms, i := p[h.idStart:h.idEnd], h.ms, h.data
	// Past eager bytes, the text is checked, not decoded: decoding waits
	// until the record is transformed (Request.data), which a record that
	// goes back to its stream untouched never is.
	var n int
	start, data := len(d.data), d.data
	decoded := len(d.data) < d.eager
	if decoded {
		data, n, ok = jsonscan.DecodeBase64Text(d.data, p[i:])
	} else {
		n, ok = plainBase64Len(p[i:])
	}
	if !ok {
		return false
	}
	raw := p[i : i+n : i+1+n] // up to the closing quote: see decodeRaw
	i = skipSpace(p, i+n+1)
	var md events.KinesisFirehoseRecordMetadata
	if i < len(p) && p[i] == ',' {
		if i = member(p, i, ',', &plainKeys.kinesis); i < 0 {
			return false
		}
		if i = d.plainMetadata(&md, i); i < 0 {
			return false
		}
		i = skipSpace(p, i)
	}
	if i >= len(p) || p[i] != '}' {
		return false
	}
	r.RecordID, r.idLen = d.keepID(id, true)
	r.ArrivalTime = time.Unix(ms/1000, (ms%1000)*1000000)
	r.Kinesis = md
	r.hasData = true
	r.raw, r.lazy = raw, !decoded
	if decoded {
		d.data = data
		r.data = data[start:len(data):len(data)] // capped: see Record.Data
	}
	d.s.Seek(i + 1)
	return true
}

// recordHead is what plainRecord reads of a record before its data: the
// record id's text p[idStart:idEnd], the arrival timestamp ms, and data,
// the offset of the data's text (just after its opening quote).
type recordHead struct {
	idStart, idEnd int
	ms             int64
	data           int
}

// plainHead reads the head of a record at offset at of p as plainRecord
// takes it, each key found by member, and has d.layout learn the
// punctuation around its values for the records after it.
func (d *requestDecoder) plainHead(p []byte, at int) (h recordHead, ok bool) {
	i := member(p, at, '{', &plainKeys.recordID)
	if i < 0 || i >= len(p) || p[i] != '"' {
		return h, false
	}
	h.idStart = i + 1
	h.idEnd = plainASCIIEnd(p, h.idStart)
	if h.idEnd >= len(p) || p[h.idEnd] != '"' || h.idEnd == h.idStart {
		return h, false
	}
	msStart := member(p, h.idEnd+1, ',', &plainKeys.arrival)
	if msStart < 0 {
		return h, false
	}
	// The number read as millis reads it, by a scanner of its own (the
	// record's is still before the record): eight digits at a time.
	d.meta.Reset(p[msStart:])
	ms, err := d.meta.Int64()
	if err != nil {
		return h, false
	}
	msEnd := msStart + d.meta.Offset()
	i = member(p, msEnd, ',', &plainKeys.data)
	if i < 0 || i >= len(p) || p[i] != '"' {
		return h, false
	}
	h.ms, h.data = ms, i+1
	d.layout = recordLayout{head: p[at:h.idStart], afterID: p[h.idEnd:msStart], afterMs: p[msEnd:h.data]}
	return h, true
}

// recordLayout is the punctuation around the values of the last record
// plainHead read (the keys, quotes, colons, commas and whitespace between
// the record's '{' and its id, between the id and the timestamp, and
// between the timestamp and the data), which the records after it nearly
// always repeat byte for byte: they are then read by comparing those
// bytes, where finding each key by member took a fifth of decoding a
// request of short records. Bytes the same as punctuation plainHead took
// are punctuation it would take the same way.
type recordLayout struct {
	head, afterID, afterMs []byte
	// second is the first ten digits of the last timestamp read that had
	// thirteen (milliseconds since 2001, until 2286), as words of eight
	// and two bytes, and secondMs their value with the last three digits
	// zero. The records of a batch arrive within a second or so of one
	// another: a timestamp whose first ten digits are the last one's is
	// read from its last three, where reading all thirteen took a tenth
	// of decoding a request of short records.
	second   uint64
	second2  uint16
	secondMs int64
}

// read reads a record's head at offset at of p when it is laid out as
// the last one was; otherwise it reports false, and plainHead reads it.
func (l *recordLayout) read(p []byte, at int) (h recordHead, ok bool) {
	i := at + len(l.head)
	if len(l.head) == 0 || i > len(p) || string(p[at:i]) != string(l.head) {
		return h, false
	}
	// The id ends at a quote, afterID's first byte: a backslash or any
	// other byte that stops plainASCIIEnd is not the punctuation.
	h.idStart, h.idEnd = i, plainASCIIEnd(p, i)
	i = h.idEnd + len(l.afterID)
	if h.idEnd == h.idStart || i > len(p) || string(p[h.idEnd:i]) != string(l.afterID) {
		return h, false
	}
	// The timestamp is read as a Scanner reads it when short (13
	// digits); afterMs then begins with whitespace or a comma, which
	// ends the number (neither a digit, nor a fraction or an exponent).
	ms, end, ok := l.millis(p, i)
	i = end + len(l.afterMs)
	if !ok || i > len(p) || string(p[end:i]) != string(l.afterMs) {
		return h, false
	}
	h.ms, h.data = ms, i
	return h, true
}

// millis reads the digits of a timestamp at offset i of p as
// jsonscan.SmallInt does, by their last three when the first ten are
// those of the timestamp read last (see recordLayout.second): what
// follows them is left to the caller, which checks that the number ends
// there.
func (l *recordLayout) millis(p []byte, i int) (ms int64, end int, ok bool) {
	if l.secondMs > 0 && len(p)-i >= 13 {
		t := p[i : i+13]
		d0, d1, d2 := t[10]-'0', t[11]-'0', t[12]-'0'
		if binary.LittleEndian.Uint64(t) == l.second && binary.LittleEndian.Uint16(t[8:]) == l.second2 && d0 <= 9 && d1 <= 9 && d2 <= 9 {
			return l.secondMs + int64(d0)*100 + int64(d1)*10 + int64(d2), i + 13, true
		}
	}
	ms, end, ok = jsonscan.SmallInt(p, i)
	if ok && end-i == 13 && ms > 0 {
		// Thirteen digits, without a sign.
		l.second, l.second2, l.secondMs = binary.LittleEndian.Uint64(p[i:]), binary.LittleEndian.Uint16(p[i+8:]), ms-ms%1000
	}
	return ms, end, ok
}

// plainMetadata reads the kinesisRecordMetadata value at offset i of the
// payload into md as record reads it, with a scanner of its own that
// starts there, as deep in the request as the value is (in the request's
// object, "records" and the record), and returns the offset after it. On
// an error it returns -1, forgetting the error: the general way, which
// then reads the record from its start, meets it again and says where.
func (d *requestDecoder) plainMetadata(md *events.KinesisFirehoseRecordMetadata, i int) int {
	outer := d.s
	d.meta.ResetNested(d.payload[i:], 3)
	d.s = &d.meta
	d.kinesis(md)
	d.s = outer
	if d.err != nil || d.meta.Err() != nil {
		d.err = nil
		return -1
	}
	return i + d.meta.Offset()
}

// plainKeys are the keys of a record as plainRecord reads them.
var plainKeys = struct{ recordID, arrival, data, kinesis plainKey }{
	newPlainKey("recordId"), newPlainKey("approximateArrivalTimestamp"), newPlainKey("data"), newPlainKey("kinesisRecordMetadata"),
}

// plainKey is a key that member looks for: as jsonscan compares it, a
// word or two at a time with its colon, and as its quoted text, for a
// colon spaced from it.
type plainKey struct {
	key    jsonscan.Key
	quoted string
}

func newPlainKey(name string) plainKey {
	k, ok := jsonscan.NewKey(name)
	if !ok {
		panic("firehose: not a plain key: " + name)
	}
	return plainKey{key: k, quoted: `"` + name + `"`}
}

// member reads, from offset i of p, the byte sep ('{' or ','), a key
// (with its quotes) and the colon after it, whitespace allowed around
// each, and returns the offset of the member's value: -1 when p holds
// anything else there.
func member(p []byte, i int, sep byte, key *plainKey) int {
	i = skipSpace(p, i)
	if i >= len(p) || p[i] != sep {
		return -1
	}
	i = skipSpace(p, i+1)
	if key.key.At(p, i) { // the colon right after the key, nearly always
		return skipSpace(p, i+key.key.Len())
	}
	if len(p)-i < len(key.quoted) || string(p[i:i+len(key.quoted)]) != key.quoted {
		return -1
	}
	i = skipSpace(p, i+len(key.quoted))
	if i >= len(p) || p[i] != ':' {
		return -1
	}
	return skipSpace(p, i+1)
}

// skipSpace returns the offset of the first byte at or after i that is
// not JSON whitespace.
func skipSpace(p []byte, i int) int { return jsonscan.SkipSpace(p, i) }

// plainASCIIEnd returns the offset of the first byte at or after i that
// would end a string's plain ASCII text: a quote, a backslash, a control
// byte or one of 0x80 or more (or len(p)). It looks at eight bytes at a
// time: record ids run to 56 characters or more.
func plainASCIIEnd(p []byte, i int) int {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(p); i += 8 {
		x := binary.LittleEndian.Uint64(p[i:])
		q, b := x^(lsb*'"'), x^(lsb*'\\')
		// A byte's top bit is set in m when the byte is a quote, a
		// backslash, below 0x20 or at least 0x80; the lowest such byte
		// is always one of those (bits above it may be wrong).
		if m := ((q-lsb)&^q | (b-lsb)&^b | (x - lsb*0x20) | x) & msb; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(p); i++ {
		if c := p[i]; c == '"' || c == '\\' || c < 0x20 || c >= 0x80 {
			break
		}
	}
	return i
}

// idBlock is the size of the blocks record ids are copied into.
const idBlock = 32 << 10

// id reads a record id, and the length of its JSON string in the
// response (jsonenc.StringLen, known from the scan when the id came in
// ASCII without escapes, as Firehose's do). The id is copied into blocks
// of memory carved in order, so that the thousands of ids of a request
// cost a few allocations, not one each. A block is never written again
// once its strings are handed out (a transform may keep Record.ID), and
// is left to the garbage collector when full, never reused.
func (d *requestDecoder) id() (string, int) {
	v, ascii, err := d.s.StringASCII(&d.buf)
	if err != nil {
		d.fail("recordId", err)
		return "", 0
	}
	return d.keepID(v, ascii)
}

// keepID copies the id v into the id blocks (see id); ascii says it came
// in ASCII without escapes.
func (d *requestDecoder) keepID(v []byte, ascii bool) (string, int) {
	id := d.keep(v)
	if ascii {
		return id, len(id) + 2
	}
	return id, jsonenc.StringLen(id)
}

// keep copies v into the id blocks (see id) and returns the copy.
func (d *requestDecoder) keep(v []byte) string {
	switch {
	case len(v) == 0:
		return ""
	case len(v) > cap(d.ids)-len(d.ids) && len(v) > idBlock/4:
		return string(v) // a rare long string pays for its own
	}
	if len(v) > cap(d.ids)-len(d.ids) {
		d.ids = make([]byte, 0, idBlock)
	}
	start := len(d.ids)
	d.ids = append(d.ids, v...)
	return unsafe.String(&d.ids[start], len(v))
}

// metadataString reads a string or null ("") of a record's Kinesis
// metadata into the id blocks (see id), the value the record before had
// there when it is the same (a stream's records share a few shards and,
// often, partition keys): three strings a record, which took a seventh
// of decoding a Kinesis source's request when each was allocated.
func (d *requestDecoder) metadataString(field string, last string) string {
	if d.s.Null() {
		return ""
	}
	v, err := d.s.String(&d.buf)
	if err != nil {
		d.fail(field, err)
		return ""
	}
	if string(v) == last {
		return last
	}
	return d.keep(v)
}

func (d *requestDecoder) kinesis(md *events.KinesisFirehoseRecordMetadata) {
	s := d.s
	if s.Null() {
		return
	}
	if !d.is(jsonscan.Object, "kinesisRecordMetadata") {
		return
	}
	var seen uint
	last := &d.lastKinesis
	for key := range s.Object() {
		// Told apart by a switch, as record's keys are.
		i := -1
		switch string(key) {
		case "shardId":
			i = 0
		case "partitionKey":
			i = 1
		case "approximateArrivalTimestamp":
			i = 2
		case "sequenceNumber":
			i = 3
		case "subsequenceNumber":
			i = 4
		}
		if i < 0 || seen&(1<<i) != 0 {
			d.once(&seen, kinesisKeys, key, "kinesisRecordMetadata.") // says why, or skips an unknown key
			continue
		}
		seen |= 1 << i
		switch i {
		case 0:
			md.ShardID = d.metadataString("kinesisRecordMetadata.shardId", last.ShardID)
		case 1:
			md.PartitionKey = d.metadataString("kinesisRecordMetadata.partitionKey", last.PartitionKey)
		case 2:
			md.ApproximateArrivalTimestamp.Time = d.millis("kinesisRecordMetadata.approximateArrivalTimestamp")
		case 3:
			md.SequenceNumber = d.metadataString("kinesisRecordMetadata.sequenceNumber", last.SequenceNumber)
		case 4:
			if !s.Null() {
				n, err := s.Int64()
				d.fail("kinesisRecordMetadata.subsequenceNumber", err)
				md.SubsequenceNumber = n
			}
		}
	}
	*last = *md
}

// once reports whether key is one of keys seen for the first time, marking
// it seen. A repeated key, or one that differs from a known key only in
// case (which encoding/json would take for it), fails the request; an
// unknown key is skipped, noting it when it tells another event.
func (d *requestDecoder) once(seen *uint, keys []string, key []byte, prefix string) bool {
	for i, k := range keys {
		if string(key) == k {
			if *seen&(1<<i) != 0 {
				d.fail("", fmt.Errorf("key %q appears twice", prefix+k))
				return false
			}
			*seen |= 1 << i
			return true
		}
	}
	if d.rec < 0 && prefix == "" {
		if hint, ok := telltales[string(key)]; ok {
			// Said once the whole payload is read: what it lacks is
			// clearer than the one key that is off.
			d.hint = hint
			if bytes.EqualFold(key, []byte("records")) {
				d.clash = `key "Records" is not "records" (keys are case-sensitive)`
			}
			return false
		}
	}
	for _, k := range keys {
		if bytes.EqualFold(key, []byte(k)) {
			d.fail("", fmt.Errorf("key %q is not %q (keys are case-sensitive)", key, prefix+k))
			return false
		}
	}
	return false
}

// string reads a string or null (""), as encoding/json reads into a string.
func (d *requestDecoder) string(field string) string {
	if d.s.Null() {
		return ""
	}
	v, err := d.s.String(&d.buf)
	if err != nil {
		d.fail(field, err)
		return ""
	}
	return string(v)
}

// millis reads Unix milliseconds as aws-lambda-go's MilliSecondsEpochTime
// does: an integer (no fraction or exponent) in the int64 range, or null,
// which it reads as 0.
func (d *requestDecoder) millis(field string) time.Time {
	var ms int64
	if !d.s.Null() {
		var err error
		if ms, err = d.s.Int64(); err != nil {
			d.fail(field, err)
			return time.Time{}
		}
	}
	return time.Unix(ms/1000, (ms%1000)*1000000)
}

// is reports whether the next value is of kind want. If it is of another
// kind, that fails the request, said of field; if it is not JSON, the
// syntax error does.
func (d *requestDecoder) is(want jsonscan.Kind, field string) bool {
	k := d.s.Peek()
	switch k {
	case want:
		return true
	case jsonscan.Invalid:
		_ = d.s.Skip() // fails, with the offset and what was there
	default:
		d.fail(field, fmt.Errorf("it is %s, not %s", k, want))
	}
	return false
}

// fail records err, said of field (of the current record, if any), as
// the first error and stops the scanner.
func (d *requestDecoder) fail(field string, err error) {
	if err == nil || d.err != nil {
		return
	}
	where := field
	if d.rec >= 0 {
		where = fmt.Sprintf("records[%d]", d.rec)
		if field != "" {
			where += "." + field
		}
	}
	if where != "" {
		err = fmt.Errorf("%s: %w", where, err)
	}
	d.err = err
	d.s.Fail(err)
}

// result is the error to return: the first one recorded, or the
// scanner's own (a syntax error), placed in the request.
func (d *requestDecoder) result() error {
	err := d.err
	if err == nil {
		if err = d.s.Err(); err == nil {
			return nil
		}
		err = fmt.Errorf("invalid JSON: %w", err)
		if d.rec >= 0 {
			err = fmt.Errorf("records[%d]: %w", d.rec, err)
		}
	}
	return fmt.Errorf("%w: %w", ErrInvalidRequest, err)
}
