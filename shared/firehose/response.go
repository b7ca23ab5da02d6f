package firehose

import (
	"encoding/json"
	"math/bits"
	"slices"
	"unsafe"

	"lakestream/shared/jsonenc"
)

// Response is the data-transformation response. It is lakestream's own type,
// not aws-lambda-go's KinesisFirehoseResponse, because that type always
// writes "data" (null when empty) and empty "metadata" / "otfMetadata"
// objects, which Firehose rejects or misroutes for records that carry no
// partition keys.
type Response struct {
	Records []ResponseRecord `json:"records"`
}

// ResponseRecord is the result for one input record, with the same RecordID.
type ResponseRecord struct {
	RecordID      string
	Result        string
	Data          []byte
	PartitionKeys map[string]string
}

// MarshalJSON writes the whole response into one buffer of the exact size:
// a response is up to 6 MB, and encoding/json re-scans whatever a
// Marshaler returns, so one buffer means one pass instead of one per
// record. (The handler writes its own entries: Invoke's response goes out
// as it is.)
func (r *Response) MarshalJSON() ([]byte, error) {
	entries := make([]entry, len(r.Records))
	for i := range r.Records {
		entries[i] = r.Records[i].entry()
	}
	return appendResponse(make([]byte, 0, responseLen(entries)), entries), nil
}

// MarshalJSON writes the record as Firehose expects it: "data" always
// present (possibly "") on Ok records, absent on Dropped ones and on failed
// ones without data; "metadata" only when there are partition keys.
func (r ResponseRecord) MarshalJSON() ([]byte, error) {
	e := r.entry()
	return e.appendJSON(make([]byte, 0, e.encodedLen())), nil
}

// entry is r as the handler writes it.
func (r *ResponseRecord) entry() entry {
	return entry{id: r.RecordID, idLen: jsonenc.StringLen(r.RecordID), result: r.Result, data: r.Data,
		meta: appendMetadata(nil, r.PartitionKeys)}
}

// encodedLen is len(r.MarshalJSON()), computed without encoding.
func (r *ResponseRecord) encodedLen() int {
	e := r.entry()
	return e.encodedLen()
}

// entry is one record's answer as the handler writes it, each of its
// parts sized before it is written: the budget accounting asks the size
// of every entry (encodedLen, a sum), and the response is then written
// once into a buffer of exactly its size. Only the data is encoded as the
// entry is written; the rest was encoded or measured once: the record id
// when the request was decoded, the metadata once per partition-key map
// (see metadataMemo). Those three made up half of the framework's time
// when each entry was encoded to be sized and encoded again to be written.
type entry struct {
	id     string
	idLen  int // len(jsonenc.AppendString(nil, id))
	result string
	data   []byte
	// meta is the "metadata" member with its leading comma, or nothing.
	meta []byte
}

// hasData reports whether the entry writes "data": Firehose wants it on
// every Ok record, even empty, and a failed record carries its original
// data when it fits.
func (e *entry) hasData() bool { return e.result == ResultOk || len(e.data) > 0 }

// encodedLen is len(e.appendJSON(nil)), computed without encoding.
func (e *entry) encodedLen() int {
	n := len(`{"recordId":,"result":""}`) + e.idLen + len(e.result) + len(e.meta)
	if e.hasData() {
		n += len(`,"data":""`) + base64TextLen(len(e.data))
	}
	return n
}

func (e *entry) appendJSON(b []byte) []byte {
	b = append(b, `{"recordId":`...)
	if e.idLen == len(e.id)+2 {
		// Nothing to escape (every escape is longer than what it
		// stands for): the id as it is, between quotes.
		b = append(b, '"')
		b = append(b, e.id...)
		b = append(b, '"')
	} else {
		b = jsonenc.AppendString(b, e.id)
	}
	if e.result == ResultOk {
		// Nearly every record: the result and the data's key written
		// as two pieces, not five, each short enough (16 bytes at most)
		// to be written with moves where one of 23 was a call to
		// memmove.
		b = append(b, `,"result":"Ok",`...)
		b = append(b, `"data":"`...)
		b = AppendBase64(b, e.data)
		b = append(b, '"')
	} else {
		b = append(b, `,"result":"`...)
		b = append(b, e.result...)
		b = append(b, '"')
		if e.hasData() {
			b = append(b, `,"data":"`...)
			b = AppendBase64(b, e.data)
			b = append(b, '"')
		}
	}
	b = append(b, e.meta...)
	return append(b, '}')
}

// responseLen is len(appendResponse(nil, entries)).
func responseLen(entries []entry) int {
	n := len(emptyResponse)
	for i := range entries {
		n += entries[i].encodedLen() + 1
	}
	if len(entries) > 0 {
		n-- // no comma after the last
	}
	return n
}

// appendResponse appends the response holding entries to b.
func appendResponse(b []byte, entries []entry) []byte {
	b = append(b, `{"records":[`...)
	for i := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = entries[i].appendJSON(b)
	}
	return append(b, "]}"...)
}

// appendMetadata appends the "metadata" member of a record with partition
// keys m (keys sorted), with its leading comma; nothing when m is empty.
func appendMetadata(b []byte, m map[string]string) []byte {
	if len(m) == 0 {
		return b
	}
	b = append(b, `,"metadata":{"partitionKeys":{`...)
	var buf [8]string // room for the usual few keys without allocating
	for i, k := range sortedKeys(buf[:0], m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, k)
		b = append(b, ':')
		b = jsonenc.AppendString(b, m[k])
	}
	return append(b, "}}"...)
}

// sortedKeys appends m's keys to keys, sorted: sorting the keys of every
// record's partition map through maps.Keys and slices.Sorted allocated and
// took a tenth of an access-log invocation.
func sortedKeys(keys []string, m map[string]string) []string {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// maxMemoMaps bounds the maps a metadataMemo remembers (a transform that
// makes a new map for every record gains nothing from it): enough for a
// batch whose records span a month of hourly partitions, as the standard
// access-log batch does. A memo kept from one invocation to the next
// (WithStablePartitionKeys) starts over when it is full.
const maxMemoMaps = 1 << 12

// metadataMemo encodes the "metadata" member of each partition-key map
// once: the shared pipeline hands every record of a partition the same
// map, so a batch of thousands of records has a few maps. A map is known
// by its identity, which is sound because the memo holds the map (its
// memory cannot be another map's while remembered) and is emptied for
// every invocation, during which a transform must not change a map it
// returned (see Output.PartitionKeys), unless the transform never changes
// one (WithStablePartitionKeys).
type metadataMemo struct {
	last     unsafe.Pointer
	lastMeta []byte
	// slots is a hash table of the maps met, by address: open
	// addressing, linear probing, a power of two long and at most half
	// full (nil until the first map). A batch spanning many partitions takes turns
	// among their maps, nearly every record another than the last; a
	// lookup here is a multiplication and a compare or two, where one in
	// a Go map keyed by the address took 80 instructions (two thirds of a
	// percent of an access-log invocation).
	slots []memoSlot
	n     int // slots in use
}

type memoSlot struct {
	m    unsafe.Pointer
	meta []byte
}

// get returns m's "metadata" member, as appendMetadata writes it.
func (c *metadataMemo) get(m map[string]string) []byte {
	// A map is looked up by its identity before its length is asked:
	// that reads the map's own memory, which had left the cache by the
	// time the handler met it again (a third of get's time on the
	// access-log batch, whose records take turns among many maps). Only
	// non-empty maps are remembered.
	p := mapPointer(m)
	if p == c.last && p != nil {
		return c.lastMeta
	}
	if p == nil {
		return nil
	}
	meta, ok := c.find(p)
	if !ok {
		if len(m) == 0 {
			return nil
		}
		meta = appendMetadata(nil, m)
		c.add(p, meta)
	}
	c.last, c.lastMeta = p, meta
	return meta
}

// find looks the map at p up in the table.
func (c *metadataMemo) find(p unsafe.Pointer) ([]byte, bool) {
	if len(c.slots) == 0 {
		return nil, false
	}
	mask := uint(len(c.slots) - 1)
	for i := memoHash(p) & mask; c.slots[i].m != nil; i = (i + 1) & mask {
		if c.slots[i].m == p {
			return c.slots[i].meta, true
		}
	}
	return nil, false
}

// memoHash spreads a map's address over a word (Fibonacci hashing): its
// high bits, which the table takes by rotating them down, depend on all
// of the address's.
func memoHash(p unsafe.Pointer) uint {
	return uint(bits.RotateLeft64(uint64(uintptr(p))*0x9e3779b97f4a7c15, 32))
}

// add remembers meta for the map at p, which the table does not hold,
// first doubling the table if it would be over half full, or emptying it
// if it holds maxMemoMaps maps.
func (c *metadataMemo) add(p unsafe.Pointer, meta []byte) {
	if c.n >= maxMemoMaps {
		c.reset()
	}
	if 2*(c.n+1) > len(c.slots) {
		old := c.slots
		c.slots = make([]memoSlot, max(64, 2*len(old)))
		for _, s := range old {
			if s.m != nil {
				c.put(s)
			}
		}
	}
	c.put(memoSlot{m: p, meta: meta})
	c.n++
}

// put stores s in the first free slot from its map's hash on.
func (c *metadataMemo) put(s memoSlot) {
	mask := uint(len(c.slots) - 1)
	i := memoHash(s.m) & mask
	for c.slots[i].m != nil {
		i = (i + 1) & mask
	}
	c.slots[i] = s
}

// mapPointer is m's identity: a map value is a pointer to the map's
// memory, which reflect.Value.UnsafePointer returns for a map too, through
// a call and a switch on the kind (a sixth of the metadata's cost a
// record).
func mapPointer(m map[string]string) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&m)) }

// reset forgets every map, for the next invocation.
func (c *metadataMemo) reset() {
	clear(c.slots)
	c.n, c.last, c.lastMeta = 0, nil, nil
}

// UnmarshalJSON reads what MarshalJSON writes (tests and the local runner
// decode responses with it).
func (r *ResponseRecord) UnmarshalJSON(b []byte) error {
	var w struct {
		RecordID string  `json:"recordId"`
		Result   string  `json:"result"`
		Data     *[]byte `json:"data"`
		Metadata *struct {
			PartitionKeys map[string]string `json:"partitionKeys"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = ResponseRecord{RecordID: w.RecordID, Result: w.Result}
	if w.Data != nil {
		r.Data = *w.Data
	}
	if w.Metadata != nil {
		r.PartitionKeys = w.Metadata.PartitionKeys
	}
	return nil
}

// emptyResponse is the response's JSON around its records.
const emptyResponse = `{"records":[]}`

// reservedLen is the most a record's entry takes without data, idLen
// being its id's JSON length: a failed record's, plus the comma before
// the next.
func reservedLen(idLen int) int {
	return len(`{"recordId":,"result":"ProcessingFailed"}`) + idLen + 1
}

// extraLen is what e's entry adds to its reserved length.
func (e *entry) extraLen() int {
	return max(0, e.encodedLen()+1-reservedLen(e.idLen))
}

// MaxDataLen is the most data an Ok record with this id and partition
// keys can carry in a response of budget bytes on its own. A transform
// whose output is longer must split the record (Output.Reingest): the
// handler fails an Ok record too large on its own rather than re-ingest it
// unchanged forever.
func MaxDataLen(budget int, recordID string, partitionKeys map[string]string) int {
	r := ResponseRecord{RecordID: recordID, Result: ResultOk, PartitionKeys: partitionKeys}
	room := budget - len(emptyResponse) - r.encodedLen() - 1
	return max(0, room/4*3)
}
