package broker

import (
	"strings"

	"github.com/nats-io/nats-server/v2/server"
)

// Subject returns the NATS subject an MQTT topic (or filter) maps to, as
// the server maps it: '/' becomes '.', '.' becomes "//"; the MQTT
// wildcards '+' and '#' become '*' and '>'. Topics with empty levels
// (leading, trailing or doubled '/') are outside GateGuard's contract and
// are not handled.
func Subject(topic string) string {
	var b strings.Builder
	for _, r := range topic {
		switch r {
		case '/':
			b.WriteByte('.')
		case '.':
			b.WriteString("//")
		case '+':
			b.WriteByte('*')
		case '#':
			b.WriteByte('>')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// gateTopics are the topics, relative to a gate's prefix, that a gate may
// publish: the same as configs/mosquitto-acl.conf grants.
var gateTopics = []string{"availability", "info", "state", "event/access", "event/alert", "snapshot/+", "cmd/+/result"}

// gatePermissions confines a gate to its own prefix: publish its own
// topics, subscribe to its own commands.
func gatePermissions(prefix, site, gate string) *server.Permissions {
	root := strings.TrimSuffix(prefix, "/") + "/" + site + "/" + gate + "/"
	pub := make([]string, 0, len(gateTopics))
	for _, t := range gateTopics {
		pub = append(pub, Subject(root+t))
	}
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub},
		Subscribe: &server.SubjectPermission{Allow: []string{Subject(root + "cmd/+")}},
	}
}

// centralPermissions lets gatewatch read every gate's topics and publish
// commands to any gate.
func centralPermissions(prefix string) *server.Permissions {
	root := strings.TrimSuffix(prefix, "/") + "/"
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{Subject(root + "+/+/cmd/+")}},
		// An MQTT filter ending in # matches its parent level too: the
		// server subscribes to both gateguard.v1 and gateguard.v1.>.
		Subscribe: &server.SubjectPermission{Allow: []string{Subject(strings.TrimSuffix(prefix, "/")), Subject(root + "#")}},
	}
}
