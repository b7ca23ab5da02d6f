package cloudfront

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/logfield"
	"lakestream/shared/pipeline/pipelinetest"
	"lakestream/shared/record"
)

// goldenCases are the golden tests: testdata/<input> parsed line by line
// against testdata/<case>.golden.json.
var goldenCases = map[string]struct {
	input string
	opts  Options
}{
	"current 33-field layout with headers":     {input: "standard.log"},
	"dashes and empty fields are null":         {input: "dashes.log"},
	"older layouts have fewer fields":          {input: "older.log"},
	"values are URL-decoded once":              {input: "encoded.log"},
	"IPv6 viewers":                             {input: "ipv6.log"},
	"fields after the 33rd are ignored":        {input: "extra-fields.log"},
	"header lines are skipped":                 {input: "headers.log"},
	"user agent families with DeriveUserAgent": {input: "useragents.log", opts: Options{DeriveUserAgent: true}},
}

// TestParseGolden parses each testdata/<case>.log line by line and compares
// the records with testdata/<case>.golden.json, a JSON array with one
// element per line (null for a skipped header line).
func TestParseGolden(t *testing.T) {
	for name, tc := range goldenCases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", tc.input)
			pipelinetest.Golden(t, path, New(tc.opts).Parse)
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

// validLine is a well-formed 33-field line; malformed cases change one field.
func validLine() []string {
	return strings.Split("2024-03-05\t06:07:08\tFRA56-P1\t1024\t192.0.2.10\tGET\td111111abcdef8.cloudfront.net\t/\t200\t-\tcurl/8.5.0\t-\t-\tHit\tid==\twww.example.com\thttps\t312\t0.002\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\tHit\tHTTP/2.0\t-\t-\t51234\t0.001\tHit\ttext/html\t812\t-\t-", "\t")
}

func withField(k int, v string) string {
	f := validLine()
	f[k] = v
	return strings.Join(f, "\t")
}

func TestParseMalformed(t *testing.T) {
	pipelinetest.Malformed(t, Parse, ErrMalformed, pipelinetest.LineCases{
		"empty line":           {"", "1 tab-separated fields, want at least 12"},
		"space separated":      {strings.Join(validLine(), " "), "1 tab-separated fields, want at least 12"},
		"too few fields":       {strings.Join(validLine()[:11], "\t"), "11 tab-separated fields, want at least 12"},
		"bad date":             {withField(0, "05/03/2024"), `date "05/03/2024" is not YYYY-MM-DD`},
		"non-digit date":       {withField(0, "2024-0x-05"), `date "2024-0x-05" is not YYYY-MM-DD`},
		"no such day":          {withField(0, "2023-02-29"), `date "2023-02-29" has no such day`},
		"month 13":             {withField(0, "2024-13-01"), `date "2024-13-01" has no such day`},
		"day 0":                {withField(0, "2024-01-00"), `date "2024-01-00" has no such day`},
		"bad time":             {withField(1, "6:07:08"), `time "6:07:08" is not hh:mm:ss`},
		"non-digit time":       {withField(1, "06:0a:08"), `time "06:0a:08" is not hh:mm:ss`},
		"hour 24":              {withField(1, "24:00:00"), `time "24:00:00" has no such time of day`},
		"bad sc-bytes":         {withField(3, "1k"), `sc-bytes "1k" is not a whole number`},
		"negative sc-status":   {withField(8, "-1"), `sc-status "-1" is not a whole number`},
		"huge cs-bytes":        {withField(17, "1234567890123456789"), `cs-bytes "1234567890123456789" is not a whole number`},
		"bad time-taken":       {withField(18, "fast"), `time-taken "fast" is not a number of seconds`},
		"NaN time-taken":       {withField(18, "NaN"), `time-taken "NaN" is not a number of seconds`},
		"exponent time-taken":  {withField(18, "1e3"), `time-taken "1e3" is not a number of seconds`},
		"two dots":             {withField(27, "0.0.1"), `time-to-first-byte "0.0.1" is not a number of seconds`},
		"lone dot":             {withField(27, "."), `time-to-first-byte "." is not a number of seconds`},
		"beyond float64":       {withField(18, "1"+strings.Repeat("0", 400)), `time-taken "1000000000000000000000000000000000000000"… is out of range`},
		"bad c-port":           {withField(26, "http"), `c-port "http" is not a whole number`},
		"bad sc-range-end":     {withField(32, "1-2"), `sc-range-end "1-2" is not a whole number`},
		"bad older-layout end": {strings.Join(append(validLine()[:17], "12x"), "\t"), `cs-bytes "12x" is not a whole number`},
	})
}

func TestParseDoesNotKeepInput(t *testing.T) {
	line := []byte(strings.Join(validLine(), "\t"))
	r, err := Parse(line)
	require.NoError(t, err)
	for i := range line {
		line[i] = 'X'
	}
	host, _ := r.Get("x_host_header")
	ts, _ := r.Get("timestamp")
	assert.Equal(t, []any{"www.example.com", "2024-03-05T06:07:08Z"}, []any{host, ts})
}

func TestUserAgent(t *testing.T) {
	tests := map[string]struct {
		ua      string
		browser string
		os      string
		bot     bool
	}{
		"chrome on windows": {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36", "Chrome", "Windows", false},
		"edge on windows":   {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.66", "Edge", "Windows", false},
		"legacy edge":       {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19582", "Edge", "Windows", false},
		"safari on macOS":   {"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15", "Safari", "macOS", false},
		"safari on iPhone":  {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1", "Safari", "iOS", false},
		"chrome on iPad":    {"Mozilla/5.0 (iPad; CPU OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/122.0.6261.89 Mobile/15E148 Safari/604.1", "Chrome", "iOS", false},
		"firefox on linux":  {"Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0", "Firefox", "Linux", false},
		"firefox on iOS":    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/123.0 Mobile/15E148 Safari/605.1.15", "Firefox", "iOS", false},
		"chrome on android": {"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Mobile Safari/537.36", "Chrome", "Android", false},
		"opera on android":  {"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Mobile Safari/537.36 OPR/80.0.0.0", "Opera", "Android", false},
		"old opera":         {"Opera/9.80 (Windows NT 6.1; U; en) Presto/2.10.289 Version/12.00", "Opera", "Windows", false},
		"ie 11":             {"Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko", "IE", "Windows", false},
		"ie 8":              {"Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)", "IE", "Windows", false},
		"curl":              {"curl/8.5.0", "curl", "Other", false},
		"googlebot":         {"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Other", "Other", true},
		"googlebot mobile":  {"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.6261.94 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Chrome", "Android", true},
		"bingbot":           {"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "Other", "Other", true},
		"baiduspider":       {"Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", "Other", "Other", true},
		"yahoo slurp":       {"Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)", "Other", "Other", true},
		"facebook":          {"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "Other", "Other", true},
		"generic crawler":   {"SomeCompany-Crawler/3.1", "Other", "Other", true},
		"upper case BOT":    {"EXAMPLEBOT/1.0", "Other", "Other", true},
		"python requests":   {"python-requests/2.31.0", "Other", "Other", false},
		"empty":             {"", "Other", "Other", false},
		"long agent":        {strings.Repeat("x", 600) + " Googlebot/2.1", "Other", "Other", true},
		"windows phone":     {"Mozilla/5.0 (Mobile; Windows Phone 8.1; Android 4.0; ARM; Trident/7.0; Touch; rv:11.0; IEMobile/11.0) like iPhone OS 7_0_3 Mac OS X AppleWebKit/537 (KHTML, like Gecko) Mobile Safari/537", "IE", "Windows", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			browser, os, bot := UserAgent(tc.ua)
			assert.Equal(t, tc.browser, browser, "browser")
			assert.Equal(t, tc.os, os, "os")
			assert.Equal(t, tc.bot, bot, "bot")
		})
	}
}

// fieldNames is the record layout, without and with derived fields.
func fieldNames(derived bool) []string {
	names := []string{"timestamp"}
	for _, f := range fields {
		names = append(names, f.name)
	}
	if derived {
		names = append(names, "browser_family", "os_family", "is_bot")
	}
	return names
}

// TestFields: Fields names what Parse writes, with and without the
// derived user agent fields.
func TestFields(t *testing.T) {
	for _, derive := range []bool{false, true} {
		p := New(Options{DeriveUserAgent: derive})
		r, err := p.Parse([]byte(strings.Join(validLine(), "\t")))
		require.NoError(t, err)
		var names []string
		for _, f := range r.Fields {
			names = append(names, f.Name)
		}
		assert.Equal(t, names, p.Fields(), "derive %v", derive)
		assert.Len(t, p.Fields(), 1+33+map[bool]int{false: 0, true: 3}[derive])
	}
}

func FuzzParse(f *testing.F) { fuzzParse(f, Options{}) }

func FuzzParseDerived(f *testing.F) { fuzzParse(f, Options{DeriveUserAgent: true}) }

// fuzzParse holds a parser with opts to what every record of it is: the
// timestamp the date and time joined, each value of its field's kind, the
// derived browser family the user agent's.
func fuzzParse(f *testing.F, opts Options) {
	// Kept across inputs: a parser with its agent cache, for ParseInto;
	// Parse starts afresh each time.
	kept := New(opts)
	pipelinetest.FuzzParser(f, pipelinetest.Fuzz{
		Parse:     func(line []byte) (*record.Record, error) { return New(opts).Parse(line) },
		Into:      kept.ParseInto,
		Skipped:   func(line []byte) bool { return bytes.HasPrefix(line, []byte("#")) },
		Malformed: ErrMalformed,
		Columns:   kept.Columns(),
		Fit:       pipelinetest.EveryColumn,
		Check: func(t *testing.T, r *record.Record) {
			ts, _ := r.Get("timestamp")
			date, _ := r.Get("date")
			clock, _ := r.Get("time")
			require.Equal(t, fmt.Sprintf("%sT%sZ", date, clock), ts)
			_, err := time.Parse(time.RFC3339, ts.(string))
			require.NoError(t, err)

			for _, f := range fields {
				v, _ := r.Get(f.name)
				switch v := v.(type) {
				case int64:
					require.Equal(t, integer, f.kind, f.name)
					require.GreaterOrEqual(t, v, int64(0), f.name)
				case float64:
					require.Equal(t, seconds, f.kind, f.name)
					require.GreaterOrEqual(t, v, 0.0, f.name)
				case string:
					require.Equal(t, text, f.kind, f.name)
					require.NotContains(t, []string{"", "-"}, v, f.name)
				}
			}
			if opts.DeriveUserAgent {
				ua, _ := r.Get("cs_user_agent")
				browser, _ := r.Get("browser_family")
				if ua == nil {
					require.Nil(t, browser)
				} else {
					want, _, _ := UserAgent(ua.(string))
					require.Equal(t, want, browser)
				}
			}
		},
		Seeds: []string{"2024-03-05\t06:07:08\t%\t-\t%2\t%%41\t\t\t000\t\t\t\t"},
	})
}

// benchLines builds a realistic CloudFront log: current-layout lines with
// browser and bot user agents, hits and misses, a query string now and then.
func benchLines() [][]byte {
	agents := []string{
		"Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/122.0.0.0%20Safari/537.36",
		"Mozilla/5.0%20(iPhone;%20CPU%20iPhone%20OS%2017_3%20like%20Mac%20OS%20X)%20AppleWebKit/605.1.15%20(KHTML,%20like%20Gecko)%20Version/17.3%20Mobile/15E148%20Safari/604.1",
		"Mozilla/5.0%20(compatible;%20Googlebot/2.1;%20+http://www.google.com/bot.html)",
		"curl/8.5.0",
	}
	results := []string{"Hit", "Hit", "Miss", "RefreshHit", "Error"}
	paths := []string{"/", "/index.html", "/static/app.3f9a1c.js", "/images/hero.jpg", "/api/v1/items"}
	queries := []string{"-", "-", "id=42&sort=desc", "q=lake%2520stream"}
	var out [][]byte
	for i := range 1000 {
		line := fmt.Sprintf("2024-03-05\t06:%02d:%02d\tFRA56-P%d\t%d\t203.0.%d.%d\tGET\td111111abcdef8.cloudfront.net\t%s\t200\t-\t%s\t%s\t-\t%s\t%s\twww.example.com\thttps\t%d\t0.%03d\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\t%s\tHTTP/2.0\t-\t-\t%d\t0.%03d\t%s\ttext/html\t%d\t-\t-",
			i%60, (i*7)%60, i%9, 400+i*13, i%256, (i*11)%256, paths[i%len(paths)], agents[i%len(agents)], queries[i%len(queries)],
			results[i%len(results)], fmt.Sprintf("req%08dAbCdEfGhIjKlMnOpQrStUvWxYz0123456789==", i), 300+i%200, i%1000,
			results[i%len(results)], 1024+i*31%60000, i%997, results[i%len(results)], 800+i)
		out = append(out, []byte(line))
	}
	return out
}

func BenchmarkParse(b *testing.B) {
	for name, opts := range map[string]Options{"plain": {}, "derive-user-agent": {DeriveUserAgent: true}} {
		b.Run(name, func(b *testing.B) {
			pipelinetest.BenchmarkParser(b, benchLines(), New(opts).Parse)
		})
	}
}

// BenchmarkParseInto parses the lines into one record rewound in between,
// as the pipeline does: the parser's own cost, without a record's
// allocation per line.
func BenchmarkParseInto(b *testing.B) {
	for name, opts := range map[string]Options{"plain": {}, "derive-user-agent": {DeriveUserAgent: true}} {
		b.Run(name, func(b *testing.B) {
			p := New(opts)
			pipelinetest.BenchmarkParseInto(b, benchLines(), 0, func(r *record.Builder, l []byte) error {
				_, err := p.ParseInto(r, l)
				return err
			})
		})
	}
}

// FuzzSplitFields holds splitFields to cutting at each tab in turn, as
// many fields as a line has room for, and to a search for '%' in each.
func FuzzSplitFields(f *testing.F) {
	f.Add("2024-03-05\t06:07:08\t%\t-\t%2\t%%41\t\t\t000\t\t\t\t")
	f.Add(strings.Repeat("a%\t", 40))
	f.Add("")
	f.Add("no tabs at all, but 100% long enough")
	f.Fuzz(func(t *testing.T, s string) {
		var want [len(fields)]string
		n := 0
		for rest, more := s, true; more && n < len(want); n++ {
			want[n], rest, more = strings.Cut(rest, "\t")
		}
		var ends [len(fields)]int
		gotN, encoded := splitFields(s, &ends)
		require.Equal(t, n, gotN)
		var got [len(fields)]string
		start := 0
		for k := range gotN {
			require.LessOrEqual(t, start, ends[k], "field %d", k)
			got[k], start = s[start:ends[k]], ends[k]+1
		}
		require.Equal(t, want, got)
		for k := range n {
			require.Equal(t, strings.Contains(want[k], "%"), encoded&(1<<k) != 0, "field %d", k)
		}
		require.Zero(t, encoded>>n, "no marks past the fields")
	})
}

// FuzzShortDecimal holds shortDecimal to strconv.ParseFloat, bit for bit,
// for every decimal it reads, and to reading every short decimal
// logfield.IsDecimal accepts.
func FuzzShortDecimal(f *testing.F) {
	for _, s := range []string{"0.002", "12", ".5", "5.", "0.000000000000001", "999999999999999", "9999999999999999", "0.1", "123456789.012345", "1.2.3", "", ".", "-1", "1e5", "00000000000000.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := shortDecimal(s)
		if !ok {
			digits := 0
			for i := range len(s) {
				if '0' <= s[i] && s[i] <= '9' {
					digits++
				}
			}
			require.False(t, logfield.IsDecimal(s) && digits <= 15, "%q is a short decimal", s)
			return
		}
		require.True(t, logfield.IsDecimal(s), "%q", s)
		want, err := strconv.ParseFloat(s, 64)
		require.NoError(t, err)
		require.Equal(t, math.Float64bits(want), math.Float64bits(got), "%q: %v, want %v", s, got, want)
	})
}

// FuzzDecode holds decode to a plain reading of the rule: each '%' and
// two hex digits is the byte they spell; anything else, a '%' without
// them included, is kept.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"", "%", "%2", "%20", "a%20b", "%%41", "%zz%41", "Mozilla/5.0%20(Windows%20NT%2010.0)", "100%", "%2520", strings.Repeat("%41", 200)} {
		f.Add(s)
	}
	r := record.NewBuilder(0)
	f.Fuzz(func(t *testing.T, s string) {
		var want []byte
		for i := 0; i < len(s); i++ {
			if s[i] == '%' && i+2 < len(s) {
				if b, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil && s[i+1] != '+' && s[i+1] != '-' {
					want = append(want, byte(b))
					i += 2
					continue
				}
			}
			want = append(want, s[i])
		}
		require.Equal(t, string(want), decode(r, s))
	})
}

// FuzzTimeHint: the time ParseInto hands over with its timestamp
// (record.Builder.HintTime) is what the pipeline would otherwise read from
// the timestamp's text, for any line it parses.
func FuzzTimeHint(f *testing.F) {
	pipelinetest.AddCorpus(f,
		strings.Join(validLine(), "\t"),
		withField(0, "0000-01-01"),
		withField(0, "9999-12-31")+"\t",
		withField(1, "23:59:59"),
		withField(0, "2024-02-29"),
	)
	p := New(Options{})
	r := record.NewBuilder(0)
	f.Fuzz(func(t *testing.T, line []byte) {
		if ok, _ := p.ParseInto(r, line); ok {
			pipelinetest.TimeHinted(t, r, "timestamp")
		}
	})
}
