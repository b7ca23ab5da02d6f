package config_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
	"lakestream/shared/golden"
)

// env returns an Env over vars, so each case states exactly what is set.
func env(vars map[string]string) *config.Env { return config.New(config.FromMap(vars)) }

// problems unpacks Err into its *config.Error values, failing the test
// when Err holds anything else.
func problems(t *testing.T, e *config.Env) []*config.Error {
	t.Helper()
	err := e.Err()
	if err == nil {
		return nil
	}
	joined, ok := errors.Unwrap(err).(interface{ Unwrap() []error })
	require.True(t, ok, "Err must wrap an errors.Join of the problems, got %T", errors.Unwrap(err))
	var out []*config.Error
	for _, p := range joined.Unwrap() {
		var ce *config.Error
		require.True(t, errors.As(p, &ce), "problem %v is not a *config.Error", p)
		out = append(out, ce)
	}
	return out
}

// requireOneProblem checks that e recorded exactly one problem, for name,
// with the given value, and returns it.
func requireOneProblem(t *testing.T, e *config.Env, name, value string) *config.Error {
	t.Helper()
	ps := problems(t, e)
	require.Len(t, ps, 1, "want exactly one problem, got %v", e.Err())
	assert.Equal(t, name, ps[0].Name)
	assert.Equal(t, value, ps[0].Value)
	assert.Contains(t, e.Err().Error(), name, "the message must name the variable")
	assert.Contains(t, e.Err().Error(), ps[0].Accepts, "the message must say what the variable accepts")
	return ps[0]
}

func TestString(t *testing.T) {
	tests := map[string]struct {
		vars map[string]string
		want string
	}{
		"unset":              {vars: nil, want: "fallback"},
		"empty":              {vars: map[string]string{"NAME": ""}, want: "fallback"},
		"whitespace":         {vars: map[string]string{"NAME": " \t\n "}, want: "fallback"},
		"value":              {vars: map[string]string{"NAME": "orders"}, want: "orders"},
		"value trimmed":      {vars: map[string]string{"NAME": "  orders \n"}, want: "orders"},
		"inner space kept":   {vars: map[string]string{"NAME": " a b "}, want: "a b"},
		"other name ignored": {vars: map[string]string{"NAME2": "x"}, want: "fallback"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := env(tc.vars)
			assert.Equal(t, tc.want, e.String("NAME", "fallback"))
			assert.NoError(t, e.Err(), "String never records a problem")
		})
	}
}

func TestRequired(t *testing.T) {
	tests := map[string]struct {
		vars    map[string]string
		want    string
		missing bool
	}{
		"set":        {vars: map[string]string{"STREAM": "orders"}, want: "orders"},
		"trimmed":    {vars: map[string]string{"STREAM": " orders "}, want: "orders"},
		"unset":      {vars: nil, missing: true},
		"empty":      {vars: map[string]string{"STREAM": ""}, missing: true},
		"whitespace": {vars: map[string]string{"STREAM": "   "}, missing: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := env(tc.vars)
			assert.Equal(t, tc.want, e.Required("STREAM", "the delivery stream name"))
			if !tc.missing {
				assert.NoError(t, e.Err())
				return
			}
			p := requireOneProblem(t, e, "STREAM", "")
			assert.Equal(t, "the delivery stream name", p.Accepts)
			assert.Equal(t, "STREAM is required: the delivery stream name", p.Error())
		})
	}
}

func TestOneOf(t *testing.T) {
	allowed := []string{"lines", "json", "Splunk"}
	tests := map[string]struct {
		value   string
		want    string
		invalid bool
	}{
		"unset gives default":         {value: "", want: "lines"},
		"whitespace gives default":    {value: "  ", want: "lines"},
		"exact":                       {value: "json", want: "json"},
		"upper case":                  {value: "JSON", want: "json"},
		"mixed case":                  {value: "jSoN", want: "json"},
		"returned as spelled in list": {value: "splunk", want: "Splunk"},
		"trimmed":                     {value: " json ", want: "json"},
		"unknown gives default":       {value: "xml", want: "lines", invalid: true},
		"prefix is not a match":       {value: "js", want: "lines", invalid: true},
		"list is not one value":       {value: "json,lines", want: "lines", invalid: true},
		"inner space is not a match":  {value: "spl unk", want: "lines", invalid: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := env(map[string]string{"FORMAT": tc.value})
			assert.Equal(t, tc.want, e.OneOf("FORMAT", "lines", allowed...))
			if !tc.invalid {
				assert.NoError(t, e.Err())
				return
			}
			p := requireOneProblem(t, e, "FORMAT", strings.TrimSpace(tc.value))
			assert.Equal(t, "one of lines, json, Splunk", p.Accepts)
		})
	}
}

func TestInt(t *testing.T) {
	tests := map[string]struct {
		value   string
		want    int
		invalid bool
	}{
		"unset gives default":   {value: "", want: 20},
		"whitespace":            {value: " ", want: 20},
		"in range":              {value: "42", want: 42},
		"minimum":               {value: "1", want: 1},
		"maximum":               {value: "100", want: 100},
		"plus sign":             {value: "+7", want: 7},
		"trimmed":               {value: " 7 ", want: 7},
		"leading zeros":         {value: "007", want: 7},
		"below minimum":         {value: "0", want: 20, invalid: true},
		"above maximum":         {value: "101", want: 20, invalid: true},
		"negative":              {value: "-5", want: 20, invalid: true},
		"decimal":               {value: "1.5", want: 20, invalid: true},
		"word":                  {value: "ten", want: 20, invalid: true},
		"unit":                  {value: "5x", want: 20, invalid: true},
		"hex":                   {value: "0x10", want: 20, invalid: true},
		"overflows int64":       {value: "99999999999999999999", want: 20, invalid: true},
		"inner space":           {value: "1 0", want: 20, invalid: true},
		"underscore separators": {value: "1_0", want: 20, invalid: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := env(map[string]string{"MAX_ATTEMPTS": tc.value})
			assert.Equal(t, tc.want, e.Int("MAX_ATTEMPTS", 20, 1, 100))
			if !tc.invalid {
				assert.NoError(t, e.Err())
				return
			}
			p := requireOneProblem(t, e, "MAX_ATTEMPTS", strings.TrimSpace(tc.value))
			assert.Equal(t, "an integer from 1 to 100", p.Accepts)
		})
	}
}

func TestIntNegativeRange(t *testing.T) {
	e := env(map[string]string{"OFFSET": "-3"})
	assert.Equal(t, -3, e.Int("OFFSET", 0, -10, -1))
	assert.NoError(t, e.Err())
}

func TestBool(t *testing.T) {
	tests := map[string]struct {
		value   string
		def     bool
		want    bool
		invalid bool
	}{
		"unset gives default true":  {value: "", def: true, want: true},
		"unset gives default false": {value: "", def: false, want: false},
		"whitespace gives default":  {value: "  ", def: true, want: true},
		"true":                      {value: "true", want: true},
		"TRUE":                      {value: "TRUE", want: true},
		"1":                         {value: "1", want: true},
		"yes":                       {value: "yes", want: true},
		"Yes":                       {value: "Yes", want: true},
		"on":                        {value: "on", want: true},
		"false":                     {value: "false", def: true, want: false},
		"False":                     {value: "False", def: true, want: false},
		"0":                         {value: "0", def: true, want: false},
		"no":                        {value: "no", def: true, want: false},
		"off":                       {value: "off", def: true, want: false},
		"trimmed":                   {value: " yes ", want: true},
		"maybe":                     {value: "maybe", def: true, want: true, invalid: true},
		"2":                         {value: "2", want: false, invalid: true},
		"t":                         {value: "t", want: false, invalid: true},
		"y":                         {value: "y", want: false, invalid: true},
		"enabled":                   {value: "enabled", def: true, want: true, invalid: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := env(map[string]string{"GZIP": tc.value})
			assert.Equal(t, tc.want, e.Bool("GZIP", tc.def))
			if !tc.invalid {
				assert.NoError(t, e.Err())
				return
			}
			p := requireOneProblem(t, e, "GZIP", strings.TrimSpace(tc.value))
			assert.Equal(t, "true or false", p.Accepts)
		})
	}
}

func TestDuration(t *testing.T) {
	const def = 3 * time.Second
	tests := map[string]struct {
		value   string
		want    time.Duration
		invalid bool
	}{
		"unset gives default": {value: "", want: def},
		"whitespace":          {value: "\t", want: def},
		"milliseconds":        {value: "250ms", want: 250 * time.Millisecond},
		"seconds":             {value: "2s", want: 2 * time.Second},
		"compound":            {value: "1h30m", want: 90 * time.Minute},
		"fraction":            {value: "1.5s", want: 1500 * time.Millisecond},
		"nanosecond":          {value: "1ns", want: time.Nanosecond},
		"trimmed":             {value: " 2s ", want: 2 * time.Second},
		"zero":                {value: "0s", want: def, invalid: true},
		"bare zero":           {value: "0", want: def, invalid: true},
		"negative":            {value: "-1s", want: def, invalid: true},
		"no unit":             {value: "5", want: def, invalid: true},
		"unknown unit":        {value: "5d", want: def, invalid: true},
		"word":                {value: "soon", want: def, invalid: true},
		"overflow":            {value: "9999999999h", want: def, invalid: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := env(map[string]string{"TIMEOUT": tc.value})
			assert.Equal(t, tc.want, e.Duration("TIMEOUT", def))
			if !tc.invalid {
				assert.NoError(t, e.Err())
				return
			}
			p := requireOneProblem(t, e, "TIMEOUT", strings.TrimSpace(tc.value))
			assert.Contains(t, p.Accepts, "positive duration")
		})
	}
}

// bytesCases is shared by TestParseBytes, TestBytes and FuzzParseBytes.
var bytesCases = map[string]struct {
	in      string
	want    int64
	invalid bool
}{
	"plain":                    {in: "1048576", want: 1 << 20},
	"one":                      {in: "1", want: 1},
	"B":                        {in: "7B", want: 7},
	"KiB":                      {in: "64KiB", want: 64 << 10},
	"MiB":                      {in: "5MiB", want: 5 << 20},
	"GiB":                      {in: "1GiB", want: 1 << 30},
	"KB":                       {in: "1KB", want: 1000},
	"MB":                       {in: "10MB", want: 10_000_000},
	"GB":                       {in: "2GB", want: 2_000_000_000},
	"space before unit":        {in: "5 MiB", want: 5 << 20},
	"largest plain":            {in: "4611686018427387904", want: 1 << 62},
	"largest KiB":              {in: "4503599627370496KiB", want: 1 << 62},
	"largest GB":               {in: "4611686018GB", want: 4611686018 * 1000 * 1000 * 1000},
	"zero":                     {in: "0", invalid: true},
	"zero with unit":           {in: "0MiB", invalid: true},
	"negative":                 {in: "-1", invalid: true},
	"negative with unit":       {in: "-1KiB", invalid: true},
	"fraction":                 {in: "1.5MB", invalid: true},
	"unit only":                {in: "MB", invalid: true},
	"lower-case unit":          {in: "1kb", invalid: true},
	"unknown unit":             {in: "10TB", invalid: true},
	"bits":                     {in: "8b", invalid: true},
	"unit first":               {in: "MB10", invalid: true},
	"two units":                {in: "1KiBKiB", invalid: true},
	"empty":                    {in: "", invalid: true},
	"over 2^62 plain":          {in: "4611686018427387905", invalid: true},
	"overflows with KiB":       {in: "4503599627370497KiB", invalid: true},
	"overflows with GiB":       {in: "9223372036854775807GiB", invalid: true},
	"overflows int64":          {in: "99999999999999999999", invalid: true},
	"overflows int64 with MiB": {in: "99999999999999999999MiB", invalid: true},
}

func TestParseBytes(t *testing.T) {
	for name, tc := range bytesCases {
		t.Run(name, func(t *testing.T) {
			got, err := config.ParseBytes(tc.in)
			if tc.invalid {
				assert.Error(t, err)
				assert.Zero(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestBytes(t *testing.T) {
	const def = int64(6_000_000)
	for name, tc := range bytesCases {
		if tc.in == "" {
			continue // an empty variable is unset, covered below
		}
		t.Run(name, func(t *testing.T) {
			e := env(map[string]string{"MAX_BYTES": " " + tc.in + " "})
			got := e.Bytes("MAX_BYTES", def)
			if !tc.invalid {
				assert.Equal(t, tc.want, got)
				assert.NoError(t, e.Err())
				return
			}
			assert.Equal(t, def, got)
			p := requireOneProblem(t, e, "MAX_BYTES", tc.in)
			assert.Contains(t, p.Accepts, "byte count")
		})
	}
	t.Run("unset gives default", func(t *testing.T) {
		e := env(nil)
		assert.Equal(t, def, e.Bytes("MAX_BYTES", def))
		assert.NoError(t, e.Err())
	})
}

func TestList(t *testing.T) {
	tests := map[string]struct {
		value string
		want  []string
	}{
		"unset":             {value: "", want: nil},
		"whitespace":        {value: "   ", want: nil},
		"one":               {value: "a", want: []string{"a"}},
		"several":           {value: "a,b,c", want: []string{"a", "b", "c"}},
		"items trimmed":     {value: " a , b ,c ", want: []string{"a", "b", "c"}},
		"empty items":       {value: "a,,b,", want: []string{"a", "b"}},
		"blank items":       {value: ",  , a", want: []string{"a"}},
		"only commas":       {value: ",,,", want: nil},
		"order kept":        {value: "z,a,m", want: []string{"z", "a", "m"}},
		"duplicates kept":   {value: "a,a", want: []string{"a", "a"}},
		"inner spaces kept": {value: "first name, last name", want: []string{"first name", "last name"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := env(map[string]string{"FIELDS": tc.value})
			assert.Equal(t, tc.want, e.List("FIELDS"))
			assert.NoError(t, e.Err(), "List never records a problem")
		})
	}
}

func TestMap(t *testing.T) {
	tests := map[string]struct {
		value   string
		want    map[string]string
		invalid bool
	}{
		"unset":                    {value: "", want: nil},
		"whitespace":               {value: " ", want: nil},
		"one pair":                 {value: "a=x", want: map[string]string{"a": "x"}},
		"several pairs":            {value: "a=x,b=y", want: map[string]string{"a": "x", "b": "y"}},
		"trimmed":                  {value: " a = x , b= y ", want: map[string]string{"a": "x", "b": "y"}},
		"empty value":              {value: "a=", want: map[string]string{"a": ""}},
		"equals in value":          {value: "q=a=b", want: map[string]string{"q": "a=b"}},
		"empty items skipped":      {value: "a=x,,", want: map[string]string{"a": "x"}},
		"last duplicate wins":      {value: "a=x,a=y", want: map[string]string{"a": "y"}},
		"missing equals":           {value: "a=x,b", invalid: true},
		"missing key":              {value: "=x", invalid: true},
		"blank key":                {value: " =x", invalid: true},
		"only a word":              {value: "oops", invalid: true},
		"colon is not a separator": {value: "a:x", invalid: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := env(map[string]string{"TAGS": tc.value})
			got := e.Map("TAGS")
			if !tc.invalid {
				assert.Equal(t, tc.want, got)
				assert.NoError(t, e.Err())
				return
			}
			assert.Nil(t, got, "an invalid map must not be half-used")
			p := requireOneProblem(t, e, "TAGS", strings.TrimSpace(tc.value))
			assert.Contains(t, p.Accepts, "key=value")
		})
	}
}

func TestHas(t *testing.T) {
	e := env(map[string]string{"SET": "x", "EMPTY": "", "BLANK": "  "})
	assert.True(t, e.Has("SET"))
	assert.False(t, e.Has("EMPTY"))
	assert.False(t, e.Has("BLANK"))
	assert.False(t, e.Has("UNSET"))
	assert.NoError(t, e.Err())
}

// TestParse uses a custom parser for a value no accessor covers: a port.
func TestParse(t *testing.T) {
	const accepts = "a TCP port from 1 to 65535"
	port := func(s string) (uint16, error) {
		n, err := strconv.ParseUint(s, 10, 16)
		if err == nil && n == 0 {
			err = errors.New("port 0")
		}
		return uint16(n), err
	}
	tests := map[string]struct {
		value   string
		want    uint16
		invalid bool
	}{
		"unset gives default":  {value: "", want: 8080},
		"valid":                {value: "443", want: 443},
		"trimmed before parse": {value: " 9000 ", want: 9000},
		"parser error":         {value: "http", want: 8080, invalid: true},
		"parser range error":   {value: "70000", want: 8080, invalid: true},
		"parser own check":     {value: "0", want: 8080, invalid: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := env(map[string]string{"PORT": tc.value})
			assert.Equal(t, tc.want, config.Parse(e, "PORT", 8080, accepts, port))
			if !tc.invalid {
				assert.NoError(t, e.Err())
				return
			}
			p := requireOneProblem(t, e, "PORT", strings.TrimSpace(tc.value))
			assert.Equal(t, accepts, p.Accepts)
			assert.Equal(t, fmt.Sprintf("PORT=%q is invalid: %s", strings.TrimSpace(tc.value), accepts), p.Error())
		})
	}
	t.Run("parser not called when unset", func(t *testing.T) {
		called := false
		got := config.Parse(env(nil), "PORT", 1, accepts, func(string) (int, error) {
			called = true
			return 2, nil
		})
		assert.Equal(t, 1, got)
		assert.False(t, called)
	})
	t.Run("parser sees the trimmed value", func(t *testing.T) {
		var seen string
		config.Parse(env(map[string]string{"PORT": "\t80\n"}), "PORT", 0, accepts, func(s string) (int, error) {
			seen = s
			return 0, nil
		})
		assert.Equal(t, "80", seen)
	})
}

func TestFail(t *testing.T) {
	e := env(map[string]string{"FORMAT": "splunk"})
	assert.NoError(t, e.Err())
	e.Fail("SPLUNK_INDEX", "", "an index name when FORMAT is splunk")
	e.Fail("BATCH_SIZE", "900", "at most 500 when FORMAT is splunk")

	ps := problems(t, e)
	require.Len(t, ps, 2)
	assert.Equal(t, &config.Error{Name: "SPLUNK_INDEX", Value: "", Accepts: "an index name when FORMAT is splunk"}, ps[0])
	assert.Equal(t, &config.Error{Name: "BATCH_SIZE", Value: "900", Accepts: "at most 500 when FORMAT is splunk"}, ps[1])
	assert.Equal(t, "invalid configuration: "+
		"SPLUNK_INDEX is required: an index name when FORMAT is splunk\n"+
		`BATCH_SIZE="900" is invalid: at most 500 when FORMAT is splunk`, e.Err().Error())
}

func TestErrJoinsEveryProblem(t *testing.T) {
	e := env(map[string]string{
		"FORMAT":  "xml",
		"RETRIES": "many",
		"GZIP":    "perhaps",
		"TIMEOUT": "-2s",
		"MAX":     "1TB",
		"TAGS":    "a",
		"PORT":    "x",
	})
	e.Required("STREAM", "the delivery stream name")
	e.OneOf("FORMAT", "lines", "lines", "json")
	e.Int("RETRIES", 3, 1, 10)
	e.Bool("GZIP", false)
	e.Duration("TIMEOUT", time.Second)
	e.Bytes("MAX", 1)
	e.Map("TAGS")
	config.Parse(e, "PORT", 0, "a port", strconv.Atoi)
	e.Fail("CUSTOM", "v", "something else")

	err := e.Err()
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "invalid configuration: "), err.Error())

	want := []struct{ name, value, accepts string }{
		{"STREAM", "", "the delivery stream name"},
		{"FORMAT", "xml", "one of lines, json"},
		{"RETRIES", "many", "an integer from 1 to 10"},
		{"GZIP", "perhaps", "true or false"},
		{"TIMEOUT", "-2s", `a positive duration such as "500ms" or "2s"`},
		{"MAX", "1TB", `a byte count such as "1048576", "512KiB" or "10MB"`},
		{"TAGS", "a", `comma-separated key=value pairs such as "a=x,b=y"`},
		{"PORT", "x", "a port"},
		{"CUSTOM", "v", "something else"},
	}
	ps := problems(t, e)
	require.Len(t, ps, len(want), "every problem must be kept, in the order read")
	lines := strings.Split(strings.TrimPrefix(err.Error(), "invalid configuration: "), "\n")
	require.Len(t, lines, len(want), "one line per problem")
	for i, w := range want {
		assert.Equal(t, w.name, ps[i].Name)
		assert.Equal(t, w.value, ps[i].Value)
		assert.Equal(t, w.accepts, ps[i].Accepts)
		assert.Contains(t, lines[i], w.name)
		assert.Contains(t, lines[i], w.accepts)
		if w.value != "" {
			assert.Contains(t, lines[i], strconv.Quote(w.value))
		}
	}

	var ce *config.Error
	require.True(t, errors.As(err, &ce), "callers can get at the first problem with errors.As")
	assert.Equal(t, "STREAM", ce.Name)
}

func TestErrNilWhenValid(t *testing.T) {
	e := env(map[string]string{"STREAM": "s", "N": "5"})
	e.Required("STREAM", "a name")
	e.Int("N", 1, 1, 10)
	e.OneOf("UNSET", "a", "a", "b")
	assert.NoError(t, e.Err())
	assert.NoError(t, e.Err(), "Err can be called again")
}

// settings is a function's configuration as main reads it, covering every
// accessor; TestGolden runs it over each testdata/<case>.env.
func settings(e *config.Env) map[string]any {
	return map[string]any{
		"stream":       e.Required("DELIVERY_STREAM", "the delivery stream name"),
		"format":       e.OneOf("OUTPUT_FORMAT", "lines", "lines", "json", "splunk"),
		"max_attempts": e.Int("MAX_ATTEMPTS", 20, 1, 100),
		"gzip":         e.Bool("GZIP", false),
		"timeout":      e.Duration("TIMEOUT", 2*time.Second).String(),
		"max_bytes":    e.Bytes("MAX_BYTES", 6_000_000),
		"fields":       e.List("FIELDS"),
		"tags":         e.Map("TAGS"),
	}
}

// readEnv reads a KEY=VALUE file; values keep their spaces, # starts a comment line.
func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "%s: line %q has no =", path, line)
		vars[k] = v
	}
	require.NoError(t, sc.Err())
	return vars
}

// TestGolden reads each testdata/<case>.env with settings and compares the
// values and the error with <case>.golden.json.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.env")
	require.NoError(t, err)
	require.NotEmpty(t, inputs)
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".env")
		t.Run(name, func(t *testing.T) {
			e := env(readEnv(t, in))
			result := map[string]any{"values": settings(e), "error": nil}
			if err := e.Err(); err != nil {
				result["error"] = strings.Split(err.Error(), "\n")
			}
			golden.JSON(t, strings.TrimSuffix(in, ".env")+".golden.json", result)
		})
	}
}

// FuzzParseBytes checks that ParseBytes never panics, accepts only counts
// in [1, 2^62], and agrees with itself on the plain form of what it returns.
func FuzzParseBytes(f *testing.F) {
	for _, tc := range bytesCases {
		f.Add(tc.in)
	}
	inputs, err := filepath.Glob("testdata/*.env")
	require.NoError(f, err)
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		require.NoError(f, err)
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "MAX_BYTES="); ok {
				f.Add(strings.TrimSpace(v))
			}
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := config.ParseBytes(s)
		if err != nil {
			assert.Zero(t, n)
			return
		}
		require.GreaterOrEqual(t, n, int64(1))
		require.LessOrEqual(t, n, int64(1)<<62)
		plain := strconv.FormatInt(n, 10)
		again, err := config.ParseBytes(plain)
		require.NoError(t, err, "the plain form %s of %q must parse", plain, s)
		assert.Equal(t, n, again)
		withB, err := config.ParseBytes(plain + "B")
		require.NoError(t, err)
		assert.Equal(t, n, withB)
		if n%1024 == 0 {
			kib, err := config.ParseBytes(strconv.FormatInt(n/1024, 10) + "KiB")
			require.NoError(t, err)
			assert.Equal(t, n, kib)
		}
	})
}

func BenchmarkParseBytes(b *testing.B) {
	const in = "512KiB"
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := config.ParseBytes(in); err != nil {
			b.Fatal(err)
		}
	}
}
