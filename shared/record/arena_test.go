package record

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestArenaValuesOutliveReset fills one record line after line, as the
// pipeline does, keeping every value it took: none may change when the
// record is reset and refilled, or after a garbage collection.
func TestArenaValuesOutliveReset(t *testing.T) {
	r := NewBuilder(4)
	var kept []any
	var texts []string
	for i := range 5000 {
		r.Reset()
		line := []byte(fmt.Sprintf("line %d of the log", i))
		s := r.Text(line)
		line[0] = 'X' // the text is a copy
		r.Fields = append(r.Fields, Field{Name: "text", Value: r.Box(s)}, Field{Name: "word", Value: r.Box(s[5:])},
			Field{Name: "n", Value: r.BoxInt(int64(i) * 1000)}, Field{Name: "f", Value: r.BoxFloat(float64(i) / 8)})
		kept = append(kept, r.Fields[0].Value, r.Fields[1].Value, r.Fields[2].Value, r.Fields[3].Value)
		texts = append(texts, s)
	}
	runtime.GC()
	for i := range 5000 {
		want := "line " + strconv.Itoa(i) + " of the log"
		require.Equal(t, want, texts[i])
		require.Equal(t, want, kept[4*i], "a boxed value is a string equal to what was boxed")
		require.Equal(t, want[5:], kept[4*i+1])
		require.IsType(t, "", kept[4*i])
		require.Equal(t, int64(i)*1000, kept[4*i+2])
		require.Equal(t, float64(i)/8, kept[4*i+3])
	}
	r.Reset()
	for _, f := range r.Fields[:cap(r.Fields)] {
		assert.Zero(t, f, "Reset drops the fields it empties")
	}
}

func TestArenaEdges(t *testing.T) {
	r := &Builder{} // a zero Builder is ready to use
	assert.Equal(t, "", r.Text(nil))
	assert.Equal(t, any(""), r.Box(""))
	big := make([]byte, maxText)
	for i := range big {
		big[i] = 'a' + byte(i%26)
	}
	assert.Equal(t, string(big), r.Text(big), "a value larger than a block")
	v := r.Box("x")
	s, ok := v.(string)
	require.True(t, ok)
	assert.Equal(t, "x", s)
	assert.True(t, v == any("x"), "a boxed string compares equal to one boxed by the runtime")
	switch v.(type) {
	case string:
	default:
		t.Fatalf("type switch sees %T", v)
	}
	for _, n := range []int64{0, 255, 256, -1, math.MinInt64, math.MaxInt64} {
		v := r.BoxInt(n)
		assert.True(t, v == any(n), "%d", n)
		assert.IsType(t, int64(0), v)
	}
	for _, f := range []float64{0, -0.5, math.MaxFloat64, math.Inf(1)} {
		v := r.BoxFloat(f)
		assert.True(t, v == any(f), "%v", f)
	}
	raw := []byte(`{"a":1}`)
	v = r.BoxJSON(raw)
	assert.Equal(t, json.RawMessage(raw), v)
	assert.IsType(t, json.RawMessage(nil), v)
	r.Reset()
	assert.Empty(t, r.Fields)
}

func TestBuilderNewRecord(t *testing.T) {
	b := NewBuilder(2)
	var kept []*Record
	for i := range 300 {
		b.Reset()
		sd := b.NewRecord(2)
		elem := b.NewRecord(1)
		elem.Fields = append(elem.Fields, Field{Name: "ip", Value: strconv.Itoa(i)}, Field{Name: "more", Value: i})
		sd.Fields = append(sd.Fields, Field{Name: "origin", Value: elem})
		kept = append(kept, sd)
	}
	big := b.NewRecord(maxBox)
	assert.Empty(t, big.Fields)
	assert.Equal(t, maxBox, cap(big.Fields))
	for i, sd := range kept {
		elem := sd.Fields[0].Value.(*Record)
		require.Equal(t, []Field{{"ip", strconv.Itoa(i)}, {"more", i}}, elem.Fields,
			"appending past its room moves a record's fields without touching its neighbours'")
	}
}

// BenchmarkBox compares storing a line's string values in fields through
// the arena with plain interface conversion, which allocates a box per
// string: the reason Box exists.
func BenchmarkBox(b *testing.B) {
	values := []string{"203.0.113.9", "2024-03-05T06:07:08Z", "/index.html", "https://example.com/", "Mozilla/5.0 (X11; Linux x86_64)", "id=42"}
	r := NewBuilder(len(values))
	b.Run("arena", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.Reset()
			for _, v := range values {
				r.Fields = append(r.Fields, Field{Name: "f", Value: r.Box(v)})
			}
		}
	})
	b.Run("interface", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.Reset()
			for _, v := range values {
				r.Fields = append(r.Fields, Field{Name: "f", Value: any(v)})
			}
		}
	})
}

// TestArenaRewind: after Rewind the arena serves the next line from the
// memory it served the last from, with the right values, and a line
// larger than the block takes a block that holds it.
func TestArenaRewind(t *testing.T) {
	r := NewBuilder(4)
	var first unsafe.Pointer
	for i := range 1000 {
		r.Rewind()
		require.Empty(t, r.Fields)
		line := []byte(fmt.Sprintf("line %d %s", i, strings.Repeat("x", i%700)))
		s := r.Text(line)
		if i == 0 {
			first = unsafe.Pointer(unsafe.StringData(s))
		} else if i < 100 {
			require.Equal(t, first, unsafe.Pointer(unsafe.StringData(s)), "line %d: the same memory", i)
		}
		nested := r.NewRecord(2)
		nested.Fields = append(nested.Fields, Field{Name: "n", Value: r.BoxInt(int64(i) * 1000)})
		r.Fields = append(r.Fields, Field{Name: "text", Value: r.Box(s)},
			Field{Name: "f", Value: r.BoxFloat(float64(i) / 8)}, Field{Name: "raw", Value: r.BoxJSON(line[:4])},
			Field{Name: "nested", Value: nested})
		require.Equal(t, string(line), r.Fields[0].Value)
		require.Equal(t, float64(i)/8, r.Fields[1].Value)
		require.Equal(t, json.RawMessage("line"), r.Fields[2].Value)
		require.Equal(t, &Record{Fields: []Field{{Name: "n", Value: int64(i) * 1000}}}, r.Fields[3].Value)
	}
	allocs := testing.AllocsPerRun(100, func() {
		r.Rewind()
		r.Fields = append(r.Fields, Field{Name: "text", Value: r.Box(r.Text([]byte("a line of the log")))},
			Field{Name: "n", Value: r.BoxInt(1 << 40)})
	})
	assert.Zero(t, allocs, "a rewound arena allocates nothing for a line it has held before")
}

// TestHintTime: a hint is for the very string hinted, until Reset.
func TestHintTime(t *testing.T) {
	r := NewBuilder(1)
	when := time.Date(2024, 3, 5, 6, 7, 8, 9, time.UTC)
	s := r.Text([]byte("2024-03-05T06:07:08.000000009Z"))
	r.HintTime(s, when)
	got, ok := r.HintedTime(s)
	require.True(t, ok)
	assert.Equal(t, when, got)
	_, ok = r.HintedTime(strings.Clone(s))
	assert.False(t, ok, "an equal string elsewhere is not the one hinted")
	_, ok = r.HintedTime(s[:10])
	assert.False(t, ok, "nor a part of it")
	r.Rewind()
	_, ok = r.HintedTime(s)
	assert.False(t, ok, "Reset drops the hint")
	_, ok = (&Builder{}).HintedTime("")
	assert.False(t, ok)
}

// TestBoxes fills one record line after line with values boxed in room
// taken a line at a time (Boxes), as the CloudFront parser does, keeping
// every value: none may change as later lines fill the arena, or after a
// garbage collection, and each is what the runtime would have boxed.
func TestBoxes(t *testing.T) {
	r := NewBuilder(4)
	var kept []any
	for i := range 3000 {
		r.Reset()
		s := r.Text([]byte(fmt.Sprintf("line %d of the log", i)))
		boxes := r.Boxes(2, 1+i%3) // more room than used, now and then
		r.Fields = append(r.Fields, Field{Name: "text", Value: boxes.String(s)},
			Field{Name: "word", Value: boxes.String(s[5:])}, Field{Name: "n", Value: boxes.Int(int64(i) - 1000)})
		kept = append(kept, r.Fields[0].Value, r.Fields[1].Value, r.Fields[2].Value)
		require.Panics(t, func() { boxes.String("one too many") }, "line %d", i)
	}
	runtime.GC()
	for i := range 3000 {
		want := "line " + strconv.Itoa(i) + " of the log"
		require.True(t, kept[3*i] == any(want), "%d: a boxed value compares equal to one the runtime boxed", i)
		require.Equal(t, want[5:], kept[3*i+1])
		require.True(t, kept[3*i+2] == any(int64(i)-1000))
		switch kept[3*i+2].(type) {
		case int64:
		default:
			t.Fatalf("type switch sees %T", kept[3*i+2])
		}
	}
	big := r.Boxes(maxBox+1, maxBox+1)
	assert.Equal(t, "x", big.String("x"), "room beyond a block's size")
	allocs := testing.AllocsPerRun(100, func() {
		r.Rewind()
		boxes := r.Boxes(2, 1)
		r.Fields = append(r.Fields, Field{Name: "a", Value: boxes.String("a line")}, Field{Name: "n", Value: boxes.Int(1 << 40)})
	})
	assert.Zero(t, allocs, "a rewound arena allocates nothing for boxes it has held before")
}

// TestRoomKeep writes values in place in the arena (Room, then Keep), as
// a parser decoding a value does, between copies of lines (Text): each
// keeps what was written in it.
func TestRoomKeep(t *testing.T) {
	r := NewBuilder(0)
	var kept, want []string
	for i := range 2000 {
		r.Reset()
		line := r.Text([]byte(fmt.Sprintf("line %d", i)))
		value := strings.Repeat(strconv.Itoa(i), i%50)
		if i%300 == 0 {
			value = strings.Repeat("large ", maxText/4) // beyond a block's quarter: its own allocation
		}
		b := r.Room(len(value) + 3)
		require.Zero(t, len(b))
		require.GreaterOrEqual(t, cap(b), len(value)+3)
		b = append(b, value...)
		kept, want = append(kept, r.Keep(b), line), append(want, value, fmt.Sprintf("line %d", i))
	}
	runtime.GC()
	for i := range kept {
		require.Equal(t, want[i], kept[i], "%d", i)
	}
	assert.Equal(t, "", r.Keep(r.Room(10)), "nothing written")
	allocs := testing.AllocsPerRun(100, func() {
		r.Rewind()
		_ = r.Keep(append(r.Room(12), "decoded text"...))
	})
	assert.Zero(t, allocs, "a rewound arena allocates nothing for room it has held before")
}

// TestShape: a shape declared holds until Reset or Rewind.
func TestShape(t *testing.T) {
	r := NewBuilder(2)
	shape := NewShape("a", "b")
	require.Equal(t, []string{"a", "b"}, shape.Names())
	require.Nil(t, r.Shape())
	r.Fields = append(r.Fields, Field{Name: "a"}, Field{Name: "b"})
	r.SetShape(shape)
	require.Same(t, shape, r.Shape())
	r.Reset()
	require.Nil(t, r.Shape(), "Reset forgets the shape")
	r.SetShape(shape)
	r.Rewind()
	require.Nil(t, r.Shape(), "Rewind forgets the shape")
	r.SetShape(shape)
	r.SetShape(nil)
	require.Nil(t, r.Shape())
}
