package lepton

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// VoSPI geometry for the Lepton 3.x with telemetry off (VoSPI IDD §4).
const (
	// Width and Height are the image size in pixels.
	Width, Height = 160, 120
	// PacketSize is one VoSPI packet: 2 bytes ID, 2 bytes CRC, 80 pixels.
	PacketSize = 164
	// PacketsPerSegment is the number of packets in one segment (30 rows).
	PacketsPerSegment = 60
	// Segments is the number of segments in one frame.
	Segments = 4
	// SegmentSize is one segment's bytes: 9840, more than spidev's default
	// 4096-byte buffer.
	SegmentSize = PacketSize * PacketsPerSegment

	pixelsPerPacket = 80
	segmentPacket   = 20 // the packet whose ID carries the segment number
)

// Packet errors.
var (
	// ErrCRC reports a packet whose CRC does not match: sync is lost.
	ErrCRC = errors.New("lepton: packet crc mismatch")
)

// Packet is one parsed VoSPI packet.
type Packet struct {
	// Discard is set for the filler packets the camera sends when it has no
	// data (ID & 0x0F00 == 0x0F00); the other fields are then unset.
	Discard bool
	// Number is the packet number within its segment, 0–59.
	Number int
	// Segment is the segment number 1–4 (0: an invalid segment to skip),
	// carried only by packet 20; 0 in other packets.
	Segment int
	// Payload is the packet's 80 pixels, big-endian.
	Payload []byte
}

// crc16 is CRC-16-CCITT (polynomial 0x1021) with a zero seed, the VoSPI
// packet checksum.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crcByte(crc, c)
	}
	return crc
}

// packetCRC computes a packet's CRC with the ID's top nibble and the CRC
// field zeroed, as the VoSPI specification says.
func packetCRC(p []byte) uint16 {
	var head [4]byte
	head[0], head[1] = p[0]&0x0F, p[1]
	crc := uint16(0)
	for _, c := range head {
		crc = crcByte(crc, c)
	}
	for _, c := range p[4:PacketSize] {
		crc = crcByte(crc, c)
	}
	return crc
}

// crcTable holds the CRC-16-CCITT of every byte value, for a byte-at-a-time
// update.
var crcTable = func() (t [256]uint16) {
	for i := range t {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}()

func crcByte(crc uint16, c byte) uint16 { return crc<<8 ^ crcTable[byte(crc>>8)^c] }

// ParsePacket checks and parses one 164-byte VoSPI packet. A discard packet
// is returned with Discard set and no CRC check.
func ParsePacket(p []byte) (Packet, error) {
	if len(p) != PacketSize {
		return Packet{}, fmt.Errorf("lepton: packet of %d bytes, want %d", len(p), PacketSize)
	}
	id := binary.BigEndian.Uint16(p)
	if id&0x0F00 == 0x0F00 {
		return Packet{Discard: true}, nil
	}
	if got, want := packetCRC(p), binary.BigEndian.Uint16(p[2:]); got != want {
		return Packet{}, fmt.Errorf("%w: packet id %#04x carries %#04x, computed %#04x", ErrCRC, id, want, got)
	}
	pk := Packet{Number: int(id & 0x0FFF), Payload: p[4:]}
	if pk.Number >= PacketsPerSegment {
		return Packet{}, fmt.Errorf("lepton: packet number %d is beyond %d", pk.Number, PacketsPerSegment-1)
	}
	if pk.Number == segmentPacket {
		pk.Segment = int(id >> 12)
		if pk.Segment > Segments {
			return Packet{}, fmt.Errorf("lepton: segment number %d is beyond %d", pk.Segment, Segments)
		}
	}
	return pk, nil
}

// assembler collects packets into segments and segments into a frame, and
// says when sync is lost.
type assembler struct {
	next    int // next expected packet number; -1 before packet 0
	segment int // segment number from packet 20 of the current segment
	want    int // next segment wanted for the frame, 1–4
	seg     [SegmentSize - PacketsPerSegment*4]byte
	raw     [Width * Height]uint16
}

func (a *assembler) reset() { a.next, a.segment, a.want = -1, 0, 1 }

// errSync reports a packet out of order: the caller resynchronises.
var errSync = errors.New("lepton: lost sync")

// add takes one packet; it returns true when the frame in a.raw is complete.
func (a *assembler) add(p []byte) (bool, error) {
	pk, err := ParsePacket(p)
	if err != nil {
		return false, err
	}
	if pk.Discard {
		return false, nil
	}
	switch {
	case pk.Number == 0:
		a.next, a.segment = 0, 0
	case a.next < 0:
		return false, nil // waiting for the start of a segment
	case pk.Number != a.next:
		return false, fmt.Errorf("%w: packet %d after packet %d", errSync, pk.Number, a.next-1)
	}
	copy(a.seg[pk.Number*2*pixelsPerPacket:], pk.Payload)
	if pk.Number == segmentPacket {
		a.segment = pk.Segment
	}
	a.next = pk.Number + 1
	if pk.Number < PacketsPerSegment-1 {
		return false, nil
	}
	a.next = -1
	switch a.segment {
	case 0:
		return false, nil // invalid segment: the camera repeats a frame
	case a.want:
	case 1:
		a.want = 1 // a new frame started: begin again with it
	default:
		a.want = 1 // a segment went missing: wait for the next frame
		return false, nil
	}
	base := (a.segment - 1) * PacketsPerSegment / 2 * Width
	for i := range PacketsPerSegment * pixelsPerPacket {
		a.raw[base+i] = binary.BigEndian.Uint16(a.seg[2*i:])
	}
	if a.segment < Segments {
		a.want = a.segment + 1
		return false, nil
	}
	a.want = 1
	return true, nil
}
