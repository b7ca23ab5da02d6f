package main

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"lakestream/shared/config"
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
