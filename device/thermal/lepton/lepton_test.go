package lepton

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"

	"github.com/gateguard/gateguard/device/thermal"
)

// packet builds a VoSPI packet as the specification describes: ID with the
// segment number in the top nibble of packet 20, CRC16-CCITT (seed 0) over
// the packet with that nibble and the CRC field zeroed, 80 big-endian pixels.
func packet(num, seg int, px func(i int) uint16) []byte {
	p := make([]byte, PacketSize)
	for i := range pixelsPerPacket {
		binary.BigEndian.PutUint16(p[4+2*i:], px(i))
	}
	binary.BigEndian.PutUint16(p, uint16(num)) // nibble zero for the CRC
	binary.BigEndian.PutUint16(p[2:], crc16(p))
	if num == segmentPacket {
		p[0] |= byte(seg << 4)
	}
	return p
}

// discard is a filler packet: ID 0xxFxx, garbage CRC and payload.
func discard() []byte {
	p := make([]byte, PacketSize)
	p[0], p[1], p[2], p[3] = 0x0F, 0xFE, 0xDE, 0xAD
	for i := 4; i < PacketSize; i++ {
		p[i] = byte(i * 7)
	}
	return p
}

// centi is the test scene: pixel (x, y) at 30 °C + x/100 + y/10.
func centi(x, y int) uint16 { return uint16(27315 + 3000 + x + 10*y) }

// segment builds the 60 packets of segment s (1–4) of the scene, labelled
// label in packet 20.
func segment(s, label int) []byte {
	var b []byte
	for n := range PacketsPerSegment {
		row := (s-1)*30 + n/2
		b = append(b, packet(n, label, func(i int) uint16 { return centi((n%2)*80+i, row) })...)
	}
	return b
}

func frame() []byte {
	var b []byte
	for s := 1; s <= 4; s++ {
		b = append(b, segment(s, s)...)
	}
	return b
}

func repeat(p []byte, n int) []byte {
	var b []byte
	for range n {
		b = append(b, p...)
	}
	return b
}

// stream is a simulated VoSPI port: it plays a byte stream, then discard
// packets forever, and records every transfer's size.
type stream struct {
	data  []byte
	sizes []int
	speed physic.Frequency
	mode  spi.Mode
}

func (s *stream) String() string                    { return "stream" }
func (s *stream) LimitSpeed(physic.Frequency) error { return nil }
func (s *stream) Duplex() conn.Duplex               { return conn.Full }
func (s *stream) TxPackets(p []spi.Packet) error    { return errors.New("not used") }
func (s *stream) Connect(f physic.Frequency, m spi.Mode, bits int) (spi.Conn, error) {
	s.speed, s.mode = f, m
	return s, nil
}

func (s *stream) Tx(w, r []byte) error {
	s.sizes = append(s.sizes, len(r))
	for i := 0; i < len(r); i += PacketSize {
		if len(s.data) == 0 {
			s.data = discard()
		}
		n := copy(r[i:], s.data[:min(PacketSize, len(s.data))])
		s.data = s.data[n:]
	}
	return nil
}

func recordSleeps(t *testing.T) *[]time.Duration {
	var waits []time.Duration
	old := sleep
	sleep = func(d time.Duration) { waits = append(waits, d) }
	t.Cleanup(func() { sleep = old })
	return &waits
}

// TestCentiKelvinToC checks TLinear's conversion against values written out
// by hand (0 °C is 273.15 K).
func TestCentiKelvinToC(t *testing.T) {
	for _, tt := range []struct {
		raw  uint16
		want float64
	}{
		{31015, 37.00},
		{31045, 37.30},
		{27315, 0.00},
		{29815, 25.00},
		{23315, -40.00},
		{0, -273.15},
		{65535, 382.20},
	} {
		if got := CentiKelvinToC(tt.raw); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("CentiKelvinToC(%d) = %.6f, want %.2f", tt.raw, got, tt.want)
		}
	}
}

func TestCRC16(t *testing.T) {
	// CRC-16/CCITT with a zero seed (XMODEM) check value.
	if got := crc16([]byte("123456789")); got != 0x31C3 {
		t.Errorf("crc16 = %#04x, want 0x31c3", got)
	}
}

func TestParsePacket(t *testing.T) {
	good := packet(7, 0, func(i int) uint16 { return uint16(30000 + i) })
	seg := packet(20, 3, func(i int) uint16 { return 29000 })
	badCRC := append([]byte(nil), good...)
	badCRC[100] ^= 1
	badNibble := append([]byte(nil), seg...)
	badNibble[1] ^= 0x01 // packet number 21 under packet 20's CRC
	beyond := packet(60, 0, func(int) uint16 { return 0 })
	seg5 := packet(20, 5, func(int) uint16 { return 0 })
	tests := []struct {
		name  string
		p     []byte
		want  Packet
		isCRC bool
		msg   string
	}{
		{"packet 7", good, Packet{Number: 7, Payload: good[4:]}, false, ""},
		{"packet 20 segment 3", seg, Packet{Number: 20, Segment: 3, Payload: seg[4:]}, false, ""},
		{"discard", discard(), Packet{Discard: true}, false, ""},
		{"crc error", badCRC, Packet{}, true, "crc mismatch"},
		{"id changed", badNibble, Packet{}, true, "crc mismatch"},
		{"number 60", beyond, Packet{}, false, "beyond 59"},
		{"segment 5", seg5, Packet{}, false, "segment number 5"},
		{"short", good[:100], Packet{}, false, "100 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePacket(tt.p)
			if tt.msg != "" {
				if err == nil || !strings.Contains(err.Error(), tt.msg) || errors.Is(err, ErrCRC) != tt.isCRC {
					t.Fatalf("ParsePacket = %v, want error %q", err, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Discard != tt.want.Discard || got.Number != tt.want.Number || got.Segment != tt.want.Segment ||
				string(got.Payload) != string(tt.want.Payload) {
				t.Errorf("got %+v", got)
			}
		})
	}
}

func checkScene(t *testing.T, f *thermal.Frame) {
	t.Helper()
	if f.W != Width || f.H != Height {
		t.Fatalf("frame %dx%d", f.W, f.H)
	}
	// The scene's temperatures written out, not computed with the
	// conversion under test.
	for _, pt := range []struct {
		x, y int
		c    float64
	}{{0, 0, 30.00}, {159, 0, 31.59}, {80, 29, 33.70}, {79, 30, 33.79}, {5, 119, 41.95}, {159, 119, 43.49}} {
		if got := f.At(pt.x, pt.y); math.Abs(float64(got)-pt.c) > 1e-4 {
			t.Errorf("(%d,%d) = %v °C, want %.2f", pt.x, pt.y, got, pt.c)
		}
	}
	if err := f.Check(); err != nil {
		t.Error(err)
	}
}

func TestStream(t *testing.T) {
	invalid := func() []byte {
		var b []byte
		for s := 1; s <= 4; s++ {
			b = append(b, segment(s, 0)...)
		}
		return b
	}
	corrupt := func(b []byte, at int) []byte {
		b = append([]byte(nil), b...)
		b[at] ^= 0x40
		return b
	}
	join := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	tests := []struct {
		name    string
		data    []byte
		resyncs int
		err     error
		msg     string
	}{
		{"frame after discards", join(repeat(discard(), 37), frame()), 0, nil, ""},
		{"discards between segments", join(segment(1, 1), repeat(discard(), 3), segment(2, 2), segment(3, 3), discard(), segment(4, 4)), 0, nil, ""},
		{"repeated frame skipped", join(invalid(), frame()), 0, nil, ""},
		{"start mid-frame", join(segment(3, 3), segment(4, 4), frame()), 0, nil, ""},
		{"start mid-segment", join(segment(1, 1)[30*PacketSize:], frame()), 0, nil, ""},
		{"missing segment", join(segment(1, 1), segment(3, 3), segment(4, 4), frame()), 0, nil, ""},
		{"crc error resyncs", join(corrupt(segment(1, 1), 10*PacketSize+50), repeat(discard(), 23), frame()), 1, nil, ""},
		{"packet out of order resyncs", join(segment(1, 1)[:5*PacketSize], segment(1, 1)[7*PacketSize:], frame()), 1, nil, ""},
		{"tlinear off", join(segment(1, 1)[:PacketSize], packet(1, 0, func(int) uint16 { return 8000 }), segment(1, 1)[2*PacketSize:],
			segment(2, 2), segment(3, 3), segment(4, 4)), 0, ErrBadData, "reads 8000"},
		{"only discards", nil, 0, ErrNoFrame, "in 20016 packets"},
		{"crc errors forever", repeat(corrupt(segment(1, 1), 200), 10), 5, ErrNoFrame, "after 5 resynchronisations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			waits := recordSleeps(t)
			port := &stream{data: tt.data}
			d, err := New(port, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			var f thermal.Frame
			err = d.NextFrame(&f)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("NextFrame = %v, want %v with %q", err, tt.err, tt.msg)
				}
				if len(f.C) != 0 {
					t.Error("frame filled after an error")
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				checkScene(t, &f)
			}
			if len(*waits) != tt.resyncs {
				t.Errorf("%d resync idles, want %d", len(*waits), tt.resyncs)
			}
			for _, w := range *waits {
				if w < 185*time.Millisecond {
					t.Errorf("resync idle %v is under 185 ms", w)
				}
			}
			for _, n := range port.sizes {
				if n > 4096 || n%PacketSize != 0 {
					t.Fatalf("transfer of %d bytes", n)
				}
			}
			if port.mode != spi.Mode3 || port.speed != 20*physic.MegaHertz {
				t.Errorf("connected at %s mode %v", port.speed, port.mode)
			}
		})
	}
}

// TestPlaybackFrame plays back a frame on periph's spitest port: ten
// transfers of 24 packets (3936 bytes, under spidev's 4096-byte buffer).
func TestPlaybackFrame(t *testing.T) {
	data := frame()
	var ops []conntest.IO
	for off := 0; off < len(data); off += 24 * PacketSize {
		ops = append(ops, conntest.IO{R: data[off : off+24*PacketSize]})
	}
	port := &spitest.Playback{Playback: conntest.Playback{Ops: ops}}
	d, err := New(port, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var f thermal.Frame
	if err := d.NextFrame(&f); err != nil {
		t.Fatal(err)
	}
	checkScene(t, &f)
	if err := port.Close(); err != nil {
		t.Error(err)
	}
	if len(ops) != 10 || !strings.HasPrefix(d.String(), "Lepton3{") {
		t.Errorf("%d transfers, String %q", len(ops), d)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := d.NextFrame(&f); !errors.Is(err, ErrHalted) {
		t.Errorf("after Halt: %v", err)
	}
}

func cciOp(w []byte, r []byte) i2ctest.IO { return i2ctest.IO{Addr: 0x2A, W: w, R: r} }

// cciSet is one SET command: poll, data (LSW first), length 2, command, poll.
func cciSet(cmd uint16, v uint16, busyFirst bool) []i2ctest.IO {
	var ops []i2ctest.IO
	if busyFirst {
		ops = append(ops, cciOp([]byte{0x00, 0x02}, []byte{0x00, 0x07}))
	}
	return append(ops,
		cciOp([]byte{0x00, 0x02}, []byte{0x00, 0x06}),
		cciOp([]byte{0x00, 0x08, byte(v >> 8), byte(v), 0x00, 0x00}, nil),
		cciOp([]byte{0x00, 0x06, 0x00, 0x02}, nil),
		cciOp([]byte{0x00, 0x04, byte(cmd >> 8), byte(cmd)}, nil),
		cciOp([]byte{0x00, 0x02}, []byte{0x00, 0x06}),
	)
}

func TestCCIRadiometry(t *testing.T) {
	waits := recordSleeps(t)
	var ops []i2ctest.IO
	ops = append(ops, cciSet(0x0101, 0, true)...) // AGC off, camera busy once
	ops = append(ops, cciSet(0x4E11, 1, false)...)
	ops = append(ops, cciSet(0x4EC1, 1, false)...)
	ops = append(ops, cciSet(0x4EC5, 1, false)...)
	bus := &i2ctest.Playback{Ops: ops}
	if _, err := New(&stream{}, bus, nil); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Error(err)
	}
	if len(*waits) != 1 {
		t.Errorf("%d polls waited, want 1", len(*waits))
	}

	// A command the camera refuses (result −1 in the status high byte).
	refused := cciSet(0x0101, 0, false)
	refused[len(refused)-1].R = []byte{0xFF, 0x06}
	_, err := New(&stream{}, &i2ctest.Playback{Ops: refused, DontPanic: true}, nil)
	if !errors.Is(err, ErrCCI) || !strings.Contains(err.Error(), "disable AGC") || !strings.Contains(err.Error(), "result -1") {
		t.Errorf("refused command: %v", err)
	}
	// A bus error.
	if _, err := New(&stream{}, &i2ctest.Playback{DontPanic: true}, nil); err == nil || !strings.Contains(err.Error(), "read status") {
		t.Errorf("bus error: %v", err)
	}
}

func FuzzParsePacket(f *testing.F) {
	f.Add(packet(20, 2, func(i int) uint16 { return uint16(i) }))
	f.Add(discard())
	f.Fuzz(func(t *testing.T, p []byte) {
		pk, err := ParsePacket(p)
		if err == nil && !pk.Discard && (pk.Number >= PacketsPerSegment || pk.Segment > Segments || len(pk.Payload) != 160) {
			t.Fatalf("accepted %+v", pk)
		}
	})
}

// FuzzAssembler feeds arbitrary packet streams: no panics, and a frame is
// only reported after packets that passed their CRC.
func FuzzAssembler(f *testing.F) {
	f.Add(frame()[:20*PacketSize])
	f.Add(append(discard(), segment(4, 4)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		var a assembler
		a.reset()
		valid := 0 // packets that passed their CRC since the last reset
		for len(b) >= PacketSize {
			p := b[:PacketSize]
			if pk, err := ParsePacket(p); err == nil && !pk.Discard {
				valid++
			}
			done, err := a.add(p)
			if err != nil {
				a.reset()
				valid = 0
			}
			if done && valid < Segments*PacketsPerSegment {
				t.Fatalf("frame complete after %d valid packets", valid)
			}
			b = b[PacketSize:]
		}
	})
}

// BenchmarkNextFrame assembles and converts one 160×120 frame from a stream
// of 240 packets (CRC checks included), without the SPI transfer time.
func BenchmarkNextFrame(b *testing.B) {
	data := frame()
	port := &stream{}
	d, err := New(port, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	var f thermal.Frame
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		port.data, port.sizes = data, port.sizes[:0]
		if err := d.NextFrame(&f); err != nil {
			b.Fatal(err)
		}
	}
}
