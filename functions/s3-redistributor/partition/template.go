package partition

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors Template methods wrap, for callers to branch on.
var (
	// ErrInvalidTemplate is wrapped by every error ParseTemplate returns.
	ErrInvalidTemplate = errors.New("partition: invalid template")
	// ErrMissingValue means the source object lacks what a placeholder
	// needs, such as a {stream} for an object Firehose did not name.
	ErrMissingValue = errors.New("partition: no value for placeholder")
	// ErrTimeRange means the time's year does not have four digits.
	ErrTimeRange = errors.New("partition: time outside years 0000 to 9999")
	// ErrKeyTooLong means the rendered key is over S3's 1,024-byte limit.
	ErrKeyTooLong = errors.New("partition: key longer than 1024 bytes")
)

// maxKeyLen is S3's limit on an object key: 1,024 bytes of UTF-8.
const maxKeyLen = 1024

// Object is the source object a Template renders a destination for.
type Object struct {
	Bucket string
	// Key is URL-decoded, as events.S3Object.URLDecodedKey returns it.
	Key string
	// Stream is the Firehose stream that wrote the object, when known
	// (Match.Stream).
	Stream string
}

// Template is a destination layout such as
// "s3://lake/events/dt={yyyy}-{MM}-{dd}/hour={HH}/{filename}". Its folders
// that hold time placeholders are its partitions, in the order Glue lists
// a table's partition keys.
type Template struct {
	text   string
	bucket string // empty when the bucket is {source_bucket}
	// segments is the key split at '/'.
	segments [][]part
	// partitions are the value parts of the partition folders: the part
	// after "name=" for a Hive folder, the whole folder otherwise.
	partitions [][]part
	// lastPartition indexes the last partition folder in segments, or is -1.
	lastPartition int
	keys          []string
	// match reads the template backwards (Match).
	match *matcher
}

// ParseTemplate reads a destination template "s3://bucket/key". The bucket is
// a bucket name or {source_bucket}. The key's last segment must hold
// {filename} or {key}, so that the objects of one period do not all render
// to one destination; {filename} and {key} may appear nowhere else. Only
// {key} keeps destinations apart: two sources with the same file name in
// different folders render alike under {filename}, and the caller must
// tell such a collision from a copy of the same source.
//
// The folders holding time placeholders are the partitions, and may hold
// nothing but time placeholders and text, so a partition's value depends on
// the time alone. Either all of them are Hive folders ("dt={yyyy}-{MM}-{dd}",
// "hour={HH}"), which name their partition keys, or none is ("{yyyy}",
// "{MM}"), and keys, when given, names them: one lower-case name per
// partition folder, as Glue stores partition keys. Without keys a plain
// template has values but no key names, which is all BatchCreatePartition
// needs: it matches values to the table's keys by position.
func ParseTemplate(s string, keys ...string) (*Template, error) {
	t, err := parseTemplate(s, keys)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrInvalidTemplate, s, err)
	}
	return t, nil
}

func parseTemplate(s string, keys []string) (*Template, error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return nil, errors.New("must start with s3://")
	}
	bucket, key, _ := strings.Cut(rest, "/")
	t := &Template{text: s, bucket: bucket, lastPartition: -1}
	switch {
	case bucket == "":
		return nil, errors.New("no bucket after s3://")
	case bucket == "{source_bucket}":
		t.bucket = ""
	case strings.ContainsAny(bucket, "{}"):
		return nil, fmt.Errorf("the bucket %q must be a bucket name or {source_bucket}", bucket)
	case !validBucket(bucket):
		return nil, fmt.Errorf("%q is not a valid S3 bucket name", bucket)
	}
	if key == "" {
		return nil, errors.New("no object key after the bucket")
	}
	if !utf8.ValidString(key) {
		return nil, errors.New("the key is not valid UTF-8, as every S3 key is")
	}

	segments := strings.Split(key, "/")
	if slices.Contains(segments, "") {
		return nil, errors.New("empty path segment (leading, trailing or double '/')")
	}
	var hive, plain []string // partition folders of each kind, for messages
	for i, text := range segments {
		parts, err := parseParts(text)
		if err != nil {
			return nil, err
		}
		t.segments = append(t.segments, parts)
		last := i == len(segments)-1
		var hasTime, hasObject, hasOther bool
		for _, p := range parts {
			hasTime = hasTime || p.field.isTime()
			hasObject = hasObject || p.field == filename || p.field == wholeKey
			hasOther = hasOther || p.field == stream || p.field == sourceBucket
		}
		switch {
		case last && !hasObject:
			return nil, errors.New("the last segment needs {filename} or {key}, or every object of a period would overwrite the one before")
		case last:
			continue
		case hasObject:
			return nil, fmt.Errorf("folder %q: {filename} and {key} belong in the last segment", text)
		case !hasTime:
			continue
		case hasOther:
			return nil, fmt.Errorf("partition folder %q may hold only time placeholders", text)
		}
		t.lastPartition = i
		if name, value, ok := hiveFolder(parts); ok {
			hive = append(hive, name)
			t.partitions = append(t.partitions, value)
		} else {
			plain = append(plain, text)
			t.partitions = append(t.partitions, parts)
		}
	}

	switch {
	case len(hive) > 0 && len(plain) > 0:
		return nil, fmt.Errorf("partition folders mix Hive style (%s=...) and plain (%s)", hive[0], plain[0])
	case len(hive) > 0 && len(keys) > 0:
		return nil, fmt.Errorf("the template names its partition keys (%s); give no keys", strings.Join(hive, ", "))
	case len(hive) > 0:
		keys = hive
	case len(keys) > 0 && len(keys) != len(plain):
		return nil, fmt.Errorf("%d partition keys given for %d partition folders", len(keys), len(plain))
	}
	for i, k := range keys {
		if !validKey(k) {
			return nil, fmt.Errorf("partition key %q must be lower-case letters, digits and '_', as Glue stores it", k)
		}
		if slices.Contains(keys[:i], k) {
			return nil, fmt.Errorf("partition key %q appears twice", k)
		}
	}
	t.keys = slices.Clone(keys)
	t.match = newMatcher(t.segments)
	return t, nil
}

// hiveFolder splits a folder that starts with literal "name=" into the name
// and the parts of its value.
func hiveFolder(parts []part) (name string, value []part, ok bool) {
	if parts[0].field != literal {
		return "", nil, false
	}
	name, rest, ok := strings.Cut(parts[0].text, "=")
	if !ok {
		return "", nil, false
	}
	if rest != "" {
		value = append(value, part{text: rest})
	}
	return name, append(value, parts[1:]...), true
}

// validKey reports whether name is a Glue partition key as Glue stores it:
// Hive lower-cases column names, so an upper-case folder name would never
// match the key Glue keeps.
func validKey(name string) bool {
	if name == "" || len(name) > 255 || '0' <= name[0] && name[0] <= '9' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// validBucket applies S3's bucket naming rules: 3 to 63 lower-case letters,
// digits, '.' and '-', starting and ending with a letter or digit.
func validBucket(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		if !alnum && (c != '.' && c != '-' || i == 0 || i == len(name)-1) {
			return false
		}
	}
	return true
}

// String returns the template as written.
func (t *Template) String() string { return t.text }

// PartitionKeys returns the partition key names in order: from the Hive
// folders, from the keys given to ParseTemplate, or nil for a plain template
// given none.
func (t *Template) PartitionKeys() []string { return slices.Clone(t.keys) }

// PartitionValues returns each partition's value at time at (in UTC), in
// order: ["2024-05-01", "13"] for dt={yyyy}-{MM}-{dd}/hour={HH}.
func (t *Template) PartitionValues(at time.Time) []string {
	at = at.UTC()
	values := make([]string, len(t.partitions))
	var b []byte
	for i, parts := range t.partitions {
		b = b[:0]
		for _, p := range parts {
			if p.field == literal {
				b = append(b, p.text...)
			} else {
				b = appendTimePart(b, p, at)
			}
		}
		values[i] = string(b)
	}
	return values
}

// Render returns the destination of src for time at (taken in UTC).
func (t *Template) Render(at time.Time, src Object) (bucket, key string, err error) {
	bucket, key, err = t.render(at, src, t.segments)
	if err == nil && len(key) > maxKeyLen {
		return "", "", fmt.Errorf("%w: %d bytes for %q", ErrKeyTooLong, len(key), src.Key)
	}
	return bucket, key, err
}

// Location returns the S3 folder of the Glue partition src belongs to at
// time at, ending in '/': the rendered template up to its last partition
// folder, such as "s3://lake/events/dt=2024-05-01/hour=13/". A partition's
// location must follow from its values alone, so folders rendered below the
// last partition folder (from {key}, say) are left out: Athena reads a
// partition's location with everything under it. For a template without
// partitions it is the rendered template up to its last folder.
func (t *Template) Location(at time.Time, src Object) (string, error) {
	end := t.lastPartition
	if end < 0 {
		end = len(t.segments) - 2
	}
	bucket, folder, err := t.render(at, src, t.segments[:end+1])
	if err != nil {
		return "", err
	}
	if folder != "" {
		folder += "/"
	}
	return "s3://" + bucket + "/" + folder, nil
}

// render renders the bucket and the given key segments.
func (t *Template) render(at time.Time, src Object, segments [][]part) (bucket, key string, err error) {
	at = at.UTC()
	if y := at.Year(); y < 0 || y > 9999 {
		return "", "", fmt.Errorf("%w: %s", ErrTimeRange, at.Format(time.RFC3339))
	}
	bucket = t.bucket
	if bucket == "" {
		if src.Bucket == "" {
			return "", "", fmt.Errorf("%w %s: the source object has no bucket", ErrMissingValue, sourceBucket)
		}
		bucket = src.Bucket
	}
	b := make([]byte, 0, 128)
	for i, parts := range segments {
		if i > 0 {
			b = append(b, '/')
		}
		for _, p := range parts {
			if b, err = appendPart(b, p, at, src); err != nil {
				return "", "", err
			}
		}
	}
	return bucket, string(b), nil
}

func appendPart(b []byte, p part, at time.Time, src Object) ([]byte, error) {
	var value, missing string
	switch p.field {
	case literal:
		return append(b, p.text...), nil
	case filename:
		value, missing = src.Key[strings.LastIndexByte(src.Key, '/')+1:], "the source key has no file name"
	case wholeKey:
		value, missing = src.Key, "the source object has no key"
	case stream:
		value, missing = src.Stream, "the source object has no Firehose stream name"
	case sourceBucket:
		value, missing = src.Bucket, "the source object has no bucket"
	default:
		return appendTimePart(b, p, at), nil
	}
	if value == "" {
		return nil, fmt.Errorf("%w %s: %s", ErrMissingValue, p.field, missing)
	}
	return append(b, value...), nil
}
