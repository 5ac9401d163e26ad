package gateguard_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestImportGraph keeps the decision core and the contracts free of drivers:
// they must never import gocv, periph's host drivers or paho, so that they
// build and test anywhere and the graph flows cmd → gate → (vision, device).
func TestImportGraph(t *testing.T) {
	pure := []string{
		"./gate", "./gate/scenario", "./gate/outbox", "./gate/gatetest", "./gate/credential",
		"./vision", "./vision/fusion",
		"./device/thermal", "./device/relay", "./device/input", "./device/sim",
		"./device/thermal/mlx90640", "./device/thermal/mlx90640/conformance", "./device/thermal/mlx90640/mlx90640test",
		"./device/thermal/lepton", "./device/thermal/amg8833",
		"./configs", "./configs/schema", "./gate/command",
	}
	forbidden := []string{"gocv.io/x/gocv", "periph.io/x/host", "github.com/eclipse/paho.mqtt.golang"}
	for _, pkg := range pure {
		out, err := exec.Command("go", "list", "-deps", "-json=ImportPath", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		dec := json.NewDecoder(strings.NewReader(string(out)))
		for dec.More() {
			var p struct{ ImportPath string }
			if err := dec.Decode(&p); err != nil {
				t.Fatal(err)
			}
			for _, f := range forbidden {
				if strings.HasPrefix(p.ImportPath, f) {
					t.Errorf("%s imports %s", pkg, p.ImportPath)
				}
			}
			// Contracts and drivers never import cmd, and vision and
			// device never import gate.
			if strings.Contains(p.ImportPath, "gateguard/cmd") ||
				(!strings.HasPrefix(pkg, "./gate") && strings.HasPrefix(p.ImportPath, "github.com/gateguard/gateguard/gate")) {
				t.Errorf("%s imports %s against the graph's direction", pkg, p.ImportPath)
			}
		}
	}
}
