package syslog

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/civil"
	"lakestream/shared/pipeline"
	"lakestream/shared/pipeline/pipelinetest"
	"lakestream/shared/record"
)

// reference is the "now" the golden files are parsed against.
var reference = time.Date(2024, time.March, 5, 12, 0, 0, 0, time.UTC)

// parseAtReference is ParseAt with the golden files' "now".
func parseAtReference(line []byte) (*record.Record, error) { return ParseAt(line, reference) }

// goldenCases are the golden tests: testdata/<input> parsed line by line
// against testdata/<case>.golden.json.
var goldenCases = map[string]string{
	"RFC 5424":                          "rfc5424.log",
	"RFC 3164":                          "rfc3164.log",
	"year-less timestamps":              "years.log",
	"RFC 5424 without structured data":  "no-sd.log",
	"escapes in structured data values": "escapes.log",
	"invalid UTF-8 is kept":             "non-utf8.log",
}

// TestParseGolden parses each testdata/<case>.log line by line and compares
// the records with testdata/<case>.golden.json, a JSON array with one
// record per line; the table and testdata/ list the same cases.
func TestParseGolden(t *testing.T) {
	pipelinetest.GoldenCases(t, ".log", goldenCases, parseAtReference)
}

// TestYearlessTimestamp checks the year picked for BSD timestamps around
// the turn of the year, leap days and the day of slack.
func TestYearlessTimestamp(t *testing.T) {
	tests := map[string]struct {
		now   time.Time
		stamp string
		want  string
	}{
		"same day":                   {time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC), "Jun 15 11:00:00", "2024-06-15T11:00:00Z"},
		"december read in january":   {time.Date(2025, 1, 1, 0, 0, 5, 0, time.UTC), "Dec 31 23:59:59", "2024-12-31T23:59:59Z"},
		"january read in december":   {time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC), "Jan  1 00:00:05", "2025-01-01T00:00:05Z"},
		"a day ahead is this year":   {time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC), "Jun 16 12:00:00", "2024-06-16T12:00:00Z"},
		"beyond a day is last year":  {time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC), "Jun 16 12:00:01", "2023-06-16T12:00:01Z"},
		"leap day of this year":      {time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), "Feb 29 12:00:00", "2024-02-29T12:00:00Z"},
		"leap day of a past year":    {time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), "Feb 29 12:00:00", "2024-02-29T12:00:00Z"},
		"leap day eight years back":  {time.Date(2103, 3, 1, 0, 0, 0, 0, time.UTC), "Feb 29 12:00:00", "2096-02-29T12:00:00Z"},
		"read in now's zone":         {time.Date(2024, 6, 15, 12, 0, 0, 0, time.FixedZone("UTC+2", 2*3600)), "Jun 15 11:00:00", "2024-06-15T09:00:00Z"},
		"zone ahead of the receiver": {time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC), "Jun 16 02:00:00", "2024-06-16T02:00:00Z"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := ParseAt([]byte("<13>"+tc.stamp+" host app: m"), tc.now)
			require.NoError(t, err)
			got, _ := r.Get("timestamp")
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseMalformed(t *testing.T) {
	const head = "<13>1 2024-03-05T06:07:08Z host app - - "
	pipelinetest.Malformed(t, parseAtReference, ErrMalformed, pipelinetest.LineCases{
		"empty line":            {"", `no timestamp (Mmm dd hh:mm:ss or RFC 3339) at ""`},
		"plain text":            {"hello world", `no timestamp (Mmm dd hh:mm:ss or RFC 3339) at "hello world"`},
		"priority only":         {"<13>", `no timestamp (Mmm dd hh:mm:ss or RFC 3339) at ""`},
		"unclosed priority":     {"<13 Oct 11 22:14:15 host app: m", `priority "<13" is not <0> to <191>`},
		"empty priority":        {"<>Oct 11 22:14:15 host app: m", `priority "<>Oct" is not <0> to <191>`},
		"priority too big":      {"<192>Oct 11 22:14:15 host app: m", `priority "<192>Oct" is not <0> to <191>`},
		"priority not a number": {"<1a>Oct 11 22:14:15 host app: m", `priority "<1a>Oct" is not <0> to <191>`},
		"priority four digits":  {"<0013>Oct 11 22:14:15 host app: m", `priority "<0013>Oct" is not <0> to <191>`},
		"bsd bad clock":         {"<13>Oct 11 22-14-15 host app: m", `timestamp "Oct 11 22-14-15" is not Mmm dd hh:mm:ss`},
		"bsd no day":            {"<13>Oct xx 22:14:15 host app: m", `timestamp "Oct xx 22:14:15" is not Mmm dd hh:mm:ss`},
		"bsd letters in time":   {"<13>Oct 11 2a:14:15 host app: m", `timestamp "Oct 11 2a:14:15" is not Mmm dd hh:mm:ss`},
		"bsd hour 25":           {"<13>Oct 11 25:14:15 host app: m", `timestamp "Oct 11 25:14:15" has no such time of day`},
		"bsd day 32":            {"<13>Oct 32 22:14:15 host app: m", `timestamp "Oct 32 22:14:15" has no such date`},
		"bsd day 0":             {"<13>Oct 00 22:14:15 host app: m", `timestamp "Oct 00 22:14:15" has no such date`},
		"bsd april 31":          {"<13>Apr 31 22:14:15 host app: m", `timestamp "Apr 31 22:14:15" has no such date`},
		"bsd fraction":          {"<13>Oct 11 22:14:15.123 host app: m", `no space after the timestamp`},
		"bsd with year":         {"<13>Oct 11 2003 22:14:15 host app: m", `timestamp "Oct 11 2003 22:" is not Mmm dd hh:mm:ss`},
		"iso 3164 bad":          {"<13>2024-03-05 06:07:08 host app: m", `timestamp "2024-03-05" is not RFC 3339`},
		"5424 no timestamp":     {"<13>1 ", `message ends before the timestamp`},
		"5424 ends early":       {"<13>1 2024-03-05T06:07:08Z host app", `message ends after the app-name`},
		"5424 double space":     {"<13>1 2024-03-05T06:07:08Z  host app - - -", `empty hostname`},
		"5424 no sd":            {"<13>1 2024-03-05T06:07:08Z host app - - ", `message ends before the structured data`},
		"5424 lower-case t":     {"<13>1 2024-03-05t06:07:08Z host app - - -", `timestamp "2024-03-05t06:07:08Z" is not RFC 3339`},
		"5424 no zone":          {"<13>1 2024-03-05T06:07:08 host app - - -", `timestamp "2024-03-05T06:07:08" is not RFC 3339`},
		"5424 bad zone":         {"<13>1 2024-03-05T06:07:08+0530 host app - - -", `timestamp "2024-03-05T06:07:08+0530" is not RFC 3339`},
		"5424 empty fraction":   {"<13>1 2024-03-05T06:07:08.Z host app - - -", `timestamp "2024-03-05T06:07:08.Z" is not RFC 3339`},
		"5424 month 13":         {"<13>1 2024-13-05T06:07:08Z host app - - -", `timestamp "2024-13-05T06:07:08Z" has no such date or time`},
		"5424 february 30":      {"<13>1 2024-02-30T06:07:08Z host app - - -", `timestamp "2024-02-30T06:07:08Z" has no such date or time`},
		"5424 out of range":     {"<13>1 0000-01-01T00:00:00+01:00 host app - - -", `timestamp "0000-01-01T00:00:00+01:00" is out of range in UTC`},
		"sd not bracketed":      {head + "sd message", `structured data "sd" is neither - nor [...]`},
		"sd glued to message":   {head + "-message", `no space after the structured data`},
		"sd after element":      {head + "[a@1 x=\"1\"]message", `no space after the structured data`},
		"sd no id":              {head + "[ x=\"1\"] m", `structured data element without an SD-ID`},
		"sd not closed":         {head + "[a@1 x=\"1\" m", `structured data element "a@1" has a parameter that is not name="value"`},
		"sd ends in element":    {head + "[a@1", `structured data element "a@1" is not closed with ]`},
		"sd junk after params":  {head + "[a@1 x=\"1\"junk] m", `structured data element "a@1" is not closed with ]`},
		"sd param no value":     {head + "[a@1 x] m", `structured data element "a@1" has a parameter that is not name="value"`},
		"sd unquoted value":     {head + "[a@1 x=1] m", `value of "a@1.x" is not in double quotes`},
		"sd open value":         {head + "[a@1 x=\"1] m", `value of "a@1.x" has no closing quote`},
		"sd escaped end":        {head + "[a@1 x=\"1\\\"] m", `value of "a@1.x" has no closing quote`},
	})
}

func TestParseDoesNotKeepInput(t *testing.T) {
	line := []byte(`<13>1 2024-03-05T06:07:08Z host app - - [a@1 x="y\"z"] message`)
	r, err := Parse(line)
	require.NoError(t, err)
	for i := range line {
		line[i] = 'X'
	}
	b, err := pipeline.AppendJSON(nil, r)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"structured_data":{"a@1":{"x":"y\"z"}},"message":"message"`)
}

var fieldNames = []string{
	"priority", "facility", "facility_name", "severity", "severity_name", "version", "timestamp",
	"hostname", "app_name", "procid", "msgid", "structured_data", "message",
}

// TestFields: Fields names what Parse writes, for either RFC.
func TestFields(t *testing.T) {
	for _, line := range []string{"<34>Oct 11 22:14:15 mymachine su: 'su root' failed", "<165>1 2003-10-11T22:14:15.003Z host app - ID47 - m"} {
		r, err := ParseAt([]byte(line), reference)
		require.NoError(t, err)
		var names []string
		for _, f := range r.Fields {
			names = append(names, f.Name)
		}
		assert.Equal(t, names, Fields(), line)
	}
	assert.Equal(t, fieldNames, Fields())
}

func FuzzParse(f *testing.F) {
	pipelinetest.FuzzParser(f, pipelinetest.Fuzz{
		Parse: parseAtReference, Malformed: ErrMalformed, Check: checkRecord,
		Into: func(r *record.Builder, line []byte) (bool, error) {
			err := ParseInto(r, line, reference)
			return err == nil, err
		},
		Seeds: []string{`<0>1 0000-01-01T00:00:00.123456789-23:59 - - - - [a b="\\\]\"" b="]"][a c=""]`},
	})
}

// checkRecord checks what holds for every record Parse returns.
func checkRecord(t *testing.T, r *record.Record) {
	names := make([]string, 0, r.Len())
	for _, f := range r.Fields {
		names = append(names, f.Name)
	}
	require.Equal(t, fieldNames, names)
	text, err := pipeline.AppendJSON(nil, r)
	require.NoError(t, err)
	require.True(t, json.Valid(text))

	// The priority, facility and severity agree.
	pri, _ := r.Get("priority")
	facility, _ := r.Get("facility")
	severity, _ := r.Get("severity")
	facilityName, _ := r.Get("facility_name")
	severityName, _ := r.Get("severity_name")
	if pri == nil {
		require.Equal(t, []any{nil, nil, nil, nil}, []any{facility, severity, facilityName, severityName})
	} else {
		p := pri.(int64)
		require.True(t, p >= 0 && p <= 191, "priority %d", p)
		require.Equal(t, p/8, facility)
		require.Equal(t, p%8, severity)
		require.Equal(t, facilityNames[p/8], facilityName)
		require.Equal(t, severityNames[p%8], severityName)
	}
	// A timestamp is a real RFC 3339 instant in UTC.
	if ts, _ := r.Get("timestamp"); ts != nil {
		tm, err := time.Parse(time.RFC3339Nano, ts.(string))
		require.NoError(t, err, "timestamp %q", ts)
		require.Equal(t, time.UTC, tm.Location())
		require.True(t, strings.HasSuffix(ts.(string), "Z"))
	}
	// RFC 3164 messages have no version, msgid or structured data.
	if v, _ := r.Get("version"); v == nil {
		msgID, _ := r.Get("msgid")
		sd, _ := r.Get("structured_data")
		require.Nil(t, msgID)
		require.Nil(t, sd)
	}
	if sd, _ := r.Get("structured_data"); sd != nil {
		for _, elem := range sd.(*record.Record).Fields {
			for _, param := range elem.Value.(*record.Record).Fields {
				switch v := param.Value.(type) {
				case string:
				case json.RawMessage:
					var values []string
					require.NoError(t, json.Unmarshal(v, &values))
					require.GreaterOrEqual(t, len(values), 2)
				default:
					t.Fatalf("parameter %s.%s has type %T", elem.Name, param.Name, v)
				}
			}
		}
	}
}

// benchLines builds a realistic syslog stream: mostly BSD messages from
// daemons, some RFC 5424 messages with structured data.
func benchLines() [][]byte {
	apps := []string{"sshd[%d]: Accepted publickey for alice from 198.51.100.%d port 52%03d ssh2", "CRON[%d]: (root) CMD (run-parts /etc/cron.hourly) %d %d",
		"kernel: [%d.%06d] eth0: link up %d", "systemd[1]: Started Session %d of user bob %d %d"}
	var out [][]byte
	for i := range 1000 {
		var line string
		if i%4 == 0 {
			line = fmt.Sprintf(`<165>1 2024-03-05T06:%02d:%02d.%03dZ web-%02d.example.com evntslog %d ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="%d"] An application event log entry number %d`,
				i%60, (i*7)%60, i%1000, i%16, 1000+i, i, i)
		} else {
			line = fmt.Sprintf("<%d>Mar %2d 06:%02d:%02d web-%02d ", 8+i%184, 1+i%28, i%60, (i*13)%60, i%16) +
				fmt.Sprintf(apps[i%len(apps)], 1000+i, i%256, i%1000)
		}
		out = append(out, []byte(line))
	}
	return out
}

func BenchmarkParse(b *testing.B) { pipelinetest.BenchmarkParser(b, benchLines(), parseAtReference) }

// BenchmarkParseInto parses the lines into one record rewound in between,
// as the pipeline does: the parser's own cost, without a record's
// allocation per line.
func BenchmarkParseInto(b *testing.B) {
	pipelinetest.BenchmarkParseInto(b, benchLines(), numFields+2, func(r *record.Builder, l []byte) error {
		return ParseInto(r, l, reference)
	})
}

// FuzzStampAsWritten: an RFC 3339 timestamp in UTC ("Z") that parses is
// the text writeTime writes for it, so writeStamp may keep it as it is.
func FuzzStampAsWritten(f *testing.F) {
	for _, s := range []string{"2003-10-11T22:14:15.003Z", "2024-03-05T06:07:08Z", "0000-01-01T00:00:00.123456789Z", "2024-02-29T23:59:59.000000000Z", "2003-08-24T05:14:15.000003-07:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stamp string) {
		sec, frac, err := parseRFC3339(stamp)
		if err != nil || !strings.HasSuffix(stamp, "Z") {
			return
		}
		require.Equal(t, stamp, string(civil.AppendRFC3339(nil, sec, frac)))
	})
}

// FuzzTimeHint: the time ParseInto hands over with its timestamp
// (record.Builder.HintTime) is what the pipeline would otherwise read from
// the field's text, for any message it parses.
func FuzzTimeHint(f *testing.F) {
	pipelinetest.AddCorpus(f,
		`<0>1 0000-01-01T00:00:00.123456789-23:59 - - - - [a b="\\\]\"" b="]"][a c=""]`,
		`<13>1 2024-03-05T06:07:08.1Z host app - - - hi`,
		`<13>1 9999-12-31T23:59:59.999999999Z host app - - - hi`,
		`<13>Mar  5 11:59:59.123456 host app: hi`,
		`<13>Dec 31 23:59:59 host app: hi`,
	)
	r := record.NewBuilder(0)
	f.Fuzz(func(t *testing.T, line []byte) {
		if ParseInto(r, line, reference) == nil {
			pipelinetest.TimeHinted(t, r, "timestamp") // none in some messages
		}
	})
}

// TestSDNameChars holds the SD-NAME table to RFC 5424's rule, byte by
// byte: printable US-ASCII but '=', ' ', ']' and '"'.
func TestSDNameChars(t *testing.T) {
	for c := range 256 {
		want := c > ' ' && c < 0x7f && c != '=' && c != ']' && c != '"'
		assert.Equal(t, want, sdNameChars[c], "byte %#x", c)
	}
}

// TestTwo holds two to atoi for every pair of bytes.
func TestTwo(t *testing.T) {
	for hi := range 256 {
		for lo := range 256 {
			s := string([]byte{byte(hi), byte(lo)})
			want, wantOK := atoi(s)
			got, ok := two(s, 0)
			require.Equal(t, wantOK, ok, "%q", s)
			if ok {
				require.Equal(t, want, got, "%q", s)
			}
		}
	}
}

// referencePriority is how priority read "<PRI>" before it read the
// digits itself: a search for '>' in the first five bytes, then atoi.
func referencePriority(s string) (int, int, bool) {
	if !strings.HasPrefix(s, "<") {
		return -1, 0, true
	}
	end := strings.IndexByte(s[:min(len(s), 5)], '>')
	n, ok := atoi(s[1:max(end, 1)])
	if end < 2 || !ok || n > 191 {
		return 0, 0, false
	}
	return n, end + 1, true
}

// FuzzPriority holds priority to referencePriority: the same priority and
// position after it, or an error where it failed.
func FuzzPriority(f *testing.F) {
	for _, s := range []string{"<34>Oct", "<191>", "<192>", "<0>", "<00>x", "<1234>", "<>", "<", "", "34>", "<3", "<3a>", "<034>1 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, wantAt, ok := referencePriority(s)
		p := parser{s: s}
		got, err := p.priority()
		if !ok {
			require.Error(t, err, "%q", s)
			return
		}
		require.NoError(t, err, "%q", s)
		require.Equal(t, want, got, "%q", s)
		require.Equal(t, wantAt, p.i, "%q", s)
	})
}

// FuzzScans holds the scans that look at eight bytes at a time to the
// byte loops they stand for, from every offset of the input.
func FuzzScans(f *testing.F) {
	f.Add(`exampleSDID@32473 iut="3" eventSource="App\"lication"]`)
	f.Add("web-03.example.com sshd[123]: msg\x7f\x80\x00=]")
	f.Fuzz(func(t *testing.T, s string) {
		for i := 0; i <= len(s)+1; i++ {
			j := i
			for j < len(s) && s[j] > ' ' && s[j] < 0x7f && s[j] != '=' && s[j] != ']' && s[j] != '"' {
				j++
			}
			if i <= len(s) {
				require.Equal(t, j, sdNameEnd(s, i), "sdNameEnd(%q, %d)", s, i)
			}
			j = i
			for j < len(s) && s[j] != '"' && s[j] != '\\' {
				j++
			}
			require.Equal(t, j, quoteEnd(s, i), "quoteEnd(%q, %d)", s, i)
			if i <= len(s) {
				j = i
				for j < len(s) && s[j] != ' ' {
					j++
				}
				require.Equal(t, j, tokenEnd(s, i), "tokenEnd(%q, %d)", s, i)
			}
		}
		j := 0
		for j < len(s) && s[j] != ' ' && s[j] != ':' && s[j] != '[' {
			j++
		}
		require.Equal(t, j, wordEnd(s), "wordEnd(%q)", s)
	})
}
