package mqtt

import (
	"context"
	"fmt"
	"math"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gateguard/gateguard/gate"
)

// drainSlice bounds one call of drain, so that the state's outbox depth is
// republished about once a second during a long backlog.
const drainSlice = time.Second

type flight struct {
	seq      uint64
	replayed bool
	tok      paho.Token
}

// drain publishes outbox messages in order, keeping up to Window of them in
// flight, and removes each run of acknowledged messages from the outbox in
// one call. It returns (true, nil) when it stopped after drainSlice with
// messages left, (false, nil) when the outbox is empty, and an error when
// the connection failed: the messages still in flight are then sent again
// on the next connection, from the oldest one not removed.
func (p *Publisher) drain(ctx context.Context, epoch uint64) (more bool, err error) {
	var (
		q        []flight
		sent     uint64 // highest seq handed to paho
		acked    uint64 // highest seq acknowledged, in order
		removed  uint64 // highest seq removed from the outbox
		replayed uint64
		deadline = time.Now().Add(drainSlice)
		timer    = time.NewTimer(p.o.PublishTimeout)
	)
	defer timer.Stop()
	flush := func() error {
		if acked <= removed {
			return nil
		}
		if err := p.win.AckThrough(acked); err != nil {
			return fmt.Errorf("mqtt: remove published messages through %d: %w", acked, err)
		}
		removed = acked
		return nil
	}
	defer func() {
		if ferr := flush(); ferr != nil && err == nil {
			err = ferr
		}
		p.stats.Resent += uint64(len(q))
		p.stats.Replayed += replayed
	}()
	for {
		filling := time.Now().Before(deadline)
		if filling && len(q) < p.o.Window {
			msgs, err := p.win.PeekAfter(sent, p.o.Window-len(q))
			if err != nil {
				return false, fmt.Errorf("mqtt: read outbox: %w", err)
			}
			for _, m := range msgs {
				q = append(q, p.send(m))
				sent = m.Seq
			}
		}
		if len(q) == 0 {
			return !filling && p.win.Depth() > 0, nil
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(p.o.PublishTimeout)
		if err := p.await(ctx, epoch, q[0].tok, timer); err != nil {
			return false, fmt.Errorf("mqtt: publish seq %d: %w", q[0].seq, err)
		}
		// Take the head and every message behind it already acknowledged.
		for len(q) > 0 && done(q[0].tok) && q[0].tok.Error() == nil {
			acked = q[0].seq
			if q[0].replayed {
				replayed++
			}
			q[0] = flight{}
			q = q[1:]
			p.stats.Published++
		}
		if p.epoch.Load() != epoch {
			return false, errLost
		}
		if acked-removed >= uint64(max(p.o.Window/2, 1)) || len(q) == 0 {
			if err := flush(); err != nil {
				return false, err
			}
		}
	}
}

// send hands one message to paho without waiting.
func (p *Publisher) send(m gate.Message) flight {
	payload, replayed := m.Payload, false
	if m.Seq <= p.replayThrough {
		if r, err := markReplayed(m.Payload); err == nil {
			payload, replayed = r, true
		} else {
			p.log.Warn("not marked replayed: payload is not a JSON object", "seq", m.Seq, "err", err)
		}
	}
	return flight{seq: m.Seq, replayed: replayed, tok: p.client.Publish(p.topic(m.Topic), 1, false, payload)}
}

func done(t paho.Token) bool {
	select {
	case <-t.Done():
		return true
	default:
		return false
	}
}

// plainSource adapts a Source without PeekAfter and AckThrough.
type plainSource struct {
	Source
	window int    // the publisher's window: at most this many are in flight
	last   uint64 // highest seq seen
}

func (s *plainSource) PeekAfter(seq uint64, n int) ([]gate.Message, error) {
	// The messages after seq are behind those in flight: read past them.
	all, err := s.Peek(n + s.window)
	if err != nil {
		return nil, err
	}
	var out []gate.Message
	for _, m := range all {
		s.last = max(s.last, m.Seq)
		if m.Seq > seq && len(out) < n {
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *plainSource) AckThrough(seq uint64) error {
	for {
		head, err := s.Peek(1)
		if err != nil {
			return err
		}
		if len(head) == 0 || head[0].Seq > seq {
			return nil
		}
		if err := s.Ack(head[0].Seq); err != nil {
			return err
		}
	}
}

func (s *plainSource) Depth() int {
	if d, ok := s.Source.(interface{ Depth() int }); ok {
		return d.Depth()
	}
	all, _ := s.Peek(1)
	return len(all)
}

func (s *plainSource) LastSeq() uint64 {
	if l, ok := s.Source.(interface{ LastSeq() uint64 }); ok {
		return l.LastSeq()
	}
	// Called once per connection: read to the end of the queue.
	if all, err := s.Peek(math.MaxInt32); err == nil && len(all) > 0 {
		s.last = max(s.last, all[len(all)-1].Seq)
	}
	return s.last
}
