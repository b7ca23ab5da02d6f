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
	glueCatalogFixerStage,
	glueJobTriggerStage,
	s3RedistributorStage,
	s3LogForwarderStage,
	ddbStreamForwarderStage,
	cwlogsDecompressorStage,
}

// stage is one function's part of the demo.
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
		d.say("== %s (%s)", s.title, s.fn)
		if err := s.run(ctx, d); err != nil {
			return fmt.Errorf("%s: %w", s.fn, err)
		}
		d.say("")
	}
	d.say("demo done: %d functions ran.", len(stages))
	return nil
}
