package gateguard_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// forbid is one import a package must not have, and why.
type forbid struct {
	imp string // an import path; every path under it is forbidden too
	why string
}

// Reasons shared by the pure packages below.
var (
	noGocv  = forbid{"gocv.io/x/gocv", "OpenCV is cgo and lives in vision/'s driver packages; contracts build and test anywhere"}
	noHost  = forbid{"periph.io/x/host", "periph's host drivers touch /dev and register hardware; only cmd wires them"}
	noPaho  = forbid{"github.com/eclipse/paho.mqtt.golang", "the MQTT client is gate/mqtt's; nothing else talks to the broker"}
	drivers = []forbid{noGocv, noHost, noPaho}
)

// pure maps each pure package to what it must not import. The gate core
// (./gate) is the strictest: it decides and records through its ports, so
// neither storage nor the network is on its path.
var pure = map[string][]forbid{
	"./gate": append(drivers[:len(drivers):len(drivers)],
		forbid{"go.etcd.io/bbolt", "storage is gate/outbox's, reached through the Recorder port; the core stays a pure state machine"},
		forbid{"net/http", "nothing on the gate's path waits on the network: online checks are gate/credential's, behind the Verifier port"},
		forbid{"github.com/prometheus", "decisions are counted through the gate.Metrics port; Prometheus is cmd's"},
	),
	"./gate/scenario":                        drivers,
	"./gate/outbox":                          drivers,
	"./gate/gatetest":                        drivers,
	"./gate/credential":                      drivers,
	"./gate/command":                         drivers,
	"./gate/faces":                           drivers,
	"./gate/faces/enrolfile":                 drivers,
	"./vision":                               drivers,
	"./vision/fusion":                        drivers,
	"./device/thermal":                       drivers,
	"./gate/lane":                            drivers,
	"./gate/display":                         drivers,
	"./device/tower":                         drivers,
	"./device/relay":                         drivers,
	"./device/input":                         drivers,
	"./device/sim":                           drivers,
	"./device/thermal/mlx90640":              drivers,
	"./device/thermal/mlx90640/conformance":  drivers,
	"./device/thermal/mlx90640/mlx90640test": drivers,
	"./device/thermal/lepton":                drivers,
	"./device/thermal/amg8833":               drivers,
	"./configs":                              drivers,
	"./configs/schema":                       drivers,
	"./systemd":                              drivers,
	// The embedded broker is the NATS server alone: gatewatch's MQTT client
	// is the ingest's, never the broker's.
	"./gate/central/broker": drivers,
	// Migrations are database/sql and embedded files only.
	"./gate/central/migrate": drivers,
}

const module = "github.com/gateguard/gateguard/"

// TestImportGraph keeps the decision core and the contracts free of drivers,
// as tailscale's tstest/deptest does: each pure package has its own list of
// forbidden imports with the reason, and the graph flows
// cmd → gate → (vision, device). Each pure package with tests also checks
// for leaked goroutines (goleak.VerifyTestMain in its main_test.go).
func TestImportGraph(t *testing.T) {
	for pkg, rules := range pure {
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
			for _, f := range rules {
				if p.ImportPath == f.imp || strings.HasPrefix(p.ImportPath, f.imp+"/") {
					t.Errorf("%s imports %s: %s", pkg, p.ImportPath, f.why)
				}
			}
			if strings.HasPrefix(p.ImportPath, module+"cmd") {
				t.Errorf("%s imports %s: contracts and drivers never import cmd, which wires them", pkg, p.ImportPath)
			}
			if !strings.HasPrefix(pkg, "./gate") && strings.HasPrefix(p.ImportPath, module+"gate") {
				t.Errorf("%s imports %s: vision, device and configs never import gate (the graph flows cmd → gate → vision, device)", pkg, p.ImportPath)
			}
		}
	}
}

// TestImportGraphRules keeps the table honest: every reason is written, and
// the gate core forbids storage and the network besides the drivers.
func TestImportGraphRules(t *testing.T) {
	for pkg, rules := range pure {
		for _, f := range rules {
			if f.imp == "" || f.why == "" {
				t.Errorf("%s: rule %+v without an import or a reason", pkg, f)
			}
		}
	}
	core := map[string]bool{}
	for _, f := range pure["./gate"] {
		core[f.imp] = true
	}
	for _, imp := range []string{"gocv.io/x/gocv", "periph.io/x/host", "github.com/eclipse/paho.mqtt.golang", "go.etcd.io/bbolt", "net/http"} {
		if !core[imp] {
			t.Errorf("./gate does not forbid %s", imp)
		}
	}
	if len(pure["./gate/outbox"]) != len(drivers) {
		t.Error("the gate core's extra rules leaked into the shared driver list")
	}
}

// TestPurePackagesCheckLeaks: every pure package with tests runs them under
// goleak.VerifyTestMain, so a goroutine without an owner that stops it
// fails that package's tests.
func TestPurePackagesCheckLeaks(t *testing.T) {
	for pkg := range pure {
		out, err := exec.Command("go", "list", "-json=Dir,TestGoFiles,XTestGoFiles", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		var p struct {
			Dir                       string
			TestGoFiles, XTestGoFiles []string
		}
		if err := json.Unmarshal(out, &p); err != nil {
			t.Fatal(err)
		}
		files := append(p.TestGoFiles, p.XTestGoFiles...)
		if len(files) == 0 {
			continue
		}
		found := false
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(p.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			found = found || strings.Contains(string(b), "goleak.VerifyTestMain(m)")
		}
		if !found {
			t.Errorf("%s has tests but no TestMain calling goleak.VerifyTestMain (add main_test.go)", pkg)
		}
	}
}

// onDemand are gocv's functions and types that need libopencv_videoio or
// libopencv_imgcodecs, which the daemon must not link (issue 12: on Debian the
// two bring ~220 libraries, ~50 MB resident; scripts/check-link.sh checks the
// built binary too). Cameras go through vision/videoio, which loads videoio
// when one opens; image files through vision/imagefile.
var onDemand = map[string]string{
	"IMRead": "vision/imagefile.Read", "IMReadMulti": "vision/imagefile.Read", "IMDecode": "vision/imagefile.Decode",
	"IMWrite": "image/png", "IMWriteWithParams": "image/png", "IMEncode": "image/png", "IMEncodeWithParams": "image/png",
	"VideoCapture": "vision/videoio", "OpenVideoCapture": "vision/videoio", "OpenVideoCaptureWithAPI": "vision/videoio",
	"VideoCaptureFile": "vision/videoio", "VideoCaptureDevice": "vision/videoio", "VideoWriter": "vision/videoio",
	"VideoWriterFile": "vision/videoio",
}

// TestDaemonLinksNoCodecs parses every non-test file of every package the
// daemon (cmd/gateguard) is built from and fails on a use of onDemand.
func TestDaemonLinksNoCodecs(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}", "./cmd/gateguard").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	fset := token.NewFileSet()
	for _, dir := range strings.Fields(string(out)) {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			local := ""
			for _, imp := range f.Imports {
				if imp.Path.Value == `"gocv.io/x/gocv"` {
					local = "gocv"
					if imp.Name != nil {
						local = imp.Name.Name
					}
				}
			}
			if local == "" {
				continue
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == local {
					if use, bad := onDemand[sel.Sel.Name]; bad {
						t.Errorf("%s: gocv.%s links OpenCV's videoio or imgcodecs into the daemon; use %s", fset.Position(sel.Pos()), sel.Sel.Name, use)
					}
				}
				return true
			})
		}
	}
}
