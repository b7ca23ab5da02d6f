package main

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/functions/ddb-stream-forwarder/ddbjson"
	"lakestream/shared/batch"
	"lakestream/shared/jsonscan"
)

// reader reads one stream record from its JSON, without reflection, into
// what the forwarder writes. It reads exactly what encoding/json read into
// aws-lambda-go's events.DynamoDBEventRecord (with the Kinesis record's
// part beside it, as events.KinesisRecord) before, and refuses exactly
// what that refused, so that no record changes fate: names match ignoring
// case, a repeated name counts the last time (an object repeated is read
// into the first, as encoding/json does into a struct or map it holds), a
// null leaves a string or struct as it was and empties an image, a
// pointer or a byte slice, and every value of the wrong kind, anywhere in
// the record, fails it. The images are read by a ddbjson.Transcoder
// (aws-lambda-go's attribute value rules) and written from it.
//
// A reader keeps its buffers from record to record; Converter.Convert
// takes one from a pool.
type reader struct {
	s jsonscan.Scanner
	// text is what s reads, for the images read straight from it.
	text []byte
	t    ddbjson.Transcoder
	// ps reads the maps a projection's paths go into.
	ps jsonscan.Scanner
	// num reads the numbers of the fast path (fastRecord).
	num jsonscan.Scanner
	// The order of the fields of the last record and of its dynamodb
	// object, for fastRecord.
	recordOrder, changeOrder fieldOrder
	// The last eventSource, eventSourceARN, awsRegion, eventVersion and
	// dynamodb.StreamViewType read by fastRecord: slices of the request,
	// dropped with it (release).
	same [5]repeated

	// Strings read: slices of the record, or unescaped copies.
	eventSource, eventSourceARN, eventName, eventID []byte
	sequenceNumber                                  []byte // dynamodb.SequenceNumber

	created time.Time // dynamodb.ApproximateCreationDateTime; zero when absent

	keys, newImage, oldImage ddbjson.Item

	// userIdentity, a pointer: nil until an object is read.
	identity                      bool
	identityType, identityPrincip []byte

	// kinesis, a pointer too.
	kinesis                  bool
	kinesisSeq, partitionKey []byte
	// headKinesisSeq is the last kinesis.sequenceNumber string read, as
	// the adapter reads it (batch.StreamHead): a later kinesis object, or
	// null, does not forget it.
	headKinesisSeq []byte
	// data is kinesis.data decoded: data[:dataLen], in a slice of
	// capacity dataCap as encoding/json left it (a later array of the
	// same name shows the bytes past its length again).
	data             []byte
	dataLen, dataCap int
	str              []byte // the base64 text of data, unescaped

	// The source ARN of the previous record and its table or stream:
	// records of one event share them, so one string serves them all.
	arn, arnSource, arnMarker string
}

// The names of the fields of each object read, as aws-lambda-go tags them.
var (
	recordFields   = []string{"eventSource", "eventSourceARN", "eventName", "eventID", "dynamodb", "awsRegion", "eventVersion", "userIdentity", "kinesis"}
	changeFields   = []string{"Keys", "NewImage", "OldImage", "SequenceNumber", "ApproximateCreationDateTime", "SizeBytes", "StreamViewType"}
	kinesisFields  = []string{"data", "partitionKey", "sequenceNumber", "approximateArrivalTimestamp", "encryptionType", "kinesisSchemaVersion"}
	identityFields = []string{"type", "principalId"}
)

// field is the index in names of the struct field an object key selects,
// as encoding/json matches them: the same name, or else one equal under
// Unicode case folding; -1 for none.
func field(key []byte, names []string) int {
	for i, n := range names {
		if string(key) == n {
			return i
		}
	}
	for i, n := range names {
		// The names are ASCII, and no rune folding to an ASCII letter is
		// shorter than it: a shorter key cannot match.
		if len(key) >= len(n) && strings.EqualFold(string(key), n) {
			return i
		}
	}
	return -1
}

// read reads the record raw. On error (wrapped by the caller in
// ErrMalformed) what was read is meaningless.
func (r *reader) read(raw []byte) error {
	r.s.Reset(raw)
	r.text = raw
	if end, ok := r.fastRecord(raw, 0); ok {
		r.s.Seek(end)
	} else if err := r.readRecord(); err != nil {
		return err
	}
	return r.s.End()
}

// readNested reads the record data starts with, which sits depth arrays
// and objects deep in the event (data goes on past it), and returns the
// length of its text. On error what was read is meaningless.
func (r *reader) readNested(data []byte, depth int) (int, error) {
	r.s.ResetNested(data, depth)
	r.text = data
	if end, ok := r.fastRecord(data, depth); ok {
		r.s.Seek(end)
		return end, nil
	}
	if err := r.readRecord(); err != nil {
		return 0, err
	}
	return r.s.Offset(), nil
}

// readRecord reads the record r.s is at.
func (r *reader) readRecord() error {
	r.reset()
	s := &r.s
	switch k := s.Peek(); {
	case s.Null():
		return s.Err() // encoding/json leaves the record empty
	case k != jsonscan.Object:
		if err := s.Skip(); err != nil {
			return err
		}
		return fmt.Errorf("the record is %s, not an object", k)
	}
	for key := range s.Object() {
		var err error
		switch field(key, recordFields) {
		case 0:
			err = r.string(&r.eventSource, "eventSource")
		case 1:
			err = r.string(&r.eventSourceARN, "eventSourceARN")
		case 2:
			err = r.string(&r.eventName, "eventName")
		case 3:
			err = r.string(&r.eventID, "eventID")
		case 4:
			err = r.readChange()
		case 5:
			err = r.string(nil, "awsRegion")
		case 6:
			err = r.string(nil, "eventVersion")
		case 7:
			err = r.readIdentity()
		case 8:
			err = r.readKinesis()
		}
		if err != nil {
			return err
		}
	}
	return s.Err()
}

// reset forgets the previous record.
func (r *reader) reset() {
	r.t.Reset()
	r.keys.Reset()
	r.newImage.Reset()
	r.oldImage.Reset()
	r.eventSource, r.eventSourceARN, r.eventName, r.eventID, r.sequenceNumber = nil, nil, nil, nil, nil
	r.created = time.Time{}
	r.resetIdentity(false)
	r.resetKinesis(false)
	r.headKinesisSeq = nil
}

// head is what the adapter reads of the record (see batch.StreamHead),
// for a record read without error.
func (r *reader) head() batch.StreamHead {
	return batch.StreamHead{
		EventSource: r.eventSource, EventSourceARN: r.eventSourceARN,
		DynamoDBSequenceNumber: r.sequenceNumber, KinesisSequenceNumber: r.headKinesisSeq,
	}
}

// id is the sequence number that names the record in a partial batch
// response: its own kind's, or for a record of another eventSource the
// DynamoDB one, else the Kinesis one.
func (r *reader) id() []byte {
	switch string(r.eventSource) {
	case sourceDynamoDB:
		return r.sequenceNumber
	case sourceKinesis:
		return r.kinesisSeq
	}
	if r.kinesis && len(r.sequenceNumber) == 0 {
		return r.kinesisSeq
	}
	return r.sequenceNumber
}

// release drops what the reader holds of the last record before it goes
// back to the pool.
func (r *reader) release() {
	r.reset()
	r.s.Reset(nil)
	r.text = nil
	r.same = [5]repeated{}
	r.ps.Reset(nil)
	r.num.Reset(nil)
}

// string reads a string field into dst (nil: checked only); name names it
// in the error of a value of another kind.
func (r *reader) string(dst *[]byte, name string) error {
	s := &r.s
	if s.Null() {
		return nil
	}
	if k := s.Peek(); k != jsonscan.String {
		return r.wrongKind(name, k, "a string")
	}
	if dst == nil {
		_, _, err := s.RawString()
		return err
	}
	v, err := s.String(nil)
	*dst = v
	return err
}

// readChange reads the dynamodb object.
func (r *reader) readChange() error {
	s := &r.s
	if s.Null() {
		return nil
	}
	if k := s.Peek(); k != jsonscan.Object {
		return r.wrongKind("dynamodb", k, "an object")
	}
	for key := range s.Object() {
		var err error
		switch field(key, changeFields) {
		case 0:
			err = r.readImage(&r.keys, "Keys")
		case 1:
			err = r.readImage(&r.newImage, "NewImage")
		case 2:
			err = r.readImage(&r.oldImage, "OldImage")
		case 3:
			err = r.string(&r.sequenceNumber, "dynamodb.SequenceNumber")
		case 4:
			r.created, err = r.epoch("dynamodb.ApproximateCreationDateTime")
		case 5:
			err = r.int64("dynamodb.SizeBytes")
		case 6:
			err = r.string(nil, "dynamodb.StreamViewType")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) readImage(it *ddbjson.Item, name string) error {
	if err := r.t.ReadItemFrom(&r.s, r.text, it); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// epoch reads a time in Unix seconds as aws-lambda-go's
// events.SecondsEpochTime does: a number (float64), or null for the epoch
// itself.
func (r *reader) epoch(name string) (time.Time, error) {
	s := &r.s
	var epoch float64
	switch k := s.Peek(); {
	case s.Null():
	case k == jsonscan.Number:
		var err error
		if epoch, err = s.Float64(); err != nil {
			return time.Time{}, err
		}
	default:
		return time.Time{}, r.wrongKind(name, k, "a number")
	}
	return epochTime(epoch), nil
}

// epochTime is the time of epoch seconds, by the arithmetic of
// SecondsEpochTime.UnmarshalJSON, to the bit.
func epochTime(epoch float64) time.Time {
	sec := int64(epoch)
	nsec := int64((epoch - float64(sec)) * float64(time.Second))
	return time.Unix(sec, nsec)
}

// int64 checks an integer field, as encoding/json reads one into an int64.
func (r *reader) int64(name string) error {
	s := &r.s
	if s.Null() {
		return nil
	}
	if k := s.Peek(); k != jsonscan.Number {
		return r.wrongKind(name, k, "a number")
	}
	_, err := s.Int64()
	return err
}

// readIdentity reads userIdentity, a pointer to a struct.
func (r *reader) readIdentity() error {
	s := &r.s
	if s.Null() {
		r.resetIdentity(false)
		return nil
	}
	if k := s.Peek(); k != jsonscan.Object {
		return r.wrongKind("userIdentity", k, "an object")
	}
	if !r.identity {
		r.resetIdentity(true)
	}
	for key := range s.Object() {
		var err error
		switch field(key, identityFields) {
		case 0:
			err = r.string(&r.identityType, "userIdentity.type")
		case 1:
			err = r.string(&r.identityPrincip, "userIdentity.principalId")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) resetIdentity(present bool) {
	r.identity, r.identityType, r.identityPrincip = present, nil, nil
}

// readKinesis reads kinesis, a pointer to events.KinesisRecord.
func (r *reader) readKinesis() error {
	s := &r.s
	if s.Null() {
		r.resetKinesis(false)
		return nil
	}
	if k := s.Peek(); k != jsonscan.Object {
		return r.wrongKind("kinesis", k, "an object")
	}
	if !r.kinesis {
		r.resetKinesis(true)
	}
	for key := range s.Object() {
		var err error
		switch field(key, kinesisFields) {
		case 0:
			err = r.readData()
		case 1:
			err = r.string(&r.partitionKey, "kinesis.partitionKey")
		case 2:
			str := s.Peek() == jsonscan.String
			if err = r.string(&r.kinesisSeq, "kinesis.sequenceNumber"); str {
				r.headKinesisSeq = r.kinesisSeq
			}
		case 3:
			_, err = r.epoch("kinesis.approximateArrivalTimestamp")
		case 4:
			err = r.string(nil, "kinesis.encryptionType")
		case 5:
			err = r.string(nil, "kinesis.kinesisSchemaVersion")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) resetKinesis(present bool) {
	r.kinesis, r.kinesisSeq, r.partitionKey = present, nil, nil
	r.dataLen, r.dataCap = 0, 0
}

// readData reads kinesis.data as encoding/json reads a []byte: base64
// text, decoded into the reused buffer (Kinesis sends nothing else), or
// null, or an array of numbers of 0 to 255.
func (r *reader) readData() error {
	s := &r.s
	switch k := s.Peek(); {
	case s.Null():
		r.dataLen, r.dataCap = 0, 0
		return nil
	case k == jsonscan.String:
		text, err := s.String(&r.str)
		if err != nil {
			return err
		}
		// A new slice of DecodedLen bytes, as encoding/json makes.
		n := base64.StdEncoding.DecodedLen(len(text))
		r.data = slices.Grow(r.data[:0], n)[:n]
		clear(r.data)
		m, err := base64.StdEncoding.Decode(r.data, text)
		if err != nil {
			return fmt.Errorf("kinesis.data: %w", err)
		}
		r.dataLen, r.dataCap = m, n
		return nil
	case k != jsonscan.Array:
		return r.wrongKind("kinesis.data", k, "a string")
	}
	n := 0
	for i := range s.Array() {
		n = i + 1
		if i >= r.dataCap {
			r.data = append(r.data[:i], 0)
			r.dataCap = i + 1
		}
		r.dataLen = max(r.dataLen, i+1)
		if s.Null() {
			continue // leaves the byte as it was
		}
		if k := s.Peek(); k != jsonscan.Number {
			return r.wrongKind("kinesis.data element", k, "a number")
		}
		lit, err := s.Number()
		if err != nil {
			return err
		}
		b, err := strconv.ParseUint(string(lit), 10, 8)
		if err != nil {
			return fmt.Errorf("kinesis.data element %s is not a byte", lit)
		}
		r.data[i] = byte(b)
	}
	r.dataLen = min(r.dataLen, n)
	if n == 0 {
		r.dataLen, r.dataCap = 0, 0 // encoding/json makes a new empty slice
	}
	return nil
}

// wrongKind skips the value of the wrong kind s is at and says what it is.
func (r *reader) wrongKind(name string, k jsonscan.Kind, want string) error {
	if err := r.s.Skip(); err != nil {
		return err
	}
	return fmt.Errorf("%s is %s, not %s", name, k, want)
}

// isTTL reports whether Time to Live made the record (its userIdentity).
func (r *reader) isTTL() bool {
	return r.identity && string(r.identityType) == ttlIdentityType && string(r.identityPrincip) == ttlIdentityPrincipal
}

// isTTLDelete reports whether the record is a deletion Time to Live made.
func (r *reader) isTTLDelete() bool {
	return string(r.eventName) == string(events.DynamoDBOperationTypeRemove) && r.isTTL()
}

// source is the table or stream the record came from, named after marker
// in its eventSourceARN (see sourceName).
func (r *reader) source(marker string) (string, error) {
	if string(r.eventSourceARN) != r.arn || marker != r.arnMarker {
		r.arn, r.arnMarker = string(r.eventSourceARN), marker
		r.arnSource, _ = sourceName(r.arn, marker)
	}
	if r.arnSource == "" {
		return sourceName(r.arn, marker) // the error
	}
	return r.arnSource, nil
}
