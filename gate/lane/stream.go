package lane

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/gateguard/gateguard/gate"
)

// Options configures a Stream.
type Options struct {
	// Hold keeps a decision on show for at least this long before an idle
	// lane replaces it (the controller is idle again at once after a
	// denial); a new person's code or an alarm replaces it at once. Zero
	// shows every state as it comes.
	Hold time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// subBuffer is how many states a subscriber may fall behind by; beyond it
// the oldest waiting state is dropped (the newest always arrives).
const subBuffer = 32

// Stream is the lane state stream: it takes the controller's signals
// (it is a gate.LaneObserver), derives each state once, and hands the same
// states, in the same order, to every subscriber.
type Stream struct {
	o    Options
	wake chan struct{}

	mu      sync.Mutex // guards the fields below
	queue   []gate.LaneSignal
	subs    map[*sub]bool
	cur     State
	started bool
}

type sub struct{ c chan State }

var _ gate.LaneObserver = (*Stream)(nil)

// New returns a stream showing Idle; it derives nothing until Run.
func New(o Options) *Stream {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Stream{o: o, wake: make(chan struct{}, 1), subs: map[*sub]bool{},
		cur: State{Seq: 1, Time: o.Now(), Kind: Idle}}
}

// Lane queues a controller signal; it never blocks.
func (s *Stream) Lane(sig gate.LaneSignal) {
	s.mu.Lock()
	s.queue = append(s.queue, sig)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Current returns the state on show.
func (s *Stream) Current() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// Subscribe returns a channel that receives the state on show and then
// every later state, and a function that ends the subscription (closing
// the channel). A subscriber more than 32 states behind loses the oldest.
func (s *Stream) Subscribe() (<-chan State, func()) {
	sb := &sub{c: make(chan State, subBuffer)}
	s.mu.Lock()
	s.subs[sb] = true
	sb.c <- s.cur
	s.mu.Unlock()
	var once sync.Once
	return sb.c, func() {
		once.Do(func() {
			s.mu.Lock()
			if s.subs[sb] { // not already closed by Run's end
				delete(s.subs, sb)
				close(sb.c)
			}
			s.mu.Unlock()
		})
	}
}

// Run derives states from the queued signals until ctx ends, then closes
// every subscription.
func (s *Stream) Run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var (
		pending   *State    // an idle state waiting for a decision's hold to end
		holdUntil time.Time // zero when nothing is held
	)
	defer s.closeAll()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
			if pending != nil {
				s.publish(*pending)
				pending = nil
			}
			holdUntil = time.Time{}
			continue
		case <-s.wake:
		}
		for _, sig := range s.take() {
			st := Derive(sig)
			now := s.o.Now()
			if !holdUntil.IsZero() && now.Before(holdUntil) && quiet(st.Kind) {
				pending = &st // shown when the hold ends
				continue
			}
			pending = nil
			if !holdUntil.IsZero() {
				timer.Stop()
				holdUntil = time.Time{}
			}
			s.publish(st)
			if st.Event == "" {
				continue
			}
			// The signal that carries a denial also says the lane is idle
			// again: that is shown when the hold ends.
			sig.Entry = nil
			base := Derive(sig)
			if s.o.Hold <= 0 {
				if quiet(base.Kind) {
					s.publish(base)
				}
				continue
			}
			holdUntil = now.Add(s.o.Hold)
			timer.Reset(s.o.Hold)
			if quiet(base.Kind) {
				pending = &base
			}
		}
	}
}

// quiet kinds wait for a decision's hold to end.
func quiet(k Kind) bool { return k == Idle || k == Locked || k == Maintenance }

func (s *Stream) take() []gate.LaneSignal {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue = nil
	return q
}

// publish makes st the state on show and hands it to every subscriber,
// unless it shows the same as the state already on show.
func (s *Stream) publish(st State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if same(st, s.cur) {
		return
	}
	st.Seq, st.Time = s.cur.Seq+1, s.o.Now()
	s.cur = st
	for sb := range s.subs {
		for {
			select {
			case sb.c <- st:
			default:
				select {
				case <-sb.c: // drop the oldest; the newest must arrive
					s.o.Log.Warn("lane subscriber fell behind: a state was dropped")
				default:
				}
				continue
			}
			break
		}
	}
}

func (s *Stream) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sb := range s.subs {
		close(sb.c)
		delete(s.subs, sb)
	}
}
