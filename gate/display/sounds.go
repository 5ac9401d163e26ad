package display

import (
	"bytes"
	"encoding/binary"
	"math"
)

// The page's tones, generated here as 16-bit mono WAV files at start: no
// audio file needs to be shipped beside the binary. A tone is a list of
// notes; each note fades in and out over 8 ms so it never clicks.

const sampleRate = 22050

type note struct {
	hz  float64 // 0 is a rest
	sec float64
}

var toneNotes = map[string][]note{
	// A soft single note: look at the camera, step closer.
	"prompt": {{880, 0.12}},
	// Rising: welcome, go through.
	"chime": {{659.25, 0.14}, {0, 0.03}, {987.77, 0.22}},
	// Falling, gentle: see security, wait for staff.
	"attention": {{587.33, 0.18}, {0, 0.05}, {440, 0.28}},
	// Alternating, insistent: the fire alarm.
	"alarm": {{880, 0.2}, {660, 0.2}, {880, 0.2}, {660, 0.2}},
}

// wav renders notes as a WAV file.
func wav(notes []note) []byte {
	var pcm []int16
	fade := sampleRate / 125 // 8 ms
	for _, n := range notes {
		count := int(n.sec * float64(sampleRate))
		for i := range count {
			if n.hz == 0 {
				pcm = append(pcm, 0)
				continue
			}
			env := 1.0
			if i < fade {
				env = float64(i) / float64(fade)
			} else if count-i < fade {
				env = float64(count-i) / float64(fade)
			}
			s := 0.45 * env * math.Sin(2*math.Pi*n.hz*float64(i)/float64(sampleRate))
			pcm = append(pcm, int16(s*math.MaxInt16))
		}
	}
	var b bytes.Buffer
	data := uint32(len(pcm) * 2)
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(36 + data)
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1)) // PCM
	w(uint16(1)) // mono
	w(uint32(sampleRate))
	w(uint32(sampleRate * 2))
	w(uint16(2))
	w(uint16(16))
	b.WriteString("data")
	w(data)
	w(pcm)
	return b.Bytes()
}
