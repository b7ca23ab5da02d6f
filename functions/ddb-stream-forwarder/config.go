package main

import (
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"lakestream/shared/config"
	"lakestream/shared/pipeline"
	"lakestream/shared/retry"
)

// Config is the forwarder's settings, read once at start-up.
type Config struct {
	// DeliveryStream receives the records of every source ROUTES does not
	// name (DELIVERY_STREAM); empty when only ROUTES is used.
	DeliveryStream string
	// Routes maps a source (a table name, or a Kinesis stream name) to the
	// delivery stream its records go to (ROUTES, "Orders=orders-lake,...").
	Routes map[string]string
	// Convert says what each line holds (IMAGES, REMOVES, KINESIS_NEWLINE).
	Convert Converter
	// OverflowBucket and OverflowPrefix are where lines over Firehose's
	// record limit go (OVERFLOW_BUCKET, OVERFLOW_PREFIX); with no bucket
	// such records fail.
	OverflowBucket, OverflowPrefix string
	// Retry is the backoff for rejected Firehose records and overflow
	// writes (PUT_ATTEMPTS attempts).
	Retry retry.Policy
	// Stages are the shared pipeline's stages a DynamoDB line goes
	// through (MASK_FIELDS, DROP_IF, SCHEMA, ARRIVAL_TIME_FIELD,
	// OUTPUT_FORMAT, ...); nil when none is set, and the line is written
	// as the shape makes it.
	Stages *pipeline.Pipeline
	// Withhold says fields are masked (MASK_FIELDS): what the logs say of
	// a record (its keys, why it failed) must not quote its values.
	Withhold bool
}

// Values of IMAGES and REMOVES.
const (
	imagesNew  = "new"
	imagesOld  = "old"
	imagesBoth = "both"

	removesInclude = "include"
	removesSkip    = "skip"
	removesSkipTTL = "skip-ttl"
)

// streamName is what Firehose accepts as a delivery stream name.
var streamName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)

// bucketName is the S3 general purpose bucket naming rule, loosely.
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

const streamAccepts = "a Firehose delivery stream name (1 to 64 of a-z, A-Z, 0-9, _ . -)"

// loadConfig reads the settings; problems are recorded in env.
func loadConfig(env *config.Env) Config {
	cfg := Config{
		DeliveryStream: env.String("DELIVERY_STREAM", ""),
		Routes:         env.Map("ROUTES"),
		OverflowBucket: env.String("OVERFLOW_BUCKET", ""),
		OverflowPrefix: env.String("OVERFLOW_PREFIX", "ddb-stream-forwarder/oversize/"),
	}
	switch env.OneOf("IMAGES", imagesBoth, imagesNew, imagesOld, imagesBoth) {
	case imagesNew:
		cfg.Convert.NewImage = true
	case imagesOld:
		cfg.Convert.OldImage = true
	default:
		cfg.Convert.NewImage, cfg.Convert.OldImage = true, true
	}
	switch env.OneOf("REMOVES", removesInclude, removesInclude, removesSkip, removesSkipTTL) {
	case removesSkip:
		cfg.Convert.SkipRemoves = true
	case removesSkipTTL:
		cfg.Convert.SkipTTLRemoves = true
	}
	cfg.Convert.KinesisNewline = env.Bool("KINESIS_NEWLINE", true)
	cfg.Convert.Shape = Shape(env.OneOf("OUTPUT_SHAPE", string(ShapeEnvelope), shapes...))
	switch spec := env.String("PROJECTION", ""); {
	case cfg.Convert.Shape != ShapeProjection && spec != "":
		env.Fail("PROJECTION", spec, "unset unless OUTPUT_SHAPE is projection")
	case cfg.Convert.Shape == ShapeProjection && spec == "":
		env.Fail("PROJECTION", "", acceptsProjection+"; required when OUTPUT_SHAPE is projection")
	case spec != "":
		p, err := ParseProjection(spec)
		if err != nil {
			env.Fail("PROJECTION", spec, err.Error()+"; accepts "+acceptsProjection)
		}
		cfg.Convert.Projection = p
	}
	cfg.Stages, cfg.Withhold = loadStages(env)
	cfg.Retry = retry.Default()
	cfg.Retry.MaxAttempts = env.Int("PUT_ATTEMPTS", cfg.Retry.MaxAttempts, 1, 100)

	switch {
	case cfg.DeliveryStream == "" && len(cfg.Routes) == 0:
		env.Fail("DELIVERY_STREAM", "", streamAccepts+", or ROUTES for every source")
	case cfg.DeliveryStream != "" && !streamName.MatchString(cfg.DeliveryStream):
		env.Fail("DELIVERY_STREAM", cfg.DeliveryStream, streamAccepts)
	}
	for _, source := range slices.Sorted(maps.Keys(cfg.Routes)) {
		if stream := cfg.Routes[source]; !streamName.MatchString(stream) {
			env.Fail("ROUTES", source+"="+stream, "source=stream pairs, each stream "+streamAccepts)
		}
	}
	if cfg.OverflowBucket != "" && !bucketName.MatchString(cfg.OverflowBucket) {
		env.Fail("OVERFLOW_BUCKET", cfg.OverflowBucket, "an S3 bucket name, or empty to fail records over the Firehose limit")
	}
	if cfg.OverflowPrefix = strings.TrimPrefix(cfg.OverflowPrefix, "/"); cfg.OverflowPrefix != "" && !strings.HasSuffix(cfg.OverflowPrefix, "/") {
		cfg.OverflowPrefix += "/"
	}
	return cfg
}

// Streams are the delivery streams the settings name, sorted.
func (c Config) Streams() []string {
	set := map[string]bool{}
	if c.DeliveryStream != "" {
		set[c.DeliveryStream] = true
	}
	for _, s := range c.Routes {
		set[s] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// loadStages reads the shared pipeline's variables, as every Firehose
// function reads them, and builds the stages when any is set; whether
// fields are masked comes with them.
func loadStages(env *config.Env) (*pipeline.Pipeline, bool) {
	// PutRecordBatch carries no partition keys: refused rather than
	// silently ignored.
	if env.Has("PARTITION_KEYS") {
		env.Fail("PARTITION_KEYS", env.String("PARTITION_KEYS", ""), "unset: PutRecordBatch carries no partition keys; "+
			"partition with the delivery stream's own dynamic partitioning (inline JQ on the lines' fields), see README.md")
	}
	opts := pipeline.Load(env)
	// Options as no variable sets them: with those the stages would only
	// read and write each line again. Compared whole, so that a variable
	// the pipeline adds later is never silently left unapplied.
	if reflect.DeepEqual(opts, pipeline.Load(config.New(func(string) string { return "" }))) {
		return nil, false
	}
	p, err := pipeline.New(pipeline.ParseJSON, opts)
	if err != nil {
		return nil, false // Load has recorded every problem in env
	}
	return p, opts.MaskFields != ""
}
