package configs

// GatewatchBroker is the embedded NATS broker (owned by the broker helper;
// this minimal form is what gatewatch's own validation needs).
type GatewatchBroker struct {
	// Enabled runs the embedded broker inside gatewatch.
	Enabled bool `yaml:"enabled"`
}

// GatewatchGate is one gate the embedded broker admits.
type GatewatchGate struct {
	// Name is the gate's name (its config's gate).
	Name string `yaml:"name"`
}

func defaultGatewatchBroker() GatewatchBroker { return GatewatchBroker{} }

// validateBroker checks broker and gates.
func (c *Gatewatch) validateBroker() []error { return nil }

// brokerPaths are the broker's file settings, resolved like the others.
func (c *Gatewatch) brokerPaths() []*string { return nil }
