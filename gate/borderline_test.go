package gate_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/gateguard/gateguard/gate"
)

// TestBorderlineBandEdges: with fever_c 37.3 and borderline_c 0.3 the band
// is [37.0, 37.3): its lower edge is re-measured, just below it is decided
// at once, its upper edge is re-measured, and fever_c itself is a fever,
// decided at once; fever_action log admits the fever with an alert.
func TestBorderlineBandEdges(t *testing.T) {
	tests := []struct {
		name    string
		core    float64
		logOnly bool
		want    []string
	}{
		{"just below the band", 36.99, false, []string{"entry:admitted:insecure_credential"}},
		{"lower edge of the band", 37.0, false, []string{"entry:denied:borderline_remeasure,check_timeout"}},
		{"upper edge of the band", 37.29, false, []string{"entry:denied:borderline_remeasure,check_timeout"}},
		{"fever_c: fever, not borderline", 37.3, false, []string{"entry:denied:fever", "alert:fever:new"}},
		{"fever_c, fever_action log", 37.3, true, []string{"entry:admitted:fever_logged_only,insecure_credential", "alert:fever:new"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h, sc, _ := screenHarness(t, func(o *gate.Options) { o.Policy.FeverLogOnly = tt.logOnly })
				sc.set(nil, reading(36.8, tt.core))
				h.observe("p", false)
				h.frame()
				h.observe("p", true)
				time.Sleep(3 * time.Second) // fake clock: no second frame before the check timeout
				synctest.Wait()
				h.want(tt.want...)
				h.shutdown()
			})
		})
	}
}
