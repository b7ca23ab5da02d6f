package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"lakestream/functions/s3-redistributor/partition"
	"lakestream/shared/batch"
)

// ErrNoTime means an object's key holds no time and TIME_FALLBACK does not
// allow the event's time instead.
var ErrNoTime = errors.New("no time in the object key")

// layoutEventTime names the time source of an object placed by its event
// time (TIME_FALLBACK=event-time).
const layoutEventTime = "event-time"

// layoutInPlace names the time source of an object placed by a
// REGISTER_IN_PLACE layout it is in.
const layoutInPlace = "in-place"

// ErrNotInPlace means an object is in no REGISTER_IN_PLACE layout and
// there is no destination to copy it to: it is left alone.
var ErrNotInPlace = errors.New("in no REGISTER_IN_PLACE layout")

// Placement is where one source object goes.
type Placement struct {
	// Time is the object's time: from its key, or its event's.
	Time time.Time `json:"time"`
	// Layout is where the time came from: firehose, hive, pattern or event-time.
	Layout string `json:"layout"`
	// Stream is the Firehose stream named in the key, if any.
	Stream  string   `json:"stream,omitempty"`
	Targets []Target `json:"targets"`
}

// Target is one copy of the object and the Glue partition it belongs to.
type Target struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// Table is the Glue table to register the partition in, "" for none.
	Table string `json:"table,omitempty"`
	// Values and Location are the partition (empty for a layout without
	// time folders).
	Values   []string `json:"values,omitempty"`
	Location string   `json:"location,omitempty"`
	// layout is the destination layout, for errors.
	layout *partition.Template
}

// URI is the copy as s3://bucket/key.
func (t Target) URI() string { return "s3://" + t.Bucket + "/" + t.Key }

// ignoreReason says why src is left alone, or "" when it is to be copied.
func (c *Config) ignoreReason(src batch.S3Object) string {
	switch {
	case c.SourcePrefix != "" && !strings.HasPrefix(src.Key, c.SourcePrefix):
		return "outside SOURCE_PREFIX " + c.SourcePrefix
	case strings.HasSuffix(src.Key, "/"):
		return "folder marker"
	}
	if d := c.ownOutput(src); d != nil {
		return "a copy under destination layout " + d.Layout.String()
	}
	return ""
}

// place finds src's time and renders each destination for it. A
// REGISTER_IN_PLACE layout the object is in is a target too: the object
// itself, whose partition is registered and which is not copied.
func (c *Config) place(src batch.S3Object) (Placement, error) {
	var p Placement
	inPlace, at, err := c.inPlace(src)
	if err != nil {
		return Placement{}, err
	}
	if len(c.Destinations) == 0 {
		if len(inPlace) == 0 {
			return Placement{}, fmt.Errorf("%w: %s", ErrNotInPlace, src.URI())
		}
		return Placement{Time: at, Layout: layoutInPlace, Targets: inPlace}, nil
	}
	p.Targets = inPlace
	// A Firehose name (to the second) or a KEY_PATTERNS pattern gives the
	// time before an in-place layout, which gives it before generic Hive
	// folders: it states what the operator knows of the keys.
	if m, ok := c.Parser.KeyTime(src.Key); ok && (m.Layout != partition.LayoutHive || len(inPlace) == 0) {
		p.Time, p.Layout, p.Stream = m.Time, string(m.Layout), m.Stream
	} else if len(inPlace) > 0 {
		p.Time, p.Layout = at, layoutInPlace
	} else {
		if c.TimeFallback != fallbackEventTime {
			return Placement{}, fmt.Errorf("%w: %q is not a Firehose object name, has no Hive year=/month=/day= or dt= folders and matches no KEY_PATTERNS; set KEY_PATTERNS for its layout, or TIME_FALLBACK=event-time to use the event's time", ErrNoTime, src.Key)
		}
		if src.Time.IsZero() {
			return Placement{}, fmt.Errorf("%w: %q holds no time and its event gives none either", ErrNoTime, src.Key)
		}
		// Whole seconds, the precision of a Firehose name.
		p.Time, p.Layout = src.Time.UTC().Truncate(time.Second), layoutEventTime
	}

	obj := partition.Object{Bucket: src.Bucket, Key: src.Key, Stream: p.Stream}
	for _, d := range c.Destinations {
		bucket, key, err := d.Layout.Render(p.Time, obj)
		if err != nil {
			return Placement{}, fmt.Errorf("destination %s: %w", d.Layout, err)
		}
		t := Target{Bucket: bucket, Key: key, Table: d.Table, Values: d.Layout.PartitionValues(p.Time), layout: d.Layout}
		if len(t.Values) > 0 {
			if t.Location, err = d.Layout.Location(p.Time, obj); err != nil {
				return Placement{}, fmt.Errorf("destination %s: %w", d.Layout, err)
			}
		} else {
			t.Values = nil
		}
		p.Targets = append(p.Targets, t)
	}
	return p, nil
}

// inPlace returns the targets of the REGISTER_IN_PLACE layouts src is in
// (src itself, with the layout's partition) and the time the first gives.
func (c *Config) inPlace(src batch.S3Object) ([]Target, time.Time, error) {
	var out []Target
	var first time.Time
	for _, d := range c.InPlace {
		at, obj, ok := d.Layout.Match(src.Bucket, src.Key)
		if !ok {
			continue
		}
		loc, err := d.Layout.Location(at, obj)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("in-place layout %s: %w", d.Layout, err)
		}
		out = append(out, Target{Bucket: src.Bucket, Key: src.Key, Table: d.Table, Values: d.Layout.PartitionValues(at), Location: loc, layout: d.Layout})
		if len(out) == 1 {
			first = at
		}
	}
	return out, first, nil
}
