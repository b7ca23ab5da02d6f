package accesslog

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/civil"
	"lakestream/shared/logfield"
	"lakestream/shared/pipeline/pipelinetest"
	"lakestream/shared/record"
)

// goldenCases are the golden tests: testdata/<input> parsed line by line
// against testdata/<case>.golden.json.
var goldenCases = map[string]string{
	"combined format": "combined.log",
	"common format has null referrer and agent": "common.log",
	"vhost formats with and without port":       "vhost.log",
	"IPv6 remote hosts":                         "ipv6.log",
	"escaped quotes and backslashes":            "escapes.log",
	"request lines that do not split":           "odd-requests.log",
	"fractional seconds and zone offsets":       "times.log",
	"invalid UTF-8 is kept":                     "non-utf8.log",
	"extra spaces between fields":               "spacing.log",
}

// TestParseGolden parses each testdata/<case>.log line by line and compares
// the records with testdata/<case>.golden.json, a JSON array with one
// record per line; the table and testdata/ list the same cases.
func TestParseGolden(t *testing.T) { pipelinetest.GoldenCases(t, ".log", goldenCases, Parse) }

func TestParseMalformed(t *testing.T) {
	const ok = `192.0.2.1 - - [05/Mar/2024:06:07:08 +0000] "GET / HTTP/1.1" 200 10`
	pipelinetest.Malformed(t, Parse, ErrMalformed, pipelinetest.LineCases{
		"empty line":            {``, `no [time] field`},
		"not a log line":        {`hello world`, `no [time] field`},
		"json":                  {`{"status":200}`, `no [time] field`},
		"two fields":            {`192.0.2.1 - [05/Mar/2024:06:07:08 +0000] "GET / HTTP/1.1" 200 10`, `2 fields before the [time], want 3 (host ident user) or 4 (vhost host ident user)`},
		"five fields":           {`a b 192.0.2.1 - - [05/Mar/2024:06:07:08 +0000] "GET / HTTP/1.1" 200 10`, `more than 4 fields before the [time]`},
		"unclosed time":         {`192.0.2.1 - - [05/Mar/2024:06:07:08 +0000 "GET / HTTP/1.1" 200 10`, `[time] has no closing bracket`},
		"no bracket":            {`192.0.2.1 - - [05/Mar/2024:06:07:08 +0000`, `[time] has no closing bracket`},
		"bad month":             {strings.Replace(ok, "Mar", "Mrz", 1), `time "05/Mrz/2024:06:07:08 +0000" is not dd/Mon/yyyy:hh:mm:ss +zzzz`},
		"no zone":               {strings.Replace(ok, " +0000", "", 1), `time "05/Mar/2024:06:07:08" is not dd/Mon/yyyy:hh:mm:ss +zzzz`},
		"bad zone":              {strings.Replace(ok, "+0000", "+0099", 1), `time "05/Mar/2024:06:07:08 +0099" is not dd/Mon/yyyy:hh:mm:ss +zzzz`},
		"hour 24":               {strings.Replace(ok, "06:07:08", "24:00:00", 1), `time "05/Mar/2024:24:00:00 +0000" has no such time of day`},
		"february 30":           {strings.Replace(ok, "05/Mar", "30/Feb", 1), `time "30/Feb/2024:06:07:08 +0000" has no such date`},
		"out of range":          {strings.Replace(ok, "05/Mar/2024:06:07:08 +0000", "01/Jan/0000:00:00:00 +0100", 1), `time "01/Jan/0000:00:00:00 +0100" is out of range in UTC`},
		"fraction empty":        {strings.Replace(ok, "06:07:08", "06:07:08.", 1), `time "05/Mar/2024:06:07:08. +0000" is not dd/Mon/yyyy:hh:mm:ss +zzzz`},
		"ends after time":       {`192.0.2.1 - - [05/Mar/2024:06:07:08 +0000]`, `line ends after the [time]`},
		"spaces after time":     {`192.0.2.1 - - [05/Mar/2024:06:07:08 +0000]   `, `line ends after the [time]`},
		"spaces after request":  {`192.0.2.1 - - [05/Mar/2024:06:07:08 +0000] "GET / HTTP/1.1"  `, `line ends after the request`},
		"spaces after status":   {`192.0.2.1 - - [05/Mar/2024:06:07:08 +0000] "GET / HTTP/1.1" 200 `, `line ends after the status`},
		"spaces after referrer": {ok + ` "-"  `, `line ends after the referrer`},
		"glued request":         {`192.0.2.1 - - [05/Mar/2024:06:07:08 +0000]"GET / HTTP/1.1" 200 10`, `no space after the [time]`},
		"unquoted request":      {`192.0.2.1 - - [05/Mar/2024:06:07:08 +0000] GET / HTTP/1.1 200 10`, `request "GET" is not in double quotes`},
		"open request":          {`192.0.2.1 - - [05/Mar/2024:06:07:08 +0000] "GET / HTTP/1.1 200 10`, `request has no closing quote`},
		"no status":             {`192.0.2.1 - - [05/Mar/2024:06:07:08 +0000] "GET / HTTP/1.1"`, `line ends after the request`},
		"bad status":            {strings.Replace(ok, " 200 ", " abc ", 1), `status "abc" is not a number`},
		"negative status":       {strings.Replace(ok, " 200 ", " -200 ", 1), `status "-200" is not a number`},
		"no bytes":              {`192.0.2.1 - - [05/Mar/2024:06:07:08 +0000] "GET / HTTP/1.1" 200`, `line ends after the status`},
		"bad bytes":             {ok + `x`, `bytes "10x" is not a number`},
		"huge bytes":            {strings.Replace(ok, " 10", " 99999999999999999999", 1), `bytes "99999999999999999999" is not a number`},
		"unquoted referrer":     {ok + ` - "-"`, `referrer "-" is not in double quotes`},
		"no user agent":         {ok + ` "-"`, `line ends after the referrer`},
		"open user agent":       {ok + ` "-" "Mozilla`, `user agent has no closing quote`},
		"extra field":           {ok + ` "-" "-" "198.51.100.1, 10.0.0.1"`, `unexpected text after the user agent: "\"198.51.100.1, 10.0.0.1\""`},
		"long value is cut":     {strings.Replace(ok, " 200 ", " "+strings.Repeat("x", 100)+" ", 1), `status "` + strings.Repeat("x", 40) + `"… is not a number`},
	})
}

// TestParseDoesNotKeepInput checks that the record owns its strings: the
// pipeline reuses its line buffers.
func TestParseDoesNotKeepInput(t *testing.T) {
	line := []byte(`192.0.2.1 - bob [05/Mar/2024:06:07:08 +0000] "GET /a HTTP/1.1" 200 10 "-" "agent"`)
	r, err := Parse(line)
	require.NoError(t, err)
	for i := range line {
		line[i] = 'X'
	}
	user, _ := r.Get("user")
	path, _ := r.Get("path")
	agent, _ := r.Get("user_agent")
	assert.Equal(t, []any{"bob", "/a", "agent"}, []any{user, path, agent})
}

// Field lists the two layouts produce.
var (
	fieldNames      = []string{"remote_host", "ident", "user", "time", "time_ms", "method", "path", "query", "protocol", "request", "status", "bytes", "referrer", "user_agent"}
	vhostFieldNames = append([]string{"vhost", "port"}, fieldNames...)
)

// TestFields: Fields names what Parse writes for a vhost line, and the
// other formats' layout is its tail.
func TestFields(t *testing.T) {
	names := func(line string) []string {
		r, err := Parse([]byte(line))
		require.NoError(t, err)
		var out []string
		for _, f := range r.Fields {
			out = append(out, f.Name)
		}
		return out
	}
	const combined = `192.0.2.1 - - [05/Mar/2024:06:07:08 +0000] "GET / HTTP/1.1" 200 10 "-" "curl/8.5.0"`
	assert.Equal(t, names("www.example.com:443 "+combined), Fields())
	assert.Equal(t, names(combined), Fields()[2:])
	assert.Equal(t, vhostFieldNames, Fields())
}

// TestShape: ParseInto declares the shape of the fields it wrote for each
// layout (record.Builder's SetShape), the same one for every line of a
// layout, and none for a line it fails after one it parsed.
func TestShape(t *testing.T) {
	const line = `192.0.2.1 - - [05/Mar/2024:06:07:08 +0000] "GET / HTTP/1.1" 200 10`
	cases := map[string]struct {
		line  string
		names []string
	}{
		"common":               {line, fieldNames},
		"combined":             {line + ` "-" "curl/8.5.0"`, fieldNames},
		"odd request":          {strings.Replace(line, "GET / HTTP/1.1", `\x16\x03\x01`, 1), fieldNames},
		"vhost_common":         {"www.example.com " + line, vhostFieldNames},
		"vhost_combined":       {"www.example.com:443 " + line + ` "-" "curl/8.5.0"`, vhostFieldNames},
		"vhost with IPv6 port": {"[2001:db8::1]:8080 " + line + ` "-" "-"`, vhostFieldNames},
	}
	shapes := map[int]*record.Shape{} // by number of fields
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := record.NewBuilder(0)
			require.NoError(t, ParseInto(r, []byte(c.line)))
			names := make([]string, len(r.Fields))
			for i, f := range r.Fields {
				names[i] = f.Name
			}
			require.Equal(t, c.names, names)
			require.NotNil(t, r.Shape())
			assert.Equal(t, c.names, r.Shape().Names())
			if sh, ok := shapes[len(names)]; ok {
				assert.Same(t, sh, r.Shape(), "one shape a layout")
			}
			shapes[len(names)] = r.Shape()

			require.Error(t, ParseInto(r, []byte(c.line+` "extra"`)))
			assert.Nil(t, r.Shape())
			assert.Empty(t, r.Fields)
		})
	}
	assert.Len(t, shapes, 2)
}

func FuzzParse(f *testing.F) {
	pipelinetest.FuzzParser(f, pipelinetest.Fuzz{
		Parse: Parse, Malformed: ErrMalformed, Check: checkRecord,
		Into: func(r *record.Builder, line []byte) (bool, error) {
			err := ParseInto(r, line)
			return err == nil, err
		},
		Seeds: []string{`1 2 3 [01/Jan/2024:00:00:00.123456789 -2359] "\x" 0 0 "\\" "\"`},
	})
}

// FuzzTimeHint: the time ParseInto hands over with its time field
// (record.Builder.HintTime) is what the pipeline would otherwise read from
// the field's text, for any line it parses.
func FuzzTimeHint(f *testing.F) {
	pipelinetest.AddCorpus(f,
		`1 2 3 [01/Jan/2024:00:00:00.123456789 -2359] "\x" 0 0 "\\" "\"`,
		`h - - [31/Dec/9999:23:59:59.9999999999 +0000] "GET / HTTP/1.1" 200 1`,
		`h - - [01/Jan/0001:00:00:00 +2359] "GET / HTTP/1.1" 200 1`,
		`h - - [01/Jan/0000:00:00:00.5 +0000] "GET / HTTP/1.1" 200 1`,
	)
	r := record.NewBuilder(0)
	f.Fuzz(func(t *testing.T, line []byte) {
		if ParseInto(r, line) == nil {
			_, ok := r.Get("time")
			require.True(t, ok, "a parsed line has its time")
			pipelinetest.TimeHinted(t, r, "time")
		}
	})
}

// checkRecord checks what holds for every record Parse returns.
func checkRecord(t *testing.T, r *record.Record) {
	names := make([]string, 0, r.Len())
	for _, f := range r.Fields {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, fieldNames) {
		require.Equal(t, vhostFieldNames, names)
	}

	ts, _ := r.Get("time")
	ms, _ := r.Get("time_ms")
	tm, err := time.Parse(time.RFC3339Nano, ts.(string))
	require.NoError(t, err, "time %q", ts)
	require.Equal(t, tm.UnixMilli(), ms)

	for _, name := range []string{"status", "bytes", "port"} {
		if v, _ := r.Get(name); v != nil {
			require.GreaterOrEqual(t, v.(int64), int64(0), name)
		}
	}
	// Either the request split, or it is kept whole.
	method, _ := r.Get("method")
	path, _ := r.Get("path")
	protocol, _ := r.Get("protocol")
	request, _ := r.Get("request")
	if method != nil {
		require.NotNil(t, path)
		require.NotNil(t, protocol)
		require.Nil(t, request)
	} else {
		require.Nil(t, path)
		require.Nil(t, protocol)
	}
}

// benchLines builds a realistic access log: mostly combined lines from
// browsers and bots, some vhost_combined, an escaped agent now and then.
func benchLines() [][]byte {
	agents := []string{
		`Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36`,
		`Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1`,
		`Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)`,
		`curl/8.5.0`,
		`Mozilla/5.0 \"quoted\" agent`,
	}
	paths := []string{"/", "/index.html", "/api/v1/items?id=42&sort=desc", "/static/app.3f9a1c.js", "/search?q=lake+stream"}
	statuses := []int{200, 200, 200, 304, 404, 301, 500}
	var out [][]byte
	for i := range 1000 {
		line := fmt.Sprintf(`203.0.%d.%d - - [05/Mar/2024:06:%02d:%02d +0000] "GET %s HTTP/1.1" %d %d "https://www.example.com/" "%s"`,
			i%256, (i*7)%256, i%60, (i*13)%60, paths[i%len(paths)], statuses[i%len(statuses)], 100+i*37, agents[i%len(agents)])
		if i%10 == 0 {
			line = "www.example.com:443 " + line
		}
		out = append(out, []byte(line))
	}
	return out
}

func BenchmarkParse(b *testing.B) { pipelinetest.BenchmarkParser(b, benchLines(), Parse) }

// BenchmarkParseInto parses the lines into one record rewound in between,
// as the pipeline does: the parser's own cost, without a record's
// allocation per line.
func BenchmarkParseInto(b *testing.B) {
	pipelinetest.BenchmarkParseInto(b, benchLines(), 0, ParseInto)
}

// TestIsToken holds isToken to RFC 9110's tchar, byte by byte.
func TestIsToken(t *testing.T) {
	for c := range 256 {
		b := byte(c)
		want := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
		assert.Equal(t, want, isToken(string([]byte{'G', b, 'T'})), "byte %#x", b)
	}
	assert.True(t, isToken(""))
}

// FuzzShortTokenEnd holds shortTokenEnd to logfield.TokenEnd.
func FuzzShortTokenEnd(f *testing.F) {
	f.Add("203.0.113.9 - -", 0)
	f.Add("200 1234", 4)
	f.Add("", 0)
	f.Add("nospace", 3)
	f.Fuzz(func(t *testing.T, s string, i int) {
		if i < 0 || i > len(s) {
			return
		}
		require.Equal(t, logfield.TokenEnd(s, i), shortTokenEnd(s, i))
	})
}

// FuzzSplitRequest holds splitRequest to its reading with searches: the
// method before the first space, the protocol after the last.
func FuzzSplitRequest(f *testing.F) {
	for _, s := range []string{"GET / HTTP/1.1", "GET /a b HTTP/1.0", " GET / HTTP/1.1", "GET", "GET ", "GET / ", "\x16\x03\x01", "G(T / HTTP/1.1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, req string) {
		first, last := strings.IndexByte(req, ' '), strings.LastIndexByte(req, ' ')
		wantOK := first > 0 && last != first && last != len(req)-1 && isToken(req[:max(first, 0)]) && strings.HasPrefix(req[last+1:], "HTTP/")
		method, uri, protocol, ok := splitRequest(req)
		require.Equal(t, wantOK, ok)
		if ok {
			require.Equal(t, []string{req[:first], req[first+1 : last], req[last+1:]}, []string{method, uri, protocol})
		}
	})
}

// FuzzTimeText holds timeText to civil.AppendRFC3339 of the instant read,
// for every time parseTime reads, in UTC or not.
func FuzzTimeText(f *testing.F) {
	for _, s := range []string{"10/Oct/2000:13:55:36 -0700", "05/Mar/2024:06:07:08 +0000", "29/Feb/2024:23:59:59.123456789 -0000",
		"01/Jan/0000:00:00:00 +0000", "31/Dec/9999:23:59:59.5 +0000", "01/Jan/2024:00:00:00 +2359"} {
		f.Add(s)
	}
	r := record.NewBuilder(0)
	f.Fuzz(func(t *testing.T, v string) {
		when, err := parseTime(v)
		if err != nil {
			return
		}
		require.Equal(t, string(civil.AppendRFC3339(nil, when.Unix, when.Frac)), timeText(r, v, when))
	})
}
