package outbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/gateguard/gateguard/gate"
)

// The stored form of one message in the durable outbox. The sequence number
// is the bbolt key (8 bytes, big-endian, so keys sort in recording order);
// the value is:
//
//	byte    format version (recordVersion)
//	uvarint len(ID),    ID bytes
//	uvarint len(Topic), Topic bytes
//	        Payload bytes (the rest)
//	uint32  CRC-32C (Castagnoli), big-endian, of the 8-byte key followed
//	        by everything before the CRC
//
// bbolt checksums only its meta pages; the CRC catches a value damaged on
// the medium, so that a bad record is quarantined instead of published, and
// (since format 2) a damaged key, which would otherwise publish a record
// under another sequence number. Format 1 records (CRC of the value alone)
// are still read.
const recordVersion = 2

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt reports a stored record or file that cannot be read back.
var ErrCorrupt = errors.New("outbox: corrupt record")

// seqKey returns the bbolt key of a sequence number.
func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// keySeq is the inverse of seqKey; ok is false for a key of the wrong size.
func keySeq(k []byte) (uint64, bool) {
	if len(k) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(k), true
}

// encodeRecord returns the stored value of m (its Seq is the key, not part
// of the value).
func encodeRecord(m gate.Message) []byte {
	return encodeRecordVersion(m, recordVersion)
}

func encodeRecordVersion(m gate.Message, version byte) []byte {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(m.ID)+len(m.Topic)+len(m.Payload)+4)
	b = append(b, version)
	b = binary.AppendUvarint(b, uint64(len(m.ID)))
	b = append(b, m.ID...)
	b = binary.AppendUvarint(b, uint64(len(m.Topic)))
	b = append(b, m.Topic...)
	b = append(b, m.Payload...)
	return binary.BigEndian.AppendUint32(b, recordSum(m.Seq, b))
}

// recordSum is the CRC of a stored value's body: of the body alone in
// format 1, of the key and the body from format 2 on.
func recordSum(seq uint64, body []byte) uint32 {
	if len(body) > 0 && body[0] == 1 {
		return crc32.Checksum(body, castagnoli)
	}
	return crc32.Update(crc32.Checksum(seqKey(seq), castagnoli), castagnoli, body)
}

// decodeRecord parses a stored value; the returned message's slices are
// copies, safe to keep after the transaction ends.
func decodeRecord(seq uint64, v []byte) (gate.Message, error) {
	if len(v) < 1+1+1+4 {
		return gate.Message{}, fmt.Errorf("%w %d: %d bytes is too short", ErrCorrupt, seq, len(v))
	}
	body, sum := v[:len(v)-4], binary.BigEndian.Uint32(v[len(v)-4:])
	if got := recordSum(seq, body); got != sum {
		return gate.Message{}, fmt.Errorf("%w %d: checksum %08x, stored %08x", ErrCorrupt, seq, got, sum)
	}
	if body[0] != 1 && body[0] != recordVersion {
		return gate.Message{}, fmt.Errorf("%w %d: format version %d, want 1–%d", ErrCorrupt, seq, body[0], recordVersion)
	}
	rest := body[1:]
	id, rest, err := lengthPrefixed(rest)
	if err != nil {
		return gate.Message{}, fmt.Errorf("%w %d: id: %w", ErrCorrupt, seq, err)
	}
	topic, rest, err := lengthPrefixed(rest)
	if err != nil {
		return gate.Message{}, fmt.Errorf("%w %d: topic: %w", ErrCorrupt, seq, err)
	}
	return gate.Message{Seq: seq, ID: string(id), Topic: string(topic),
		Payload: append([]byte(nil), rest...)}, nil
}

func lengthPrefixed(b []byte) (field, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, nil, errors.New("bad length")
	}
	b = b[k:]
	if n > uint64(len(b)) {
		return nil, nil, fmt.Errorf("length %d exceeds the %d bytes left", n, len(b))
	}
	return b[:n], b[n:], nil
}
