// Command glue-catalog-fixer rewrites the column types a Glue crawler wrote
// but Athena rejects (set<T> becomes array<T>, at any depth, plus the
// TYPE_MAPPING rules) when Glue reports a table created or updated, or when
// a crawler run succeeds. It updates a table only when a type changes, so
// the change event its own UpdateTable fires ends without another call.
//
// Environment: DATABASES and/or CRAWLERS (what to act on), TYPE_MAPPING,
// SKIP_ARCHIVE, UPDATE_ATTEMPTS; see README.md.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"lakestream/shared/awsclient"
	"lakestream/shared/boot"
)

func main() {
	fn := boot.New()
	cfg := loadConfig(fn.Env)
	h := newHandler(cfg, glue.NewFromConfig(awsclient.Config(fn)), fn.Log, fn.Metrics)
	fn.Start(h)
}
