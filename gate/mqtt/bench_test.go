package mqtt

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/uuid"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
	"github.com/gateguard/gateguard/gate/outbox"
)

// The benchmarks run against one real Mosquitto each; run them with
// make bench-mqtt (-benchtime 1x: each iteration is a whole workload, and
// the rate is reported as a custom metric).

const benchEvents = 20_000

// samplePayload is a typical access event (about 600 bytes).
func samplePayload(seq uint64) []byte {
	b, _ := json.Marshal(gate.Event{V: 1, ID: uuid.Must(uuid.NewV7()).String(), Seq: seq, Site: "plant-1",
		Gate: "lane-1", Time: time.Now().UTC(), Kind: gate.KindEntry, Decision: "admitted",
		Reasons: []gate.Reason{}, Holder: fmt.Sprintf("employee-%06d", seq%100000),
		Credential: &gate.Credential{Status: gate.StatusGreen, Kind: "site_pass", Holder: "employee"},
		FaceSeen:   true, Reading: &gate.Reading{SkinC: 36.4, CoreC: 36.9, ThresholdC: 37.3, Region: "canthus",
			CalibrationID: "lab-2026-11"}, Mode: gate.ModeNormal})
	return b
}

func benchClient(b *testing.B, url string) paho.Client {
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("bench-plain").
		SetCleanSession(true).SetOrderMatters(false).SetAutoReconnect(false))
	if t := c.Connect(); !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		b.Fatalf("connect: %v", t.Error())
	}
	b.Cleanup(func() { c.Disconnect(100) })
	return c
}

// BenchmarkPlainPahoPipelined is the non-durable reference: QoS 1 publishes
// issued back to back, then every PUBACK awaited. Nothing is stored.
func BenchmarkPlainPahoPipelined(b *testing.B) {
	broker := mqtttest.Start(b, "")
	c := benchClient(b, broker.URL)
	payload := samplePayload(1)
	for b.Loop() {
		start := time.Now()
		toks := make([]paho.Token, 0, benchEvents)
		for range benchEvents {
			toks = append(toks, c.Publish("bench/plain/event/access", 1, false, payload))
		}
		for _, t := range toks {
			if !t.WaitTimeout(time.Minute) || t.Error() != nil {
				b.Fatalf("publish: %v", t.Error())
			}
		}
		b.ReportMetric(benchEvents/time.Since(start).Seconds(), "events/s")
	}
}

// BenchmarkPlainPahoSerial is the naive loop: publish, wait for the PUBACK, repeat.
func BenchmarkPlainPahoSerial(b *testing.B) {
	broker := mqtttest.Start(b, "")
	c := benchClient(b, broker.URL)
	payload := samplePayload(1)
	for b.Loop() {
		start := time.Now()
		for range benchEvents / 4 {
			if t := c.Publish("bench/plain/event/access", 1, false, payload); !t.WaitTimeout(time.Minute) || t.Error() != nil {
				b.Fatalf("publish: %v", t.Error())
			}
		}
		b.ReportMetric(benchEvents/4/time.Since(start).Seconds(), "events/s")
	}
}

// startPublisher runs a Publisher on ob against broker until the benchmark ends.
func startPublisher(b *testing.B, url string, ob Source) {
	p := New(Options{Broker: url, ClientID: "bench-durable", Prefix: "bench/durable",
		KeepAlive: 30 * time.Second, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, ob)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Run(ctx)
	}()
	b.Cleanup(func() {
		cancel()
		<-done
	})
}

// benchDurable measures events/s end to end: record (fsynced) + publish +
// PUBACK + delete, with producers recording concurrently (their records
// share commits) while the publisher drains.
func benchDurable(b *testing.B, producers int) {
	broker := mqtttest.Start(b, "")
	ob, err := outbox.Open(filepath.Join(b.TempDir(), "outbox.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ob.Close() })
	startPublisher(b, broker.URL, ob)
	payload := samplePayload(1)
	for b.Loop() {
		start := time.Now()
		var wg sync.WaitGroup
		for range producers {
			wg.Go(func() {
				for range benchEvents / producers {
					if _, err := ob.Append(func(seq uint64) gate.Message {
						return gate.Message{ID: "x", Topic: gate.TopicAccess, Payload: payload}
					}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		recorded := time.Since(start)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		err := ob.WaitEmpty(ctx)
		cancel()
		if err != nil {
			b.Fatalf("not drained: depth %d", ob.Depth())
		}
		b.ReportMetric(benchEvents/time.Since(start).Seconds(), "events/s")
		b.ReportMetric(benchEvents/recorded.Seconds(), "records/s")
	}
}

// BenchmarkDurable1 records from one goroutine, as the gate's controller
// does: each record is its own fsynced commit.
func BenchmarkDurable1(b *testing.B) { benchDurable(b, 1) }

// BenchmarkDurable64 records from 64 goroutines (many lanes, or a burst):
// their records share commits (group commit).
func BenchmarkDurable64(b *testing.B) { benchDurable(b, 64) }

// BenchmarkDurable256 records from 256 goroutines.
func BenchmarkDurable256(b *testing.B) { benchDurable(b, 256) }

// BenchmarkBacklogDrain100k fills a durable outbox with 100,000 events
// while the broker is unreachable, then measures how long the publisher
// takes to deliver and delete them all.
func BenchmarkBacklogDrain100k(b *testing.B) {
	const n = 100_000
	broker := mqtttest.Start(b, "")
	for b.Loop() {
		b.StopTimer()
		ob, err := outbox.Open(filepath.Join(b.TempDir(), "outbox.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				for range n / 50 {
					if _, err := ob.Append(func(seq uint64) gate.Message {
						return gate.Message{ID: "x", Topic: gate.TopicAccess, Payload: samplePayload(seq)}
					}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		b.StartTimer()
		start := time.Now()
		ctx, cancel := context.WithCancel(context.Background())
		p := New(Options{Broker: broker.URL, ClientID: "bench-backlog", Prefix: "bench/backlog",
			KeepAlive: 30 * time.Second, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, ob)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = p.Run(ctx)
		}()
		wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Minute)
		err = ob.WaitEmpty(wctx)
		wcancel()
		elapsed := time.Since(start)
		cancel()
		<-done
		_ = ob.Close()
		if err != nil {
			b.Fatalf("backlog not drained: depth %d", ob.Depth())
		}
		b.ReportMetric(elapsed.Seconds(), "s/100k")
		b.ReportMetric(n/elapsed.Seconds(), "events/s")
	}
}
