package scenario

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them: every
// goroutine has an owner that stops it (deps_test.go lists this package as
// pure).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
