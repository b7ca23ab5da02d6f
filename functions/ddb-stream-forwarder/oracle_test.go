package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/functions/ddb-stream-forwarder/ddbjson"
	"lakestream/shared/jsonenc"
)

// The conversion Convert replaced, kept as the oracle of the differential
// tests: encoding/json into aws-lambda-go's types (the Kinesis record's
// part beside the DynamoDB record's), then ddbjson.AppendItem.

type oracleStreamRecord struct {
	events.DynamoDBEventRecord
	Kinesis *events.KinesisRecord `json:"kinesis"`
}

// oracleResult is what the old conversion made of one record.
type oracleResult struct {
	Kind, ID, Source, Key string
	Skip                  bool
	Line                  []byte
	Err                   error
	// Decoded says the record decoded: an error is then the conversion's
	// own (a bad number, an ARN without a table), worded the same by both.
	Decoded bool
}

// oracleConvert converts raw as the forwarder did before it read records
// itself.
func oracleConvert(c Converter, raw []byte) oracleResult {
	var rec oracleStreamRecord
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%w: %v", ErrMalformed, p) // aws-lambda-go panics on a BS element that is not a string
			}
		}()
		if uerr := json.Unmarshal(raw, &rec); uerr != nil {
			err = fmt.Errorf("%w: %w", ErrMalformed, uerr)
		}
	}()
	if err != nil {
		r := oracleIdentify(raw)
		r.Err = err
		return r
	}
	r := oracleConvertDecoded(c, &rec)
	r.Decoded = true
	return r
}

func oracleConvertDecoded(c Converter, rec *oracleStreamRecord) oracleResult {
	switch rec.EventSource {
	case sourceDynamoDB:
		ddb := &rec.DynamoDBEventRecord
		r := oracleResult{Kind: sourceDynamoDB, ID: ddb.Change.SequenceNumber, Key: oracleKey(ddb.Change.Keys)}
		if r.Source, r.Err = sourceName(ddb.EventSourceArn, "table/"); r.Err != nil {
			return r
		}
		if ddb.EventName == string(events.DynamoDBOperationTypeRemove) && (c.SkipRemoves || c.SkipTTLRemoves && oracleIsTTL(ddb)) {
			r.Skip = true
			return r
		}
		switch c.Shape {
		case ShapeItem:
			item, name := oracleItem(c, ddb)
			r.Line, r.Err = oracleImage(nil, item, name)
			r.Line = append(r.Line, '\n')
		case ShapeProjection:
			r.Line, r.Err = oracleAppendProjection(c, nil, ddb, r.Source)
		default:
			r.Line, r.Err = oracleAppendDynamoDB(c, nil, ddb, r.Source)
		}
		if r.Err != nil {
			r.Line = nil
		}
		return r
	case sourceKinesis:
		kin := rec.Kinesis
		if kin == nil {
			kin = &events.KinesisRecord{}
		}
		r := oracleResult{Kind: sourceKinesis, ID: kin.SequenceNumber, Key: kin.PartitionKey}
		if r.Source, r.Err = sourceName(rec.EventSourceArn, "stream/"); r.Err != nil {
			return r
		}
		r.Line = append([]byte{}, kin.Data...)
		if c.KinesisNewline && (len(kin.Data) == 0 || kin.Data[len(kin.Data)-1] != '\n') {
			r.Line = append(r.Line, '\n')
		}
		return r
	}
	r := oracleResult{Kind: rec.EventSource, ID: rec.Change.SequenceNumber}
	if rec.Kinesis != nil && r.ID == "" {
		r.ID = rec.Kinesis.SequenceNumber
	}
	r.Err = fmt.Errorf("%w: eventSource %s is neither %s nor %s", ErrMalformed, strconv.Quote(rec.EventSource), sourceDynamoDB, sourceKinesis)
	return r
}

func oracleKey(keys map[string]events.DynamoDBAttributeValue) string {
	if keys == nil {
		return ""
	}
	b, err := ddbjson.Marshal(keys)
	if err != nil {
		return "(keys not writable: " + err.Error() + ")"
	}
	return string(b)
}

func oracleIdentify(raw []byte) oracleResult {
	var h struct {
		EventSource    string `json:"eventSource"`
		EventSourceARN string `json:"eventSourceARN"`
		DynamoDB       struct {
			SequenceNumber string `json:"SequenceNumber"`
		} `json:"dynamodb"`
		Kinesis struct {
			SequenceNumber string `json:"sequenceNumber"`
		} `json:"kinesis"`
	}
	_ = json.Unmarshal(raw, &h)
	r := oracleResult{Kind: h.EventSource, ID: h.DynamoDB.SequenceNumber}
	if h.EventSource == sourceKinesis || r.ID == "" {
		r.ID = h.Kinesis.SequenceNumber
	}
	if strings.Contains(h.EventSourceARN, ":kinesis:") {
		r.Source, _ = sourceName(h.EventSourceARN, "stream/")
	} else {
		r.Source, _ = sourceName(h.EventSourceARN, "table/")
	}
	return r
}

func oracleIsTTL(r *events.DynamoDBEventRecord) bool {
	return r.UserIdentity != nil && r.UserIdentity.Type == ttlIdentityType && r.UserIdentity.PrincipalID == ttlIdentityPrincipal
}

func oracleAppendDynamoDB(c Converter, dst []byte, r *events.DynamoDBEventRecord, table string) ([]byte, error) {
	out := append(dst, `{"table":`...)
	out = jsonenc.AppendString(out, table)
	out = append(out, `,"event_name":`...)
	out = jsonenc.AppendString(out, r.EventName)
	out = append(out, `,"event_id":`...)
	out = jsonenc.AppendString(out, r.EventID)
	out = append(out, `,"sequence_number":`...)
	out = jsonenc.AppendString(out, r.Change.SequenceNumber)
	if t := r.Change.ApproximateCreationDateTime.Time; !t.IsZero() {
		t = t.Round(time.Millisecond).UTC()
		out = append(out, `,"approximate_creation_time":"`...)
		out = t.AppendFormat(out, timeLayout)
		out = append(out, `","approximate_creation_epoch":`...)
		out = strconv.AppendInt(out, t.Unix(), 10)
	}
	out = append(out, `,"ttl_delete":`...)
	out = strconv.AppendBool(out, r.EventName == string(events.DynamoDBOperationTypeRemove) && oracleIsTTL(r))
	image := func(item map[string]events.DynamoDBAttributeValue, name string) error {
		var err error
		if out, err = ddbjson.AppendItem(out, item); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	out = append(out, `,"keys":`...)
	if err := image(r.Change.Keys, "keys"); err != nil {
		return dst, err
	}
	if c.NewImage && r.Change.NewImage != nil {
		out = append(out, `,"new_image":`...)
		if err := image(r.Change.NewImage, "NewImage"); err != nil {
			return dst, err
		}
	}
	if c.OldImage && r.Change.OldImage != nil {
		out = append(out, `,"old_image":`...)
		if err := image(r.Change.OldImage, "OldImage"); err != nil {
			return dst, err
		}
	}
	return append(out, '}', '\n'), nil
}

// oracleItem is the image an item or projection line is made of.
func oracleItem(c Converter, r *events.DynamoDBEventRecord) (map[string]events.DynamoDBAttributeValue, string) {
	switch {
	case c.NewImage && r.Change.NewImage != nil:
		return r.Change.NewImage, "NewImage"
	case c.OldImage && r.Change.OldImage != nil:
		return r.Change.OldImage, "OldImage"
	}
	return r.Change.Keys, "keys"
}

func oracleImage(dst []byte, item map[string]events.DynamoDBAttributeValue, name string) ([]byte, error) {
	out, err := ddbjson.AppendItem(dst, item)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// oracleAttribute writes one attribute's value, failing as AppendItem
// fails for it.
func oracleAttribute(dst []byte, item map[string]events.DynamoDBAttributeValue, attr, name string) ([]byte, error) {
	if _, err := ddbjson.AppendItem(nil, map[string]events.DynamoDBAttributeValue{attr: item[attr]}); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ddbjson.AppendValue(dst, item[attr])
}

// oracleAppendProjection writes a projection line from the decoded record,
// walking nested paths through M values.
func oracleAppendProjection(c Converter, dst []byte, r *events.DynamoDBEventRecord, table string) ([]byte, error) {
	item, name := oracleItem(c, r)
	var fields []string
	for _, f := range c.Projection.fields {
		key := string(f.key)
		switch {
		case f.rest:
			for _, k := range slices.Sorted(maps.Keys(item)) {
				if slices.Contains(c.Projection.taken, k) {
					continue
				}
				v, err := oracleAttribute(append(jsonenc.AppendString(nil, k), ':'), item, k, name)
				if err != nil {
					return nil, err
				}
				fields = append(fields, string(v))
			}
		case f.meta == metaNone:
			attr, rest := f.path[0], []string(nil)
			if _, ok := item[attr]; !ok && len(f.path) > 1 {
				attr, rest = f.path[1], f.path[2:]
			}
			if _, ok := item[attr]; !ok {
				continue
			}
			if _, err := oracleAttribute(nil, item, attr, name); err != nil {
				return nil, err
			}
			v, found := item[attr], true
			for _, seg := range rest {
				if v.DataType() != events.DataTypeMap {
					found = false
					break
				}
				if v, found = v.Map()[seg]; !found {
					break
				}
			}
			if !found {
				continue
			}
			out, err := ddbjson.AppendValue([]byte(key), v)
			if err != nil {
				return nil, err
			}
			fields = append(fields, string(out))
		default:
			out := []byte(key)
			switch f.meta {
			case metaTable:
				out = jsonenc.AppendString(out, table)
			case metaEventName:
				out = jsonenc.AppendString(out, r.EventName)
			case metaEventID:
				out = jsonenc.AppendString(out, r.EventID)
			case metaSequenceNumber:
				out = jsonenc.AppendString(out, r.Change.SequenceNumber)
			case metaTTLDelete:
				out = strconv.AppendBool(out, r.EventName == string(events.DynamoDBOperationTypeRemove) && oracleIsTTL(r))
			case metaKeys:
				var err error
				if out, err = oracleImage(out, r.Change.Keys, "keys"); err != nil {
					return nil, err
				}
			case metaTime:
				t := r.Change.ApproximateCreationDateTime.Time
				if t.IsZero() {
					continue
				}
				t = t.Round(time.Millisecond).UTC()
				switch f.time {
				case timeEpochSecond:
					out = strconv.AppendInt(out, t.Unix(), 10)
				case timeEpochMilli:
					out = strconv.AppendInt(out, t.UnixMilli(), 10)
				default:
					out = strconv.AppendQuote(out, t.Format(timeLayout))
				}
			}
			fields = append(fields, string(out))
		}
	}
	return append(dst, "{"+strings.Join(fields, ",")+"}\n"...), nil
}
