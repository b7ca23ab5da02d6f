// Package xraytrace traces every AWS call of a Lambda function as an X-Ray
// subsegment (the SDK v2's through Instrument, streamput's own client
// through Span), sending to the X-Ray daemon the same documents
// aws-xray-sdk-go's instrumentation/awsv2 sends in Lambda, without linking
// the X-Ray SDK's core package (github.com/aws/aws-xray-sdk-go/xray).
//
// # Why not the X-Ray SDK's core
//
// The core package links gRPC (its golang.org/x/net/trace imports
// html/template, and text/template's use of reflect.Value.MethodByName
// turns off the linker's dead-code elimination of methods for the whole
// binary), SDK v1 (whose endpoints tables take 10–13 ms of every cold
// start to initialise) and fasthttp. A Lambda function needs one thing of
// it: a subsegment per AWS call, written to the daemon over UDP. That is
// this package; it still takes the trace header's parsing
// (aws-xray-sdk-go/header) and the daemon's address
// (aws-xray-sdk-go/daemoncfg, AWS_XRAY_DAEMON_ADDRESS) from the X-Ray SDK,
// both of which import nothing heavy.
//
// # What is traced
//
// In Lambda the invocation's segment is Lambda's: aws-lambda-go puts its
// trace header (Root, Parent, Sampled) in the handler's context under the
// key "x-amzn-trace-id", and each AWS call made with that context (or one
// derived from it) becomes a subsegment of it, sent when the call returns.
// A call whose context carries no trace header (init, tests, local runs
// without the runner) is neither traced nor failed: the X-Ray SDK's
// context-missing strategy IGNORE_ERROR, whatever AWS_XRAY_CONTEXT_MISSING
// says, since tracing must never fail a call. AWS_XRAY_SDK_DISABLED=true
// turns tracing off, as it does the X-Ray SDK.
//
// The _X_AMZN_TRACE_ID variable holds the same header, but only while one
// invocation runs at a time (aws-lambda-go leaves it unset when Lambda runs
// several at once) and it outlives the invocation; the context is the
// invocation's own, so it is the only source, as in the X-Ray SDK.
package xraytrace

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	sdkretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-xray-sdk-go/daemoncfg"
	"github.com/aws/aws-xray-sdk-go/header"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"lakestream/shared/retry"
)

// lambdaTraceHeaderKey is the context key under which aws-lambda-go puts
// the invocation's X-Amzn-Trace-Id (an untyped string key, as the X-Ray
// SDK reads it too).
const lambdaTraceHeaderKey = "x-amzn-trace-id"

// traceHeaderName is the HTTP header that carries the trace downstream.
const traceHeaderName = "X-Amzn-Trace-Id"

// noopID is the parent id an unsampled call passes downstream, as the X-Ray
// SDK does (its AWS_XRAY_NOOP_ID default): nothing is sent for it, so no
// real id could be looked up.
const noopID = "0000000000000000"

// Field is one resource name a subsegment records in its "aws" object, such
// as {"bucket_name", "lake"}.
type Field struct {
	Key, Value string
}

// ResourcesFunc appends to dst the resource names of a call, from its
// input (the operation's *XxxInput): what the X-Ray SDK records from its
// parameter whitelist. Keys must not be one of the fields the tracer sets
// itself (operation, region, request_id, id_2, retries).
type ResourcesFunc func(params any, dst []Field) []Field

// Tracer sends a subsegment document to the X-Ray daemon for every AWS
// call of a sampled invocation. Build it once, at init, with New; it is
// safe for concurrent calls.
type Tracer struct {
	// Resources, when set, names what each call acts on.
	Resources ResourcesFunc

	disabled bool
	daemon   *net.UDPAddr

	mu   sync.Mutex
	conn *net.UDPConn // dialled by the first document
	bufs sync.Pool    // *[]byte
}

// New reads the tracer's settings from the environment, as the X-Ray SDK
// does: AWS_XRAY_SDK_DISABLED, and the daemon's address from
// AWS_XRAY_DAEMON_ADDRESS (Lambda sets it; 127.0.0.1:2000 otherwise). An
// address the X-Ray SDK would reject is an error (the SDK panics at init).
func New() (*Tracer, error) {
	t := &Tracer{disabled: strings.EqualFold(os.Getenv("AWS_XRAY_SDK_DISABLED"), "true")}
	if t.disabled {
		return t, nil
	}
	ends, err := daemoncfg.GetDaemonEndpointsFromEnv()
	if err != nil {
		return nil, fmt.Errorf("xraytrace: AWS_XRAY_DAEMON_ADDRESS: %w", err)
	}
	if ends == nil {
		ends = daemoncfg.GetDefaultDaemonEndpoints()
	}
	t.daemon = ends.UDPAddr
	return t, nil
}

// Instrument adds the tracing middleware to an aws.Config's (or a
// client's) APIOptions; a disabled tracer adds nothing.
func (t *Tracer) Instrument(apiOptions *[]func(*middleware.Stack) error) {
	if t.disabled {
		return
	}
	*apiOptions = append(*apiOptions, t.addInitialize, addDeserialize)
}

// callKey is the context key of a traced call's *call.
type callKey struct{}

// call is what the tracer learns of one traced AWS call.
type call struct {
	start      time.Time
	traceID    string   // the invocation's trace (the header's Root)
	parentID   string   // the invocation's segment (the header's Parent)
	id         [16]byte // the subsegment id, hex
	downstream string   // the X-Amzn-Trace-Id sent with the request
	sampled    bool

	// From the response of the last attempt (none when no response came).
	status        int
	contentLength int64
	requestID2    string // S3's x-amz-id-2
	responded     bool
}

// begin starts a call made with ctx; nil when ctx carries no trace header.
func begin(ctx context.Context) *call {
	raw, _ := ctx.Value(lambdaTraceHeaderKey).(string)
	if raw == "" {
		return nil
	}
	h := header.FromString(raw)
	if h.TraceID == "" {
		return nil
	}
	c := &call{start: time.Now(), traceID: h.TraceID, parentID: h.ParentID, sampled: h.SamplingDecision == header.Sampled}
	down := header.Header{TraceID: h.TraceID, ParentID: noopID, SamplingDecision: header.NotSampled, AdditionalData: h.AdditionalData}
	if c.sampled {
		newID(c.id[:])
		down.ParentID, down.SamplingDecision = string(c.id[:]), header.Sampled
	}
	// The invocation's other fields go on downstream (Lineage, which
	// Lambda's recursive-loop detection reads), as the SDK's own
	// RecursionDetection would pass them.
	c.downstream = down.String()
	return c
}

// finish completes doc (named by its caller: service, operation, region,
// request id, retries) with what c learnt and err, and sends it.
func (t *Tracer) finish(c *call, doc *document, err error) {
	doc.TraceID, doc.ID, doc.ParentID = c.traceID, string(c.id[:]), c.parentID
	doc.Start, doc.End = seconds(c.start), seconds(time.Now())
	if c.responded {
		doc.Status, doc.ContentLength, doc.ExtendedRequestID = c.status, c.contentLength, c.requestID2
	}
	doc.flag(err)
	t.send(doc)
}

// addInitialize adds the middleware that spans the whole call: it runs
// last in the Initialize step, after the operation has named its service,
// operation and region, and before serialization, signing, the attempts
// and deserialization, all of which the subsegment covers.
func (t *Tracer) addInitialize(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("lakestream.XRaySubsegment", t.handleInitialize), middleware.After)
}

func (t *Tracer) handleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	c := begin(ctx)
	if c == nil {
		return next.HandleInitialize(ctx, in)
	}
	out, metadata, err := next.HandleInitialize(context.WithValue(ctx, callKey{}, c), in)
	if !c.sampled {
		return out, metadata, err
	}
	doc := document{
		Name:      awsmiddleware.GetServiceID(ctx),
		Operation: awsmiddleware.GetOperationName(ctx),
		Region:    awsmiddleware.GetRegion(ctx),
	}
	doc.RequestID, _ = awsmiddleware.GetRequestIDMetadata(metadata)
	if attempts, ok := sdkretry.GetAttemptResults(metadata); ok && len(attempts.Results) > 1 {
		doc.Retries = len(attempts.Results) - 1
	}
	var resources [4]Field
	if t.Resources != nil {
		doc.Resources = t.Resources(in.Parameters, resources[:0])
	}
	t.finish(c, &doc, err)
	return out, metadata, err
}

// Span is one AWS call made without the SDK's middleware (streamput's
// client for PutRecordBatch and PutRecords): the same subsegment as an SDK
// call's. A nil *Span, which Start returns for a call that is not traced,
// does nothing.
type Span struct {
	t                          *Tracer
	c                          *call
	service, operation, region string
}

// Start begins the span of one call made with ctx to service's operation
// ("Firehose", "PutRecordBatch") in region; nil when the call is not
// traced (no trace header in ctx, or tracing off).
func (t *Tracer) Start(ctx context.Context, service, operation, region string) *Span {
	if t == nil || t.disabled {
		return nil
	}
	c := begin(ctx)
	if c == nil {
		return nil
	}
	return &Span{t: t, c: c, service: service, operation: operation, region: region}
}

// TraceHeader is the X-Amzn-Trace-Id to send with each attempt of the
// call; empty for a nil Span.
func (s *Span) TraceHeader() string {
	if s == nil {
		return ""
	}
	return s.c.downstream
}

// Responded records the answer of the call's last attempt: its HTTP status
// and content length.
func (s *Span) Responded(status int, contentLength int64) {
	if s == nil {
		return
	}
	s.c.responded, s.c.status, s.c.contentLength = true, status, contentLength
}

// End sends the call's subsegment when the invocation is sampled, with
// the request id AWS gave (empty when none came) and the call's error.
func (s *Span) End(requestID string, err error) {
	if s == nil || !s.c.sampled {
		return
	}
	doc := document{Name: s.service, Operation: s.operation, Region: s.region, RequestID: requestID}
	s.t.finish(s.c, &doc, err)
}

// addDeserialize adds the middleware that sets the trace header on each
// attempt's request and reads its response: first in the Deserialize step,
// so it sees the response as the caller will (request id read, errors
// decoded). X-Amzn-Trace-Id is not signed (SigV4 leaves it out), so it may
// be set after signing, as the X-Ray SDK does.
func addDeserialize(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("lakestream.XRayTraceHeader", handleDeserialize), middleware.Before)
}

func handleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	c, _ := ctx.Value(callKey{}).(*call)
	if c == nil {
		return next.HandleDeserialize(ctx, in)
	}
	if req, ok := in.Request.(*smithyhttp.Request); ok {
		req.Header.Set(traceHeaderName, c.downstream)
	}
	out, metadata, err := next.HandleDeserialize(ctx, in)
	if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp != nil && resp.Response != nil {
		c.responded = true
		c.status = resp.StatusCode
		c.contentLength = resp.ContentLength
		c.requestID2 = resp.Header.Get("X-Amz-Id-2")
	}
	return out, metadata, err
}

// flag sets the error flags and the cause, as the X-Ray SDK does: the
// HTTP status sets error (4xx), throttle (429) and fault (5xx); an error
// the SDK's retryer counts as throttling sets throttle whatever its status
// (AWS throttles with 400 and 503 too), as the X-Ray SDK's SDK v1
// instrumentation does; a failure with no client-error status (no
// response at all, a timeout) is a fault. Unlike instrumentation/awsv2,
// which marks every failed call a fault, a 4xx stays an error, as the
// segment document defines the two.
func (d *document) flag(err error) {
	switch {
	case d.Status == 429:
		d.Error, d.Throttle = true, true
	case d.Status >= 400 && d.Status < 500:
		d.Error = true
	case d.Status >= 500 && d.Status < 600:
		d.Fault = true
	}
	if err == nil {
		return
	}
	if retry.Classify(err) == retry.ClassThrottling {
		d.Throttle = true
	}
	if !d.Error {
		d.Fault = true
	}
	ex := &exception{Type: strings.ReplaceAll(fmt.Sprintf("%T", err), "*", ""), Message: err.Error()}
	var api smithy.APIError
	if errors.As(err, &api) {
		// The service's own name for it (ThrottlingException), and remote:
		// the service answered with it.
		ex.Type, ex.Remote = api.ErrorCode(), true
	}
	if len(ex.Message) > maxMessage {
		ex.Message = ex.Message[:maxMessage]
	}
	var id [16]byte
	newID(id[:])
	ex.ID = string(id[:])
	d.Exception = ex
}

// maxMessage bounds an exception's message, so a document always fits in
// one datagram.
const maxMessage = 4 << 10

// daemonHeader starts every datagram the X-Ray SDKs send the daemon.
const daemonHeader = `{"format": "json", "version": 1}` + "\n"

// maxDatagram is the daemon's limit for one document (a UDP datagram's).
const maxDatagram = 64 << 10

// sendTimeout bounds a write to the daemon: UDP does not wait for the
// daemon, and this keeps a full socket buffer from holding up the call.
const sendTimeout = 10 * time.Millisecond

// send writes one document to the daemon, best effort: an error (no
// daemon, a full buffer) loses the document, never the call.
func (t *Tracer) send(d *document) {
	bp, _ := t.bufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, 1<<10)
		bp = &b
	}
	buf := d.appendJSON(append((*bp)[:0], daemonHeader...))
	if conn := t.dial(); conn != nil && len(buf) <= maxDatagram {
		conn.SetWriteDeadline(time.Now().Add(sendTimeout)) //nolint:errcheck // best effort.
		conn.Write(buf)                                    //nolint:errcheck // best effort.
	}
	if cap(buf) <= 16<<10 { // keep the pool small: an exception's rare large message is not kept
		*bp = buf
		t.bufs.Put(bp)
	}
}

// dial returns the connection to the daemon, dialling it on first use (a
// UDP dial sends nothing); nil while it cannot be dialled.
func (t *Tracer) dial() *net.UDPConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn == nil {
		t.conn, _ = net.DialUDP("udp", nil, t.daemon)
	}
	return t.conn
}

// seconds is t as X-Ray's epoch seconds, as the X-Ray SDK computes them.
func seconds(t time.Time) float64 {
	return float64(t.UnixNano()) / float64(time.Second)
}

// newID fills dst (16 bytes) with a random 64-bit id in hex, X-Ray's
// segment id form.
func newID(dst []byte) {
	var r [8]byte
	rand.Read(r[:]) //nolint:errcheck // crypto/rand does not fail on Linux.
	hex.Encode(dst, r[:])
}
