package vpcflow

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/pipeline/pipelinetest"
)

// goldenCases are the golden tests: testdata/<input> parsed line by line
// against testdata/<case>.golden.json.
var goldenCases = map[string]struct {
	input, format string
}{
	"default format: accepted, rejected, no data, skipped, ICMP, IPv6": {"default.log", ""},
	"version 3 TCP flag sequence (two spaces in one record)": {"tcp-flags.log",
		"version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status"},
	"NAT gateway without version": {"nat-gateway.log", "${instance-id} ${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr}"},
	"transit gateway": {"transit-gateway.log",
		"version interface-id account-id vpc-id subnet-id instance-id srcaddr dstaddr srcport dstport protocol tcp-flags type pkt-srcaddr pkt-dstaddr action log-status"},
	"version 5 service name, traffic path and flow direction": {"traffic-path.log",
		"version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status"},
	"S3 object header line is skipped": {"s3-object.log", ""},
	// Not from AWS's examples (it has none for these versions): the
	// version 7 ECS fields and version 8 reject-reason.
	"version 7 ECS fields and version 8 reject reason": {"ecs-reject-reason.log",
		"${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} " +
			"${ecs-cluster-arn} ${ecs-cluster-name} ${ecs-container-instance-arn} ${ecs-container-instance-id} ${ecs-container-id} ${ecs-second-container-id} " +
			"${ecs-service-name} ${ecs-task-definition-arn} ${ecs-task-arn} ${ecs-task-id} ${reject-reason}"},
}

// TestParseGolden parses each testdata/<case>.log, records of AWS's
// documented examples in the format its flow log was created with, and
// compares the records with testdata/<case>.golden.json.
func TestParseGolden(t *testing.T) {
	for name, tc := range goldenCases {
		t.Run(name, func(t *testing.T) {
			f, err := NewFormat(tc.format)
			require.NoError(t, err)
			pipelinetest.Golden(t, filepath.Join("testdata", tc.input), f.Parse)
		})
	}
}

// TestGoldenCasesCovered keeps the table above and testdata/ in step.
func TestGoldenCasesCovered(t *testing.T) {
	var inputs []string
	for _, tc := range goldenCases {
		inputs = append(inputs, tc.input)
	}
	pipelinetest.CasesCovered(t, ".log", inputs)
}

func TestNewFormat(t *testing.T) {
	f, err := NewFormat("")
	require.NoError(t, err)
	assert.Equal(t, DefaultFormat, f.String())
	assert.Equal(t, []string{"version", "account_id", "interface_id", "srcaddr", "dstaddr", "srcport", "dstport",
		"protocol", "packets", "bytes", "start", "end", "action", "log_status"}, f.Columns())

	f, err = NewFormat(" version,srcaddr  ${tcp-flags}\t${reject-reason} ")
	require.NoError(t, err)
	assert.Equal(t, "${version} ${srcaddr} ${tcp-flags} ${reject-reason}", f.String())

	for spec, want := range map[string]string{
		"version srcaddr bogus":   `vpcflow: unknown field "bogus" (want one of version, account-id,`,
		"${version} ${srcaddr":    `vpcflow: unknown field "${srcaddr"`,
		"srcaddr dstaddr srcaddr": `vpcflow: field "srcaddr" given twice`,
		"account_id":              `vpcflow: unknown field "account_id"`,
	} {
		_, err := NewFormat(spec)
		require.Error(t, err, spec)
		assert.Contains(t, err.Error(), want, spec)
	}
}

// TestEveryKnownField: the table holds every field of versions 2 to 8
// once, typed as AWS's Parquet output types it.
func TestEveryKnownField(t *testing.T) {
	ints := map[string]bool{"version": true, "srcport": true, "dstport": true, "protocol": true, "packets": true,
		"bytes": true, "start": true, "end": true, "tcp-flags": true, "traffic-path": true}
	perVersion := map[int]int{}
	for _, f := range known {
		assert.Equal(t, ints[f.name], f.kind == kindInt, f.name)
		perVersion[f.version]++
	}
	assert.Equal(t, map[int]int{2: 14, 3: 7, 4: 4, 5: 4, 7: 10, 8: 1}, perVersion)
	f, err := NewFormat(knownNames())
	require.NoError(t, err)
	assert.Len(t, f.Columns(), len(known))
}

func TestParseMalformed(t *testing.T) {
	const ok = "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1620000000 1620000060 ACCEPT OK"
	count := func(n int) string {
		return fmt.Sprintf("%d values, want 14 (%s): is the flow log's format the one configured?", n, Default.header)
	}
	pipelinetest.Malformed(t, Parse, ErrMalformed, pipelinetest.LineCases{
		"empty":         {"", count(0)},
		"one short":     {strings.TrimSuffix(ok, " OK"), count(13)},
		"one more":      {ok + " extra", count(15)},
		"two more":      {ok + " a  b ", count(16)},
		"text for port": {strings.Replace(ok, " 443 ", " https ", 1), `srcport "https" is not an integer`},
		"huge bytes":    {strings.Replace(ok, " 840 ", " 99999999999999999999 ", 1), `bytes "99999999999999999999" is not an integer`},
		"long value cut": {strings.Replace(ok, " 443 ", " "+strings.Repeat("9x", 50)+" ", 1),
			`srcport "` + strings.Repeat("9x", 20) + `"… is not an integer`},
	})
}

// TestParseDoesNotKeepInput: the record owns its strings, since the
// caller may reuse the line's buffer.
func TestParseDoesNotKeepInput(t *testing.T) {
	line := []byte("2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1620000000 1620000060 ACCEPT OK")
	r, err := Parse(line)
	require.NoError(t, err)
	for i := range line {
		line[i] = 'X'
	}
	v, _ := r.Get("srcaddr")
	assert.Equal(t, "10.0.0.1", v)
}

// FuzzParse: any line either fails with ErrMalformed or gives one field
// per format field, each the value of the matching space-separated token:
// null for "-", the token itself for strings, its integer for integers.
func FuzzParse(f *testing.F) {
	f.Add([]byte("2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1620000000 1620000060 ACCEPT OK"), uint8(0))
	f.Add([]byte("2 1 eni-1 - - - - - - - 1431280876 1431280934 - NODATA"), uint8(0))
	f.Add([]byte("- eni-1 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5"), uint8(1))
	f.Add([]byte("5 1 2 -1 +7 \t x"), uint8(2))
	formats := []*Format{
		Default,
		mustFormat("instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr"),
		mustFormat("version tcp-flags srcport type traffic-path flow-direction"),
	}
	f.Fuzz(func(t *testing.T, line []byte, which uint8) {
		format := formats[int(which)%len(formats)]
		r, err := format.Parse(line)
		if err != nil {
			assert.ErrorIs(t, err, ErrMalformed)
			return
		}
		if r == nil {
			assert.Equal(t, format.header, strings.TrimRight(string(line), " \t\r\n"), "only the header is skipped")
			return
		}
		// Parse separates values by spaces only: a tab belongs to a value.
		var tokens []string
		for tok := range strings.SplitSeq(strings.TrimRight(string(line), " \t\r\n"), " ") {
			if tok != "" {
				tokens = append(tokens, tok)
			}
		}
		require.Len(t, r.Fields, len(format.fields))
		require.Len(t, tokens, len(format.fields))
		for i, fld := range r.Fields {
			def := format.fields[i]
			assert.Equal(t, def.column, fld.Name)
			switch {
			case tokens[i] == "-":
				assert.Nil(t, fld.Value)
			case def.kind == kindString:
				assert.Equal(t, tokens[i], fld.Value)
			default:
				n, err := strconv.ParseInt(tokens[i], 10, 64)
				require.NoError(t, err)
				assert.Equal(t, n, fld.Value)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	line := []byte("2 123456789012 eni-0a1b2c3d 10.0.7.49 172.31.21.77 1031 443 6 8 4040 1620000000 1620000060 ACCEPT OK")
	pipelinetest.BenchmarkParser(b, [][]byte{line}, Parse)
}
