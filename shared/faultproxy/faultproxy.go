// Package faultproxy is a loopback HTTP proxy that stands between a
// function and the AWS API emulator and makes the API misbehave the way
// AWS does under load: it throttles calls, fails them with HTTP 500, and
// loses responses after the call took effect. lakestream's fault tests run
// the real binaries through it and then count every record: delivered,
// reported failed, or (never) lost, and no side effect repeated.
//
// Faults are drawn from a seeded generator, so a failing run can be
// replayed with its seed (the order of concurrent calls may still differ).
// A throttled or failed call never reaches the emulator; a dropped response
// is the dangerous case: the emulator did the work (an object written, a job
// run started) and the caller sees its connection close, so a retry repeats
// the call.
package faultproxy

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// Rates are the fraction of calls, from 0 to 1, that meet each fault. They
// are drawn in this order from one number, so they add: Throttle 0.3,
// ServerError 0.05 and DropResponse 0.05 leave 60% of calls untouched.
type Rates struct {
	Throttle     float64 // answered with the service's throttling error, not forwarded
	ServerError  float64 // answered HTTP 500, not forwarded
	DropResponse float64 // forwarded, then the connection closes without a response
}

// Fault is what the proxy did to one call.
type Fault int

// The faults, and None for a call passed through untouched.
const (
	None Fault = iota
	Throttled
	ServerError
	Dropped
)

func (f Fault) String() string {
	switch f {
	case None:
		return "none"
	case Throttled:
		return "throttled"
	case ServerError:
		return "server-error"
	case Dropped:
		return "dropped"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Call is one request the proxy saw: the AWS operation (the X-Amz-Target
// of JSON protocols, "S3 <METHOD>" otherwise) and what was done to it.
type Call struct {
	Operation string
	Fault     Fault
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	// URL is the proxy's address, http://127.0.0.1:<port>: use it as
	// AWS_ENDPOINT_URL in place of the emulator's.
	URL string

	target    string
	transport *http.Transport
	server    *http.Server
	listener  net.Listener

	mu    sync.Mutex
	rates Rates
	rng   *rand.Rand
	only  func(op string) bool
	calls []Call

	active atomic.Bool
}

// Start listens on a free loopback port and forwards to target (the
// emulator's base URL), with no faults until SetRates.
func Start(target string, seed uint64) (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{
		URL:       "http://" + l.Addr().String(),
		target:    strings.TrimSuffix(target, "/"),
		transport: &http.Transport{MaxIdleConnsPerHost: 64},
		listener:  l,
		rng:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		only:      func(string) bool { return true },
	}
	p.server = &http.Server{Handler: p}
	go p.server.Serve(l) //nolint:errcheck // ends with Close.
	return p, nil
}

// SetRates changes the fault rates for the calls that follow.
func (p *Proxy) SetRates(r Rates) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rates = r
}

// Only limits faults to the operations match accepts (for example only
// "Firehose_20150804.PutRecordBatch"); other calls pass untouched. A test
// uses it to keep its own set-up and checks out of the faults.
func (p *Proxy) Only(match func(op string) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.only = match
}

// Calls returns every call seen so far, in the order they arrived.
func (p *Proxy) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// Count is how many calls met fault, over every operation.
func (p *Proxy) Count(f Fault) int {
	n := 0
	for _, c := range p.Calls() {
		if c.Fault == f {
			n++
		}
	}
	return n
}

// Close stops the proxy.
func (p *Proxy) Close() error {
	err := p.server.Close()
	p.transport.CloseIdleConnections()
	return err
}

// draw picks the fault for a call to op and records it.
func (p *Proxy) draw(op string) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := None
	if p.only(op) {
		x := p.rng.Float64()
		switch r := p.rates; {
		case x < r.Throttle:
			f = Throttled
		case x < r.Throttle+r.ServerError:
			f = ServerError
		case x < r.Throttle+r.ServerError+r.DropResponse:
			f = Dropped
		}
	}
	p.calls = append(p.calls, Call{Operation: op, Fault: f})
	return f
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := Operation(r)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "faultproxy: read request: "+err.Error(), http.StatusBadGateway)
		return
	}
	switch p.draw(op) {
	case Throttled:
		writeError(w, r, throttleStatus(r), throttleCode(r), "Rate exceeded (injected by faultproxy)")
		return
	case ServerError:
		writeError(w, r, http.StatusInternalServerError, "InternalFailure", "internal error (injected by faultproxy)")
		return
	case Dropped:
		if _, err := p.forward(r, body); err != nil {
			http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
			return
		}
		drop(w)
		return
	}
	resp, err := p.forward(r, body)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	for k, vs := range resp.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.status)
	w.Write(resp.body) //nolint:errcheck // the client's problem if it went away.
}

// response is a forwarded call's answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// forward sends the call to the target and reads the whole answer, so that
// whatever the call does has been done before the proxy decides to drop it.
func (p *Proxy) forward(r *http.Request, body []byte) (*response, error) {
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out.Header = r.Header.Clone()
	out.Host = r.Host // signed requests name the host they were signed for
	out.ContentLength = int64(len(body))
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		return nil, fmt.Errorf("forward %s: %w", Operation(r), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("forward %s: read response: %w", Operation(r), err)
	}
	resp.Header.Del("Content-Length") // recomputed for what is written
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// drop closes the client's connection without an answer: the caller sees
// EOF or a reset, as when a response is lost on the network.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // closes the connection all the same
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) //nolint:errcheck // best effort: a reset rather than a clean close
	}
	conn.Close()
}

// Operation names the AWS operation of a request: the X-Amz-Target header
// of the JSON protocols (Firehose, Kinesis, Glue, DynamoDB, SQS), else
// "S3 <METHOD> <path>" for S3's REST calls (path without the query).
func Operation(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t
	}
	return "S3 " + r.Method + " " + r.URL.Path
}

// jsonProtocol tells the AWS JSON protocols (X-Amz-Target) from S3's
// REST-XML.
func jsonProtocol(r *http.Request) bool { return r.Header.Get("X-Amz-Target") != "" }

// throttleCode is the error code the service answers a throttled call with:
// S3's SlowDown, Kinesis's ProvisionedThroughputExceededException, the
// others' ThrottlingException. The SDK's retryer knows all three.
func throttleCode(r *http.Request) string {
	switch t := r.Header.Get("X-Amz-Target"); {
	case t == "":
		return "SlowDown"
	case strings.HasPrefix(t, "Kinesis_"):
		return "ProvisionedThroughputExceededException"
	}
	return "ThrottlingException"
}

// throttleStatus is the HTTP status of a throttled call: 503 for S3's
// SlowDown, 400 for the JSON protocols' throttling exceptions.
func throttleStatus(r *http.Request) int {
	if jsonProtocol(r) {
		return http.StatusBadRequest
	}
	return http.StatusServiceUnavailable
}

// writeError answers in the request's protocol, so the SDK reads the code
// as it would from AWS.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if jsonProtocol(r) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Errortype", code)
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":%q,"message":%q}`, code, msg)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}
