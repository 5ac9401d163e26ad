package outbox

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gateguard/gateguard/gate"
)

func TestRecordRoundTripAndDamage(t *testing.T) {
	m := gate.Message{Seq: 42, ID: "0194-abc", Topic: gate.TopicAlert, Payload: []byte(`{"v":1,"replayed":false}`)}
	v := encodeRecord(m)
	got, err := decodeRecord(42, v)
	if err != nil || got.ID != m.ID || got.Topic != m.Topic || !bytes.Equal(got.Payload, m.Payload) || got.Seq != 42 {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for i := range v {
		bad := append([]byte(nil), v...)
		bad[i] ^= 0x01
		if _, err := decodeRecord(42, bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("flipped bit in byte %d: %v, want ErrCorrupt", i, err)
		}
	}
	for n := range len(v) {
		if _, err := decodeRecord(42, v[:n]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d bytes: %v, want ErrCorrupt", n, err)
		}
	}
}

// TestRecordUnderAnotherKey: a record whose bbolt key was damaged (read
// under another sequence number) fails its checksum instead of being
// published as another event; format 1 records, whose CRC does not cover
// the key, are still read.
func TestRecordUnderAnotherKey(t *testing.T) {
	m := gate.Message{Seq: 42, ID: "0194-abc", Topic: gate.TopicAlert, Payload: []byte(`{"v":1}`)}
	for _, seq := range []uint64{43, 42 ^ 1<<40, 0} {
		if got, err := decodeRecord(seq, encodeRecord(m)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("record 42 read under key %d: %+v, %v; want ErrCorrupt", seq, got, err)
		}
	}
	got, err := decodeRecord(42, encodeRecordVersion(m, 1))
	if err != nil || got.ID != m.ID || !bytes.Equal(got.Payload, m.Payload) {
		t.Fatalf("format 1 record: %+v, %v", got, err)
	}
}

// FuzzDecodeRecord: any stored value either decodes to a message that
// encodes back to the same bytes, or is refused with ErrCorrupt.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(gate.Message{ID: "id", Topic: gate.TopicAccess, Payload: []byte(`{"a":1}`)}))
	f.Add(encodeRecord(gate.Message{}))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, v []byte) {
		m, err := decodeRecord(7, v)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if again := encodeRecordVersion(m, v[0]); !bytes.Equal(again, v) {
			t.Fatalf("decoded %+v re-encodes as %x, stored %x", m, again, v)
		}
	})
}
