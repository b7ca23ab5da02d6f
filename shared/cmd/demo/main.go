// Command demo runs the lakestream pipeline locally (`make demo`): it starts
// moto_server, creates the data-lake resources, runs every function's real
// bootstrap binary through the local Lambda Runtime API on the sample events
// in events/, and prints what went in, what came out and where it landed.
package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

// stages run in this order; each one demonstrates one function. A function
// that lands adds its stage here.
var stages = []stage{
	firehoseJSONStage,
	firehoseAccesslogStage,
	firehoseCloudfrontStage,
	firehoseSyslogStage,
	firehoseLogsStage,
	glueCatalogFixerStage,
	glueJobTriggerStage,
	s3RedistributorStage,
	s3LogForwarderStage,
	ddbStreamForwarderStage,
	cwlogsDecompressorStage,
	replayStage,
}

// stage is one function's part of the demo, or, without fn, a part that
// shows what several do.
type stage struct {
	fn    string // folder under functions/
	title string
	run   func(ctx context.Context, d *demo) error
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	d, err := newDemo(ctx)
	if err != nil {
		return err
	}
	defer d.close()
	d.say("lakestream demo: AWS is moto_server at %s; functions run as real bootstrap binaries under the local Runtime API.\n", d.moto.Endpoint)
	for _, s := range stages {
		if s.fn != "" {
			d.say("== %s (%s)", s.title, s.fn)
		} else {
			d.say("== %s", s.title)
		}
		if err := s.run(ctx, d); err != nil {
			return fmt.Errorf("%s: %w", s.fn, err)
		}
		d.say("")
	}
	fns := 0
	for _, s := range stages {
		if s.fn != "" {
			fns++
		}
	}
	d.say("demo done: %d functions ran.", fns)
	return nil
}
