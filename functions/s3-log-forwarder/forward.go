package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"lakestream/shared/batch"
	"lakestream/shared/cloudtrail"
	"lakestream/shared/pipeline"
	"lakestream/shared/record"
)

// Counts are what became of one object's lines: LinesRead = LinesSent +
// LinesSkipped + LinesFiltered + LinesFailed once an object is done
// (blank lines are not lines). A CloudTrail file's lines are its events.
type Counts struct {
	LinesRead     int64 `json:"linesRead"`
	LinesSent     int64 `json:"linesSent"`
	LinesSkipped  int64 `json:"linesSkipped"`  // header and comment lines the parser skips
	LinesFiltered int64 `json:"linesFiltered"` // dropped by DROP_IF
	LinesFailed   int64 `json:"linesFailed"`   // in the error objects, with the reason
	// LinesUnsent are lines written for Firehose that it did not take
	// after every retry: the object failed and is read again.
	LinesUnsent int64 `json:"linesUnsent,omitempty"`
	RecordsPut  int64 `json:"recordsPut"`
	BytesRead   int64 `json:"bytesRead"` // of the object, as stored
	BytesSent   int64 `json:"bytesSent"`
}

func (c *Counts) add(o Counts) {
	c.LinesRead += o.LinesRead
	c.LinesSent += o.LinesSent
	c.LinesSkipped += o.LinesSkipped
	c.LinesFiltered += o.LinesFiltered
	c.LinesFailed += o.LinesFailed
	c.LinesUnsent += o.LinesUnsent
	c.RecordsPut += o.RecordsPut
	c.BytesRead += o.BytesRead
	c.BytesSent += o.BytesSent
}

// checkEvery is how many lines are read between looks at the deadline.
const checkEvery = 1024

// objectRun is one object on its way: read line by line, each line parsed
// and through the stages, the output sent in batches, the failures kept.
type objectRun struct {
	f      *forwarder
	obj    batch.S3Object
	parse  pipeline.ParserAt
	header func([]byte) (pipeline.ParserAt, bool)
	fields []record.Field // what the key adds to every record
	stream *pipeline.LineStream
	out    outBatch
	send   *sender
	bad    *badLines
	counts Counts
	// gzip reports an object read through gunzip.
	gzip bool
}

// forwardObject forwards one object's lines. The error fails the object:
// a *readError, a Firehose put or an error-object write that failed, or
// the deadline, which a retry may cure; ErrGone, ErrChanged, ErrNotText,
// or bytes that do not decode (gzip, a CloudTrail file), which it cannot.
// Lines that fail alone do not fail the object: they are in its error
// objects.
func (f *forwarder) forwardObject(ctx context.Context, obj batch.S3Object) (objectOutcome, error) {
	run := &objectRun{
		f: f, obj: obj, parse: f.cfg.Format.Parse, header: f.cfg.Format.Header,
		bad: newBadLines(f, obj, f.cfg.Format.CloudTrailFile),
	}
	if f.cfg.Format.KeyFields != nil {
		run.fields = f.cfg.Format.KeyFields(obj.Key)
	}
	err := run.forward(ctx)
	objects, werr := run.bad.close(ctx)
	if err == nil {
		err = werr
	}
	return objectOutcome{Counts: run.counts, ErrorObjects: objects, Gzip: run.gzip}, err
}

// objectOutcome is what forwarding an object did.
type objectOutcome struct {
	Counts
	ErrorObjects []string
	Gzip         bool
}

func (o *objectRun) forward(ctx context.Context) error {
	r, err := openObject(ctx, o.f.s3, o.f.cfg.Retry, o.obj.Bucket, o.obj.Key, o.obj.ETag)
	if err != nil {
		return err
	}
	defer func() {
		o.counts.BytesRead = r.Offset()
		r.Close()
	}()
	text, gz, err := decompress(r)
	o.gzip = gz
	if err != nil {
		return o.unreadable(0, err)
	}
	// Lines are dated by the event (a retried object comes out the same),
	// else by the object's own time.
	arrival := o.obj.Time
	if arrival.IsZero() {
		arrival = r.Modified
	}
	o.stream = o.f.cfg.Pipeline.NewLineStream(arrival)
	o.send = newSender(ctx, o.f.put, o.f.cfg.DeliveryStream)

	if o.f.cfg.Format.CloudTrailFile {
		err = o.events(ctx, text, arrival)
	} else {
		err = o.lines(ctx, text, arrival)
	}
	var de *decodeError
	if err == nil || errors.As(err, &de) {
		// What could be read is delivered; after a failed read the object
		// is read again, and sending its lines now would only repeat them.
		o.flush()
	}
	sent, serr := o.send.close()
	o.counts.LinesSent, o.counts.RecordsPut, o.counts.BytesSent = sent.lines, sent.records, sent.bytes
	if serr != nil {
		o.counts.LinesUnsent = o.counts.LinesRead - o.counts.LinesSkipped - o.counts.LinesFiltered - o.counts.LinesFailed - sent.lines
		return serr // before a read error: the lines read were not all delivered
	}
	return err
}

// lines reads the object line by line.
func (o *objectRun) lines(ctx context.Context, text io.Reader, arrival time.Time) error {
	lr := newLineReader(text, o.f.cfg.MaxLineBytes)
	for {
		line, n, tooLong, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return o.unreadable(n+1, err)
		}
		if len(line) == 0 && !tooLong {
			continue
		}
		if err := o.check(ctx); err != nil {
			return err
		}
		o.counts.LinesRead++
		if tooLong {
			if err := o.fail(ctx, n, fmt.Errorf("line longer than MAX_LINE_BYTES (%d bytes); its start is kept here", o.f.cfg.MaxLineBytes), line); err != nil {
				return err
			}
			continue
		}
		if n == 1 && o.header != nil {
			if parse, ok := o.header(line); ok {
				o.parse = parse
				o.counts.LinesSkipped++
				continue
			}
		}
		if err := o.line(ctx, n, line, arrival); err != nil {
			return err
		}
	}
}

// events reads a CloudTrail log file event by event.
func (o *objectRun) events(ctx context.Context, text io.Reader, arrival time.Time) error {
	sc := cloudtrail.NewScanner(text)
	sc.SetMaxEventSize(o.f.cfg.MaxLineBytes)
	n := 0
	for sc.Scan() {
		n++
		if err := o.check(ctx); err != nil {
			return err
		}
		o.counts.LinesRead++
		if err := o.line(ctx, n, sc.Bytes(), arrival); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return o.unreadable(n+1, err)
	}
	return nil
}

// line parses one line and runs the stages; a line that fails goes to the
// error objects. The error is not the line's: it fails the object.
func (o *objectRun) line(ctx context.Context, n int, line []byte, arrival time.Time) error {
	rec, err := o.parse(line, arrival)
	if err != nil {
		return o.fail(ctx, n, err, line)
	}
	if rec == nil {
		o.counts.LinesSkipped++
		return nil
	}
	rec.Fields = append(rec.Fields, o.fields...)
	before := len(o.stream.Output())
	res, err := o.stream.Record(rec, line)
	switch {
	case err != nil:
		return o.fail(ctx, n, err, line)
	case res == pipeline.LineSkipped:
		o.counts.LinesSkipped++
		return nil
	case res == pipeline.LineFiltered:
		o.counts.LinesFiltered++
		return nil
	}
	out := o.stream.Output()
	if size := len(out) - before; size > recordLimit {
		// No Firehose record can carry it, and it is never cut.
		o.stream.Truncate(before)
		return o.fail(ctx, n, fmt.Errorf("its output of %d bytes is over Firehose's record limit of %d", size, recordLimit), line)
	}
	o.out.ends = append(o.out.ends, len(out))
	if len(out) >= flushAt {
		o.flush()
	}
	return nil
}

// flush hands the lines written so far to the sender.
func (o *objectRun) flush() {
	if len(o.out.ends) == 0 {
		return
	}
	next := o.send.send(outBatch{data: o.stream.Output(), ends: o.out.ends})
	o.stream.Take(next.data)
	o.out.ends = next.ends
}

// fail records a failed line in the error objects.
func (o *objectRun) fail(ctx context.Context, n int, reason error, line []byte) error {
	o.counts.LinesFailed++
	return o.bad.add(ctx, n, reason.Error(), line)
}

// check stops at the deadline, and once a batch could not be sent.
func (o *objectRun) check(ctx context.Context) error {
	if o.counts.LinesRead%checkEvery != 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped after %d lines, at the invocation's deadline: %w", o.counts.LinesRead, context.Cause(ctx))
	}
	if o.send != nil && o.send.failed() {
		return errSendFailed
	}
	return nil
}

// errSendFailed stops reading an object once a batch of its lines could
// not be sent; the sender's error is the object's.
var errSendFailed = errors.New("a batch could not be sent")

// unreadable handles an error reading the object's text at line n: a read
// from S3 that failed (a retry may cure it) is returned as it is; bytes
// that do not decode end the object, the rest of which is recorded as
// unreadable in its error objects.
func (o *objectRun) unreadable(n int, err error) error {
	var re *readError
	if errors.As(err, &re) || errors.Is(err, ErrGone) || errors.Is(err, ErrChanged) || errors.Is(err, ErrNotText) {
		return err
	}
	what := "the rest of the object does not decode"
	if n <= 1 {
		what = "the object does not decode"
	}
	if o.gzip {
		what += " (gzip)"
	}
	derr := fmt.Errorf("%s: %w", what, err)
	if berr := o.bad.addUnreadable(n, derr.Error()); berr != nil {
		return berr
	}
	return &decodeError{derr}
}

// decodeError is an object whose bytes do not decode: no retry can cure it.
type decodeError struct{ err error }

func (e *decodeError) Error() string { return e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// skipReason says why an object is left alone, or "" when it is forwarded.
func (f *forwarder) skipReason(obj batch.S3Object) string {
	switch {
	case !obj.Created():
		return fmt.Sprintf("event %s does not create an object", obj.Event)
	case strings.HasSuffix(obj.Key, "/"):
		return "folder marker"
	case obj.Bucket == f.cfg.errorBucket(obj.Bucket) && strings.HasPrefix(obj.Key, f.cfg.ErrorPrefix):
		return "an error object of this function (under ERROR_PREFIX " + f.cfg.ErrorPrefix + ")"
	case f.cfg.Format.CloudTrailFile && strings.Contains(obj.Key, "/CloudTrail-Digest/"):
		return "a CloudTrail digest file, which holds no events"
	}
	return ""
}
