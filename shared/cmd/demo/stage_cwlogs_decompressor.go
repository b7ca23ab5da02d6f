package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	lfirehose "lakestream/shared/firehose"
	"lakestream/shared/moto/lake"
)

// The decompressor is the Lambda processor of the template's
// CwlogsDecompressorDeliveryStream; moto never calls processors, so the
// stage plays Firehose. Everything lands in s3://lakestream-cwlogs/.
var cwlogsDecompressorStage = stage{
	fn:    "cwlogs-decompressor",
	title: "CloudWatch Logs subscription payloads decompressed into JSON lines",
	run: func(ctx context.Context, d *demo) error {
		const fn = "cwlogs-decompressor"
		stream, err := d.tmpl.Ref("CwlogsDecompressorDeliveryStream")
		if err != nil {
			return err
		}
		if err := d.setup(ctx, fn, nil); err != nil {
			return err
		}

		d.say("  -- a Direct PUT batch: data, control and broken payloads")
		if _, err := d.transformAndDeliver(ctx, fn, "mixed.json", stream, nil); err != nil {
			return err
		}
		d.say("  -- a batch from a Kinesis stream source")
		if _, err := d.transformAndDeliver(ctx, fn, "kinesis-source.json", stream, nil); err != nil {
			return err
		}
		if err := cwlogsOverBudget(ctx, d, fn, stream); err != nil {
			return err
		}

		d.say("  -- a log group subscribed to the function itself (events/%s/awslogs.json)", fn)
		ev, err := d.event(fn, "awslogs.json")
		if err != nil {
			return err
		}
		out, err := d.invoke(ctx, fn, ev, nil)
		if err != nil {
			return err
		}
		d.say("  answer: %s", out)
		_, err = d.listObjects(ctx, lake.CwlogsBucket, "")
		return err
	},
}

// cwlogsOverBudget sends the data-message sample's record 4,000 times in
// one invocation: about 5 MB of JSON lines, more than one 6 MB response
// holds once base64-encoded, so the function returns what fits and puts
// the rest back into the delivery stream, which lands it in S3.
func cwlogsOverBudget(ctx context.Context, d *demo, fn, stream string) error {
	const copies = 4000
	raw, err := d.event(fn, "data-message.json")
	if err != nil {
		return err
	}
	var ev events.KinesisFirehoseEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return err
	}
	one := ev.Records[0]
	ev.Records = nil
	for i := range copies {
		r := one
		r.RecordID = fmt.Sprintf("%s-%04d", one.RecordID[:20], i)
		ev.Records = append(ev.Records, r)
	}
	big, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	d.say("  -- events/%s/data-message.json's record %d times (%.1f MB request)", fn, copies, float64(len(big))/1e6)
	out, err := d.invoke(ctx, fn, big, nil)
	if err != nil {
		return err
	}
	var resp lfirehose.Response
	if err := json.Unmarshal(out, &resp); err != nil {
		return fmt.Errorf("response: %w", err)
	}
	counts := map[string]int{}
	for _, r := range resp.Records {
		counts[r.Result]++
	}
	d.say("  out: %d Ok in a %.2f MB response; the other %d returned Dropped and put back as they came into %s (PutRecordBatch), for Firehose to transform again",
		counts[lfirehose.ResultOk], float64(len(out))/1e6, counts[lfirehose.ResultDropped], stream)
	return nil
}
