package pipeline

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"lakestream/shared/config"
)

// Format is an output format (OUTPUT_FORMAT).
type Format string

// Output formats. json, csv and tsv write a record's fields; lines and
// splunk write its text, the source text it was made from (a log line, a
// CloudWatch Logs event's message), so that a stage that changes fields
// (MASK_FIELDS, ARRIVAL_TIME_FIELD) has no effect on them and is refused
// with them.
const (
	FormatJSON Format = "json"
	FormatCSV  Format = "csv"
	FormatTSV  Format = "tsv"
	// FormatLines writes each record's text and a newline, as the AWS
	// CloudWatch Logs blueprint writes log events.
	FormatLines Format = "lines"
	// FormatSplunk writes one Splunk HTTP Event Collector event per
	// record: its text as the event.
	FormatSplunk Format = "splunk"
)

// formats lists every Format, for OUTPUT_FORMAT.
var formats = []string{string(FormatJSON), string(FormatCSV), string(FormatTSV), string(FormatLines), string(FormatSplunk)}

// writesFields reports whether f writes records' fields rather than
// their text.
func (f Format) writesFields() bool { return f == FormatJSON || f == FormatCSV || f == FormatTSV }

// TimeFormat is how the arrival time is written (ARRIVAL_TIME_FORMAT).
type TimeFormat string

// Arrival time formats.
const (
	TimeRFC3339     TimeFormat = "rfc3339"
	TimeEpochMillis TimeFormat = "epoch-ms"
)

// Split is how a Firehose record's data is cut into the pieces given to the
// Parser.
type Split int

const (
	// SplitLines cuts at LF (a CR before it is removed; the last line needs
	// no LF) and skips blank lines.
	SplitLines Split = iota
	// SplitJSON cuts a sequence of JSON documents, each of which may span
	// several lines (pretty-printed) or share one; newline-delimited JSON
	// is the common case. For the JSON transformer, with ParseJSON.
	SplitJSON
)

// Default IP prefix lengths kept by truncate-ip: a /24 and a /48 are the
// usual anonymisation granularities (Google Analytics IP anonymisation,
// typical IPv6 site prefix).
const (
	DefaultIPv4Prefix = 24
	DefaultIPv6Prefix = 48
)

// Options configures a Pipeline. Each string field holds a spec in the
// syntax of the environment variable named in its comment (see the package
// doc); zero values disable a stage or take the default.
type Options struct {
	ArrivalTimeField  string     // ARRIVAL_TIME_FIELD
	ArrivalTimeFormat TimeFormat // ARRIVAL_TIME_FORMAT; "" is TimeRFC3339
	MaskFields        string     // MASK_FIELDS
	HashSalt          string     // HASH_SALT
	IPv4Prefix        int        // MASK_IPV4_PREFIX; 0 is DefaultIPv4Prefix
	IPv6Prefix        int        // MASK_IPV6_PREFIX; 0 is DefaultIPv6Prefix
	DropIf            string     // DROP_IF
	Schema            string     // SCHEMA
	TimeField         string     // TIME_FIELD
	PartitionKeys     string     // PARTITION_KEYS
	OutputFormat      Format     // OUTPUT_FORMAT; "" is FormatJSON
	OutputColumns     string     // OUTPUT_COLUMNS
	Fields            string     // FIELDS
	EmbedJSON         bool       // EMBED_JSON_MESSAGE
	SplunkSourcetype  string     // SPLUNK_SOURCETYPE
	SplunkHost        string     // SPLUNK_HOST
	SplunkSource      string     // SPLUNK_SOURCE
	SplunkIndex       string     // SPLUNK_INDEX
	// Split is set by the transformer, not from the environment: it is a
	// property of the input format.
	Split Split
	// ParseMessage, when set, parses each record's message field and
	// merges what it returns into the record (PARSE_MESSAGE, which
	// shared/logformat reads). It runs first, so every later stage sees the
	// parsed fields. A parsed field whose name the record already has is
	// added as <ParseMessageName>_<name> instead: the record's own fields
	// keep their values, and a column its type.
	ParseMessage     ParserAt
	ParseMessageName string // "parsed" when empty
	// PartitionAliases are source names a transformer adds to
	// PARTITION_KEYS, each standing for a "field:<name>" source (the
	// CloudWatch Logs decompressor's log_group is field:logGroup). Set by
	// the transformer, not from the environment.
	PartitionAliases map[string]string
}

// Load reads Options from environment variables, recording every invalid
// variable (including a spec that does not parse, naming the bad item) in
// env. Check env.Err before calling New.
func Load(env *config.Env) Options { return LoadDefaults(env, Options{}) }

// LoadDefaults is Load with a transformer's own defaults: each variable
// that is unset takes def's value (a zero value keeps the package default),
// and Split is def.Split. A transformer knows its format's event-time field
// (TIME_FIELD) and its full column list, so an operator sets neither. The
// OUTPUT_COLUMNS default applies only when OUTPUT_FORMAT is csv or tsv, and
// then ends with ARRIVAL_TIME_FIELD when that is set, so the enrichment is
// not silently left out of the rows.
func LoadDefaults(env *config.Env, def Options) Options {
	or := func(v, fallback string) string {
		if v != "" {
			return v
		}
		return fallback
	}
	orInt := func(v, fallback int) int {
		if v != 0 {
			return v
		}
		return fallback
	}
	o := Options{
		ArrivalTimeField:  env.String("ARRIVAL_TIME_FIELD", def.ArrivalTimeField),
		ArrivalTimeFormat: TimeFormat(env.OneOf("ARRIVAL_TIME_FORMAT", or(string(def.ArrivalTimeFormat), string(TimeRFC3339)), string(TimeRFC3339), string(TimeEpochMillis))),
		MaskFields:        env.String("MASK_FIELDS", def.MaskFields),
		HashSalt:          env.String("HASH_SALT", def.HashSalt),
		IPv4Prefix:        env.Int("MASK_IPV4_PREFIX", orInt(def.IPv4Prefix, DefaultIPv4Prefix), 1, 32),
		IPv6Prefix:        env.Int("MASK_IPV6_PREFIX", orInt(def.IPv6Prefix, DefaultIPv6Prefix), 1, 128),
		DropIf:            env.String("DROP_IF", def.DropIf),
		Schema:            env.String("SCHEMA", def.Schema),
		TimeField:         env.String("TIME_FIELD", def.TimeField),
		PartitionKeys:     env.String("PARTITION_KEYS", def.PartitionKeys),
		OutputFormat:      Format(env.OneOf("OUTPUT_FORMAT", or(string(def.OutputFormat), string(FormatJSON)), formats...)),
		OutputColumns:     env.String("OUTPUT_COLUMNS", ""),
		Fields:            env.String("FIELDS", def.Fields),
		EmbedJSON:         env.Bool("EMBED_JSON_MESSAGE", def.EmbedJSON),
		Split:             def.Split,
		ParseMessage:      def.ParseMessage,
		ParseMessageName:  def.ParseMessageName,
		PartitionAliases:  def.PartitionAliases,
	}
	// The Splunk settings are refused rather than ignored with another
	// format, so a forgotten OUTPUT_FORMAT=splunk shows at start-up.
	for _, v := range []struct {
		name     string
		dst      *string
		fallback string
	}{
		{"SPLUNK_SOURCETYPE", &o.SplunkSourcetype, def.SplunkSourcetype},
		{"SPLUNK_HOST", &o.SplunkHost, def.SplunkHost},
		{"SPLUNK_SOURCE", &o.SplunkSource, def.SplunkSource},
		{"SPLUNK_INDEX", &o.SplunkIndex, def.SplunkIndex},
	} {
		if o.OutputFormat != FormatSplunk {
			if env.Has(v.name) {
				env.Fail(v.name, env.String(v.name, ""), "unset unless OUTPUT_FORMAT is splunk")
			}
			continue
		}
		*v.dst = env.String(v.name, v.fallback)
	}
	if o.OutputColumns == "" && (o.OutputFormat == FormatCSV || o.OutputFormat == FormatTSV) && o.Fields != "" {
		// FIELDS says what is written (fields.go): the columns follow it.
		o.OutputColumns = defaultFieldsColumns(o.Fields, def.OutputColumns)
	} else if o.OutputColumns == "" && (o.OutputFormat == FormatCSV || o.OutputFormat == FormatTSV) && def.OutputColumns != "" {
		o.OutputColumns = def.OutputColumns
		listed := o.ArrivalTimeField == ""
		for c := range specItems(o.OutputColumns, ",") {
			listed = listed || c == o.ArrivalTimeField
		}
		if !listed {
			o.OutputColumns += "," + o.ArrivalTimeField
		}
	}
	// Build the stages now, only to report every problem through env with
	// the others; New builds them again from the returned Options.
	_, problems := compile(o)
	for _, e := range problems {
		env.Fail(e.Name, e.Value, e.Accepts)
	}
	return o
}

// What each spec variable accepts, quoted in its error messages.
const (
	acceptsMask      = "comma-separated field=action, action one of truncate-ip, hash, drop, redact"
	acceptsDropIf    = `comma-separated alternatives of conditions joined by "&", each field=value, field^=prefix or field~=regexp`
	acceptsSchema    = "comma-separated field:type[:constraint]..., type one of string, int, float, bool, timestamp; constraints required, lo..hi (int, float), max=N (string)"
	acceptsPartition = "comma-separated key=source or a bare time part, source one of year, month, day, hour, date, field:<name>; keys of letters, digits and _"
	acceptsColumns   = "comma-separated field names"
	acceptsSplunkRef = `a literal value, or field:<name> for a field's value`
)

// stages is a validated Options, ready to run.
type stages struct {
	arrivalField  string
	arrivalFormat TimeFormat
	filter        filter
	masks         []mask
	hashSalt      []byte
	ipv4Bits      int
	ipv6Bits      int
	schema        []fieldRule
	timeField     *fieldPath
	partition     []partitionKey
	format        Format
	columns       []fieldPath
	split         Split
	embedJSON     bool
	splunk        splunkFields
	fields        *fieldSelect
	parseMessage  ParserAt
	parsedPrefix  string
	// reads is the top-level fields whose values the stages read
	// (readFields): the others may be kept verbatim.
	reads []string
	// hourKeysOnly: every partition key is a time part, so a line's
	// partition values follow from its date and hour alone.
	hourKeysOnly bool
	// sites is how many lookups prepare's stages make, numbered by
	// numberSites; DROP_IF's are 1 to filterSites.
	sites, filterSites int
}

// buildStages is compile for New and NewEvents: the stages, or every problem
// joined into one error.
func buildStages(o Options) (*stages, error) {
	s, problems := compile(o)
	if len(problems) > 0 {
		errs := make([]error, len(problems))
		for i, p := range problems {
			errs[i] = p
		}
		return nil, fmt.Errorf("pipeline: invalid options: %w", errors.Join(errs...))
	}
	s.reads = s.readFields()
	s.numberSites()
	return s, nil
}

// compile checks every option and builds the stages, returning one
// config.Error per invalid variable so that both Load and New name it.
func compile(o Options) (*stages, []*config.Error) {
	var problems []*config.Error
	fail := func(name, value, accepts string) {
		problems = append(problems, &config.Error{Name: name, Value: value, Accepts: accepts})
	}
	failSpec := func(name, value string, err error, accepts string) {
		fail(name, value, fmt.Sprintf("%v; accepts %s", err, accepts))
	}

	s := &stages{
		arrivalField:  o.ArrivalTimeField,
		arrivalFormat: o.ArrivalTimeFormat,
		ipv4Bits:      o.IPv4Prefix,
		ipv6Bits:      o.IPv6Prefix,
		format:        o.OutputFormat,
		split:         o.Split,
		embedJSON:     o.EmbedJSON,
		parseMessage:  o.ParseMessage,
		parsedPrefix:  ParsedPrefix(o.ParseMessageName),
	}
	switch s.arrivalFormat {
	case "":
		s.arrivalFormat = TimeRFC3339
	case TimeRFC3339, TimeEpochMillis:
	default:
		fail("ARRIVAL_TIME_FORMAT", string(o.ArrivalTimeFormat), "one of rfc3339, epoch-ms")
	}
	if s.ipv4Bits == 0 {
		s.ipv4Bits = DefaultIPv4Prefix
	}
	if s.ipv4Bits < 1 || s.ipv4Bits > 32 {
		fail("MASK_IPV4_PREFIX", fmt.Sprint(o.IPv4Prefix), "an integer from 1 to 32")
	}
	if s.ipv6Bits == 0 {
		s.ipv6Bits = DefaultIPv6Prefix
	}
	if s.ipv6Bits < 1 || s.ipv6Bits > 128 {
		fail("MASK_IPV6_PREFIX", fmt.Sprint(o.IPv6Prefix), "an integer from 1 to 128")
	}
	if o.Split != SplitLines && o.Split != SplitJSON {
		// Not an environment variable: a transformer's programming error.
		fail("Options.Split", fmt.Sprint(int(o.Split)), "SplitLines or SplitJSON")
	}

	var err error
	if s.masks, err = parseMasks(o.MaskFields); err != nil {
		failSpec("MASK_FIELDS", o.MaskFields, err, acceptsMask)
	}
	for _, m := range s.masks {
		if m.action == actionHash && o.HashSalt == "" {
			// The salt is never echoed: it is a secret.
			fail("HASH_SALT", "", fmt.Sprintf("a secret salt, required because MASK_FIELDS hashes %q", m.path.name))
			break
		}
	}
	s.hashSalt = []byte(o.HashSalt)
	if s.filter, err = parseFilter(o.DropIf); err != nil {
		failSpec("DROP_IF", o.DropIf, err, acceptsDropIf)
	}
	if s.schema, err = parseSchema(o.Schema); err != nil {
		failSpec("SCHEMA", o.Schema, err, acceptsSchema)
	}
	if o.TimeField != "" {
		if p, err := newFieldPath(o.TimeField); err != nil {
			failSpec("TIME_FIELD", o.TimeField, err, "a field name")
		} else {
			s.timeField = &p
		}
	}
	if s.partition, err = parsePartitionKeys(o.PartitionKeys, o.PartitionAliases); err != nil {
		failSpec("PARTITION_KEYS", o.PartitionKeys, err, acceptsPartition+aliasesText(o.PartitionAliases))
	}
	s.hourKeysOnly = !slices.ContainsFunc(s.partition, func(k partitionKey) bool { return k.part == partField })

	switch s.format {
	case "":
		s.format = FormatJSON
	case FormatJSON, FormatCSV, FormatTSV, FormatLines, FormatSplunk:
	default:
		fail("OUTPUT_FORMAT", string(o.OutputFormat), "one of "+strings.Join(formats, ", "))
	}
	if !s.format.writesFields() {
		// lines and splunk write the text as it came: a stage that
		// changes fields would silently not apply, and a masked value
		// would reach the lake in the clear.
		why := fmt.Sprintf("unset when OUTPUT_FORMAT is %s, which writes each record's text as it came, not its fields", s.format)
		if o.MaskFields != "" {
			fail("MASK_FIELDS", o.MaskFields, why+": use json, csv or tsv to mask")
		}
		if o.ArrivalTimeField != "" {
			fail("ARRIVAL_TIME_FIELD", o.ArrivalTimeField, why)
		}
		if o.Fields != "" {
			fail("FIELDS", o.Fields, why)
		}
	}
	if s.fields, err = parseFieldSelect(o.Fields); err != nil {
		failSpec("FIELDS", o.Fields, err, acceptsFields)
	}
	if s.embedJSON && s.format != FormatJSON && s.format != FormatSplunk {
		fail("EMBED_JSON_MESSAGE", "true", fmt.Sprintf("false unless OUTPUT_FORMAT is json or splunk (%s has no place for an object)", s.format))
	}
	if s.format == FormatSplunk {
		for _, v := range []struct {
			name, spec string
			dst        *splunkRef
		}{
			{"SPLUNK_HOST", o.SplunkHost, &s.splunk.host},
			{"SPLUNK_SOURCE", o.SplunkSource, &s.splunk.source},
		} {
			if *v.dst, err = parseSplunkRef(v.spec); err != nil {
				failSpec(v.name, v.spec, err, acceptsSplunkRef)
			}
		}
		s.splunk.sourcetype, s.splunk.index = o.SplunkSourcetype, o.SplunkIndex
	}
	switch {
	case s.format == FormatJSON && o.OutputColumns != "":
		fail("OUTPUT_COLUMNS", o.OutputColumns, "nothing when OUTPUT_FORMAT is json: JSON lines keep every field")
	case !s.format.writesFields() && o.OutputColumns != "":
		fail("OUTPUT_COLUMNS", o.OutputColumns, fmt.Sprintf("nothing when OUTPUT_FORMAT is %s: it writes each record's text", s.format))
	case (s.format == FormatCSV || s.format == FormatTSV) && o.OutputColumns == "":
		fail("OUTPUT_COLUMNS", "", acceptsColumns+", required when OUTPUT_FORMAT is csv or tsv")
	case o.OutputColumns != "":
		if s.columns, err = parseColumns(o.OutputColumns); err != nil {
			failSpec("OUTPUT_COLUMNS", o.OutputColumns, err, acceptsColumns)
		}
	}
	return s, problems
}

// ParsedPrefix is what the name of a parsed field the record already has
// starts with: the parser's name and "_" ("syslog_message").
func ParsedPrefix(parser string) string {
	if parser == "" {
		parser = "parsed"
	}
	return parser + "_"
}

// parseColumns parses OUTPUT_COLUMNS.
func parseColumns(spec string) ([]fieldPath, error) {
	var cols []fieldPath
	for item := range specItems(spec, ",") {
		p, err := newFieldPath(item)
		if err != nil {
			return nil, itemError(item, err)
		}
		cols = append(cols, p)
	}
	if len(cols) == 0 {
		return nil, errors.New("no columns")
	}
	return cols, nil
}

// specItems yields the trimmed, non-empty items of a spec split on sep.
func specItems(spec, sep string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for item := range strings.SplitSeq(spec, sep) {
			if item = strings.TrimSpace(item); item != "" && !yield(item) {
				return
			}
		}
	}
}

// itemError names the spec item a problem was found in.
func itemError(item string, err error) error {
	return fmt.Errorf("item %q: %w", item, err)
}
