package streamput

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"lakestream/shared/jsonenc"
	"lakestream/shared/jsonscan"
	"lakestream/shared/xraytrace"
)

// Client makes the two calls of this package, Firehose's PutRecordBatch
// and Kinesis's PutRecords, over HTTP: the AWS JSON 1.1 protocol, signed
// with SigV4 from an aws.Config's credentials, each call traced by X-Ray
// (package xraytrace) and made once (the Writer retries).
//
// It replaces aws-sdk-go-v2's Firehose and Kinesis clients, for two
// reasons measured on this project's functions (see README "Performance"):
// the SDK's service packages take about 1.4 ms of every cold start to
// initialise (their serialisation schemas and endpoint tables, linked
// whether or not a call is made: the Firehose transformers make one only
// to re-ingest), and the SDK builds each request through generic
// serialisation, which was a sixth of ddb-stream-forwarder's time. This
// client writes the request body in one pass into a reused buffer, base64
// encoding the records straight into it (or copying an Entry's Encoded
// text), and reads the answer without reflection.
//
// Endpoints are what the SDK resolves in the commercial, China and
// GovCloud partitions: AWS_ENDPOINT_URL_FIREHOSE or AWS_ENDPOINT_URL_KINESIS
// when set, else the config's BaseEndpoint (AWS_ENDPOINT_URL), else
// https://firehose.<region>.<suffix>, and for Kinesis the account's data
// endpoint https://<account>.data-kinesis.<region>.<suffix> named by the
// stream ARN. FIPS and dual-stack endpoints are not chosen for you: name
// them in AWS_ENDPOINT_URL_FIREHOSE / _KINESIS.
type Client struct {
	creds    aws.CredentialsProvider
	region   string
	http     aws.HTTPClient
	signer   *v4.Signer
	tracer   *xraytrace.Tracer
	firehose string // endpoint URL; "" for the region's
	kinesis  string // endpoint URL; "" for the stream ARN's
	now      func() time.Time
	bufs     sync.Pool // *[]byte request bodies
}

var (
	_ FirehoseAPI = (*Client)(nil)
	_ KinesisAPI  = (*Client)(nil)
)

// NewClient returns a Client calling with cfg's region, credentials and
// HTTP client (the SDK's default one when cfg has none) and endpoints as
// the Client's documentation says, reading the service-specific endpoint
// variables with getenv. X-Ray tracing follows the environment as
// xraytrace.New reads it.
func NewClient(cfg aws.Config, getenv func(string) string) (*Client, error) {
	if cfg.Region == "" {
		return nil, errors.New("streamput: no AWS region (set AWS_REGION)")
	}
	if cfg.Credentials == nil {
		return nil, errors.New("streamput: no AWS credentials provider")
	}
	tracer, err := xraytrace.New()
	if err != nil {
		return nil, err
	}
	c := &Client{
		creds:    cfg.Credentials,
		region:   cfg.Region,
		http:     cfg.HTTPClient,
		signer:   v4.NewSigner(),
		tracer:   tracer,
		firehose: endpointURL(getenv("AWS_ENDPOINT_URL_FIREHOSE"), cfg.BaseEndpoint),
		kinesis:  endpointURL(getenv("AWS_ENDPOINT_URL_KINESIS"), cfg.BaseEndpoint),
		now:      time.Now,
	}
	if c.http == nil {
		c.http = awshttp.NewBuildableClient()
	}
	if _, ok := c.creds.(*aws.CredentialsCache); !ok {
		c.creds = aws.NewCredentialsCache(c.creds)
	}
	return c, nil
}

// endpointURL is the service-specific endpoint, else the base one, else "".
func endpointURL(service string, base *string) string {
	if service != "" {
		return strings.TrimRight(service, "/")
	}
	return strings.TrimRight(aws.ToString(base), "/")
}

// Answer is AWS's answer for one record of a PutRecordBatch or PutRecords
// request: both fields are empty when the record was written.
type Answer struct {
	ErrorCode, ErrorMessage string
}

// PutRecordBatch implements FirehoseAPI: one PutRecordBatch request of
// records to the named delivery stream, answered record by record.
func (c *Client) PutRecordBatch(ctx context.Context, stream string, records []Entry) ([]Answer, error) {
	endpoint := c.firehose
	if endpoint == "" {
		var err error
		if endpoint, err = firehoseEndpoint(c.region); err != nil {
			return nil, err
		}
	}
	body := c.body()
	defer c.bufs.Put(body)
	b := append((*body)[:0], `{"DeliveryStreamName":`...)
	b = jsonenc.AppendString(b, stream)
	b = append(b, `,"Records":[`...)
	for i, r := range records {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Data":"`...)
		b = r.appendBase64(b)
		b = append(b, `"}`...)
	}
	b = append(b, "]}"...)
	*body = b
	return c.call(ctx, call{
		service: "Firehose", signingName: "firehose", target: "Firehose_20150804.PutRecordBatch",
		endpoint: endpoint, answers: "RequestResponses",
	}, b)
}

// PutRecords implements KinesisAPI: one PutRecords request of records to
// the Kinesis stream with the given ARN, answered record by record.
func (c *Client) PutRecords(ctx context.Context, streamARN string, records []Entry) ([]Answer, error) {
	endpoint := c.kinesis
	if endpoint == "" {
		var err error
		if endpoint, err = kinesisEndpoint(c.region, streamARN); err != nil {
			return nil, err
		}
	}
	body := c.body()
	defer c.bufs.Put(body)
	b := append((*body)[:0], `{"Records":[`...)
	for i, r := range records {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Data":"`...)
		b = r.appendBase64(b)
		b = append(b, `","PartitionKey":`...)
		b = jsonenc.AppendString(b, r.PartitionKey)
		b = append(b, '}')
	}
	b = append(b, `],"StreamARN":`...)
	b = jsonenc.AppendString(b, streamARN)
	b = append(b, '}')
	*body = b
	return c.call(ctx, call{
		service: "Kinesis", signingName: "kinesis", target: "Kinesis_20131202.PutRecords",
		endpoint: endpoint, answers: "Records",
	}, b)
}

// body is a request buffer from the pool.
func (c *Client) body() *[]byte {
	if b, ok := c.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 64<<10)
	return &b
}

// call is one operation of the JSON 1.1 protocol.
type call struct {
	service     string // X-Ray's name for it, and the errors'
	signingName string
	target      string // X-Amz-Target: <API version>.<operation>
	endpoint    string
	answers     string // the answer's member listing each record's result
}

func (o call) operation() string { return o.target[strings.IndexByte(o.target, '.')+1:] }

// call sends body as one request of operation o and reads the answer's
// per-record results.
func (c *Client) call(ctx context.Context, o call, body []byte) (_ []Answer, err error) {
	span := c.tracer.Start(ctx, o.service, o.operation(), c.region)
	requestID := ""
	defer func() { span.End(requestID, err) }()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", o.service, o.operation(), err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", o.target)
	req.Header.Set("User-Agent", "lakestream")
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s %s: retrieve credentials: %w", o.service, o.operation(), err)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), o.signingName, c.region, c.now()); err != nil {
		return nil, fmt.Errorf("%s %s: sign: %w", o.service, o.operation(), err)
	}
	if h := span.TraceHeader(); h != "" {
		// Not signed (SigV4 leaves X-Amzn-Trace-Id out), as the SDK sets it.
		req.Header.Set("X-Amzn-Trace-Id", h)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", o.service, o.operation(), err)
	}
	defer resp.Body.Close()
	span.Responded(resp.StatusCode, resp.ContentLength)
	requestID = resp.Header.Get("X-Amzn-Requestid")
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read the answer: %w", o.service, o.operation(), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("%s %s: %w", o.service, o.operation(), apiError(resp, requestID, answer))
	}
	answers, err := readAnswers(answer, o.answers)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read the answer: %w", o.service, o.operation(), err)
	}
	return answers, nil
}

// readAnswers reads the per-record results listed under member of a
// successful answer ({"RequestResponses":[{"RecordId":…}|{"ErrorCode":…,
// "ErrorMessage":…}, …], …}).
func readAnswers(data []byte, member string) ([]Answer, error) {
	s := jsonscan.New(data)
	var answers []Answer
	var buf []byte
	for key := range s.Object() {
		if string(key) != member {
			continue
		}
		answers = nil // a repeated member replaces the first, as in encoding/json
		for range s.Array() {
			var a Answer
			for key := range s.Object() {
				switch string(key) {
				case "ErrorCode":
					a.ErrorCode = optString(s, &buf)
				case "ErrorMessage":
					a.ErrorMessage = optString(s, &buf)
				}
			}
			answers = append(answers, a)
		}
	}
	if err := s.End(); err != nil {
		return nil, err
	}
	return answers, nil
}

// optString reads a string or null ("").
func optString(s *jsonscan.Scanner, buf *[]byte) string {
	if s.Null() {
		return ""
	}
	v, _ := s.String(buf)
	return string(v)
}

// APIError is an error answer of the JSON 1.1 protocol: an HTTP status
// outside 2xx with the error's code (its __type, or the X-Amzn-ErrorType
// header) and message. It is a smithy.APIError, and says its HTTP status,
// so that package retry classifies it as it does the SDK's errors.
type APIError struct {
	StatusCode int
	Code       string
	Message    string
	RequestID  string
}

var _ smithy.APIError = (*APIError)(nil)

func (e *APIError) Error() string {
	s := "HTTP " + strconv.Itoa(e.StatusCode)
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	return s + ": " + e.Code + ": " + e.Message
}

// ErrorCode implements smithy.APIError.
func (e *APIError) ErrorCode() string { return e.Code }

// ErrorMessage implements smithy.APIError.
func (e *APIError) ErrorMessage() string { return e.Message }

// ErrorFault implements smithy.APIError: a 5xx is the server's fault.
func (e *APIError) ErrorFault() smithy.ErrorFault {
	if e.StatusCode >= 500 {
		return smithy.FaultServer
	}
	return smithy.FaultClient
}

// HTTPStatusCode is the answer's HTTP status.
func (e *APIError) HTTPStatusCode() int { return e.StatusCode }

// apiError reads an error answer: {"__type":"[namespace#]Code",
// "message":…} (or "Message"), the code also in X-Amzn-ErrorType
// ("Code:http://…"), which wins as in the SDK. An answer without a code is
// named by its status ("HTTP 503").
func apiError(resp *http.Response, requestID string, body []byte) *APIError {
	e := &APIError{StatusCode: resp.StatusCode, RequestID: requestID}
	s := jsonscan.New(body)
	var buf []byte
	for key := range s.Object() {
		switch string(key) {
		case "__type", "code":
			if e.Code == "" {
				e.Code = optString(s, &buf)
			}
		case "message", "Message":
			e.Message = optString(s, &buf)
		}
	}
	if h := resp.Header.Get("X-Amzn-Errortype"); h != "" {
		e.Code = h
	}
	e.Code = sanitizeCode(e.Code)
	if e.Code == "" {
		e.Code = "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	if e.Message == "" && s.Err() != nil {
		e.Message = strings.TrimSpace(string(body[:min(len(body), 256)]))
	}
	return e
}

// sanitizeCode keeps the code of an error type: "aws.protocoltests#Code"
// and "Code:http://internal.amazon.com/…" are both "Code".
func sanitizeCode(code string) string {
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	return strings.TrimSpace(code)
}

// dnsSuffix is the domain of AWS's endpoints in region's partition, for
// the partitions whose endpoints follow the pattern this client uses.
func dnsSuffix(region string) (string, error) {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "amazonaws.com.cn", nil
	case strings.HasPrefix(region, "us-iso"), strings.HasPrefix(region, "eu-iso"):
		return "", fmt.Errorf("streamput: no built-in endpoint for region %s: set AWS_ENDPOINT_URL_FIREHOSE and AWS_ENDPOINT_URL_KINESIS", region)
	}
	return "amazonaws.com", nil
}

// firehoseEndpoint is Firehose's endpoint in region.
func firehoseEndpoint(region string) (string, error) {
	suffix, err := dnsSuffix(region)
	if err != nil {
		return "", err
	}
	return "https://firehose." + region + "." + suffix, nil
}

// kinesisEndpoint is the data endpoint of the account owning streamARN
// (arn:<partition>:kinesis:<region>:<account>:stream/<name>), as the SDK
// resolves it for a call naming a stream by ARN.
func kinesisEndpoint(region, streamARN string) (string, error) {
	parts := strings.SplitN(streamARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "kinesis" || !accountID(parts[4]) || !strings.HasPrefix(parts[5], "stream/") {
		return "", fmt.Errorf("streamput: %q is not a Kinesis stream ARN", streamARN)
	}
	if parts[3] != region {
		return "", fmt.Errorf("streamput: stream %s is in region %s, the client in %s", streamARN, parts[3], region)
	}
	suffix, err := dnsSuffix(region)
	if err != nil {
		return "", err
	}
	return "https://" + parts[4] + ".data-kinesis." + region + "." + suffix, nil
}

// accountID reports whether s is an AWS account id: 12 digits.
func accountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
