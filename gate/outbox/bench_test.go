package outbox

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gateguard/gateguard/gate"
)

// benchRecord measures durable records/s from the given number of
// goroutines (records from concurrent goroutines share commits).
func benchRecord(b *testing.B, writers int) {
	d, err := Open(filepath.Join(b.TempDir(), "o.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	payload := msg(1, 550).Payload
	const n = 8000
	for b.Loop() {
		start := time.Now()
		var wg sync.WaitGroup
		for range writers {
			wg.Go(func() {
				for range n / writers {
					if _, err := d.Append(func(uint64) gate.Message {
						return gate.Message{ID: "x", Topic: gate.TopicAccess, Payload: payload}
					}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		b.ReportMetric(n/time.Since(start).Seconds(), "records/s")
		if err := d.AckThrough(d.LastSeq()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRecord1(b *testing.B)  { benchRecord(b, 1) }
func BenchmarkRecord8(b *testing.B)  { benchRecord(b, 8) }
func BenchmarkRecord64(b *testing.B) { benchRecord(b, 64) }
