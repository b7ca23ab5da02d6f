package laketable

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"lakestream/shared/accesslog"
	"lakestream/shared/alb"
	"lakestream/shared/cloudfront"
	"lakestream/shared/cloudtrail"
	"lakestream/shared/golden"
	"lakestream/shared/logformat"
	"lakestream/shared/record"
	"lakestream/shared/s3access"
	"lakestream/shared/syslog"
	"lakestream/shared/vpcflow"
	"lakestream/shared/waf"
)

const templatePath = "../../template.yaml"

// TestTemplateIsRendered: the template's generated sections are what
// Render writes from the parsers' columns today (go test -update rewrites
// them).
func TestTemplateIsRendered(t *testing.T) {
	b, err := os.ReadFile(templatePath)
	require.NoError(t, err)
	want, err := Splice(string(b))
	require.NoError(t, err)
	if golden.Update() && want != string(b) {
		require.NoError(t, os.WriteFile(templatePath, []byte(want), 0o644))
		return
	}
	assert.Equal(t, want, string(b), "template.yaml's lake sections are stale: run go test ./shared/laketable -update")
}

// parserColumns are the columns of each format as its parser declares
// them, with what the S3 log forwarder and the Firehose functions add:
// the reference the tables are checked against, written out rather than
// taken from logformat, so that a registry change shows here too.
func parserColumns() map[string]record.Columns {
	cf := cloudfront.New(cloudfront.Options{DeriveUserAgent: true}).Columns()
	return map[string]record.Columns{
		logformat.AccessLog:  accesslog.Columns(),
		logformat.ALB:        alb.Columns(),
		logformat.CloudFront: append(cf, cloudfront.KeyColumns()...),
		logformat.CloudTrail: cloudtrail.Columns(),
		logformat.S3Access:   s3access.Columns(),
		logformat.Syslog:     syslog.Columns(),
		logformat.VPCFlow:    vpcflow.AllColumns(),
		logformat.WAF:        waf.Columns(),
	}
}

// templateTable is what the test reads of an AWS::Glue::Table.
type templateTable struct {
	Type       string `yaml:"Type"`
	Properties struct {
		TableInput struct {
			Name              string               `yaml:"Name"`
			Parameters        map[string]yaml.Node `yaml:"Parameters"`
			PartitionKeys     []nameType           `yaml:"PartitionKeys"`
			StorageDescriptor struct {
				Columns  []nameType `yaml:"Columns"`
				Location yaml.Node  `yaml:"Location"`
			} `yaml:"StorageDescriptor"`
		} `yaml:"TableInput"`
	} `yaml:"Properties"`
}

type nameType struct {
	Name string `yaml:"Name"`
	Type string `yaml:"Type"`
}

// TestTemplateTables reads the template's Glue tables as CloudFormation
// will and checks each against its writers' columns: every format's
// parser (with the fields the S3 log forwarder and ARRIVAL_TIME_FIELD
// add), CloudWatch Logs events and DynamoDB changes; and that every
// partition is projected.
func TestTemplateTables(t *testing.T) {
	b, err := os.ReadFile(templatePath)
	require.NoError(t, err)
	var tmpl struct {
		Resources map[string]yaml.Node `yaml:"Resources"`
	}
	require.NoError(t, yaml.Unmarshal(b, &tmpl))
	found := map[string]templateTable{}
	for id, node := range tmpl.Resources {
		var tt templateTable
		require.NoError(t, node.Decode(&tt), id)
		if tt.Type == "AWS::Glue::Table" {
			found[tt.Properties.TableInput.Name] = tt
		}
	}

	parsers := parserColumns()
	tables := Tables()
	require.Len(t, found, len(tables), "one template table per lake table")
	formats := 0
	for _, want := range tables {
		t.Run(want.Name, func(t *testing.T) {
			got, ok := found[want.Name]
			require.True(t, ok, "template.yaml has no table %s", want.Name)
			in := got.Properties.TableInput

			var cols record.Columns
			for _, c := range in.StorageDescriptor.Columns {
				cols = append(cols, record.Column{Name: c.Name, Type: c.Type})
			}
			require.NoError(t, cols.Validate())
			wantCols := want.Columns
			if ref, ok := parsers[want.Format]; ok {
				formats++
				wantCols = append(append(record.Columns(nil), ref...), record.Column{Name: ArrivalTime, Type: record.String})
			}
			require.Len(t, cols, len(wantCols))
			for i, c := range wantCols {
				assert.Equal(t, strings.ToLower(c.Name), cols[i].Name, "column %d", i)
				assert.Equal(t, c.Type, cols[i].Type, "column %s", c.Name)
			}

			var keys []string
			for _, k := range in.PartitionKeys {
				keys = append(keys, k.Name)
				assert.Equal(t, "string", k.Type)
			}
			var wantKeys []string
			for _, p := range want.Partitions {
				wantKeys = append(wantKeys, p.Name)
			}
			assert.Equal(t, wantKeys, keys)
			assert.Equal(t, "true", in.Parameters["projection.enabled"].Value)
			for _, k := range keys {
				assert.NotEmpty(t, in.Parameters["projection."+k+".type"].Value, "partition %s is projected", k)
			}
			loc := in.Parameters["storage.location.template"]
			assert.Equal(t, "!Sub", loc.Tag)
			for _, k := range keys {
				assert.Contains(t, loc.Value, k+"=${!"+k+"}/", "the location template holds %s", k)
			}
			assert.True(t, strings.HasPrefix(loc.Value, in.StorageDescriptor.Location.Value), "the partitions are under the table's location")
		})
	}
	assert.Equal(t, len(parsers), formats, "every format with columns has a table")
}

// TestPartitionQuery: the JQ a delivery stream runs to partition a
// format's lines.
func TestPartitionQuery(t *testing.T) {
	cf, ok := Lookup(logformat.CloudFront)
	require.True(t, ok)
	assert.Equal(t, "{year: .timestamp[0:4], month: .timestamp[5:7], day: .timestamp[8:10], hour: .timestamp[11:13]}", cf.PartitionQuery())
	flows, _ := Lookup(logformat.VPCFlow)
	assert.Equal(t, `{year: (.start | strftime("%Y")), month: (.start | strftime("%m")), day: (.start | strftime("%d")), hour: (.start | strftime("%H"))}`, flows.PartitionQuery())
	waf, _ := Lookup(logformat.WAF)
	assert.Contains(t, waf.PartitionQuery(), ".time[0:4]")
	_, ok = Lookup(logformat.JSON)
	assert.False(t, ok)
	for _, tb := range Tables() {
		if tb.TimeField != "" {
			assert.Contains(t, tb.Columns.Names(), tb.TimeField, "%s partitions by one of its columns", tb.Name)
		}
	}
}

func TestSpliceNeedsMarkers(t *testing.T) {
	_, err := Splice("Resources: {}\n")
	assert.ErrorContains(t, err, "markers")
	got, err := Splice(filepath.Base("x") + "\n  " + beginMark + " (lake mappings)\n  old\n  " + endMark + " (lake mappings)\n" +
		"  " + beginMark + " (lake conditions)\n  " + endMark + " (lake conditions)\n" +
		"  " + beginMark + " (lake tables)\n  " + endMark + " (lake tables)\n")
	require.NoError(t, err)
	assert.NotContains(t, got, "  old\n")
	assert.Contains(t, got, "LakeFormats:")
	assert.Contains(t, got, "LakeTableCloudfrontLogs:")
}
