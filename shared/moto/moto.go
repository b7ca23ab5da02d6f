// Package moto starts moto_server, a local AWS API emulator, on a free
// loopback port for tests and the demo, and points the AWS SDK at it. A
// missing moto_server is an error that says how to install it: tests that
// need AWS fail rather than silently skip.
package moto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// ErrNotInstalled is returned when moto_server is not on PATH.
var ErrNotInstalled = errors.New(`moto_server not found on PATH: install it with pip install "moto[server]>=5"`)

// Region and fake credentials every local run uses.
const (
	Region    = "us-east-1"
	AccessKey = "testing"
	SecretKey = "testing"
)

// Server is a running moto_server.
type Server struct {
	Endpoint string // http://127.0.0.1:<port>
	cmd      *exec.Cmd
	done     chan struct{}
}

// Start launches moto_server on a free port and waits until it answers.
func Start(ctx context.Context) (*Server, error) {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+AccessKey, "AWS_SECRET_ACCESS_KEY="+SecretKey, "AWS_DEFAULT_REGION="+Region)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("moto: start: %w", err)
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }() //nolint:errcheck // exit is observed through done.
	if err := s.waitReady(ctx, 30*time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return errors.New("moto: moto_server exited during start-up")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(s.Endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
	}
	return fmt.Errorf("moto: %s did not answer within %s", s.Endpoint, limit)
}

// Stop ends the server.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill() //nolint:errcheck // it may have exited already.
	}
	<-s.done
}

// Reset empties every emulated service, so tests sharing one server start clean.
func (s *Server) Reset() error {
	resp, err := http.Post(s.Endpoint+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return fmt.Errorf("moto: reset: %w", err)
	}
	resp.Body.Close()
	return nil
}

// Env is the environment a function process needs to talk to this server.
func (s *Server) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":      s.Endpoint,
		"AWS_ACCESS_KEY_ID":     AccessKey,
		"AWS_SECRET_ACCESS_KEY": SecretKey,
		"AWS_REGION":            Region,
		"AWS_DEFAULT_REGION":    Region,
	}
}

// Config is an aws.Config for this server, for test set-up and checks.
// Its HTTP client sends each request body through Read alone (see
// readOnlyBodies): a write the server applied is never sent twice.
func (s *Server) Config(ctx context.Context) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx,
		awsconfig.WithRegion(Region),
		awsconfig.WithBaseEndpoint(s.Endpoint),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, "")),
	)
	if err != nil {
		return aws.Config{}, err
	}
	// Wrapped once loaded: loading configures the SDK's own client (an
	// AWS_CA_BUNDLE, for one), which a wrapper given to it would refuse.
	cfg.HTTPClient = readOnlyBodies{cfg.HTTPClient}
	return cfg, nil
}

// readOnlyBodies hides the WriteTo method of request bodies from net/http.
//
// The SDK closes a request's body as soon as the response headers arrive,
// and its body wrapper's WriteTo then fails with io.EOF. net/http, once it
// has sent Content-Length bytes, copies whatever follows in the body to
// io.Discard (io.Copy, so through WriteTo), and may do so only after
// moto_server has answered: moto_server answers as soon as it has the
// bytes, and closes every connection after one response. That failed
// "write" makes net/http close the connection under the response, the
// SDK sees the body read fail ("use of closed network connection") and
// retries a request moto_server has already applied: a PutItem landed
// twice and its table's stream had one record too many, under load only.
// Through Read, a closed body reads as io.EOF, the end io.Copy expects.
type readOnlyBodies struct{ client aws.HTTPClient }

// Do sends r with its body (if any) behind a Read-only wrapper.
func (c readOnlyBodies) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r = r.Clone(r.Context())
		r.Body = readCloser{r.Body}
	}
	return c.client.Do(r)
}

// readCloser is an io.ReadCloser and nothing else.
type readCloser struct{ io.ReadCloser }

// shared is the moto_server of a test process, started by the first test
// that asks for it (see Shared) and stopped by Main.
var shared lazyServer

// Main runs a test package's tests, then stops the moto_server they shared
// if one of them started it:
//
//	func TestMain(m *testing.M) { moto.Main(m) }
//
// It starts nothing itself: every `go test -fuzz` worker is a process that
// runs TestMain, and tests that do not call Shared need no server.
func Main(m *testing.M) { os.Exit(shared.run(m)) }

// Shared returns the test process's moto_server, starting it on first use,
// for tests that call Reset before relying on its state. When it cannot
// start (ErrNotInstalled says how to install it) the test fails; it never
// skips. The package's TestMain must be Main, which stops the server.
func Shared(t testing.TB) *Server {
	t.Helper()
	return shared.get(t)
}

// lazyServer is a moto_server started on first use.
type lazyServer struct {
	mu      sync.Mutex
	running bool // inside run, which stops the server afterwards
	srv     *Server
	err     error // a failed start is not retried
}

func (l *lazyServer) run(m interface{ Run() int }) int {
	l.mu.Lock()
	l.running = true
	l.mu.Unlock()
	code := m.Run()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.running = false
	if l.srv != nil {
		l.srv.Stop()
		l.srv = nil
	}
	return code
}

func (l *lazyServer) get(t testing.TB) *Server {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.running {
		t.Fatal("moto: Shared needs the test package's TestMain to call moto.Main(m), which stops the server")
	}
	if l.srv == nil && l.err == nil {
		l.srv, l.err = Start(context.Background())
	}
	if l.err != nil {
		t.Fatal(l.err)
	}
	return l.srv
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("moto: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
