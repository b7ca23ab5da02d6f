package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	lfirehose "lakestream/shared/firehose"
	"lakestream/shared/lambdarun"
	"lakestream/shared/moto"
	"lakestream/shared/moto/lake"
	"lakestream/shared/retry"
	"lakestream/shared/streamput"
)

// demo holds what every stage uses: the emulator, the lake in it (the
// resources `make invoke` sets up too, and clients for checking results),
// and the built binaries.
type demo struct {
	root     string
	moto     *moto.Server
	lake     *lake.Lake
	s3       *s3.Client
	firehose *firehose.Client
	streams  *streamput.Client // PutRecordBatch, as the functions make it
	tmpl     *lambdarun.Template
	bins     map[string]string
}

func newDemo(ctx context.Context) (*demo, error) {
	root, err := lambdarun.RepoRoot(".")
	if err != nil {
		return nil, err
	}
	tmpl, err := lambdarun.LoadTemplate(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	// Every function's binary at once: one go command links them in
	// parallel, and the build cache keeps them while the sources stay.
	var fns []string
	for _, s := range stages {
		if s.fn != "" {
			fns = append(fns, s.fn)
		}
	}
	bins, err := lambdarun.CachedAll(ctx, root, fns...)
	if err != nil {
		return nil, err
	}
	srv, err := moto.Start(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := srv.Config(ctx)
	if err != nil {
		srv.Stop()
		return nil, err
	}
	streams, err := streamput.NewClient(cfg, func(string) string { return "" })
	if err != nil {
		srv.Stop()
		return nil, err
	}
	l := lake.New(cfg, tmpl)
	return &demo{root: root, moto: srv, tmpl: tmpl, bins: bins, lake: l, s3: l.S3, firehose: l.Firehose, streams: streams}, nil
}

func (d *demo) close() { d.moto.Stop() }

func (d *demo) say(format string, args ...any) { fmt.Printf(format+"\n", args...) }

// event reads events/<fn>/<name>.
func (d *demo) event(fn, name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(d.root, "events", fn, name))
}

// invoke runs fn's real binary on one event with the template's environment,
// the emulator's endpoint and the given overrides. Function logs are kept
// out of the summary; set DEMO_LOGS=1 to see them.
func (d *demo) invoke(ctx context.Context, fn string, event []byte, overrides map[string]string) ([]byte, error) {
	env, err := d.tmpl.Environment(lambdarun.LogicalID(fn))
	if err != nil {
		return nil, err
	}
	for k, v := range d.moto.Env() {
		env[k] = v
	}
	for k, v := range overrides {
		env[k] = v
	}
	timeout, err := d.tmpl.Timeout(lambdarun.LogicalID(fn))
	if err != nil {
		return nil, err
	}
	opts := lambdarun.Options{Binary: d.bins[fn], Env: env, Timeout: timeout}
	if os.Getenv("DEMO_LOGS") != "" {
		opts.Stdout, opts.Stderr = os.Stderr, os.Stderr
	}
	f, err := lambdarun.Start(opts)
	if err != nil {
		return nil, err
	}
	defer f.Stop()
	return f.Invoke(ctx, event)
}

// setup creates, as `make invoke` does, what fn's environment (the
// template's defaults) and event name, and says what it made.
func (d *demo) setup(ctx context.Context, fn string, event []byte) error {
	env, err := d.tmpl.Environment(lambdarun.LogicalID(fn))
	if err != nil {
		return err
	}
	created, err := d.lake.Setup(ctx, fn, env, event)
	for _, c := range created {
		d.say("  set up %s", c)
	}
	return err
}

// createLake makes a bucket and a Direct PUT delivery stream writing to it
// under prefix: the destination a deployment gives a transformer's stream.
func (d *demo) createLake(ctx context.Context, bucket, stream, prefix string) error {
	_, err := d.lake.DeliveryStream(ctx, stream, bucket, prefix)
	return err
}

// transformAndDeliver plays Firehose (moto never calls a transformation
// Lambda): it sends the event through fn, then puts the Ok records into the
// delivery stream, and reports the results.
func (d *demo) transformAndDeliver(ctx context.Context, fn, eventFile, stream string, overrides map[string]string) (*lfirehose.Response, error) {
	ev, err := d.event(fn, eventFile)
	if err != nil {
		return nil, err
	}
	var in struct {
		Records []json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal(ev, &in); err != nil {
		return nil, fmt.Errorf("%s: %w", eventFile, err)
	}
	out, err := d.invoke(ctx, fn, ev, overrides)
	if err != nil {
		return nil, err
	}
	var resp lfirehose.Response
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, fmt.Errorf("response: %w", err)
	}
	counts := map[string]int{}
	var entries []streamput.Entry
	keys := map[string]bool{}
	for _, r := range resp.Records {
		counts[r.Result]++
		if r.Result == lfirehose.ResultOk {
			entries = append(entries, streamput.Entry{Data: r.Data})
		}
		if len(r.PartitionKeys) > 0 {
			keys[formatKeys(r.PartitionKeys)] = true
		}
	}
	d.say("  in:  %d records from events/%s/%s", len(in.Records), fn, eventFile)
	d.say("  out: %d Ok, %d Dropped, %d ProcessingFailed", counts[lfirehose.ResultOk], counts[lfirehose.ResultDropped], counts[lfirehose.ResultProcessingFailed])
	for _, r := range resp.Records {
		if r.Result == lfirehose.ResultOk && len(r.Data) > 0 {
			d.say("  first Ok line: %s", firstLine(r.Data, 160))
			break
		}
	}
	for _, k := range sortedKeys(keys) {
		d.say("  partition keys: %s", k)
	}
	if len(entries) > 0 {
		w := streamput.NewFirehose(d.streams, stream, retry.Default())
		if _, err := w.Put(ctx, entries); err != nil {
			return nil, err
		}
	}
	return &resp, nil
}

// listObjects prints the objects under prefix in bucket.
func (d *demo) listObjects(ctx context.Context, bucket, prefix string) ([]string, error) {
	out, err := d.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	if err != nil {
		return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
		d.say("  landed: s3://%s/%s (%d bytes)", bucket, aws.ToString(o.Key), aws.ToInt64(o.Size))
	}
	return keys, nil
}

func formatKeys(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func firstLine(b []byte, max int) string {
	s, _, _ := strings.Cut(string(b), "\n")
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}
