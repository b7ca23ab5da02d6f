package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	lfirehose "lakestream/shared/firehose"
	"lakestream/shared/retry"
	"lakestream/shared/streamput"
)

// partitionedPrefix is the S3 prefix README.md gives a transformer's
// delivery stream with dynamic partitioning on.
const partitionedPrefix = "year=!{partitionKeyFromLambda:year}/month=!{partitionKeyFromLambda:month}/" +
	"day=!{partitionKeyFromLambda:day}/hour=!{partitionKeyFromLambda:hour}/"

// transformAndPartition plays Firehose with dynamic partitioning, which
// moto lacks (it neither calls a transformation Lambda nor partitions): it
// sends events/<fn>/<eventFile> through fn's real binary, reports what came
// out, and puts each Ok record into a Direct PUT delivery stream writing to
// bucket under root plus partitionedPrefix resolved with the record's
// partition keys, one stream per partition, as Firehose routes records.
func (d *demo) transformAndPartition(ctx context.Context, fn, eventFile, bucket, root string) error {
	ev, err := d.event(fn, eventFile)
	if err != nil {
		return err
	}
	out, err := d.invoke(ctx, fn, ev, nil)
	if err != nil {
		return err
	}
	var resp lfirehose.Response
	if err := json.Unmarshal(out, &resp); err != nil {
		return fmt.Errorf("response: %w", err)
	}
	counts := map[string]int{}
	partitions := map[string][]streamput.Entry{}
	lines := 0
	for _, r := range resp.Records {
		counts[r.Result]++
		if r.Result != lfirehose.ResultOk || len(r.Data) == 0 {
			continue
		}
		pairs := make([]string, 0, 2*len(r.PartitionKeys))
		for k, v := range r.PartitionKeys {
			pairs = append(pairs, "!{partitionKeyFromLambda:"+k+"}", v)
		}
		prefix := root + strings.NewReplacer(pairs...).Replace(partitionedPrefix)
		if strings.Contains(prefix, "!{") {
			return fmt.Errorf("record %s: partition keys %v do not fill %s", r.RecordID, r.PartitionKeys, partitionedPrefix)
		}
		partitions[prefix] = append(partitions[prefix], streamput.Entry{Data: r.Data})
		lines += strings.Count(string(r.Data), "\n")
	}
	d.say("  in:  %d records from events/%s/%s", len(resp.Records), fn, eventFile)
	d.say("  out: %d Ok (%d lines), %d Dropped (filtered or headers only), %d ProcessingFailed (reasons in the function log: DEMO_LOGS=1)",
		counts[lfirehose.ResultOk], lines, counts[lfirehose.ResultDropped], counts[lfirehose.ResultProcessingFailed])
	for _, r := range resp.Records {
		if r.Result == lfirehose.ResultOk && len(r.Data) > 0 {
			d.say("  first Ok line: %s", firstLine(r.Data, 160))
			break
		}
	}

	prefixes := make([]string, 0, len(partitions))
	for p := range partitions {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	for i, prefix := range prefixes {
		stream := fmt.Sprintf("%s-%d", fn, i)
		if err := d.createLake(ctx, bucket, stream, prefix); err != nil {
			return err
		}
		if _, err := streamput.NewFirehose(d.streams, stream, retry.Default()).Put(ctx, partitions[prefix]); err != nil {
			return err
		}
		d.say("  partition %s: %d records", prefix, len(partitions[prefix]))
	}
	if _, err := d.listObjects(ctx, bucket, root); err != nil {
		return err
	}
	d.say("  (moto adds the delivery time YYYY/MM/DD/HH/ after a custom prefix; Firehose does not)")
	return nil
}
