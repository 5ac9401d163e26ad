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
		if again := encodeRecord(m); !bytes.Equal(again, v) {
			t.Fatalf("decoded %+v re-encodes as %x, stored %x", m, again, v)
		}
	})
}
