package mqtttest

import (
	"os"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Central is a consumer as the central side should run one: a fixed client
// id, a persistent session (clean session false) and QoS 1, so the broker
// queues messages for it while it or the broker is down. Its handler never
// blocks: messages are appended to a list.
type Central struct {
	client paho.Client
	notify chan struct{}

	mu   sync.Mutex // guards msgs
	msgs []Message
}

// SessionConfig returns the Mosquitto config lines a broker needs for a
// Central's queue to survive broker restarts: persistence (saved when the
// broker stops, and every few seconds) and queues far larger than the default
// 1000 messages, which Mosquitto drops silently. The persistence file is in a
// folder of its own that Mosquitto can write after dropping root privileges.
func SessionConfig(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mqtttest-persist-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return "persistence true\npersistence_location " + dir + "/\npersistence_file central.db\n" +
		"autosave_interval 5\nmax_queued_messages 10000000\nmax_queued_bytes 0\n" +
		"max_inflight_messages 100\npersistent_client_expiration 1d\n"
}

// ConnectCentral connects a Central with the given client id and subscribes to
// filter; a second ConnectCentral with the same id resumes its session.
func ConnectCentral(t testing.TB, url, clientID, filter string) *Central {
	t.Helper()
	c := &Central{notify: make(chan struct{}, 1)}
	handler := func(_ paho.Client, m paho.Message) {
		c.mu.Lock()
		c.msgs = append(c.msgs, Message{Topic: m.Topic(), Payload: m.Payload(), Retained: m.Retained(), QoS: m.Qos()})
		c.mu.Unlock()
		select {
		case c.notify <- struct{}{}:
		default:
		}
	}
	opts := paho.NewClientOptions().AddBroker(url).SetClientID(clientID).
		SetCleanSession(false).SetOrderMatters(true).SetAutoReconnect(true).
		SetConnectRetry(true).SetConnectRetryInterval(200 * time.Millisecond).
		SetMaxReconnectInterval(time.Second).SetResumeSubs(true).
		SetDefaultPublishHandler(handler) // messages of the resumed session arrive before any Subscribe
	c.client = paho.NewClient(opts)
	if tok := c.client.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtttest: central connect: %v", tok.Error())
	}
	if tok := c.client.Subscribe(filter, 1, handler); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtttest: central subscribe %s: %v", filter, tok.Error())
	}
	t.Cleanup(func() { c.client.Disconnect(100) })
	return c
}

// Messages returns every message received so far, in arrival order.
func (c *Central) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.msgs...)
}

// Len returns the number of messages received so far.
func (c *Central) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// Notify is signalled after messages arrive.
func (c *Central) Notify() <-chan struct{} { return c.notify }
