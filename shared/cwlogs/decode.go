package cwlogs

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/aws/aws-lambda-go/events"
)

// gzipMagic starts every gzip member (RFC 1952).
var gzipMagic = []byte{0x1f, 0x8b}

// decoder is the per-call state Decode reuses through decoders: a gzip
// reader holds about 40 KiB of inflate state, and the buffer grows to the
// size of the payloads seen, so neither is rebuilt for every record.
type decoder struct {
	src bytes.Reader
	zr  gzip.Reader
	buf []byte
}

var decoders = sync.Pool{New: func() any { return new(decoder) }}

// Decode gunzips a CloudWatch Logs subscription payload, parses its JSON
// and checks the fields consumers rely on: messageType and owner, and for a
// DATA_MESSAGE also logGroup, logStream and at least one log event, each
// with an id and a timestamp. (CloudWatch Logs sends a CONTROL_MESSAGE with
// an empty logGroup, logStream and event id, so those are not required of
// it.)
//
// It inflates at most maxBytes bytes, reading one byte more to tell that a
// payload is over; a larger payload fails with ErrTooLarge, so a
// decompression bomb costs no more memory than maxBytes whatever it
// claims. The buffer is kept for the next call, so a process holds about
// the largest payload it has decoded. The returned data shares no memory
// with payload.
//
// Errors wrap ErrNotGzip, ErrTruncated, ErrTooLarge, ErrInvalidJSON or
// ErrUnknownMessageType, or are a *MissingFieldError.
func Decode(payload []byte, maxBytes int64) (events.CloudwatchLogsData, error) {
	if maxBytes <= 0 {
		return events.CloudwatchLogsData{}, fmt.Errorf("cwlogs: maxBytes must be positive, got %d", maxBytes)
	}
	if !bytes.HasPrefix(payload, gzipMagic) {
		if len(payload) == 0 {
			return events.CloudwatchLogsData{}, fmt.Errorf("cwlogs: %w: it is empty", ErrNotGzip)
		}
		return events.CloudwatchLogsData{}, fmt.Errorf("cwlogs: %w: it starts with %x, not %x",
			ErrNotGzip, payload[:min(len(payload), len(gzipMagic))], gzipMagic)
	}

	dec := decoders.Get().(*decoder)
	defer func() {
		dec.src.Reset(nil) // do not keep the caller's payload alive from the pool
		decoders.Put(dec)
	}()
	raw, err := dec.inflate(payload, maxBytes)
	if err != nil {
		return events.CloudwatchLogsData{}, err
	}
	var d events.CloudwatchLogsData
	if err := json.Unmarshal(raw, &d); err != nil {
		return events.CloudwatchLogsData{}, fmt.Errorf("cwlogs: %w: %w", ErrInvalidJSON, err)
	}
	if err := validate(&d); err != nil {
		return events.CloudwatchLogsData{}, err
	}
	return d, nil
}

// inflate decompresses payload into dec.buf, failing once it passes
// maxBytes. The result is valid until dec is reused.
func (dec *decoder) inflate(payload []byte, maxBytes int64) ([]byte, error) {
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
	buf := dec.buf[:0]
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
			dec.buf = buf
			return nil, fmt.Errorf("cwlogs: %w: %w", ErrTruncated, err)
		}
	}
	dec.buf = buf
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
