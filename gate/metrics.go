package gate

// Metrics counts what the decision loop decides, for monitoring. cmd passes
// one backed by Prometheus; the gate core knows only this interface. Its
// methods are called on the decision loop's goroutine and must not block.
// Nothing about a person goes through it: no holder, no credential, only
// the decision, its reasons and the temperature measured.
type Metrics interface {
	// Decided counts an entry decision (ev.Decision: admitted or denied)
	// with its reasons; r is the temperature reading it used, nil when none.
	Decided(decision string, reasons []Reason, r *Reading)
	// DeviceFault counts a device becoming faulty (DeviceThermal, "relay",
	// DeviceOutbox, …).
	DeviceFault(device string)
}

// noMetrics counts nothing.
type noMetrics struct{}

func (noMetrics) Decided(string, []Reason, *Reading) {}
func (noMetrics) DeviceFault(string)                 {}
