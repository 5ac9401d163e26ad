package gate

import "context"

// Ping returns once the decision loop (Run) has run a no-op, which proves
// it is alive and not stuck in a step; it returns ctx's error if ctx ends
// first. The daemon's watchdog feeds the decision loop's heartbeat with it.
func (c *Controller) Ping(ctx context.Context) error {
	return c.do(ctx, func() {})
}
