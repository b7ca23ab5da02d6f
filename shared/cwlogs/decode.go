package cwlogs

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/klauspost/compress/gzip"
)

// gzipMagic starts every gzip member (RFC 1952).
var gzipMagic = []byte{0x1f, 0x8b}

// Decoder decodes subscription payloads into buffers it keeps for the
// next payload: the inflated document (a gzip reader holds about 40 KiB
// of inflate state, and the buffer grows to the largest payload seen) and
// the unescaped strings. The data Decode returns shares that memory, so it
// is valid only until the next Decode: a caller that keeps any of it
// copies it (Decode, the package function, does). A Decoder is not safe
// for concurrent use; a sync.Pool of them serves concurrent callers.
type Decoder struct {
	src  bytes.Reader
	zr   gzip.Reader
	doc  []byte
	scan payloadScanner
	data events.CloudwatchLogsData
}

var decoders = sync.Pool{New: func() any { return new(Decoder) }}

// Decode gunzips a CloudWatch Logs subscription payload, parses its JSON
// and checks the fields consumers rely on: messageType and owner, and for a
// DATA_MESSAGE also logGroup, logStream and the logEvents array (which may
// be empty), each event with an id and a timestamp. (CloudWatch Logs sends
// a CONTROL_MESSAGE with an empty logGroup, logStream and event id, so
// those are not required of it.)
//
// It inflates at most maxBytes bytes, reading one byte more to tell that a
// payload is over; a larger payload fails with ErrTooLarge, so a
// decompression bomb costs no more memory than maxBytes whatever it
// claims. The returned data shares no memory with payload.
//
// Errors wrap ErrNotGzip, ErrTruncated, ErrTooLarge, ErrInvalidJSON or
// ErrUnknownMessageType, or are a *MissingFieldError.
func Decode(payload []byte, maxBytes int64) (events.CloudwatchLogsData, error) {
	dec := decoders.Get().(*Decoder)
	defer decoders.Put(dec)
	d, err := dec.Decode(payload, maxBytes)
	if err != nil {
		return events.CloudwatchLogsData{}, err
	}
	return clone(d), nil
}

// clone copies d out of a Decoder's buffers.
func clone(d *events.CloudwatchLogsData) events.CloudwatchLogsData {
	out := events.CloudwatchLogsData{
		MessageType: strings.Clone(d.MessageType), Owner: strings.Clone(d.Owner),
		LogGroup: strings.Clone(d.LogGroup), LogStream: strings.Clone(d.LogStream),
	}
	if d.SubscriptionFilters != nil {
		out.SubscriptionFilters = make([]string, len(d.SubscriptionFilters))
		for i, f := range d.SubscriptionFilters {
			out.SubscriptionFilters[i] = strings.Clone(f)
		}
	}
	if d.LogEvents != nil {
		out.LogEvents = make([]events.CloudwatchLogsLogEvent, len(d.LogEvents))
		for i, ev := range d.LogEvents {
			out.LogEvents[i] = events.CloudwatchLogsLogEvent{ID: strings.Clone(ev.ID), Timestamp: ev.Timestamp, Message: strings.Clone(ev.Message)}
		}
	}
	return out
}

// Decode is the package's Decode without the copy: the data lives in the
// Decoder's buffers until its next Decode.
func (dec *Decoder) Decode(payload []byte, maxBytes int64) (*events.CloudwatchLogsData, error) {
	if maxBytes <= 0 {
		return nil, fmt.Errorf("cwlogs: maxBytes must be positive, got %d", maxBytes)
	}
	if !bytes.HasPrefix(payload, gzipMagic) {
		if len(payload) == 0 {
			return nil, fmt.Errorf("cwlogs: %w: it is empty", ErrNotGzip)
		}
		return nil, fmt.Errorf("cwlogs: %w: it starts with %x, not %x",
			ErrNotGzip, payload[:min(len(payload), len(gzipMagic))], gzipMagic)
	}
	defer dec.src.Reset(nil) // do not keep the caller's payload alive
	doc, err := dec.inflate(payload, maxBytes)
	if err != nil {
		return nil, err
	}
	if err := dec.parse(doc); err != nil {
		return nil, err
	}
	if err := validate(&dec.data); err != nil {
		return nil, err
	}
	return &dec.data, nil
}

// parse fills dec.data from the document with the scanner, and with
// encoding/json for a document outside the scanner's shape, which also
// words the error of one that is not a payload.
func (dec *Decoder) parse(doc []byte) error {
	if dec.scan.scan(doc, &dec.data) == nil {
		return nil
	}
	dec.data = events.CloudwatchLogsData{}
	if err := json.Unmarshal(doc, &dec.data); err != nil {
		dec.data = events.CloudwatchLogsData{}
		return fmt.Errorf("cwlogs: %w: %w", ErrInvalidJSON, err)
	}
	return nil
}

// inflate decompresses payload into dec.doc, failing once it passes
// maxBytes. The result is valid until dec is reused.
func (dec *Decoder) inflate(payload []byte, maxBytes int64) ([]byte, error) {
	dec.src.Reset(payload)
	if err := dec.zr.Reset(&dec.src); err != nil {
		return nil, fmt.Errorf("cwlogs: %w: %w", ErrTruncated, noEOF(err))
	}
	maxBytes = min(maxBytes, math.MaxInt64-1) // so that maxBytes+1 cannot overflow
	limit := maxBytes + 1                     // reading one byte more tells a payload over the limit

	// The gzip trailer's ISIZE (the last 4 bytes; Reset has read a 10-byte
	// header, so they exist) is the writer's claim of the inflated size, mod
	// 2^32. Sizing the buffer from it reads a normal payload with no
	// regrowth; capping it at the limit means a false claim costs nothing
	// beyond what the caller already allows. The extra byte leaves room for
	// the read that sees the end of the stream.
	want := min(int64(binary.LittleEndian.Uint32(payload[len(payload)-4:]))+1, limit)
	buf := dec.doc[:0]
	if int64(cap(buf)) < want {
		buf = make([]byte, 0, want)
	}
	for int64(len(buf)) < limit {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*int64(cap(buf)), limit))
			copy(grown, buf)
			buf = grown
		}
		n, err := dec.zr.Read(buf[len(buf):min(int64(cap(buf)), limit)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			dec.doc = buf
			return nil, fmt.Errorf("cwlogs: %w: %w", ErrTruncated, err)
		}
	}
	dec.doc = buf
	if int64(len(buf)) > maxBytes {
		return nil, fmt.Errorf("cwlogs: %w of %d bytes", ErrTooLarge, maxBytes)
	}
	return buf, nil
}

// noEOF turns a bare io.EOF, which gzip returns for a stream cut inside an
// optional header field (such as the file name), into io.ErrUnexpectedEOF,
// so that no error from Decode looks like the normal end of a stream.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
