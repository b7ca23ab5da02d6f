package lake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// State is what an invocation can change in the lake: S3 objects, Glue
// tables (their column types), partitions and job runs, and where each
// delivery stream writes.
type State struct {
	objects    map[string]objectState       // by s3://bucket/key
	tables     map[string]map[string]string // column types by column, by db.table
	partitions map[string]bool              // db.table values/joined/by/slash
	runs       map[string]jobRun            // by run id
	streams    map[string]string            // destination s3://bucket/prefix by stream
}

type objectState struct {
	size int64
	etag string
}

type jobRun struct {
	job  string
	args map[string]string
}

// Snapshot reads the lake's current state.
func (l *Lake) Snapshot(ctx context.Context) (*State, error) {
	st := &State{objects: map[string]objectState{}, tables: map[string]map[string]string{},
		partitions: map[string]bool{}, runs: map[string]jobRun{}, streams: map[string]string{}}
	if err := l.snapshotS3(ctx, st); err != nil {
		return nil, err
	}
	if err := l.snapshotStreams(ctx, st); err != nil {
		return nil, err
	}
	if err := l.snapshotGlue(ctx, st); err != nil {
		return nil, err
	}
	return st, nil
}

func (l *Lake) snapshotS3(ctx context.Context, st *State) error {
	buckets, err := l.S3.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		return fmt.Errorf("lake: list buckets: %w", err)
	}
	for _, b := range buckets.Buckets {
		p := s3.NewListObjectsV2Paginator(l.S3, &s3.ListObjectsV2Input{Bucket: b.Name})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("lake: list s3://%s: %w", aws.ToString(b.Name), err)
			}
			for _, o := range page.Contents {
				st.objects["s3://"+aws.ToString(b.Name)+"/"+aws.ToString(o.Key)] = objectState{aws.ToInt64(o.Size), aws.ToString(o.ETag)}
			}
		}
	}
	return nil
}

func (l *Lake) snapshotStreams(ctx context.Context, st *State) error {
	names, err := l.Firehose.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{})
	if err != nil {
		return fmt.Errorf("lake: list delivery streams: %w", err)
	}
	for _, name := range names.DeliveryStreamNames {
		d, err := l.Firehose.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("lake: describe delivery stream %s: %w", name, err)
		}
		for _, dest := range d.DeliveryStreamDescription.Destinations {
			if s := dest.ExtendedS3DestinationDescription; s != nil {
				st.streams[name] = "s3://" + strings.TrimPrefix(aws.ToString(s.BucketARN), "arn:aws:s3:::") + "/" + aws.ToString(s.Prefix)
			}
		}
	}
	return nil
}

func (l *Lake) snapshotGlue(ctx context.Context, st *State) error {
	dbs, err := l.Glue.GetDatabases(ctx, &glue.GetDatabasesInput{})
	if err != nil {
		return fmt.Errorf("lake: Glue databases: %w", err)
	}
	for _, db := range dbs.DatabaseList {
		tables, err := l.Glue.GetTables(ctx, &glue.GetTablesInput{DatabaseName: db.Name})
		if err != nil {
			return fmt.Errorf("lake: Glue tables of %s: %w", aws.ToString(db.Name), err)
		}
		for _, t := range tables.TableList {
			name := aws.ToString(db.Name) + "." + aws.ToString(t.Name)
			cols := map[string]string{}
			if t.StorageDescriptor != nil {
				for _, c := range t.StorageDescriptor.Columns {
					cols[aws.ToString(c.Name)] = aws.ToString(c.Type)
				}
			}
			st.tables[name] = cols
			parts, err := l.Glue.GetPartitions(ctx, &glue.GetPartitionsInput{DatabaseName: db.Name, TableName: t.Name})
			if err != nil {
				return fmt.Errorf("lake: Glue partitions of %s: %w", name, err)
			}
			for _, p := range parts.Partitions {
				st.partitions[partitionName(name, p)] = true
			}
		}
	}
	jobs, err := l.Glue.GetJobs(ctx, &glue.GetJobsInput{})
	if err != nil {
		return fmt.Errorf("lake: Glue jobs: %w", err)
	}
	for _, j := range jobs.Jobs {
		runs, err := l.Glue.GetJobRuns(ctx, &glue.GetJobRunsInput{JobName: j.Name})
		if err != nil {
			return fmt.Errorf("lake: runs of Glue job %s: %w", aws.ToString(j.Name), err)
		}
		for _, r := range runs.JobRuns {
			st.runs[aws.ToString(r.Id)] = jobRun{job: aws.ToString(j.Name), args: r.Arguments}
		}
	}
	return nil
}

func partitionName(table string, p gluetypes.Partition) string {
	return table + " " + strings.Join(p.Values, "/")
}

// Change is one thing an invocation changed in the lake.
type Change struct {
	// Summary says what changed without the names the emulator makes up
	// (delivered objects' keys, job run ids): stable from run to run.
	Summary string
	// Detail adds those names, for people.
	Detail string
}

// Diff lists what changed from before to after, delivered objects read
// from the lake to count their lines. The order is stable: objects by
// key, then partitions, tables and job runs.
func (l *Lake) Diff(ctx context.Context, before, after *State) ([]Change, error) {
	var out []Change
	for _, key := range slices.Sorted(maps.Keys(after.objects)) {
		o, was := after.objects[key], before.objects[key]
		if o == was {
			continue
		}
		verb := "wrote"
		if was != (objectState{}) {
			verb = "rewrote"
		}
		if stream := streamOf(after.streams, key); stream != "" {
			lines, err := l.countLines(ctx, key)
			if err != nil {
				return nil, err
			}
			what := fmt.Sprintf("delivered %d line%s through Firehose stream %s", lines, plural(lines), stream)
			out = append(out, Change{Summary: what, Detail: fmt.Sprintf("%s: %s (%d bytes)", what, key, o.size)})
			continue
		}
		c := fmt.Sprintf("%s %s (%d bytes)", verb, key, o.size)
		out = append(out, Change{Summary: c, Detail: c})
	}
	for _, key := range slices.Sorted(maps.Keys(before.objects)) {
		if _, ok := after.objects[key]; !ok {
			c := "deleted " + key
			out = append(out, Change{Summary: c, Detail: c})
		}
	}
	for _, p := range slices.Sorted(maps.Keys(after.partitions)) {
		if !before.partitions[p] {
			c := "created Glue partition " + p
			out = append(out, Change{Summary: c, Detail: c})
		}
	}
	for _, t := range slices.Sorted(maps.Keys(after.tables)) {
		was, ok := before.tables[t]
		if !ok {
			c := "created Glue table " + t
			out = append(out, Change{Summary: c, Detail: c})
			continue
		}
		var cols []string
		for _, col := range slices.Sorted(maps.Keys(after.tables[t])) {
			if now := after.tables[t][col]; was[col] != now {
				cols = append(cols, fmt.Sprintf("%s %s -> %s", col, was[col], now))
			}
		}
		if len(cols) > 0 {
			c := fmt.Sprintf("updated Glue table %s: %s", t, strings.Join(cols, "; "))
			out = append(out, Change{Summary: c, Detail: c})
		}
	}
	var runs []Change
	for id, r := range after.runs {
		if _, ok := before.runs[id]; ok {
			continue
		}
		summary := fmt.Sprintf("started Glue job run of %s with %s", r.job, formatArgs(r.args))
		runs = append(runs, Change{Summary: summary, Detail: summary + " (" + id + ")"})
	}
	slices.SortFunc(runs, func(a, b Change) int { return strings.Compare(a.Detail, b.Detail) })
	return append(out, runs...), nil
}

// streamOf names the delivery stream whose destination holds key.
func streamOf(streams map[string]string, key string) string {
	best := ""
	for _, name := range slices.Sorted(maps.Keys(streams)) {
		if dest := streams[name]; strings.HasPrefix(key, dest) && (best == "" || len(dest) > len(streams[best])) {
			best = name
		}
	}
	return best
}

func (l *Lake) countLines(ctx context.Context, key string) (int, error) {
	bucket, k, _ := strings.Cut(strings.TrimPrefix(key, "s3://"), "/")
	obj, err := l.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
	if err != nil {
		return 0, fmt.Errorf("lake: get %s: %w", key, err)
	}
	defer obj.Body.Close()
	body, err := io.ReadAll(obj.Body)
	if err != nil {
		return 0, fmt.Errorf("lake: read %s: %w", key, err)
	}
	n := bytes.Count(body, []byte("\n"))
	if len(body) > 0 && body[len(body)-1] != '\n' {
		n++
	}
	return n, nil
}

func formatArgs(args map[string]string) string {
	if len(args) == 0 {
		return "no arguments"
	}
	parts := make([]string, 0, len(args))
	for _, k := range slices.Sorted(maps.Keys(args)) {
		parts = append(parts, k+" "+args[k])
	}
	return strings.Join(parts, " ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
