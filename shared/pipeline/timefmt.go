package pipeline

import "time"

// millisLayout is how ARRIVAL_TIME_FIELD writes the arrival time (rfc3339).
const millisLayout = "2006-01-02T15:04:05.000Z07:00"

// appendMillisUTC appends t in UTC as millisLayout does
// ("2024-03-05T06:07:08.009Z"), by hand for the years 0 to 9999: it runs
// for every Firehose record, and time.Format's layout interpretation cost
// more than the rest of the enrichment.
func appendMillisUTC(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, millisLayout)
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	dst = appendDigits(dst, year, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, minute, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, sec, 2)
	dst = append(dst, '.')
	dst = appendDigits(dst, ms, 3)
	return append(dst, 'Z')
}

// appendDigits appends a non-negative n below 10^width as exactly width
// digits, zero-padded.
func appendDigits(dst []byte, n, width int) []byte {
	var d [4]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return append(dst, d[:width]...)
}

// timeMemo remembers the RFC 3339 text parsed last and what it parsed to:
// SCHEMA's timestamp check and the event time (TIME_FIELD) usually read the
// same field of a line, which would otherwise be parsed twice. A nil
// *timeMemo remembers nothing.
type timeMemo struct {
	text string
	t    time.Time
	err  error
}

// parse is time.Parse(time.RFC3339, s), remembered.
func (m *timeMemo) parse(s string) (time.Time, error) {
	if m == nil {
		return time.Parse(time.RFC3339, s)
	}
	if s != m.text || s == "" {
		m.t, m.err = time.Parse(time.RFC3339, s)
		m.text = s
	}
	return m.t, m.err
}
