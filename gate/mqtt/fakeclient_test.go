package mqtt

import (
	"errors"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// fakeToken is a paho token the test completes.
type fakeToken struct {
	done chan struct{}
	once sync.Once
	err  error
}

func newFakeToken() *fakeToken { return &fakeToken{done: make(chan struct{})} }

// complete finishes the token once; later calls do nothing, as with paho.
func (t *fakeToken) complete(err error) {
	t.once.Do(func() {
		t.err = err
		close(t.done)
	})
}

func (t *fakeToken) Wait() bool { <-t.done; return true }
func (t *fakeToken) WaitTimeout(d time.Duration) bool {
	select {
	case <-t.done:
		return true
	case <-time.After(d):
		return false
	}
}
func (t *fakeToken) Done() <-chan struct{} { return t.done }
func (t *fakeToken) Error() error {
	select {
	case <-t.done:
		return t.err
	default:
		return nil
	}
}

type fakePub struct {
	topic   string
	qos     byte
	payload []byte
	tok     *fakeToken
}

type fakeSub struct {
	filter string
	tok    *fakeToken
}

// fakeClient records publishes and subscriptions and hands back tokens the
// test completes. Methods the publisher does not use panic (nil embedded).
type fakeClient struct {
	paho.Client

	mu   sync.Mutex // guards the fields below
	open bool
	pubs []*fakePub
	subs []*fakeSub
}

func (c *fakeClient) IsConnectionOpen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open
}

func (c *fakeClient) IsConnected() bool { return c.IsConnectionOpen() }

func (c *fakeClient) setOpen(open bool) {
	c.mu.Lock()
	c.open = open
	c.mu.Unlock()
}

func (c *fakeClient) Publish(topic string, qos byte, _ bool, payload any) paho.Token {
	var b []byte
	switch p := payload.(type) {
	case []byte:
		b = p
	case string:
		b = []byte(p)
	}
	t := newFakeToken()
	c.mu.Lock()
	c.pubs = append(c.pubs, &fakePub{topic: topic, qos: qos, payload: b, tok: t})
	c.mu.Unlock()
	return t
}

func (c *fakeClient) Subscribe(filter string, _ byte, _ paho.MessageHandler) paho.Token {
	t := newFakeToken()
	c.mu.Lock()
	c.subs = append(c.subs, &fakeSub{filter: filter, tok: t})
	c.mu.Unlock()
	return t
}

func (c *fakeClient) Disconnect(uint) { c.setOpen(false) }

func (c *fakeClient) published() []*fakePub {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*fakePub(nil), c.pubs...)
}

func (c *fakeClient) subscribed() []*fakeSub {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*fakeSub(nil), c.subs...)
}

var errFakeLost = errors.New("fake: connection lost")
