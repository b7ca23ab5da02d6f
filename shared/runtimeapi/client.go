package runtimeapi

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
)

// prefix starts the path of every Runtime API request.
const prefix = "/2018-06-01/runtime/"

// client is one connection to the Runtime API, kept open from one request
// to the next as aws-lambda-go's HTTP client keeps it. It writes its
// requests itself, each in one write with its length, and reads the
// answers with net/http's parser (status, headers, Content-Length or
// chunked bodies).
type client struct {
	addr  string // host:port, AWS_LAMBDA_RUNTIME_API
	conn  net.Conn
	in    *bufio.Reader
	head  []byte // the request line and headers, reused
	event []byte // the last event, its memory reused for the next
}

// header is one extra request header.
type header struct{ name, value string }

// next waits for the next event and returns it with the Runtime API's
// headers. The event's bytes are valid until the next call.
func (c *client) next() ([]byte, http.Header, error) {
	resp, err := c.do(http.MethodGet, "invocation/next", nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, answered(resp, "invocation/next")
	}
	if c.event, err = readBody(c.event[:0], resp); err != nil {
		c.close()
		return nil, nil, fmt.Errorf("runtime API: read the event: %w", err)
	}
	return c.event, resp.Header, nil
}

// post sends body to path and expects 202 Accepted.
func (c *client) post(path string, body []byte, headers ...header) error {
	resp, err := c.do(http.MethodPost, path, body, headers...)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return answered(resp, path)
	}
	return nil
}

// do writes one request and reads the head of its answer; the caller
// reads and closes the body, which leaves the connection ready for the
// next request. A GET that fails on a connection kept from before is
// tried once more on a new one: the Runtime API may have closed it while
// the function was idle, and nothing was taken yet. A POST is not
// repeated: the first may have arrived.
func (c *client) do(method, path string, body []byte, headers ...header) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		reused := c.conn != nil
		if !reused {
			conn, err := net.Dial("tcp", c.addr)
			if err != nil {
				return nil, fmt.Errorf("runtime API: %w", err)
			}
			c.conn, c.in = conn, bufio.NewReaderSize(conn, 16<<10)
		}
		c.head = appendHead(c.head[:0], method, c.addr, path, len(body), headers)
		request := net.Buffers{c.head, body}
		_, err := request.WriteTo(c.conn)
		var resp *http.Response
		if err == nil {
			resp, err = http.ReadResponse(c.in, nil)
		}
		if err == nil {
			if resp.Close {
				// Read the body first: close then, on its Close.
				resp.Body = &closeAfter{resp.Body, c}
			}
			return resp, nil
		}
		c.close()
		if !(reused && method == http.MethodGet && attempt == 0) {
			return nil, fmt.Errorf("runtime API: %s %s: %w", method, path, err)
		}
	}
}

// appendHead appends an HTTP/1.1 request's line and headers.
func appendHead(b []byte, method, host, path string, length int, headers []header) []byte {
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, prefix...)
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\nUser-Agent: lakestream\r\n"...)
	if method == http.MethodPost {
		b = append(b, "Content-Type: application/json\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(length), 10)
		b = append(b, "\r\n"...)
	}
	for _, h := range headers {
		b = append(b, h.name...)
		b = append(b, ": "...)
		b = append(b, h.value...)
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}

func (c *client) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.in = nil, nil
	}
}

// closeAfter closes the client's connection when the body of an answer
// that said "Connection: close" is closed.
type closeAfter struct {
	io.ReadCloser
	c *client
}

func (b *closeAfter) Close() error {
	err := b.ReadCloser.Close()
	b.c.close()
	return err
}

// maxEvent bounds the length an event may state: Lambda's largest are
// 6 MB, and a length past this is a broken answer, not memory to ask for.
const maxEvent = 64 << 20

// readBody appends resp's body to buf: in one read of the stated length
// when there is one, so an event of the same size as the last needs no
// new memory.
func readBody(buf []byte, resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n > maxEvent {
		return buf, fmt.Errorf("an event of %d bytes, over the %d this reads", n, maxEvent)
	} else if n >= 0 {
		buf = slices.Grow(buf, int(n))[:n]
		_, err := io.ReadFull(resp.Body, buf)
		return buf, err
	}
	for {
		buf = slices.Grow(buf, 32<<10)
		n, err := resp.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// answered is the error of an unexpected answer, with the start of what
// the Runtime API said.
func answered(resp *http.Response, path string) error {
	said, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return fmt.Errorf("runtime API: %s answered %s: %s", path, resp.Status, said)
}
