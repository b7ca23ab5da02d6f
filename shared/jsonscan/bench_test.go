package jsonscan

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// firehoseLike is a ~1 MB Firehose transformation request: 1,000 records
// of about 1 KB of base64 each, the shape the scanner is made for.
func firehoseLike() []byte {
	var b strings.Builder
	b.WriteString(`{"invocationId":"00540a87-5050-496a-84e4-e7d92bbaf5e2","deliveryStreamArn":"arn:aws:firehose:us-east-1:123456789012:deliverystream/lake","region":"us-east-1","records":[`)
	line := []byte(strings.Repeat(`{"event":"page_view","user":"u-1","ts":"2024-03-05T06:00:00Z"}`+"\n", 12))
	for i := range 1000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"recordId":"49546986683135544286507457936321625675700192471156785154%04d","approximateArrivalTimestamp":1709618400000,"data":"%s"}`,
			i, base64.StdEncoding.EncodeToString(line))
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// smallValues is ~1 MB of small objects: keys, short strings, numbers.
func smallValues() []byte {
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; b.Len() < 1<<20; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"user-%d","score":%d.%02d,"active":%t,"tags":["a","b\u00e9"],"note":null}`, i, i, i%1000, i%100, i%2 == 0)
	}
	b.WriteByte(']')
	return []byte(b.String())
}

// BenchmarkSkip checks a whole text, against json.Valid (the least
// encoding/json does with it) for scale.
func BenchmarkSkip(b *testing.B) {
	for _, doc := range []struct {
		name string
		data []byte
	}{{"firehose-request", firehoseLike()}, {"small-values", smallValues()}} {
		b.Run(doc.name+"/jsonscan", func(b *testing.B) {
			b.SetBytes(int64(len(doc.data)))
			b.ReportAllocs()
			s := New(nil)
			for b.Loop() {
				s.Reset(doc.data)
				if err := s.Skip(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(doc.name+"/json.Valid", func(b *testing.B) {
			b.SetBytes(int64(len(doc.data)))
			b.ReportAllocs()
			for b.Loop() {
				if !json.Valid(doc.data) {
					b.Fatal("invalid")
				}
			}
		})
	}
}

type smallValue struct {
	ID     int64    `json:"id"`
	Name   string   `json:"name"`
	Score  float64  `json:"score"`
	Active bool     `json:"active"`
	Tags   []string `json:"tags"`
}

// BenchmarkDecode reads every field of the small-values document with the
// iterators, against encoding/json into structs.
func BenchmarkDecode(b *testing.B) {
	data := smallValues()
	b.Run("jsonscan", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		s := New(nil)
		var buf []byte
		var v smallValue
		for b.Loop() {
			s.Reset(data)
			for range s.Array() {
				for key := range s.Object() {
					switch string(key) {
					case "id":
						v.ID, _ = s.Int64()
					case "name":
						_, _ = s.String(&buf)
					case "score":
						v.Score, _ = s.Float64()
					case "active":
						v.Active, _ = s.Bool()
					case "tags":
						for range s.Array() {
							_, _ = s.String(&buf)
						}
					}
				}
			}
			if err := s.End(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var vs []smallValue
			if err := json.Unmarshal(data, &vs); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkString reads one 64 KB string: plain ASCII (returned in place),
// UTF-8 text (checked, returned in place) and text with escapes
// (unescaped into the reused buffer).
func BenchmarkString(b *testing.B) {
	for name, text := range map[string]string{
		"ascii":   strings.Repeat("GET /index.html HTTP/1.1 200 ", 2400),
		"utf8":    strings.Repeat("Größe café ☕ ", 4000),
		"escaped": strings.Repeat(`say \"hi\"\n\u00e9 `, 4000),
	} {
		data := []byte(`"` + text + `"`)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			s := New(nil)
			var buf []byte
			for b.Loop() {
				s.Reset(data)
				if _, err := s.String(&buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
