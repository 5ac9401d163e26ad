package gateguard_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDebPackage builds a package with scripts/deb.sh from a small armhf
// binary and inspects it with dpkg-deb: its metadata (-f), its contents and
// their modes (-c), the conffiles and the maintainer scripts; and checks
// that a binary of another architecture is refused.
func TestDebPackage(t *testing.T) {
	for _, tool := range []string{"dpkg-deb", "readelf"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "gateguard")
	build := exec.Command("go", "build", "-o", bin, src)
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm", "GOARM=7")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := filepath.Join(dir, "out")
	deb := strings.TrimSpace(run("scripts/deb.sh", "armhf", bin, out, "1.2.3-rc1"))
	if filepath.Base(deb) != "gateguard_1.2.3+rc1_armhf.deb" {
		t.Fatalf("package %s", deb)
	}

	for field, want := range map[string]string{"Package": "gateguard", "Version": "1.2.3+rc1", "Architecture": "armhf"} {
		if got := strings.TrimSpace(run("dpkg-deb", "-f", deb, field)); got != want {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	if deps := run("dpkg-deb", "-f", deb, "Depends"); !strings.Contains(deps, "adduser") || !strings.Contains(deps, "opencv-data") ||
		!strings.Contains(deps, "libopencv-videoio406") {
		t.Errorf("Depends: %q lacks adduser, opencv-data or libopencv-videoio406 (loaded with dlopen, so not NEEDED)", deps)
	}

	contents := map[string]string{} // path → mode
	for _, line := range strings.Split(run("dpkg-deb", "-c", deb), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 {
			contents[f[len(f)-1]] = f[0] + " " + f[1]
		}
	}
	for path, mode := range map[string]string{
		"./usr/bin/gateguard":                          "-rwxr-xr-x root/root",
		"./lib/systemd/system/gateguard.service":       "-rw-r--r-- root/root",
		"./etc/gateguard/gateguard.yaml":               "-rw-r----- root/root",
		"./var/lib/gateguard/":                         "drwxr-x--- root/root",
		"./usr/share/doc/gateguard/examples/demo.yaml": "-rw-r--r-- root/root",
	} {
		if got, ok := contents[path]; !ok || got != mode {
			t.Errorf("%s: %q, want %q (contents %v)", path, got, mode, contents)
		}
	}

	ctrl := filepath.Join(dir, "control")
	run("dpkg-deb", "-e", deb, ctrl)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(ctrl, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := read("conffiles"); got != "/etc/gateguard/gateguard.yaml\n" {
		t.Errorf("conffiles %q", got)
	}
	post := read("postinst")
	for _, want := range []string{"adduser --system --group", "for g in gpio i2c spi video", "chown gateguard:gateguard /var/lib/gateguard"} {
		if !strings.Contains(post, want) {
			t.Errorf("postinst lacks %q", want)
		}
	}
	fsdir := filepath.Join(dir, "fs")
	run("dpkg-deb", "-x", deb, fsdir)
	unit, _ := os.ReadFile(filepath.Join(fsdir, "lib/systemd/system/gateguard.service"))
	want, _ := os.ReadFile("configs/gateguard.service")
	if string(unit) != string(want) || len(unit) == 0 {
		t.Error("the packaged unit is not configs/gateguard.service")
	}

	// A commit id is not a release: it sorts below every release.
	if dev := strings.TrimSpace(run("scripts/deb.sh", "armhf", bin, out, "9a18802")); filepath.Base(dev) != "gateguard_0~git9a18802_armhf.deb" {
		t.Errorf("commit-id package %s, want version 0~git9a18802", dev)
	}

	wrong := exec.Command("scripts/deb.sh", "arm64", bin, out, "1.2.3")
	if msg, err := wrong.CombinedOutput(); err == nil || !strings.Contains(string(msg), "not arm64") {
		t.Errorf("an armhf binary packaged as arm64: %v %s", err, msg)
	}
}
