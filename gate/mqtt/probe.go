package mqtt

import (
	"context"
	"fmt"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Probe connects to the broker in o with its credentials and TLS settings,
// as the publisher would, and disconnects at once. It is for installation
// checks (gateguard selftest). It connects as o.ClientID + "-selftest", so
// that a running gate's session is not taken over, publishes nothing and
// leaves no will. The error says whether the broker could not be reached,
// refused the TLS handshake, or refused the credentials.
func Probe(ctx context.Context, o Options) error {
	timeout := o.ConnectTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	opts := paho.NewClientOptions().
		AddBroker(o.Broker).
		SetClientID(o.ClientID + "-selftest").
		SetUsername(o.Username).
		SetPassword(o.Password).
		SetCleanSession(true).
		SetConnectTimeout(timeout).
		SetAutoReconnect(false).
		SetConnectRetry(false)
	if o.TLS != nil {
		opts.SetTLSConfig(o.TLS)
	}
	c := paho.NewClient(opts)
	t := c.Connect()
	select {
	case <-t.Done():
	case <-ctx.Done():
		t.WaitTimeout(timeout)
		return fmt.Errorf("mqtt: connect to %s: %w", o.Broker, ctx.Err())
	}
	if err := t.Error(); err != nil {
		return fmt.Errorf("mqtt: connect to %s: %w", o.Broker, err)
	}
	c.Disconnect(250)
	return nil
}
