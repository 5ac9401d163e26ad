package systemd

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// parseJournal decodes one native-protocol datagram into its fields (the
// last value of a repeated field wins).
func parseJournal(b []byte) (map[string]string, error) {
	m := map[string]string{}
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			return nil, fmt.Errorf("systemd: journal datagram: field without newline")
		}
		line := b[:nl]
		if k, v, ok := bytes.Cut(line, []byte("=")); ok {
			m[string(k)] = string(v)
			b = b[nl+1:]
			continue
		}
		b = b[nl+1:]
		if len(b) < 8 {
			return nil, fmt.Errorf("systemd: journal datagram: %s: short length", line)
		}
		n := binary.LittleEndian.Uint64(b)
		b = b[8:]
		if uint64(len(b)) < n+1 {
			return nil, fmt.Errorf("systemd: journal datagram: %s: value shorter than %d", line, n)
		}
		m[string(line)] = string(b[:n])
		b = b[n+1:]
	}
	return m, nil
}
