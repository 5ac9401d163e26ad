// Package mqtttest starts a real Mosquitto broker on a free loopback port for
// tests, and collects what a subscriber receives. Tests fail (never skip) when
// mosquitto is not installed: `make deps` installs it.
package mqtttest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// MaxPacketSize is the max_packet_size of the brokers Start runs, the same
// as every shipped broker config's (configs.BrokerMaxPacketSize).
const MaxPacketSize = 131072

// Broker is a running Mosquitto.
type Broker struct {
	// Addr is host:port of the listener.
	Addr string
	// URL is tcp://Addr.
	URL string
	// Dir is the broker's working folder (config, log, persistence).
	Dir string

	cmd  *exec.Cmd
	conf string
	port int
}

// Binary returns the mosquitto binary's path.
func Binary() (string, error) {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto", nil
	}
	return "", fmt.Errorf("mqtttest: mosquitto not found: run `make deps`")
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start starts Mosquitto with an anonymous loopback listener that refuses
// packets over MaxPacketSize; extra is
// appended to its config (TLS, ACL, persistence lines). The broker is stopped
// when the test ends.
func Start(t testing.TB, extra string) *Broker {
	t.Helper()
	return StartOnPort(t, FreePort(t), extra)
}

// StartOnPort is Start on a given port (for a client started before the broker).
func StartOnPort(t testing.TB, port int, extra string) *Broker {
	t.Helper()
	dir := t.TempDir()
	// max_packet_size as every shipped broker config (configs.BrokerMaxPacketSize).
	conf := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\nmax_packet_size %d\nlog_dest stderr\nlog_type all\n%s\n",
		port, MaxPacketSize, extra)
	path := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	b := &Broker{Addr: fmt.Sprintf("127.0.0.1:%d", port), URL: fmt.Sprintf("tcp://127.0.0.1:%d", port),
		Dir: dir, conf: path, port: port}
	b.start(t)
	t.Cleanup(b.Stop)
	return b
}

// start runs mosquitto and returns once it logs that it is running.
func (b *Broker) start(t testing.TB) {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", b.conf)
	// stderr, unlike stdout, is not buffered by mosquitto when it is a pipe.
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("mqtttest: start mosquitto: %v", err)
	}
	ready := make(chan struct{})
	var log strings.Builder
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			mu.Lock()
			log.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if strings.Contains(sc.Text(), " running") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("mqtttest: mosquitto did not start:\n%s", log.String())
	}
	b.cmd = cmd
}

// Stop stops the broker (SIGTERM, then waits).
func (b *Broker) Stop() {
	if b.cmd == nil {
		return
	}
	// SIGTERM, and SIGCONT in case a test paused it: Mosquitto stops on
	// either SIGINT or SIGTERM once its handlers are in, but a SIGINT sent
	// in its first moments was seen ignored, and the test then waited for
	// its own timeout. SIGKILL after 5 s whatever happened.
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	_ = b.cmd.Process.Signal(syscall.SIGCONT)
	done := make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = b.cmd.Process.Kill()
		<-done
	}
	b.cmd = nil
}

// Restart stops and starts the broker on the same port.
func (b *Broker) Restart(t testing.TB) {
	t.Helper()
	b.Stop()
	b.start(t)
}

// Message is one message a subscriber received.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
	// QoS is the QoS the message was delivered with: the lower of the
	// publisher's and the subscription's (1 here), so a message published
	// at QoS 0 arrives with 0.
	QoS byte
}

// Subscriber collects messages on a topic filter.
type Subscriber struct {
	// C receives every message, in arrival order.
	C      chan Message
	client paho.Client
}

// Subscribe connects a client to b and subscribes to filter with QoS 1;
// messages go to the returned Subscriber's channel (buffered for 100000).
func Subscribe(t testing.TB, url, filter string) *Subscriber {
	t.Helper()
	s := &Subscriber{C: make(chan Message, 100000)}
	opts := paho.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("mqtttest-%d", FreePort(t))).
		SetOrderMatters(true).SetCleanSession(true)
	s.client = paho.NewClient(opts)
	if tok := s.client.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtttest: subscriber connect: %v", tok.Error())
	}
	tok := s.client.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		s.C <- Message{Topic: m.Topic(), Payload: m.Payload(), Retained: m.Retained(), QoS: m.Qos()}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtttest: subscribe %s: %v", filter, tok.Error())
	}
	t.Cleanup(func() { s.client.Disconnect(100) })
	return s
}

// StartAgain starts a stopped broker again, on the same port with the same
// config (and persistence file, if the config asks for one).
func (b *Broker) StartAgain(t testing.TB) {
	t.Helper()
	if b.cmd == nil {
		b.start(t)
	}
}

// Pause freezes the broker (SIGSTOP): connections stay open but nothing is
// answered, as with a hung broker or a dead network path. Resume undoes it.
func (b *Broker) Pause(t testing.TB) {
	t.Helper()
	if err := b.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// A stopped broker would never stop: make sure it runs again.
	t.Cleanup(func() {
		if b.cmd != nil {
			_ = b.cmd.Process.Signal(syscall.SIGCONT)
		}
	})
}

// Resume continues a paused broker (SIGCONT).
func (b *Broker) Resume(t testing.TB) {
	t.Helper()
	if err := b.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
}
