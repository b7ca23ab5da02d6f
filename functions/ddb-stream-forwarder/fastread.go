package main

import (
	"lakestream/functions/ddb-stream-forwarder/internal/plainjson"
	"lakestream/shared/jsonscan"
)

// The fast path of reader: a DynamoDB record as Lambda sends it — every
// name spelt as aws-lambda-go tags it and given once, every value of its
// kind and none null, strings in plain ASCII, the images as DynamoDB
// writes them (ddbjson.Transcoder.ReadItemAt) — read in one pass over its
// bytes, without the scanner's iterators or the case-insensitive match of
// names. Any other record (a Kinesis record, an unknown or repeated name,
// a null, an escape, anything wrong) makes it give up, and readRecord reads
// the record again from the start: that path alone decides what an unusual
// record means and words every error. For a record it reads, the fast
// path leaves the reader as readRecord would (FuzzConvertAsEncodingJSON
// and FuzzPreread hold the two to encoding/json).

// fastRecord reads the record d starts with, which sits depth arrays and
// objects deep in the event, and returns the offset after it; false if it
// gave up, the reader then holding nothing meaningful.
func (r *reader) fastRecord(d []byte, depth int) (int, bool) {
	r.reset()
	i := jsonscan.SkipSpace(d, 0)
	if i >= len(d) || d[i] != '{' {
		return 0, false
	}
	i = jsonscan.SkipSpace(d, i+1)
	var seen uint32
	for k := 0; ; k++ {
		f, j, ok := r.recordOrder.key(d, i, k, recordFields)
		if !ok || seen&(1<<f) != 0 {
			return 0, false
		}
		seen |= 1 << f
		switch f {
		case 0:
			r.eventSource, j, ok = r.same[0].read(d, j)
		case 1:
			r.eventSourceARN, j, ok = r.same[1].read(d, j)
		case 2:
			r.eventName, j, ok = plainjson.String(d, j)
		case 3:
			r.eventID, j, ok = plainjson.String(d, j)
		case 4:
			j, ok = r.fastChange(d, j, depth+1)
		case 5, 6: // awsRegion, eventVersion
			_, j, ok = r.same[f-3].read(d, j)
		case 7:
			j, ok = r.fastIdentity(d, j)
		default: // kinesis
			return 0, false
		}
		if !ok {
			return 0, false
		}
		more := false
		if i, more, ok = plainjson.Next(d, j, '}'); !ok {
			return 0, false
		}
		if !more {
			return i, true
		}
	}
}

// fieldOrder is the order in which the previous record gave the fields of
// one of its objects: the records of an event, written by one producer,
// give them in one order, so that each name of the next is checked
// against the one expected there rather than read and then searched for.
type fieldOrder struct {
	order [16]int8 // the index of the field that came k-th
	n     int      // how many of order are known
}

// key reads the key at d[i], the k-th of an object whose fields are
// names, and the colon after it, and returns the index of the field it
// names exactly and the offset of its value.
func (o *fieldOrder) key(d []byte, i, k int, names []string) (int, int, bool) {
	if k < o.n {
		f := int(o.order[k])
		name := names[f]
		if e := i + 1 + len(name); e < len(d) && d[i] == '"' && d[e] == '"' && string(d[i+1:e]) == name {
			j := jsonscan.SkipSpace(d, e+1)
			if j >= len(d) || d[j] != ':' {
				return 0, 0, false
			}
			return f, jsonscan.SkipSpace(d, j+1), true
		}
	}
	key, j, ok := plainjson.Key(d, i)
	if !ok {
		return 0, 0, false
	}
	f := exactField(key, names)
	if f < 0 {
		return 0, 0, false
	}
	if k < len(o.order) {
		o.order[k] = int8(f)
		o.n = max(o.n, k+1)
	}
	return f, j, true
}

// repeated is a string value the previous record had, which the next
// mostly has too (the event source, its ARN, the region): the text is
// compared with it rather than scanned.
type repeated []byte

// read reads the plain string at d[j] and returns its text and the
// offset after it; the text is expected from then on.
func (p *repeated) read(d []byte, j int) ([]byte, int, bool) {
	if v := *p; v != nil {
		if e := j + 1 + len(v); e < len(d) && d[j] == '"' && d[e] == '"' && string(d[j+1:e]) == string(v) {
			return d[j+1 : e], e + 1, true
		}
	}
	v, e, ok := plainjson.String(d, j)
	if ok {
		*p = v
	}
	return v, e, ok
}

// exactField is the index in names of key spelt exactly as given; -1 for
// none (field, which matches the other spellings encoding/json accepts,
// is then the slow path's to call).
func exactField(key []byte, names []string) int {
	for i, n := range names {
		if string(key) == n {
			return i
		}
	}
	return -1
}

// fastChange reads the dynamodb object at d[i], which sits depth arrays
// and objects deep.
func (r *reader) fastChange(d []byte, i, depth int) (int, bool) {
	if i >= len(d) || d[i] != '{' {
		return 0, false
	}
	i = jsonscan.SkipSpace(d, i+1)
	var seen uint32
	for k := 0; ; k++ {
		f, j, ok := r.changeOrder.key(d, i, k, changeFields)
		if !ok || seen&(1<<f) != 0 {
			return 0, false
		}
		seen |= 1 << f
		switch f {
		case 0:
			j, ok = r.t.ReadItemAt(d, j, depth+1, &r.keys)
		case 1:
			j, ok = r.t.ReadItemAt(d, j, depth+1, &r.newImage)
		case 2:
			j, ok = r.t.ReadItemAt(d, j, depth+1, &r.oldImage)
		case 3:
			r.sequenceNumber, j, ok = plainjson.String(d, j)
		case 4:
			var epoch float64
			if epoch, j, ok = r.fastFloat64(d, j); ok {
				r.created = epochTime(epoch)
			}
		case 5:
			j, ok = r.fastInt64(d, j)
		case 6: // StreamViewType
			_, j, ok = r.same[4].read(d, j)
		}
		if !ok {
			return 0, false
		}
		more := false
		if i, more, ok = plainjson.Next(d, j, '}'); !ok {
			return 0, false
		}
		if !more {
			return i, true
		}
	}
}

// fastIdentity reads the userIdentity object at d[i].
func (r *reader) fastIdentity(d []byte, i int) (int, bool) {
	if i >= len(d) || d[i] != '{' {
		return 0, false
	}
	r.resetIdentity(true)
	i = jsonscan.SkipSpace(d, i+1)
	var seen uint32
	for {
		key, j, ok := plainjson.Key(d, i)
		if !ok {
			return 0, false
		}
		f := exactField(key, identityFields)
		if f < 0 || seen&(1<<f) != 0 {
			return 0, false
		}
		seen |= 1 << f
		if f == 0 {
			r.identityType, j, ok = plainjson.String(d, j)
		} else {
			r.identityPrincip, j, ok = plainjson.String(d, j)
		}
		if !ok {
			return 0, false
		}
		more := false
		if i, more, ok = plainjson.Next(d, j, '}'); !ok {
			return 0, false
		}
		if !more {
			return i, true
		}
	}
}

// fastFloat64 reads the number at d[i] as reader.epoch does (the
// scanner's Float64, on the number alone).
func (r *reader) fastFloat64(d []byte, i int) (float64, int, bool) {
	if !startsNumber(d, i) {
		return 0, 0, false
	}
	r.num.Reset(d[i:])
	f, err := r.num.Float64()
	if err != nil {
		return 0, 0, false
	}
	return f, i + r.num.Offset(), true
}

// fastInt64 checks the number at d[i] as reader.int64 does.
func (r *reader) fastInt64(d []byte, i int) (int, bool) {
	if !startsNumber(d, i) {
		return 0, false
	}
	r.num.Reset(d[i:])
	if _, err := r.num.Int64(); err != nil {
		return 0, false
	}
	return i + r.num.Offset(), true
}

func startsNumber(d []byte, i int) bool {
	return i < len(d) && (d[i] == '-' || '0' <= d[i] && d[i] <= '9')
}
