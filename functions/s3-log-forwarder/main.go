// Command s3-log-forwarder sends the lines of log files that land in S3 to
// a Firehose delivery stream: for every object an event reports created
// (S3 notification, EventBridge, or either through SQS or SNS) it streams
// the object, gzip or plain, line by line, parses each line with FORMAT's
// parser (CloudFront, ALB, S3 access, VPC flow, CloudTrail, WAF, access
// log, syslog, JSON), runs the shared pipeline's stages and puts the typed
// JSON lines into DELIVERY_STREAM with PutRecordBatch. Lines that fail are
// written with their number and reason to an error object per source
// object; one summary line is logged per object.
//
// Environment: FORMAT, DELIVERY_STREAM, ERROR_BUCKET, ERROR_PREFIX,
// MAX_LINE_BYTES, PUT_ATTEMPTS, DERIVE_USER_AGENT, VPCFLOW_FIELDS and the
// pipeline's variables; see README.md.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lakestream/shared/awsclient"
	"lakestream/shared/boot"
)

func main() {
	fn := boot.New()
	cfg, err := loadConfig(fn.Env)
	fn.Check(err)
	aws := awsclient.Config(fn)
	h := newHandler(cfg, s3.NewFromConfig(aws, awsclient.S3PathStyle, quietChecksums), awsclient.Streams(fn, aws), fn.Log, fn.Metrics)
	fn.Start(h)
}

// quietChecksums keeps the SDK from logging, for every log file, that S3
// returned no checksum to validate: CloudFront, ELB and most writers store
// none, and gzip's own CRC checks the data.
func quietChecksums(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true }
