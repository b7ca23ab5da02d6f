package pipeline

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/netip"
	"strings"

	"lakestream/shared/record"
)

// RedactedText replaces the value of a field masked with "redact", and of a
// "truncate-ip" field that holds no IP address.
const RedactedText = "REDACTED"

type maskAction int

const (
	actionTruncateIP maskAction = iota + 1
	actionHash
	actionDrop
	actionRedact
)

var maskActions = map[string]maskAction{
	"truncate-ip": actionTruncateIP,
	"hash":        actionHash,
	"drop":        actionDrop,
	"redact":      actionRedact,
}

// mask is one MASK_FIELDS item.
type mask struct {
	path   fieldPath
	action maskAction
}

// parseMasks parses MASK_FIELDS: comma-separated field=action.
func parseMasks(spec string) ([]mask, error) {
	var masks []mask
	seen := map[string]bool{}
	for item := range specItems(spec, ",") {
		name, action, ok := strings.Cut(item, "=")
		name, action = strings.TrimSpace(name), strings.TrimSpace(action)
		if !ok {
			return nil, itemError(item, errors.New("want field=action"))
		}
		p, err := newFieldPath(name)
		if err != nil {
			return nil, itemError(item, err)
		}
		a, ok := maskActions[action]
		if !ok {
			return nil, itemError(item, fmt.Errorf("unknown action %q", action))
		}
		if seen[name] {
			return nil, itemError(item, fmt.Errorf("field %q is masked twice", name))
		}
		seen[name] = true
		masks = append(masks, mask{path: p, action: a})
	}
	return masks, nil
}

// masker applies the masks to the records of one Firehose record. It holds
// the HMAC state, which is not safe for concurrent use, so each Transform
// call has its own.
type masker struct {
	*stages
	mac     hash.Hash
	scratch []byte
}

// apply masks the fields of b, whose arena holds the masked values.
func (m *masker) apply(b *record.Builder) error {
	return m.applyIn(b, &lookup{rec: &b.Record})
}

// applyIn is apply with l, which looks up b's fields.
func (m *masker) applyIn(b *record.Builder, l *lookup) error {
	for j := range m.masks {
		k := &m.masks[j]
		at, i := l.rec, 0
		if j, ok := l.top(&k.path); ok {
			i = j
		} else {
			at, i = l.locate(&k.path)
		}
		if i < 0 || at.Fields[i].Value == nil {
			continue
		}
		f := &at.Fields[i]
		switch k.action {
		case actionDrop:
			l.delete(&k.path, at, i)
		case actionRedact:
			f.Value = RedactedText
		case actionTruncateIP:
			f.Value = m.truncateIP(b, f.Value)
		case actionHash:
			v, err := m.hash(b, f.Value)
			if err != nil {
				return &FieldError{Field: k.path.name, Err: err}
			}
			f.Value = v
		}
	}
	return nil
}

// truncateIP keeps the network part of an address, leaving "" and "-" (no
// address) alone and redacting anything else, so that a hostname or a
// malformed value never reaches the lake unmasked. The masked address is
// held by r's arena.
func (m *masker) truncateIP(r *record.Builder, v any) any {
	s, ok := v.(string)
	if !ok {
		return RedactedText
	}
	if s == "" || s == "-" {
		return v
	}
	if q, ok := parseIPv4(s); ok {
		// The commonest case, without netip's general parsing, written
		// straight into r's arena.
		return r.Box(r.Keep(q.appendMasked(r.Room(len(s)), s, m.ipv4Bits)))
	}
	var buf [len("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535")]byte
	if a, err := netip.ParseAddr(s); err == nil {
		return r.Box(r.Text(m.network(a).AppendTo(buf[:0])))
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return r.Box(r.Text(netip.AddrPortFrom(m.network(ap.Addr()), ap.Port()).AppendTo(buf[:0])))
	}
	return RedactedText
}

func (m *masker) network(a netip.Addr) netip.Addr {
	a = a.Unmap()
	bits := m.ipv6Bits
	if a.Is4() {
		bits = m.ipv4Bits
	}
	// Bits were checked against each family at start-up, and Masked drops
	// an IPv6 zone, which could otherwise identify a host.
	return netip.PrefixFrom(a, bits).Masked().Addr()
}

// hash returns the hex HMAC-SHA256 of the value's text keyed with the
// salt, held by r's arena.
func (m *masker) hash(r *record.Builder, v any) (any, error) {
	var err error
	if m.scratch, err = appendText(m.scratch[:0], v); err != nil {
		return nil, err
	}
	if m.mac == nil {
		m.mac = hmac.New(sha256.New, m.hashSalt)
	}
	m.mac.Reset()
	m.mac.Write(m.scratch)
	var sum [sha256.Size]byte
	m.scratch = hex.AppendEncode(m.scratch[:0], m.mac.Sum(sum[:0]))
	return r.Box(r.Text(m.scratch)), nil
}

// dottedQuad is an IPv4 address as parseIPv4 read it: its octets, and
// where each ends in the text.
type dottedQuad struct {
	octets [4]byte
	ends   [4]uint8
}

// parseIPv4 reads a dotted-quad IPv4 address as netip.ParseAddr does
// (four decimal octets, no leading zeros), reporting false for anything
// else, which is left to netip. It reads an octet at a time, a digit and
// at most two more after it, rather than testing every byte for a dot, a
// digit and the end at once: half the time on a log's addresses.
func parseIPv4(s string) (dottedQuad, bool) {
	var q dottedQuad
	if len(s) > len("255.255.255.255") {
		return q, false
	}
	i := 0
	for octet := range 4 {
		if octet > 0 {
			if i == len(s) || s[i] != '.' {
				return q, false
			}
			i++
		}
		if i == len(s) {
			return q, false
		}
		n := uint(s[i] - '0')
		if n > 9 {
			return q, false
		}
		i++
		// A leading zero is the octet's only digit; two more digits at
		// most follow another, read one by one (a loop over them cost a
		// tenth more).
		if n != 0 && i < len(s) {
			if d := uint(s[i] - '0'); d <= 9 {
				n, i = n*10+d, i+1
				if i < len(s) {
					if d := uint(s[i] - '0'); d <= 9 {
						n, i = n*10+d, i+1
					}
				}
			}
			if n > 255 {
				return q, false
			}
		}
		q.octets[octet], q.ends[octet] = byte(n), uint8(i)
	}
	return q, i == len(s)
}

// appendMasked appends the address q read from s with all but its first
// bits bits zeroed, as netip writes it: the octets kept whole are s's own
// text, copied at once, the rest written after them (a masked octet is
// nearly always 0). It writes at most len(s) bytes: no octet it writes
// has more digits than s's.
func (q *dottedQuad) appendMasked(dst []byte, s string, bits int) []byte {
	whole := bits / 8
	if whole > 0 {
		dst = append(dst, s[:q.ends[whole-1]]...)
	}
	for octet := whole; octet < 4; octet++ {
		if octet > 0 {
			dst = append(dst, '.')
		}
		n := byte(0)
		if octet == whole {
			n = q.octets[octet] &^ (0xff >> (bits % 8)) // its first bits%8 bits
		}
		dst = appendOctet(dst, n)
	}
	return dst
}

// appendOctet writes n in decimal, each digit appended on its own
// (strconv.AppendUint formats into a buffer of its own and copies it
// out).
func appendOctet(dst []byte, n byte) []byte {
	switch {
	case n >= 100:
		return append(dst, '0'+n/100, '0'+n/10%10, '0'+n%10)
	case n >= 10:
		return append(dst, '0'+n/10, '0'+n%10)
	}
	return append(dst, '0'+n)
}
