package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// written is what a parsed projection writes, in order: each field's name
// and its source ("*" for the rest), for comparing parses.
func written(p *Projection) []string {
	var out []string
	for _, f := range p.fields {
		switch {
		case f.rest:
			out = append(out, "*")
		case f.meta != metaNone:
			out = append(out, string(f.key[:len(f.key)-1])+"=@"+metaName(f.meta)+timeName(f))
		default:
			out = append(out, string(f.key[:len(f.key)-1])+"="+strings.Join(f.path, "|"))
		}
	}
	return out
}

func metaName(m meta) string {
	for name, v := range metaNames {
		if v == m {
			return name
		}
	}
	return "?"
}

func timeName(f projected) string {
	if f.meta != metaTime {
		return ""
	}
	for name, v := range timeFormats {
		if v == f.time {
			return ":" + name
		}
	}
	return ":?"
}

func TestParseProjection(t *testing.T) {
	tests := map[string]struct {
		spec  string
		want  []string
		taken []string
		err   string
	}{
		"the Top-N post's fields": {
			spec:  "table_name=@table,user_id,tweet_id,approx_post_time=@approximate_creation_time:epoch-s",
			want:  []string{`"table_name"=@table`, `"user_id"=user_id`, `"tweet_id"=tweet_id`, `"approx_post_time"=@approximate_creation_time:epoch-s`},
			taken: []string{"table_name", "user_id", "user_id", "tweet_id", "tweet_id", "approx_post_time"},
		},
		"bare metadata keeps its name; the time is RFC 3339 by default": {
			spec: " @table , @approximate_creation_time, ms=@approximate_creation_time:epoch-ms ,,@keys",
			want: []string{`"table"=@table`, `"approximate_creation_time"=@approximate_creation_time:rfc3339`, `"ms"=@approximate_creation_time:epoch-ms`, `"keys"=@keys`},
		},
		"paths, renames and the rest": {
			spec:  "handle=author.handle,*,likes_now=likes",
			want:  []string{`"handle"=author.handle|author|handle`, "*", `"likes_now"=likes`},
			taken: []string{"handle", "author.handle", "likes_now", "likes"},
		},
		"names are written as JSON": {
			spec: `say "hi"=s`,
			want: []string{`"say \"hi\""=s`},
		},
		"empty":                    {spec: " , ", err: "no fields"},
		"rest twice":               {spec: "*,a,*", err: "* given twice"},
		"written twice":            {spec: "a,a=b", err: `item "a=b": field "a" is written twice`},
		"metadata written twice":   {spec: "@table,table=x", err: `field "table" is written twice`},
		"dotted written name":      {spec: "author.handle", err: `the written name "author.handle" must not hold a dot: write new=author.handle`},
		"empty path segment":       {spec: "h=author..handle", err: `path "author..handle" has an empty segment`},
		"no source":                {spec: "a=", err: `item "a=": no attribute name`},
		"no name":                  {spec: "=a", err: `item "=a": no field name`},
		"unknown metadata":         {spec: "x=@region", err: "unknown metadata @region"},
		"bare @":                   {spec: "@", err: "unknown metadata @"},
		"format on other metadata": {spec: "@table:epoch-s", err: "@table takes no format"},
		"unknown time format":      {spec: "t=@approximate_creation_time:iso", err: `time format "iso" is none of rfc3339, epoch-s, epoch-ms`},
		"written name with @":      {spec: "@x=y", err: `the written name "@x" must not start with @`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := ParseProjection(tc.spec)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				assert.Nil(t, p)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, written(p))
			if tc.taken != nil {
				assert.Equal(t, tc.taken, p.taken)
			}
		})
	}
}

// FuzzParseProjection: any spec parses or fails without panicking; one
// that parses writes, on every record of the test files, one JSON object
// per record, no name written twice.
func FuzzParseProjection(f *testing.F) {
	for _, s := range []string{
		"table_name=@table,user_id,tweet_id,approx_post_time=@approximate_creation_time:epoch-s",
		"*", "@keys,*,pk", "first=m.a,deep=m.inner.l,x=m.none.y", "a=b=c", "@approximate_creation_time:epoch-ms",
		`"q"=s, é=ss`, "*,*", "a.b", "=", "@ttl_delete,@event_id,@sequence_number,@event_name",
	} {
		f.Add(s)
	}
	var recs []json.RawMessage
	for _, file := range []string{"changes", "all-types"} {
		recs = append(recs, records(f, filepath.Join("testdata", file+".json"))...)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		p, err := ParseProjection(spec)
		if err != nil {
			require.Nil(t, p)
			return
		}
		c := Converter{NewImage: true, OldImage: true, Shape: ShapeProjection, Projection: p}
		for _, raw := range recs {
			rec, _, err := c.Convert(nil, raw)
			if err != nil {
				continue // an unwritable value the projection reads
			}
			line := rec.Line
			require.True(t, bytes.HasSuffix(line, []byte("}\n")), "%q", line)
			dec := json.NewDecoder(bytes.NewReader(line))
			tok, err := dec.Token()
			require.NoError(t, err, "spec %q wrote %q", spec, line)
			require.Equal(t, json.Delim('{'), tok)
			seen := map[string]bool{}
			for dec.More() {
				tok, err := dec.Token()
				require.NoError(t, err)
				name := tok.(string)
				assert.False(t, seen[name], "spec %q wrote %q twice: %s", spec, name, line)
				seen[name] = true
				var v json.RawMessage
				require.NoError(t, dec.Decode(&v))
			}
			_, err = dec.Token()
			require.NoError(t, err)
			assert.False(t, dec.More(), "one object: %q", line)
		}
	})
}
