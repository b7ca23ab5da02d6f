package pipeline

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/record"
)

func mustStages(t *testing.T, o Options) *stages {
	t.Helper()
	s, problems := compile(o)
	require.Empty(t, problems)
	return s
}

func TestTruncateIP(t *testing.T) {
	tests := map[string]struct {
		in         any
		v4, v6     int
		want       any
		defaultLen bool
	}{
		"ipv4":              {in: "203.0.113.77", want: "203.0.113.0"},
		"ipv4 /16":          {in: "203.0.113.77", v4: 16, want: "203.0.0.0"},
		"ipv4 /32 keeps":    {in: "203.0.113.77", v4: 32, want: "203.0.113.77"},
		"ipv6":              {in: "2001:db8:abcd:12:1:2:3:4", want: "2001:db8:abcd::"},
		"ipv6 /64":          {in: "2001:db8:abcd:12:1:2:3:4", v6: 64, want: "2001:db8:abcd:12::"},
		"ipv6 zone dropped": {in: "fe80::1:2:3%eth0", want: "fe80::"},
		"ipv4-mapped":       {in: "::ffff:198.51.100.9", want: "198.51.100.0"},
		"ipv4 with port":    {in: "198.51.100.9:443", want: "198.51.100.0:443"},
		"ipv6 with port":    {in: "[2001:db8:abcd:12::1]:8443", want: "[2001:db8:abcd::]:8443"},
		"no value marker":   {in: "-", want: "-"},
		"empty":             {in: "", want: ""},
		"hostname redacted": {in: "crawler.example.net", want: RedactedText},
		"list redacted":     {in: "198.51.100.9, 10.0.0.1", want: RedactedText},
		"number redacted":   {in: int64(3232235777), want: RedactedText},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := masker{stages: mustStages(t, Options{IPv4Prefix: tc.v4, IPv6Prefix: tc.v6})}
			assert.Equal(t, tc.want, m.truncateIP(&record.Builder{}, tc.in))
		})
	}
}

func TestMaskApply(t *testing.T) {
	salt := "pepper"
	hmacHex := func(text string) string {
		mac := hmac.New(sha256.New, []byte(salt))
		mac.Write([]byte(text))
		return hex.EncodeToString(mac.Sum(nil))
	}
	tests := map[string]struct {
		spec    string
		in      *record.Record
		want    *record.Record
		wantErr string
	}{
		"hash is HMAC-SHA256 of the text": {
			spec: "user=hash,n=hash,obj=hash",
			in:   rec("user", "alice", "n", int64(42), "obj", json.RawMessage(`{ "a": 1 }`)),
			want: rec("user", hmacHex("alice"), "n", hmacHex("42"), "obj", hmacHex(`{"a":1}`)),
		},
		"drop and redact": {
			spec: "cookie=drop,ua=redact",
			in:   rec("a", int64(1), "cookie", "sid=1", "ua", "curl", "z", true),
			want: rec("a", int64(1), "ua", RedactedText, "z", true),
		},
		"absent and null left alone": {
			spec: "user=hash,cookie=redact,ip=truncate-ip,gone=drop",
			in:   rec("user", nil, "other", "x"),
			want: rec("user", nil, "other", "x"),
		},
		"nested path into JSON text and records": {
			spec: "user.email=redact,req.client.ip=truncate-ip,user.tags.x=drop",
			in:   rec("user", json.RawMessage(`{"email":"a@b.c","tags":["x"]}`), "req", rec("client", rec("ip", "10.1.2.3"))),
			want: rec("user", rec("email", RedactedText, "tags", json.RawMessage(`["x"]`)), "req", rec("client", rec("ip", "10.1.2.0"))),
		},
		"dotted top-level name wins": {
			spec: "geo.country=redact",
			in:   rec("geo.country", "NZ", "geo", rec("country", "NZ")),
			want: rec("geo.country", RedactedText, "geo", rec("country", "NZ")),
		},
		"hash of an unencodable value fails": {
			spec:    "f=hash",
			in:      rec("f", json.RawMessage(`{`)),
			wantErr: `field "f": value cannot be written as JSON`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := masker{stages: mustStages(t, Options{MaskFields: tc.spec, HashSalt: salt})}
			b := &record.Builder{Record: *tc.in}
			err := m.apply(b)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, &b.Record)
		})
	}
}

func TestFilter(t *testing.T) {
	r := rec("method", "GET", "status", int64(304), "uri", "/img/a.png", "ok", true, "none", nil,
		"ratio", json.RawMessage("0.5"), "obj", rec("k", "v"))
	tests := map[string]struct {
		spec string
		want bool
	}{
		"equals string":              {spec: "method=GET", want: true},
		"equals is case-sensitive":   {spec: "method=get", want: false},
		"equals int as text":         {spec: "status=304", want: true},
		"equals bool":                {spec: "ok=true", want: true},
		"equals raw number":          {spec: "ratio=0.5", want: true},
		"equals nested as JSON":      {spec: `obj={"k":"v"}`, want: true},
		"nested path":                {spec: "obj.k=v", want: true},
		"prefix":                     {spec: "uri^=/img/", want: true},
		"prefix longer than value":   {spec: "method^=GETTER", want: false},
		"prefix of an int's text":    {spec: "status^=30", want: true},
		"prefix of a nested object":  {spec: `obj^={"k"`, want: true},
		"regexp unanchored":          {spec: `uri~=\.png`, want: true},
		"regexp anchored":            {spec: `uri~=^\.png$`, want: false},
		"regexp on numbers":          {spec: `status~=^3\d\d$`, want: true},
		"any alternative":            {spec: "method=POST,status=304", want: true},
		"all conditions of one":      {spec: "method=GET&status=200", want: false},
		"all conditions hold":        {spec: "method=GET & status=304 & uri^=/img", want: true},
		"absent never matches":       {spec: "user=", want: false},
		"null never matches":         {spec: "none=", want: false},
		"empty spec drops nothing":   {spec: "", want: false},
		"absent with regexp for any": {spec: "user~=.*", want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f, err := parseFilter(tc.spec)
			require.NoError(t, err)
			var scratch []byte
			got, err := f.match(r, &scratch)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestSchema(t *testing.T) {
	tests := map[string]struct {
		spec    string
		value   any
		wantErr string
	}{
		"string ok":            {spec: "f:string:max=5", value: "héllo"},
		"string too long":      {spec: "f:string:max=4", value: "héllo", wantErr: `field "f": 5 characters, more than the maximum 4`},
		"string wrong type":    {spec: "f:string", value: int64(1), wantErr: `field "f": got an integer, want string`},
		"int in range":         {spec: "f:int:100..599", value: int64(599)},
		"int above":            {spec: "f:int:100..599", value: int64(700), wantErr: `field "f": 700 is above the maximum 599`},
		"int below":            {spec: "f:int:0..", value: int64(-1), wantErr: `field "f": -1 is below the minimum 0`},
		"int open low":         {spec: "f:int:..10", value: int64(-1 << 62)},
		"int rejects float":    {spec: "f:int", value: json.RawMessage("1.5"), wantErr: `field "f": got a number, want int`},
		"int rejects string":   {spec: "f:int", value: "12", wantErr: `field "f": got a string, want int`},
		"float from int":       {spec: "f:float:0..1", value: int64(1)},
		"float from raw":       {spec: "f:float:0.5..1.5", value: json.RawMessage("1.25")},
		"float above":          {spec: "f:float:..1.5", value: 1.75, wantErr: `field "f": 1.75 is above the maximum 1.5`},
		"float huge raw":       {spec: "f:float:..1e300", value: json.RawMessage("1e400"), wantErr: "+Inf is above the maximum 1e+300"},
		"float rejects object": {spec: "f:float", value: json.RawMessage(`{"a":1}`), wantErr: "got an object, want float"},
		"float rejects array":  {spec: "f:float", value: json.RawMessage(`[1]`), wantErr: "got an array, want float"},
		"bool ok":              {spec: "f:bool", value: false},
		"bool wrong":           {spec: "f:bool", value: "true", wantErr: "got a string, want bool"},
		"timestamp ok":         {spec: "f:timestamp", value: "2024-03-05T06:07:08.123+13:00"},
		"timestamp bad":        {spec: "f:timestamp", value: "2024-03-05 06:07:08", wantErr: `field "f": "2024-03-05 06:07:08" is not an RFC 3339 timestamp`},
		"timestamp long value cut": {
			spec: "f:timestamp", value: "this is a very long value that should not end up in full in a log line",
			wantErr: `"this is a very long value that should no"… is not`,
		},
		"timestamp rejects epoch": {spec: "f:timestamp", value: int64(1709618828), wantErr: "got an integer, want timestamp"},
		"null passes":             {spec: "f:int:1..2", value: nil},
		"null required":           {spec: "f:int:required", value: nil, wantErr: `field "f": missing, but required`},
		"nested object":           {spec: "f:string", value: rec("a", int64(1)), wantErr: "got an object, want string"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rules, err := parseSchema(tc.spec)
			require.NoError(t, err)
			err = validate(rules, rec("f", tc.value), nil)
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "f", fe.Field)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestSchemaRequiredAbsent(t *testing.T) {
	rules, err := parseSchema("a.b:string:required,c:int")
	require.NoError(t, err)
	assert.EqualError(t, validate(rules, rec("a", rec(), "c", int64(1)), nil), `field "a.b": missing, but required`)
	assert.NoError(t, validate(rules, rec("a", json.RawMessage(`{"b":"x"}`)), nil))
}

func TestParseTime(t *testing.T) {
	want := time.Date(2024, 3, 5, 6, 7, 8, 0, time.UTC)
	tests := map[string]struct {
		in      any
		want    time.Time
		wantErr string
	}{
		"rfc3339":             {in: "2024-03-05T06:07:08Z", want: want},
		"rfc3339 offset":      {in: "2024-03-05T19:07:08+13:00", want: want},
		"rfc3339 fraction":    {in: "2024-03-05T06:07:08.25Z", want: want.Add(250 * time.Millisecond)},
		"epoch seconds":       {in: int64(1709618828), want: want},
		"epoch millis":        {in: int64(1709618828000), want: want},
		"epoch micros":        {in: int64(1709618828000000), want: want},
		"epoch nanos":         {in: int64(1709618828000000001), want: want.Add(1)},
		"float seconds":       {in: 1709618828.5, want: want.Add(500 * time.Millisecond)},
		"raw float millis":    {in: json.RawMessage("1709618828000.0"), want: want},
		"numeric string":      {in: "1709618828", want: want},
		"negative seconds":    {in: int64(-1), want: time.Unix(-1, 0).UTC()},
		"not a time":          {in: "soon", wantErr: `"soon" is not an RFC 3339 timestamp or an epoch number`},
		"NaN string":          {in: "NaN", wantErr: "is not an RFC 3339"},
		"bool":                {in: true, wantErr: "got a boolean, want a timestamp"},
		"raw object":          {in: json.RawMessage(`{}`), wantErr: "got an object, want a timestamp"},
		"huge float":          {in: 1e300, wantErr: "epoch number out of range"},
		"float infinity text": {in: json.RawMessage("1e400"), wantErr: "got a number, want a timestamp"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseTime(tc.in, nil)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.True(t, tc.want.Equal(got), "got %v, want %v", got, tc.want)
			assert.Equal(t, time.UTC, got.Location())
		})
	}
}

func TestEventTimeYearRange(t *testing.T) {
	s := mustStages(t, Options{TimeField: "t", PartitionKeys: "year"})
	_, err := s.eventTime(rec("t", int64(99_999_999_999)), arrival, nil) // year 5138: fine
	require.NoError(t, err)
	_, err = s.eventTime(rec("t", "-0001-01-01T00:00:00Z"), arrival, nil)
	require.Error(t, err)
	_, err = s.eventTime(rec("t", int64(-99_999_999_999)), arrival, nil)
	assert.EqualError(t, err, `field "t": year -1199 is outside 0001 to 9999`)
	// The first and the last second of the years allowed, and the second
	// before. (No epoch number reaches the year 10000: seconds stop at
	// 1e11, the year 5138, and the larger units at the same instant.)
	for _, v := range []string{"0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"} {
		_, err = s.eventTime(rec("t", v), arrival, nil)
		assert.NoError(t, err, v)
	}
	_, err = s.eventTime(rec("t", "0000-12-31T23:59:59Z"), arrival, nil)
	assert.EqualError(t, err, `field "t": year 0 is outside 0001 to 9999`)
	_, err = s.eventTime(rec("t", int64(-62135596801)), arrival, nil)
	assert.EqualError(t, err, `field "t": year 0 is outside 0001 to 9999`)
	_, err = s.eventTime(rec("t", int64(-62135596800)), arrival, nil)
	assert.NoError(t, err)
}

func TestAppendPartitionValue(t *testing.T) {
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	tests := map[string]struct {
		in, want string
	}{
		"plain":            {in: "web-1_a.b", want: "web-1_a.b"},
		"slash":            {in: "a/b", want: "a_b"},
		"leading dot":      {in: "..", want: "_."},
		"spaces and equal": {in: "a b=c", want: "a_b_c"},
		"utf-8 bytes":      {in: "é", want: "__"},
		"empty":            {in: "", want: HiveDefaultPartition},
		"leading slashes":  {in: "//aws/lambda/app", want: "aws_lambda_app"},
		"only slashes":     {in: "/", want: HiveDefaultPartition},
		"cut":              {in: string(long), want: string(long[:maxPartitionValue])},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, string(appendPartitionValue(nil, []byte(tc.in))))
		})
	}
}

func TestCSVAndTSVFields(t *testing.T) {
	tests := map[string]struct {
		in, csv, tsv string
	}{
		"plain":        {in: "abc", csv: "abc", tsv: "abc"},
		"comma":        {in: "a,b", csv: `"a,b"`, tsv: "a,b"},
		"quote":        {in: `say "hi"`, csv: `"say ""hi"""`, tsv: `say "hi"`},
		"newlines":     {in: "a\r\nb", csv: "\"a\r\nb\"", tsv: `a\r\nb`},
		"tab":          {in: "a\tb", csv: "a\tb", tsv: `a\tb`},
		"backslash":    {in: `a\tb`, csv: `a\tb`, tsv: `a\\tb`},
		"invalid utf8": {in: "a\xffb", csv: "a\uFFFDb", tsv: "a\uFFFDb"},
		"invalid utf8 quoted": {
			in: "\xff,\"", csv: "\"\uFFFD,\"\"\"", tsv: "\uFFFD,\"",
		},
		"leading space": {in: " a", csv: " a", tsv: " a"},
		"empty":         {in: "", csv: "", tsv: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.csv, string(appendCSVField(nil, []byte(tc.in))))
			assert.Equal(t, tc.tsv, string(appendTSVField(nil, []byte(tc.in))))
		})
	}
}

func TestSplit(t *testing.T) {
	type piece struct {
		Line int
		Text string
	}
	tests := map[string]struct {
		split Split
		in    string
		want  []piece
	}{
		"lines": {
			split: SplitLines,
			in:    "a\r\n\r\n  \t\nb\nc",
			want:  []piece{{1, "a"}, {4, "b"}, {5, "c"}},
		},
		"lone CR kept inside a line": {
			split: SplitLines,
			in:    "a\rb\r\n",
			want:  []piece{{1, "a\rb"}},
		},
		"empty": {split: SplitLines, in: "", want: nil},
		"json documents": {
			split: SplitJSON,
			in:    "{\n \"a\": \"}{\\\"\"\n}{\"b\":[1,\n2]}\n\n  [3]\nnot json\n{\"unclosed\": [",
			want: []piece{
				{1, "{\n \"a\": \"}{\\\"\"\n}"}, {3, "{\"b\":[1,\n2]}"}, {6, "[3]"}, {7, "not json"}, {8, "{\"unclosed\": ["},
			},
		},
		"json only whitespace": {split: SplitJSON, in: " \r\n\t", want: nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []piece
			for n, p := range tc.split.pieces([]byte(tc.in)) {
				got = append(got, piece{n, string(p)})
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// FuzzTruncateIPv4 holds the dotted-quad fast path of truncate-ip to
// netip, which handles every other address: the same masked text for
// every input and prefix length.
func FuzzTruncateIPv4(f *testing.F) {
	for _, s := range []string{"203.0.113.9", "0.0.0.0", "255.255.255.255", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1..2.3", "256.1.1.1", "1.2.3.4:80", "::ffff:1.2.3.4", "1.2.3.-4", "1.2.3.4 ",
		"1.2.3.04", "10.0.0.0", "100.200.250.255", "1.2.3.1234", "1.2.3.", ".1.2.3", "1.2.3.4.", "1.2.3.4444444444444444"} {
		f.Add(s, 24)
	}
	f.Fuzz(func(t *testing.T, s string, bits int) {
		bits = 1 + abs(bits)%32
		q, ok := parseIPv4(s)
		a, err := netip.ParseAddr(s)
		if !ok {
			require.False(t, err == nil && a.Is4(), "netip reads %q as IPv4", s)
			return
		}
		require.NoError(t, err)
		require.True(t, a.Is4())
		require.Equal(t, a.As4(), q.octets)
		want := netip.PrefixFrom(a, bits).Masked().Addr().String()
		got := q.appendMasked(make([]byte, 0, len(s)), s, bits)
		require.Equal(t, want, string(got))
		require.LessOrEqual(t, len(got), len(s), "within Room(len(s))")
	})
}

// FuzzTruncateIP holds truncate-ip to netip alone (which reads every
// address, IPv4 included): the same value for every text and prefix
// length, the dotted-quad path (parseIPv4, appendMasked) among them.
func FuzzTruncateIP(f *testing.F) {
	for _, s := range []string{"203.0.113.9", "203.0.113.0", "203.0.0.0", "0.0.0.0", "10.0.0.1", "255.255.255.255", "01.2.3.4", "1.2.3",
		"1.2.3.4:80", "::ffff:1.2.3.4", "2001:db8::1", "1.2.3.4.", "-", "", "host",
		"2001:db8:abc::1234", "2001:0DB8:0:0:1:0:0:1", "::", "::1", "1::", "fe80::1%eth0", "::ffff:102:304", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::",
		"1:2:3:4:5:6:7:8::", "1::2::3", "12345::", ":1", "1:", "[2001:db8::1]:443", "2001:db8:0:0:1::1", "0:0:1:0:0:0:1:0"} {
		for _, bits := range []int{8, 16, 24, 32, 20, 48, 64, 100} {
			f.Add(s, bits)
		}
	}
	f.Fuzz(func(t *testing.T, s string, bits int) {
		// One prefix length for each family: the IPv6 one in full.
		m := masker{stages: mustStages(t, Options{IPv4Prefix: 1 + abs(bits)%32, IPv6Prefix: 1 + abs(bits)%128})}
		var want any = RedactedText
		switch a, err := netip.ParseAddr(s); {
		case s == "" || s == "-":
			want = s
		case err == nil:
			want = m.network(a).String()
		default:
			if ap, err := netip.ParseAddrPort(s); err == nil {
				want = netip.AddrPortFrom(m.network(ap.Addr()), ap.Port()).String()
			}
		}
		var b record.Builder
		require.Equal(t, want, m.truncateIP(&b, s))
	})
}

// TestAppendOctet writes every octet value as netip does.
func TestAppendOctet(t *testing.T) {
	for n := range 256 {
		a := netip.AddrFrom4([4]byte{byte(n), 0, 0, 0})
		require.Equal(t, a.String(), string(appendOctet(nil, byte(n)))+".0.0.0")
	}
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}

// TestAppendPartitionHourKeys holds the values remembered for an hour
// (keys of time parts only) to those written part by part, across hours
// and back, and with a field key that turns the memory off.
func TestAppendPartitionHourKeys(t *testing.T) {
	hourOnly := mustStages(t, Options{TimeField: "t", PartitionKeys: "year,month,day,hour"})
	require.True(t, hourOnly.hourKeysOnly)
	mixed := mustStages(t, Options{TimeField: "t", PartitionKeys: "year,month,day,hour,h=field:h"})
	require.False(t, mixed.hourKeysOnly)
	var times timeMemo
	var scratch []byte
	for _, ts := range []string{"2024-03-05T06:59:59Z", "2024-03-05T07:00:00Z", "2024-03-05T06:10:00Z", "2025-12-31T23:00:00Z"} {
		r := rec("t", ts, "h", "x")
		got, err := hourOnly.appendPartition(nil, r, arrival, &scratch, &times)
		require.NoError(t, err)
		all, err := mixed.appendPartition(nil, r, arrival, &scratch, nil)
		require.NoError(t, err)
		want := ts[:4] + "\x00" + ts[5:7] + "\x00" + ts[8:10] + "\x00" + ts[11:13] + "\x00"
		assert.Equal(t, want, string(got), ts)
		assert.Equal(t, want+"x\x00", string(all), ts)
	}
	_, err := hourOnly.appendPartition(nil, rec("t", "not a time"), arrival, &scratch, &times)
	assert.Error(t, err)
}

// FuzzHourPartition holds the date a pass remembers per day and the
// partition values it remembers per hour (timeMemo.dateHour,
// hourPartition) to working them out afresh, for times one after the other in any order: the same hour, the
// next, another day, before 1970.
func FuzzHourPartition(f *testing.F) {
	f.Add(int64(1709618828), int64(3600), int64(-86400))
	f.Add(int64(-1), int64(1), int64(86399))
	f.Add(int64(minEventSec), int64(maxEventSec-minEventSec), int64(-7))
	s, problems := compile(Options{TimeField: "t", PartitionKeys: "year,month,day,hour,date"})
	require.Empty(f, problems)
	var times timeMemo // kept across inputs, as a pass keeps it across records
	f.Fuzz(func(t *testing.T, start, step1, step2 int64) {
		span := int64(maxEventSec - minEventSec + 1)
		sec := minEventSec + ((start%span)+span)%span
		for _, step := range []int64{0, step1 % (3 * 86400), step2 % (400 * 86400)} {
			sec = minEventSec + ((sec-minEventSec+step)%span+span)%span
			tm := time.Unix(sec, 0).UTC()
			want := s.appendHourKeys(nil, dateHourOf(tm))
			require.Equal(t, dateHourOf(tm), times.dateHour(tm), "%v", tm)
			require.Equal(t, string(want), string(times.hourPartition(s, tm)), "%v", tm)
		}
	})
}

// FuzzEventTime holds eventTime's reading of a string, through a pass's
// memory of the last timestamp (timeMemo, kept across inputs), to
// parseTime without one and checkYear.
func FuzzEventTime(f *testing.F) {
	for _, s := range []string{"2024-03-05T06:07:08Z", "2024-03-05T06:07:08.5+01:00", "0000-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
		"9999-12-31T23:59:59.999Z", "10000-01-01T00:00:00Z", "1709618828", "1709618828123", "-99999999999", "x", ""} {
		f.Add(s)
	}
	s, problems := compile(Options{TimeField: "t"})
	require.Empty(f, problems)
	var times timeMemo
	arrival := time.Unix(1709618828, 0)
	f.Fuzz(func(t *testing.T, text string) {
		times.newLine()
		got, err := s.eventTime(&record.Record{Fields: []record.Field{{Name: "t", Value: text}}}, arrival, &times)
		want, wantErr := parseTime(text, nil)
		if wantErr != nil {
			wantErr = &FieldError{Field: "t", Err: wantErr}
		} else {
			want, wantErr = s.checkYear(want)
		}
		if wantErr != nil {
			require.EqualError(t, err, wantErr.Error(), "%q", text)
			return
		}
		require.NoError(t, err, "%q", text)
		require.Equal(t, want, got, "%q", text)
	})
}
