package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/firehose"
	"lakestream/shared/record"
)

// The Pipeline's method must fit the framework's per-record contract.
var _ firehose.Transform = (*Pipeline)(nil).Transform

// TestPartitionKeysOfHours: records of hours in any order, as an access
// log's batch brings them, get their hour's keys, one map for each hour
// (see pass.partitionMap).
func TestPartitionKeysOfHours(t *testing.T) {
	p, err := New(parseKV, Options{TimeField: "time", PartitionKeys: "year,month,day,hour"})
	require.NoError(t, err)
	ctx := context.Background()
	maps := map[string]map[string]string{}
	for _, hour := range []string{"06", "07", "06", "23", "07", "07", "06"} {
		out, err := p.Transform(ctx, firehose.Record{Data: []byte("time=2024-03-05T" + hour + ":01:02Z\n"), ArrivalTime: arrival})
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"year": "2024", "month": "03", "day": "05", "hour": hour}, out.PartitionKeys)
		if m, ok := maps[hour]; ok {
			assert.Equal(t, reflect.ValueOf(m).Pointer(), reflect.ValueOf(out.PartitionKeys).Pointer(), "hour %s's map again", hour)
		}
		maps[hour] = out.PartitionKeys
	}
}

func TestTakeStats(t *testing.T) {
	p, err := New(parseKV, Options{DropIf: "method=HEAD", Schema: "status:int:..599"})
	require.NoError(t, err)
	ctx := context.Background()

	_, err = p.Transform(ctx, firehose.Record{Data: []byte("# comment\nmethod=GET status=200\nmethod=HEAD\nmethod=GET status=201\n")})
	require.NoError(t, err)
	out, err := p.Transform(ctx, firehose.Record{Data: []byte("method=HEAD\n# only a comment\n")})
	require.NoError(t, err)
	assert.True(t, out.Drop)
	// A failed record adds nothing: the framework counts it as failed.
	_, err = p.Transform(ctx, firehose.Record{Data: []byte("method=GET status=200\nmethod=GET status=700\n")})
	require.Error(t, err)

	assert.Equal(t, Stats{Skipped: 2, Filtered: 2, Written: 2}, p.TakeStats())
	assert.Equal(t, Stats{}, p.TakeStats(), "TakeStats resets")
}

// TestNewAtGivesArrivalTime: a ParserAt sees each record's arrival time,
// in UTC, whatever location the framework's time carries.
func TestNewAtGivesArrivalTime(t *testing.T) {
	var seen []time.Time
	p, err := NewAt(func(line []byte, arrival time.Time) (*record.Record, error) {
		seen = append(seen, arrival)
		return parseKV(line)
	}, Options{})
	require.NoError(t, err)
	east := time.FixedZone("UTC+2", 2*3600)
	for _, at := range []time.Time{arrival.In(east), arrival.Add(time.Hour)} {
		_, err := p.Transform(context.Background(), firehose.Record{Data: []byte("a=1\nb=2\n"), ArrivalTime: at})
		require.NoError(t, err)
	}
	require.Len(t, seen, 4, "once per line")
	assert.Equal(t, []time.Time{arrival, arrival, arrival.Add(time.Hour), arrival.Add(time.Hour)}, seen)
	assert.Equal(t, time.UTC, seen[0].Location())

	_, err = NewAt(nil, Options{})
	assert.Error(t, err)
}

func TestTransformErrors(t *testing.T) {
	p, err := New(parseKV, Options{Schema: "status:int:..599", PartitionKeys: "hour", TimeField: "time"})
	require.NoError(t, err)

	_, err = p.Transform(context.Background(), firehose.Record{Data: []byte("status=200\n\nstatus=700\n")})
	var lineErr *LineError
	require.ErrorAs(t, err, &lineErr)
	assert.Equal(t, 3, lineErr.Line)
	var fieldErr *FieldError
	require.ErrorAs(t, err, &fieldErr)
	assert.Equal(t, "status", fieldErr.Field)

	_, err = p.Transform(context.Background(), firehose.Record{
		Data: []byte("time=2024-03-05T06:00:00Z\ntime=2024-03-05T07:00:00Z\n"), ArrivalTime: arrival,
	})
	assert.ErrorIs(t, err, ErrMixedPartitions)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = p.Transform(ctx, firehose.Record{Data: []byte("status=200\n")})
	assert.ErrorIs(t, err, context.Canceled)
}

// TestTransformConcurrent runs one Pipeline from many goroutines, as a
// framework processing records in parallel would; run with -race.
func TestTransformConcurrent(t *testing.T) {
	p, err := New(ParseJSON, Options{
		MaskFields: "user=hash,ip=truncate-ip,profile.email=redact", HashSalt: "s",
		ArrivalTimeField: "received_at", PartitionKeys: "year,month", DropIf: "skip=true",
	})
	require.NoError(t, err)
	var wg sync.WaitGroup
	outputs := make([][]byte, 8)
	for g := range outputs {
		wg.Go(func() {
			var data bytes.Buffer
			for i := range 50 {
				fmt.Fprintf(&data, `{"user":"u%d","ip":"10.0.%d.1","profile":{"email":"e"},"skip":%v}`+"\n", i, i, i%10 == 0)
			}
			out, err := p.Transform(context.Background(), firehose.Record{Data: data.Bytes(), ArrivalTime: arrival})
			assert.NoError(t, err)
			outputs[g] = out.Data
		})
	}
	wg.Wait()
	for _, o := range outputs[1:] {
		assert.Equal(t, string(outputs[0]), string(o), "every goroutine transformed the same input the same way")
	}
	assert.Equal(t, Stats{Filtered: 8 * 5, Written: 8 * 45}, p.TakeStats())
}

// TestTransformOutputsStay: the firehose framework keeps every record's
// output until it writes the response, so an output must not change while
// the pipeline goes on with later records (small ones share blocks, large
// ones are written in buffers of their own, or in the framework's arena,
// firehose.Record.Out, one after the other; the pass is reused).
func TestTransformOutputsStay(t *testing.T) {
	opts := Options{ArrivalTimeField: "received_at", PartitionKeys: "year,hour", MaskFields: "ip=truncate-ip"}
	for _, arenaSize := range []int{0, 64 << 10} {
		p, err := New(ParseJSON, opts)
		require.NoError(t, err)
		arena := make([]byte, 0, arenaSize)
		var records []firehose.Record
		var outputs []firehose.Output
		inArena := 0
		for i := range 300 {
			var data bytes.Buffer
			for j := range 1 + (i%7)*(i%7)*20 { // from one line to hundreds
				fmt.Fprintf(&data, `{"n":%d,"ip":"10.0.%d.%d","msg":"line %d of record %d"}`+"\n", j, i%256, j%256, j, i)
			}
			r := firehose.Record{Data: data.Bytes(), ArrivalTime: arrival.Add(time.Duration(i) * time.Second)}
			if arenaSize > 0 {
				r.Out = arena[len(arena):len(arena)]
			}
			out, err := p.Transform(context.Background(), r)
			require.NoError(t, err)
			if free := arena[len(arena):cap(arena)]; len(out.Data) > 0 && len(free) > 0 && &out.Data[0] == &free[:1][0] {
				arena = arena[:len(arena)+len(out.Data)] // taken, as the framework takes it
				inArena++
			}
			r.Out = nil
			records, outputs = append(records, r), append(outputs, out)
		}
		if arenaSize > 0 {
			assert.Greater(t, inArena, 10, "outputs are written in the arena while it has room")
		}
		for i, r := range records {
			fresh, err := New(ParseJSON, opts)
			require.NoError(t, err)
			want, err := fresh.Transform(context.Background(), r)
			require.NoError(t, err)
			require.Equal(t, string(want.Data), string(outputs[i].Data), "record %d, arena of %d", i, arenaSize)
			require.Equal(t, want.PartitionKeys, outputs[i].PartitionKeys, "record %d", i)
		}
	}
}

// specItemCount is the number of non-empty comma-separated items in spec.
func specItemCount(spec string) int {
	n := 0
	for range specItems(spec, ",") {
		n++
	}
	return n
}

// checkSpec holds for every spec parser: success gives one rule per item,
// and an error names one of the spec's items, so an operator can find it.
func checkSpec(t *testing.T, spec string, rules int, err error) {
	if err != nil {
		named := false
		for item := range specItems(spec, ",") {
			named = named || strings.Contains(err.Error(), fmt.Sprintf("item %q", item))
		}
		assert.True(t, named, "error %q names no item of %q", err, spec)
		return
	}
	assert.Equal(t, specItemCount(spec), rules)
}

func FuzzParseMasks(f *testing.F) {
	for _, s := range []string{"remote_host=truncate-ip,user=hash,cookie=drop", "a.b=redact", "x", "a=b=c", " , ", "a..b=drop", "u=hash,u=drop"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		masks, err := parseMasks(spec)
		checkSpec(t, spec, len(masks), err)
	})
}

func FuzzParseSchema(f *testing.F) {
	for _, s := range []string{
		"status:int:100..599,bytes:int:0..,user_agent:string:max=512,time:timestamp,remote_host:string:required",
		"f:float:-1.5..1e3", "a:b", "a:int:..", "a:string:max=", "a:int:5..1", "x:float:NaN..",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		rules, err := parseSchema(spec)
		checkSpec(t, spec, len(rules), err)
		for _, r := range rules {
			assert.False(t, r.hasMin && r.hasMax && (r.minI > r.maxI || r.minF > r.maxF), "inverted range accepted")
		}
	})
}

// FuzzRuleFits holds validateIn's shortcut (fieldRule.fits) to check: a
// value it passes, check passes.
func FuzzRuleFits(f *testing.F) {
	for _, s := range []string{"int:100..599", "int:0..", "int:..-3", "string:max=3", "string:required", "float:-1.5..1e3", "timestamp", "bool"} {
		f.Add(s, int64(200), 2.5, "2024-03-05T06:07:08Z")
	}
	f.Add("int:-9223372036854775808..9223372036854775807", int64(-1<<63), -0.0, "é")
	f.Fuzz(func(t *testing.T, spec string, n int64, x float64, text string) {
		r, err := parseFieldRule("f:" + spec)
		if err != nil {
			return
		}
		for _, v := range []any{nil, n, x, text, true, json.RawMessage(text)} {
			if r.fits(v) {
				require.NoError(t, r.check(v, nil), "%s: %#v", spec, v)
			}
		}
	})
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"method=HEAD,user_agent^=ELB", `uri~=\.png$&status=304`, "a", "a~=(", "a^=", "=x", "a=1&&b=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		filter, err := parseFilter(spec)
		checkSpec(t, spec, len(filter), err)
	})
}

func FuzzParsePartitionKeys(f *testing.F) {
	for _, s := range []string{"year,month,day,hour", "status_class=field:status,dt=date", "yr", "a-b=year", "k=field:", "year,year"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		keys, err := parsePartitionKeys(spec, nil)
		checkSpec(t, spec, len(keys), err)
	})
}

// FuzzTransformJSON runs whole records through the JSON pipeline with every
// stage on: no input may panic, and output is always valid JSON lines with
// partition keys safe for S3.
func FuzzTransformJSON(f *testing.F) {
	for _, s := range jsonSeeds(f) {
		f.Add(s)
	}
	p, err := New(ParseJSON, Options{
		Split: SplitJSON, ArrivalTimeField: "received_at",
		MaskFields: "ip=truncate-ip,user.email=hash,secret=drop", HashSalt: "s",
		DropIf: "level=debug", Schema: "status:int:100..599",
		TimeField: "time", PartitionKeys: "year,day,host=field:host",
	})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := p.Transform(context.Background(), firehose.Record{Data: data, ArrivalTime: arrival})
		if err != nil {
			var lineErr *LineError
			assert.True(t, errors.As(err, &lineErr), "error without a line number: %v", err)
			return
		}
		for line := range bytes.Lines(out.Data) {
			require.True(t, json.Valid(line), "invalid output line %q", line)
		}
		for k, v := range out.PartitionKeys {
			assert.NotEmpty(t, v, k)
			assert.NotContains(t, v, "/", k)
		}
	})
}

// FuzzJSONDocumentsOnePass holds Transform's one-pass reading of JSON
// documents (ParseJSONInto with SplitJSON parses each straight from the
// record's data, keeping the members no stage reads verbatim) to cutting
// each out first and parsing it then, which a wrapped ParseJSONInto gets:
// the same output, keys and error, in every format (lines and splunk write
// the documents' text) and with every stage that reads fields.
func FuzzJSONDocumentsOnePass(f *testing.F) {
	for _, s := range jsonSeeds(f) {
		for format := range uint8(8) {
			f.Add(s, format)
		}
	}
	f.Add([]byte("{\"a\":1}{\"b\":2} [3]\n{\"c\":\n 4}\n x"), uint8(1))
	f.Add([]byte(`{"a":"}"} {"b":{"c":[}`), uint8(2))
	// Values the writer would write otherwise than they came, in fields
	// the stages read and in others, one document after another with the
	// same keys (as a stream has them).
	for _, v := range []string{`"x\u00e9\/y"`, "\"a\u2028b\u2029\"", "\"\xff\"", `-0`, `-0.0`, `1e400`, `12345678901234567890`, `{ "a" : [ 1 , "b c" ] }`, `"a b"`, `"café"`} {
		doc := `{"event": ` + v + `, "ip": ` + v + `, "ts": "2024-03-05T06:07:08Z", "message": ` + v + `, "other": ` + v + "}\n"
		for format := range uint8(8) {
			f.Add([]byte(doc+doc), format)
		}
	}
	// Documents after the first with its keys written otherwise: escaped,
	// spaced, another key in a shape key's place, a key repeated.
	first := `{"event":"a","user_id":"u","page":"/p","amount":1.5,"ts":"2024-03-05T06:07:08Z","ua":"x"}` + "\n"
	for _, next := range []string{
		`{"event":"b","user_id":"v","p\u0061ge":"/q","amount":2,"ts":"2024-03-05T06:07:09Z","ua":"y"}`,
		`{"event":"b","user_id":"v","page" :"/q","amount": 2 ,"ts":"2024-03-05T06:07:09Z", "ua":"y"}`,
		`{"event":"b","user_id":"v","pages":"/q","amount":2,"ts":"2024-03-05T06:07:09Z","ua":"y"}`,
		`{"event":"b","user_id":"v","page":"/q","amount":2,"page":"/r","ts":"2024-03-05T06:07:09Z","ua":"y"}`,
		`{"event":"b","user_id":"v","page":"/q","amount":2}`,
	} {
		for format := range uint8(8) {
			f.Add([]byte(first+next+"\n"+first), format)
		}
	}
	// Runs of members read with MembersAsIs, members a stage reads read
	// with NextStringIs (readPlain), and members that leave it to
	// readObject: written otherwise than the writer writes them, not
	// plain strings, not valid, or spaced.
	event := `{"event":"a","user_id":"u","session":"s-1","ip":"1.2.3.4","ts":"2024-03-05T06:07:08Z","page":"/p","amount":1.5,"items":[{"sku":"S","qty":1,"price":2.5}],"ua":"x"}` + "\n"
	for _, v := range []string{`"y"`, `-0`, `-0.5`, `[{"sku":"a b"}]`, `["\u0041"]`, `"caf\u00e9"`, "\"caf\xc3\xa9\"", `[1,]`, `{"a":1 }`, `tru`, `01`, `[[[[]]]]`, `{}`, `null`} {
		for _, member := range []string{`"event":"a"`, `"user_id":"u"`, `"ip":"1.2.3.4"`, `"ts":"2024-03-05T06:07:08Z"`, `"session":"s-1"`, `"page":"/p"`, `"amount":1.5`, `"items":[{"sku":"S","qty":1,"price":2.5}]`, `"ua":"x"`} {
			name, _, _ := strings.Cut(member, ":")
			next := strings.Replace(event, member, name+":"+v, 1)
			f.Add([]byte(event+next+event), uint8(3))
			f.Add([]byte(event+strings.Replace(event, ","+member, " ,"+member, 1)+event), uint8(3))
		}
	}
	// The template's settings for firehose-json, and settings under which
	// other stages read fields: FIELDS, OUTPUT_COLUMNS, SPLUNK_HOST,
	// EMBED_JSON_MESSAGE, a nested path.
	formats := []Options{
		{Split: SplitJSON, DropIf: "level=debug", TimeField: "time", PartitionKeys: "year,host=field:host"},
		{Split: SplitJSON, OutputFormat: FormatLines},
		{Split: SplitJSON, OutputFormat: FormatSplunk, EmbedJSON: true},
		{Split: SplitJSON, ArrivalTimeField: "arrival_time", TimeField: "ts", PartitionKeys: "year,month,day,hour",
			MaskFields: "ip=truncate-ip", DropIf: "event=healthcheck", Schema: "event:string:required,user_id:string:max=128,ts:timestamp"},
		{Split: SplitJSON, Fields: "e=event,*,nested=other.a", ArrivalTimeField: "other"},
		{Split: SplitJSON, OutputFormat: FormatCSV, OutputColumns: "event,ip,other.a,message"},
		{Split: SplitJSON, EmbedJSON: true, MaskFields: "event=hash,user.id=redact", HashSalt: "s"},
		{Split: SplitJSON, OutputFormat: FormatSplunk, SplunkHost: "field:ip", SplunkSource: "field:other"},
	}
	type pair struct{ onePass, cut *Pipeline }
	var pipes []pair
	for _, o := range formats {
		onePass, err := NewInto(ParseJSONInto, o)
		require.NoError(f, err)
		require.True(f, onePass.jsonDocs)
		cut, err := NewInto(func(r *record.Builder, line []byte, at time.Time) (bool, error) {
			return ParseJSONInto(r, line, at)
		}, o)
		require.NoError(f, err)
		require.False(f, cut.jsonDocs)
		pipes = append(pipes, pair{onePass, cut})
	}
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		p := pipes[int(format)%len(pipes)]
		rec := firehose.Record{Data: data, ArrivalTime: arrival}
		want, wantErr := p.cut.Transform(context.Background(), rec)
		got, err := p.onePass.Transform(context.Background(), rec)
		if wantErr != nil {
			require.Error(t, err)
			require.Equal(t, wantErr.Error(), err.Error())
			return
		}
		require.NoError(t, err)
		require.Equal(t, string(want.Data), string(got.Data))
		require.Equal(t, want.PartitionKeys, got.PartitionKeys)
		require.Equal(t, want.Drop, got.Drop)
	})
}

// TestRewoundArenaCaches: Transform rewinds the arena each line's values
// come from, so the next line's values take the same memory. What the
// pipeline remembers from line to line (the JSON member names written,
// the shape of the last document, the last event time parsed) must be
// copies: a name or time kept by reference would read as the next line's
// and be taken for it.
func TestRewoundArenaCaches(t *testing.T) {
	into := func(r *record.Builder, line []byte, _ time.Time) (bool, error) {
		// Every line's name and time are copied into the arena first
		// thing, so consecutive lines put them at the same address.
		name, when, _ := bytes.Cut(line, []byte(" "))
		r.Fields = append(r.Fields, record.Field{Name: r.Text(name), Value: r.Box(r.Text(when))})
		return true, nil
	}
	p, err := NewInto(into, Options{TimeField: "ab", PartitionKeys: "hour", Schema: "ab:timestamp"})
	require.NoError(t, err)
	ctx := context.Background()
	for _, c := range []struct{ line, want, hour string }{
		{"ab 2024-03-05T06:07:08Z", `{"ab":"2024-03-05T06:07:08Z"}` + "\n", "06"},
		{"ab 2024-03-05T07:07:08Z", `{"ab":"2024-03-05T07:07:08Z"}` + "\n", "07"},
	} {
		out, err := p.Transform(ctx, firehose.Record{Data: []byte(c.line), ArrivalTime: arrival})
		require.NoError(t, err)
		assert.Equal(t, c.want, string(out.Data))
		assert.Equal(t, map[string]string{"hour": c.hour}, out.PartitionKeys, "the time of this line, not the last")
	}

	q, err := New(ParseJSON, Options{Split: SplitJSON})
	require.NoError(t, err)
	pj, err := NewInto(ParseJSONInto, Options{Split: SplitJSON})
	require.NoError(t, err)
	data := []byte("{\"ab\":1,\"cd\":2}\n{\"ef\":3,\"gh\":4}\n{\"ef\":5,\"ij\":6}\n{\"ab\":7}\n")
	want, err := q.Transform(ctx, firehose.Record{Data: data, ArrivalTime: arrival})
	require.NoError(t, err)
	require.Equal(t, "{\"ab\":1,\"cd\":2}\n{\"ef\":3,\"gh\":4}\n{\"ef\":5,\"ij\":6}\n{\"ab\":7}\n", string(want.Data))
	for range 3 {
		got, err := pj.Transform(ctx, firehose.Record{Data: data, ArrivalTime: arrival})
		require.NoError(t, err)
		assert.Equal(t, string(want.Data), string(got.Data), "each document under its own names")
	}
}
