package lambdarun

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"
)

// Segment is an X-Ray segment document a function sent to the daemon: in
// Lambda, one subsegment per traced call (each AWS SDK call is one, named
// after the service), whose parent is the invocation's segment.
type Segment struct {
	Name        string         `json:"name"`
	ID          string         `json:"id"`
	TraceID     string         `json:"trace_id"`
	ParentID    string         `json:"parent_id"`
	Type        string         `json:"type"`
	StartTime   float64        `json:"start_time"`
	EndTime     float64        `json:"end_time"`
	Namespace   string         `json:"namespace"`
	Error       bool           `json:"error"`
	Fault       bool           `json:"fault"`
	Throttle    bool           `json:"throttle"`
	AWS         map[string]any `json:"aws"`
	HTTP        SegmentHTTP    `json:"http"`
	Cause       *SegmentCause  `json:"cause"`
	Subsegments []Segment      `json:"subsegments"`
}

// SegmentHTTP is what a segment records of an HTTP call: its status.
type SegmentHTTP struct {
	Response struct {
		Status int `json:"status"`
	} `json:"response"`
}

// SegmentCause is why a segment failed.
type SegmentCause struct {
	Exceptions []SegmentException `json:"exceptions"`
}

// SegmentException is one error of a failed segment.
type SegmentException struct {
	Message string `json:"message"`
	Type    string `json:"type"`
}

// Duration is how long the traced call took.
func (s Segment) Duration() time.Duration {
	return time.Duration((s.EndTime - s.StartTime) * float64(time.Second))
}

// Operation is the AWS operation of an SDK call's subsegment ("PutRecordBatch").
func (s Segment) Operation() string {
	op, _ := s.AWS["operation"].(string)
	return op
}

// Failure says what went wrong in the call ("" when nothing did): the
// cause's first exception, else the HTTP status.
func (s Segment) Failure() string {
	if !s.Error && !s.Fault && !s.Throttle {
		return ""
	}
	if s.Cause != nil && len(s.Cause.Exceptions) > 0 {
		return s.Cause.Exceptions[0].Message
	}
	return fmt.Sprintf("HTTP %d", s.HTTP.Response.Status)
}

// daemonHeader starts every document the X-Ray SDKs send the daemon.
var daemonHeader = []byte(`{"format": "json", "version": 1}` + "\n")

// daemon plays the X-Ray daemon on a loopback UDP port: it keeps every
// segment document the function sends (the function finds it through
// AWS_XRAY_DAEMON_ADDRESS), so an invocation's calls can be shown.
type daemon struct {
	conn   *net.UDPConn
	mu     sync.Mutex
	docs   []Segment
	marks  map[string]chan struct{} // sync markers awaited by sync
	closed chan struct{}
}

func newDaemon() (*daemon, error) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("lambdarun: X-Ray daemon: %w", err)
	}
	conn.SetReadBuffer(4 << 20) //nolint:errcheck // the default holds hundreds of documents too.
	d := &daemon{conn: conn, marks: map[string]chan struct{}{}, closed: make(chan struct{})}
	go d.read()
	return d, nil
}

// Addr is host:port, the value of AWS_XRAY_DAEMON_ADDRESS.
func (d *daemon) Addr() string { return d.conn.LocalAddr().String() }

func (d *daemon) Close() {
	d.conn.Close()
	<-d.closed
}

func (d *daemon) read() {
	defer close(d.closed)
	buf := make([]byte, 64<<10) // a UDP datagram's limit
	for {
		n, err := d.conn.Read(buf)
		if err != nil {
			return
		}
		body := bytes.TrimPrefix(buf[:n], daemonHeader)
		var mark struct{ Mark string }
		if json.Unmarshal(body, &mark) == nil && mark.Mark != "" {
			d.mu.Lock()
			if ch, ok := d.marks[mark.Mark]; ok {
				close(ch)
				delete(d.marks, mark.Mark)
			}
			d.mu.Unlock()
			continue
		}
		var s Segment
		if json.Unmarshal(body, &s) != nil {
			continue // not a segment: nothing to show
		}
		d.mu.Lock()
		d.docs = append(d.docs, s)
		d.mu.Unlock()
	}
}

// sync waits until the daemon has read every datagram sent before the
// call: a marker sent now is queued behind them on the loopback socket.
// The SDK sends a subsegment when it closes, before the handler returns,
// so after an invocation's response sync sees all of its calls.
func (d *daemon) sync() {
	mark := newID(8)
	ch := make(chan struct{})
	d.mu.Lock()
	d.marks[mark] = ch
	d.mu.Unlock()
	conn, err := net.DialUDP("udp", nil, d.conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		return
	}
	defer conn.Close()
	conn.Write(fmt.Appendf(nil, `{"Mark":%q}`, mark)) //nolint:errcheck // then the wait times out.
	select {
	case <-ch:
	case <-time.After(2 * time.Second):
	}
}

// take removes and returns the documents of a trace, in start order.
func (d *daemon) take(traceID string) []Segment {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out, rest []Segment
	for _, s := range d.docs {
		if s.TraceID == traceID {
			out = append(out, s)
		} else {
			rest = append(rest, s)
		}
	}
	d.docs = rest
	slices.SortStableFunc(out, func(a, b Segment) int {
		switch {
		case a.StartTime < b.StartTime:
			return -1
		case a.StartTime > b.StartTime:
			return 1
		}
		return 0
	})
	return out
}

// newTraceID is an X-Ray trace id: 1-<epoch seconds, 8 hex>-<96 random bits>.
func newTraceID() string {
	return fmt.Sprintf("1-%08x-%s", time.Now().Unix(), newID(12))
}

// newID is n random bytes in hex: a segment id is 8.
func newID(n int) string {
	b := make([]byte, n)
	rand.Read(b) //nolint:errcheck // crypto/rand does not fail on Linux.
	return hex.EncodeToString(b)
}
