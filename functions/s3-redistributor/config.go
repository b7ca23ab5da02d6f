package main

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"lakestream/functions/s3-redistributor/partition"
	"lakestream/shared/batch"
	"lakestream/shared/config"
	"lakestream/shared/retry"
)

// S3 multipart limits (Amazon S3 multipart upload limits): CopyObject copies
// at most 5 GiB; a multipart copy has parts of 5 MiB to 5 GiB (the last may
// be smaller) and at most 10,000 of them.
const (
	maxCopyObjectSize = 5 << 30
	minPartSize       = 5 << 20
	maxPartSize       = 5 << 30
	maxParts          = 10000
	defaultPartSize   = 512 << 20
)

// Values of TIME_FALLBACK.
const (
	fallbackFail      = "fail"
	fallbackEventTime = "event-time"
)

// Config is the redistributor's settings, read once at start-up.
type Config struct {
	// Destinations are the layouts every object is copied into
	// (DESTINATIONS), each with the Glue table its partitions belong to.
	Destinations []Destination
	// InPlace are the layouts objects already stay in
	// (REGISTER_IN_PLACE): an object where one of them would put it has
	// its partition registered in that layout's table, and is not copied
	// there.
	InPlace []Destination
	// Parser reads times from keys: Firehose names, Hive folders, and the
	// KEY_PATTERNS patterns.
	Parser *partition.Parser
	// TimeFallback says what to do with a key that holds no time
	// (TIME_FALLBACK): fail the object, or use the event's time.
	TimeFallback string
	// SourcePrefix limits the objects handled to keys under it
	// (SOURCE_PREFIX); others are ignored.
	SourcePrefix string
	// DeleteSource moves rather than copies (DELETE_SOURCE).
	DeleteSource bool
	// KMSKeyID, when set, encrypts every copy with SSE-KMS under this key
	// (KMS_KEY_ID: key id, key ARN, alias name or alias ARN).
	KMSKeyID string
	// GlueDatabase holds the GLUE_TABLES; empty turns partition
	// registration off.
	GlueDatabase string
	// MultipartThreshold is the size above which an object is copied with
	// UploadPartCopy (MULTIPART_THRESHOLD, at most CopyObject's 5 GiB; tests
	// lower it to exercise multipart copy on small objects).
	MultipartThreshold int64
	// PartSize is the size of each copied part (MULTIPART_PART_SIZE); it
	// grows when an object would need more than 10,000 parts.
	PartSize int64
	// Concurrency bounds the objects, and the parts of one object, copied
	// at once (CONCURRENCY).
	Concurrency int
	// Retry is the backoff for S3 and Glue calls (RETRY_ATTEMPTS attempts).
	Retry retry.Policy
}

// Destination is one layout objects are copied into.
type Destination struct {
	Layout *partition.Template
	// Table is the Glue table (in Config.GlueDatabase) whose partitions the
	// copies belong to; empty when none is registered.
	Table string
	// bucket is the layout's fixed bucket, "" for {source_bucket}; prefix is
	// its key up to the first placeholder. Objects created there are the
	// function's own copies and are never redistributed again.
	bucket, prefix string
}

// glueName is a Glue table name as Glue stores it (lower case) and Athena
// reads it without quoting.
var glueName = regexp.MustCompile(`^[a-z0-9_]{1,255}$`)

// noTable marks a destination without a Glue table in GLUE_TABLES.
const noTable = "-"

// loadConfig reads the redistributor's variables; problems are recorded in env.
func loadConfig(env *config.Env) *Config {
	c := &Config{
		TimeFallback:       env.OneOf("TIME_FALLBACK", fallbackFail, fallbackFail, fallbackEventTime),
		SourcePrefix:       env.String("SOURCE_PREFIX", ""),
		DeleteSource:       env.Bool("DELETE_SOURCE", false),
		KMSKeyID:           env.String("KMS_KEY_ID", ""),
		GlueDatabase:       env.String("GLUE_DATABASE", ""),
		MultipartThreshold: sizeIn(env, "MULTIPART_THRESHOLD", maxCopyObjectSize, minPartSize, maxCopyObjectSize),
		PartSize:           sizeIn(env, "MULTIPART_PART_SIZE", defaultPartSize, minPartSize, maxPartSize),
		Concurrency:        env.Int("CONCURRENCY", 8, 1, 64),
		Retry: retry.Policy{
			MaxAttempts: env.Int("RETRY_ATTEMPTS", 5, 1, 20),
			Base:        200 * time.Millisecond,
			Max:         5 * time.Second,
		},
	}

	patterns := env.List("KEY_PATTERNS")
	parser, err := partition.NewParser(patterns...)
	if err != nil {
		env.Fail("KEY_PATTERNS", strings.Join(patterns, ","), `comma-separated key patterns such as "logs/{yyyy}/{MM}/{dd}/{HH}/*" (`+oneLine(err)+")")
	}
	c.Parser = parser

	c.InPlace = loadInPlace(env)
	layouts := env.List("DESTINATIONS")
	if len(layouts) == 0 && len(c.InPlace) == 0 {
		env.Fail("DESTINATIONS", "", `comma-separated destination layouts such as "s3://lake/events/dt={yyyy}-{MM}-{dd}/hour={HH}/{filename}", or REGISTER_IN_PLACE`)
	}
	for _, text := range layouts {
		layout, err := partition.ParseTemplate(text)
		if err != nil {
			env.Fail("DESTINATIONS", text, "a destination layout s3://bucket/key-template ("+oneLine(err)+")")
			continue
		}
		d := Destination{Layout: layout}
		d.bucket, d.prefix = fixedPart(text)
		if d.bucket == "" && d.prefix == "" {
			env.Fail("DESTINATIONS", text, "a layout in {source_bucket} that starts with a fixed folder (such as s3://{source_bucket}/by-hour/...), so that its copies are told apart from new objects")
			continue
		}
		c.Destinations = append(c.Destinations, d)
	}

	tables := env.List("GLUE_TABLES")
	switch {
	case c.GlueDatabase == "":
		// Registration is off; GLUE_TABLES is not used.
	case len(tables) == 0 && len(layouts) == 0:
		// Only REGISTER_IN_PLACE tables, which name themselves.
	case len(tables) == 0:
		env.Fail("GLUE_TABLES", "", "one Glue table name per destination (or - for none) when GLUE_DATABASE is set")
	case len(tables) != len(layouts):
		env.Fail("GLUE_TABLES", strings.Join(tables, ","), fmt.Sprintf("one Glue table name (or -) per destination: %d tables for %d destinations", len(tables), len(layouts)))
	case len(c.Destinations) == len(layouts):
		for i, t := range tables {
			if t != noTable && !glueName.MatchString(t) {
				env.Fail("GLUE_TABLES", t, "a Glue table name of lower-case letters, digits and '_', or - for none")
				continue
			}
			if t == noTable {
				continue
			}
			if len(c.Destinations[i].Layout.PartitionValues(time.Time{})) == 0 {
				env.Fail("GLUE_TABLES", t, fmt.Sprintf("- for destination %s: it has no time folders, so no partitions to register", layouts[i]))
				continue
			}
			c.Destinations[i].Table = t
		}
	}
	if len(c.InPlace) > 0 && c.GlueDatabase == "" {
		env.Fail("GLUE_DATABASE", "", "the Glue database of the REGISTER_IN_PLACE tables")
	}
	if c.GlueDatabase != "" && !glueName.MatchString(c.GlueDatabase) {
		env.Fail("GLUE_DATABASE", c.GlueDatabase, "a Glue database name of lower-case letters, digits and '_'")
	}
	return c
}

// sizeIn reads a byte count within [min, max].
func sizeIn(env *config.Env, name string, def, min, max int64) int64 {
	return config.Parse(env, name, def, fmt.Sprintf("a byte count from %s to %s, such as \"512MiB\"", mib(min), mib(max)), func(s string) (int64, error) {
		n, err := config.ParseBytes(s)
		if err == nil && (n < min || n > max) {
			err = fmt.Errorf("out of range")
		}
		return n, err
	})
}

func mib(n int64) string {
	if n >= 1<<30 && n%(1<<30) == 0 {
		return fmt.Sprintf("%dGiB", n>>30)
	}
	return fmt.Sprintf("%dMiB", n>>20)
}

// fixedPart returns a layout's bucket ("" for {source_bucket}) and the text
// of its key before the first placeholder.
func fixedPart(layout string) (bucket, prefix string) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(layout, "s3://"), "/")
	if bucket == "{source_bucket}" {
		bucket = ""
	}
	prefix, _, _ = strings.Cut(key, "{")
	return bucket, prefix
}

// oneLine joins a multi-line (errors.Join) message for a config message.
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// registers reports whether any destination has a Glue table.
func (c *Config) registers() bool {
	for _, d := range c.Destinations {
		if d.Table != "" {
			return true
		}
	}
	return len(c.InPlace) > 0
}

// loadInPlace reads REGISTER_IN_PLACE: comma-separated table=layout, the
// layout written as a destination is (its last segment {filename} or
// {key}), describing where the objects already are.
func loadInPlace(env *config.Env) []Destination {
	const accepts = `comma-separated table=layout, such as "cloudfront_logs=s3://{source_bucket}/cloudfront/{yyyy}/{MM}/{dd}/{HH}/{filename}"`
	var out []Destination
	for _, item := range env.List("REGISTER_IN_PLACE") {
		table, text, ok := strings.Cut(item, "=")
		table, text = strings.TrimSpace(table), strings.TrimSpace(text)
		switch {
		case !ok || !strings.HasPrefix(text, "s3://"):
			env.Fail("REGISTER_IN_PLACE", item, accepts)
			continue
		case !glueName.MatchString(table):
			env.Fail("REGISTER_IN_PLACE", item, "a Glue table name of lower-case letters, digits and '_' before the =; "+accepts)
			continue
		}
		layout, err := partition.ParseTemplate(text)
		if err != nil {
			env.Fail("REGISTER_IN_PLACE", item, "a layout s3://bucket/key-template after the = ("+oneLine(err)+")")
			continue
		}
		if len(layout.PartitionValues(time.Time{})) == 0 {
			env.Fail("REGISTER_IN_PLACE", item, "a layout with time folders, the partitions to register")
			continue
		}
		out = append(out, Destination{Layout: layout, Table: table})
	}
	return out
}

// ownOutput returns the destination layout whose copies src is, or nil: an
// object a copy created fires an event too, and must not be copied again.
func (c *Config) ownOutput(src batch.S3Object) *Destination {
	for i := range c.Destinations {
		d := &c.Destinations[i]
		if (d.bucket == "" || d.bucket == src.Bucket) && strings.HasPrefix(src.Key, d.prefix) {
			return d
		}
	}
	return nil
}
