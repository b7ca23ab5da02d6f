package pipeline

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/firehose"
	"lakestream/shared/record"
)

// planNames are the names parseTokens writes for a name written as one
// digit: the very same strings line after line, as a parser's constants.
var planNames = []string{"a", "b", "c", "ip", "t", "user", "user.id", "level", "arrival", "x", "x.y", "msg"}

// parseTokens is a ParserInto for the plan tests: space-separated
// name=value tokens. A name of one digit is planNames' (the same memory
// every line); any other is copied into the arena (other memory every
// line, and the same memory for other names on later lines). Values: "-"
// null, i<n> an integer, f<x> a float, T and F booleans, {... or [... JSON
// text, r<id>,<ip> a nested record {id, ip, t}, anything else a string. A
// name given twice keeps its first place, as a record's names are unique.
// A line starting with # is skipped, one starting with ! fails.
func parseTokens(r *record.Builder, line []byte, _ time.Time) (bool, error) {
	if len(line) > 0 && line[0] == '#' {
		return false, nil
	}
	if len(line) > 0 && line[0] == '!' {
		return false, errors.New("a line that fails")
	}
	for tok := range bytes.FieldsSeq(line) {
		name, value, _ := bytes.Cut(tok, []byte("="))
		var n string
		if len(name) == 1 && name[0] >= '0' && name[0] <= '9' {
			n = planNames[int(name[0]-'0')]
		} else if len(name) == 2 && name[0] == '1' && name[1] >= '0' && name[1] <= '1' {
			n = planNames[10+int(name[1]-'0')]
		} else {
			n = r.Text(name)
		}
		r.Set(n, tokenValue(r, value))
	}
	return true, nil
}

// shapes holds parseTokensShaped's shapes, one for each list of names.
var shapes = map[string]*record.Shape{}

// parseTokensShaped is parseTokens declaring the names it wrote
// (record.Builder's SetShape), one shape for each list of names, as a
// parser with a few layouts would: the plan then takes a line of the
// shape it was made for without comparing names.
func parseTokensShaped(r *record.Builder, line []byte, now time.Time) (bool, error) {
	ok, err := parseTokens(r, line, now)
	if ok {
		names := make([]string, len(r.Fields))
		for i, f := range r.Fields {
			names[i] = strings.Clone(f.Name)
		}
		key := strings.Join(names, "\x00")
		if shapes[key] == nil {
			shapes[key] = record.NewShape(names...)
		}
		r.SetShape(shapes[key])
	}
	return ok, err
}

func tokenValue(r *record.Builder, v []byte) any {
	if len(v) == 0 {
		return r.Box("")
	}
	switch rest := v[1:]; v[0] {
	case '-':
		if len(rest) == 0 {
			return nil
		}
	case 'i':
		if n, err := strconv.ParseInt(string(rest), 10, 64); err == nil {
			return r.BoxInt(n)
		}
	case 'f':
		if f, err := strconv.ParseFloat(string(rest), 64); err == nil {
			return r.BoxFloat(f)
		}
	case 'T', 'F':
		if len(rest) == 0 {
			return v[0] == 'T'
		}
	case '{', '[':
		return r.BoxJSON([]byte(r.Text(v)))
	case 'r':
		id, ip, _ := bytes.Cut(rest, []byte(","))
		nested := r.NewRecord(3)
		nested.Fields = append(nested.Fields,
			record.Field{Name: "id", Value: r.Box(r.Text(id))},
			record.Field{Name: "ip", Value: r.Box(r.Text(ip))},
			record.Field{Name: "t", Value: r.Box(r.Text(ip))})
		return nested
	}
	return r.Box(r.Text(v))
}

// planOptions are settings under which the stages look fields up every
// way there is: top-level and dotted, present and absent, before and
// after the arrival time is added, after fields are dropped, in DROP_IF,
// MASK_FIELDS, SCHEMA, TIME_FIELD and field partition keys.
var planOptions = []Options{
	{ // the template's, as firehose-syslog has them
		ArrivalTimeField: "arrival", TimeField: "t", PartitionKeys: "year,month,day,hour",
		MaskFields: "ip=truncate-ip,user.ip=truncate-ip", DropIf: "level=debug",
		Schema: "t:timestamp:required,a:int:0..7,level:string:max=5,user.id:string:max=4,msg:string",
	},
	{
		ArrivalTimeField: "arrival", TimeField: "user.t", PartitionKeys: "day,lvl=field:level,uid=field:user.id,xy=field:x.y",
		MaskFields: "b=drop,x.y=redact,c=hash,user=drop,arrival=drop,user.ip=drop", HashSalt: "s",
		Schema: "a:int:required,b:string,c:string:required,user.id:string,arrival:string:required,x:string,t:timestamp",
	},
	{
		DropIf: "a=1&b^=x,user.id~=^u[0-9],x.y=2,arrival=z", ArrivalTimeField: "a",
		Schema: "a:string,b:float:0..,user:string", TimeField: "arrival", PartitionKeys: "hour,ab=field:b",
		MaskFields: "x=drop,user.id=hash,level=drop,msg=redact", HashSalt: "k",
	},
	{
		ArrivalTimeField: "arrival", ArrivalTimeFormat: TimeEpochMillis, TimeField: "arrival", PartitionKeys: "date",
		MaskFields: "a=drop,c=drop,b=drop", Schema: "c:int,b:int,a:int,d:bool:required,x.y.z:int",
	},
	{ArrivalTimeField: "x.y", MaskFields: "x.y=redact,x=truncate-ip", Schema: "x.y:string:required", DropIf: "x.y=q"},
	{TimeField: "t", PartitionKeys: "year,t=field:t"},
}

// FuzzPlannedLookups holds the stages following a plan (plan.go) to the
// same stages looking every field up by name: the same output, partition
// keys and error, line after line, record after record, as the records'
// shape stays or changes, with names of the parser's own memory and of
// the arena, from parseTokens and from ParseJSONInto reading documents.
func FuzzPlannedLookups(f *testing.F) {
	for _, s := range []string{
		"1=x 0=i3 7=info 4=2024-03-05T06:07:08Z 3=10.1.2.3\n1=y 0=i4 7=info 4=2024-03-05T07:07:08Z 3=10.1.2.4",
		"0=i1 1=xa 2=c 5=ru1,1.2.3.4 6=u2 10=i2 8=z\n0=i1 1=xa 2=c 5=ru1,1.2.3.4 6=u2 10=i2 8=z\n5=ru1,::1 0=i1",
		"a=i1 b=x level=debug\na=i1 b=x level=info\nlevel=info a=i1 b=x\n# skipped\na=i2",
		"9={\"y\":2} 10=q 8=2024-03-05T06:07:08Z\n9={\"y\":{\"z\":3}} 11=m\n9=[1] 10=-",
		"5={\"id\":\"u1\",\"ip\":\"1.2.3.4\",\"t\":\"2024-03-05T06:07:08Z\"} 4=i1700000000\n5=- 4=f1.5e9\n5=r,",
		"0=i9 4=nope\n!fails",
		"ab=i1 cd=2\nef=3 gh=4\nef=5 ij=6\nab=7",
		// Names of the arena: the next line's are written at the same place.
		"a=i1 q=x\nb=x q=y\nc=x q=z\nd=T q=w\nt=2024-03-05T06:07:08Z x=1",
		"b=f1 q=x\nx=f2 q=y\nb=f2 q=z",
		"{\"event\":\"x\",\"ip\":\"10.0.0.1\",\"t\":\"2024-03-05T06:07:08Z\",\"level\":\"info\",\"user\":{\"id\":\"u1\",\"ip\":\"1.2.3.4\"}}\n" +
			"{\"event\":\"y\",\"ip\":\"10.0.0.2\",\"t\":\"2024-03-05T07:07:08Z\",\"level\":\"debug\",\"user\":{\"id\":\"u2\"}}\n" +
			"{\"ip\":\"10.0.0.3\",\"event\":\"z\",\"a\":1,\"b\":\"x\",\"x.y\":\"q\",\"arrival\":\"z\"}",
	} {
		for opt := range uint8(2 * len(planOptions)) {
			f.Add([]byte(s), opt)
		}
	}
	type pair struct {
		planned, byName *Pipeline
		passes          [2]*pass
	}
	var pairs []*pair
	for _, parse := range []ParserInto{parseTokens, parseTokensShaped, ParseJSONInto} {
		for _, o := range planOptions {
			if isParseJSONInto(parse) {
				o.Split = SplitJSON
			}
			planned, err := NewInto(parse, o)
			require.NoError(f, err)
			byName, err := NewInto(parse, o)
			require.NoError(f, err)
			require.True(f, planned.stages.plans())
			pairs = append(pairs, &pair{planned: planned, byName: byName})
		}
	}
	run := func(p *Pipeline, ps **pass, byName bool, r firehose.Record) (string, map[string]string, bool, error) {
		if *ps == nil {
			*ps = p.stages.newPass()
			(*ps).byName = byName
		}
		var out firehose.Output
		err := p.transform(&r, *ps, &out)
		if err != nil {
			*ps = nil // as Transform leaves it
			return "", nil, false, err
		}
		return string(out.Data), out.PartitionKeys, out.Drop, nil
	}
	f.Fuzz(func(t *testing.T, data []byte, opt uint8) {
		p := pairs[int(opt)%len(pairs)]
		// Twice: the second time the plans of the first are in place.
		for range 2 {
			r := firehose.Record{Data: data, ArrivalTime: arrival}
			want, wantKeys, wantDrop, wantErr := run(p.byName, &p.passes[1], true, r)
			got, gotKeys, gotDrop, err := run(p.planned, &p.passes[0], false, r)
			if wantErr != nil {
				require.Error(t, err)
				require.Equal(t, wantErr.Error(), err.Error())
				continue
			}
			require.NoError(t, err)
			require.Equal(t, want, got)
			require.Equal(t, wantKeys, gotKeys)
			require.Equal(t, wantDrop, gotDrop)
		}
	})
}

// TestLinePlan: where a plan puts each lookup, and when a line's fields
// follow it: the very names, equal names in other memory, or none.
func TestLinePlan(t *testing.T) {
	p, err := NewInto(parseTokens, planOptions[1])
	require.NoError(t, err)
	s := p.stages
	var b record.Builder
	parse := func(line string) *record.Builder {
		b.Rewind()
		_, err := parseTokens(&b, []byte(line), arrival)
		require.NoError(t, err)
		return &b
	}
	var pl linePlan
	require.Same(t, &pl, pl.fit(s, parse("0=i1 1=x 2=c 5=ru1,1.2.3.4 8=z")))
	where := func(p *fieldPath) slot { return pl.slots[p.site] }
	assert.Equal(t, slot{i: 1}, where(&s.masks[0].path), "b")
	assert.Equal(t, slot{i: -1, kind: slotNested}, where(&s.masks[1].path), "x.y: neither x.y nor x")
	assert.Equal(t, slot{i: 3}, where(&s.masks[3].path), "user")
	assert.Equal(t, slot{i: 4}, where(&s.masks[4].path), "arrival, the parser's")
	assert.Equal(t, slot{i: 3, kind: slotNested}, where(&s.masks[5].path), "user.ip")
	assert.Equal(t, slot{i: -1}, where(&s.schema[5].path), "x")
	assert.Equal(t, slot{i: 3, kind: slotNested}, where(s.timeField), "user.t")
	assert.Equal(t, 4, pl.arrival)
	assert.Equal(t, []int32{notTop, 1, notTop, 2, 3, 4, notTop, 0, 1, 2, notTop, 4, -1, -1, notTop, -1, notTop, notTop}, pl.places)

	shape := pl.shape
	assert.True(t, pl.same(parse("0=i2 1=y 2=d 5=ru2,1.2.3.5 8=y")), "the same names")
	assert.True(t, pl.same(parse("a=i2 b=y c=d user=ru2,1.2.3.5 arrival=y")), "equal names, in the arena")
	assert.Equal(t, "a", pl.shape[0].Name)
	assert.False(t, b.Holds(pl.shape[0].Name), "the plan keeps the parser's names")
	assert.Same(t, &shape[0], &pl.shape[0], "not planned again")
	assert.False(t, pl.same(parse("0=i2 1=y 2=d 5=ru2,1.2.3.5")), "a field fewer")
	assert.False(t, pl.same(parse("0=i2 1=y 2=d 5=ru2,1.2.3.5 7=y")), "another name")

	require.Same(t, &pl, pl.fit(s, parse("d=1 e=2")), "names of the arena")
	assert.False(t, b.Holds(pl.shape[0].Name), "copied: the next line is written over them")
	assert.Equal(t, slot{i: 2}, where(&s.masks[4].path), "arrival, appended")
	assert.Equal(t, 2, pl.arrival)
	assert.True(t, pl.same(parse("d=3 e=4")))

	dup := parse("0=i1 1=x")
	dup.Fields = append(dup.Fields, record.Field{Name: "a", Value: int64(2)})
	assert.Nil(t, pl.fit(s, dup), "a looked-up name twice: looked up by name")
	dup.Fields[2].Name = "q"
	dup.Fields = append(dup.Fields, record.Field{Name: "q"})
	assert.Same(t, &pl, pl.fit(s, dup), "a name no stage looks up, twice")
}

// TestDiffer: only the very same string is no different, whichever bits
// of the memory and the length tell two apart.
func TestDiffer(t *testing.T) {
	s := "abcdefgh"
	a, b, c := s[0:7], s[1:8], s[0:6]
	same := a
	assert.Zero(t, differ(&a, &same))
	assert.NotZero(t, differ(&a, &b), "other memory, the same length")
	assert.NotZero(t, differ(&a, &c), "the same memory, another length")
	assert.NotZero(t, differ(&b, &c))
	d := string([]byte(a))
	assert.NotZero(t, differ(&a, &d), "equal text in other memory")
}
