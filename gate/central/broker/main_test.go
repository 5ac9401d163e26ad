package broker

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them: a
// broker that Close did not stop, or a client left connected.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
