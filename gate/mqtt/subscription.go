package mqtt

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// resubscribeEvery is how long a failed subscription waits before it is
// tried again.
const resubscribeEvery = 5 * time.Second

// subscription keeps one topic filter subscribed on a Publisher's
// connection: at once when the connection is open, again after every
// reconnect (Run connects with a clean session, so the broker forgets
// subscriptions), and again every retry after a failure (a timeout, an
// error, a SUBACK refusal). Commands and Discovery both use it.
type subscription struct {
	p       *Publisher
	filter  string
	handler paho.MessageHandler
	log     *slog.Logger
	retry   time.Duration
	resub   chan struct{}
}

// newSubscription registers the reconnect hook; call it before p.Run.
func (p *Publisher) newSubscription(filter string, handler paho.MessageHandler, log *slog.Logger) *subscription {
	s := &subscription{p: p, filter: filter, handler: handler, log: log, retry: resubscribeEvery,
		resub: make(chan struct{}, 1)}
	p.OnConnect(func() { kick(s.resub) })
	return s
}

// run subscribes until ctx ends; it returns nil then.
func (s *subscription) run(ctx context.Context) error {
	if s.p.client.IsConnectionOpen() {
		kick(s.resub)
	}
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-retry.C:
			if s.p.client.IsConnectionOpen() {
				kick(s.resub)
			}
		case <-s.resub:
			if err := s.subscribe(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				s.log.Warn("subscribe failed; retrying", "filter", s.filter, "err", err, "retry_in", s.retry)
				retry.Reset(s.retry)
			}
		}
	}
}

func (s *subscription) subscribe(ctx context.Context) error {
	t := s.p.client.Subscribe(s.filter, 1, s.handler)
	if err := s.p.awaitToken(ctx, t, "subscribe "+s.filter); err != nil {
		return err
	}
	if st, ok := t.(*paho.SubscribeToken); ok {
		for f, code := range st.Result() {
			if code >= 0x80 {
				return fmt.Errorf("mqtt: subscribe %s: refused by the broker (code %#x)", f, code)
			}
		}
	}
	s.log.Info("subscribed", "filter", s.filter)
	return nil
}
