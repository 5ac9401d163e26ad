# GateGuard — see README.md. Every target that builds runs `deps` first, which
# installs missing Debian packages (OpenCV 4.6, opencv-data, Mosquitto) and the
# Go modules.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/gateguard
# Pure-Go packages: no cgo, so they are also tested with the race detector.
PURE     := ./configs/... ./gate/... ./device/... ./vision ./vision/fusion ./vision/facerec/convert

.PHONY: all deps build test test-pure demo bench lint fmt clean
# The face descriptor (issue 10): face-api's weights, fetched by deps into
# FACEAPI_DIR, converted to ONNX by the project's own converter.
FACEAPI_VERSION := 1.7.15
FACEAPI_DIR     ?= $(HOME)/.cache/gateguard/face-api-$(FACEAPI_VERSION)/node_modules/@vladmandic/face-api/model
FACENET_MODEL   ?= bin/models/faceapi-recognition.onnx

# OpenCV, module by module (issue 12). A plain `go build` links gocv's
# `pkg-config opencv4` (all 56 modules); Debian's gcc links --as-needed, so
# the binary keeps the 12 whose symbols gocv's C++ wrappers reference, highgui
# (Qt) among them. `make build` uses gocv's customenv tag instead, with the
# flags below: only the modules the daemon calls (gocv's core, imgproc,
# objdetect; vision/qr's wechat_qrcode; FaceDetectorYN in objdetect needs
# dnn; vision/facerec's LBPH is cv::face, its descriptor dnn), per-function
# sections and --gc-sections, so that gocv's unused wrappers (highgui,
# imgcodecs, videoio, calib3d, features2d, video, photo) are dropped. GNU ld
# decides --as-needed before it collects sections (and refuses the dropped
# wrappers' symbols), so the link uses gold, which does not. Not linked on
# purpose: videoio (vision/videoio loads it with dlopen when a real camera is
# opened) and imgcodecs (vision/imagefile decodes files in Go): on Debian the
# two bring ~220 libraries, ~50 MB resident. scripts/check-link.sh then
# checks the binary: it loads with LD_BIND_NOW=1 (no symbol left
# unresolved), needs neither library, and opens a recorded camera through
# the lazily loaded videoio. The cross builds use the same flags. Every cgo
# package of ours names its modules too (no `pkg-config opencv4`, which would
# bring all 56 back: vision/facerec's did, and so loaded highgui and Qt).
OPENCV_LIBS := -lopencv_wechat_qrcode -lopencv_face -lopencv_objdetect -lopencv_dnn \
	-lopencv_imgproc -lopencv_core
CV_CPPFLAGS := -I/usr/include/opencv4
CV_CFLAGS   := -O2 -g -ffunction-sections -fdata-sections
CV_CXXFLAGS := -O2 -g -ffunction-sections -fdata-sections
CV_LDFLAGS  := -fuse-ld=gold -Wl,--gc-sections -Wl,--as-needed $(OPENCV_LIBS)
CVENV := CGO_CPPFLAGS='$(CV_CPPFLAGS)' CGO_CFLAGS='$(CV_CFLAGS)' CGO_CXXFLAGS='$(CV_CXXFLAGS)' CGO_LDFLAGS='$(CV_LDFLAGS)'
CVTAGS := -tags customenv

all: build

deps:
	@scripts/deps.sh

build: deps
	$(CVENV) $(GO) build $(CVTAGS) -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gateguard
	@scripts/check-link.sh $(BIN)

test: deps facenet-model
	$(GO) vet ./...
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then echo "$$unformatted" >&2; echo "gofmt: files above need formatting" >&2; exit 1; fi
	$(GO) test -race -count=1 $(PURE)
	GATEGUARD_REQUIRE_FACENET=1 GATEGUARD_FACEAPI_DIR=$(FACEAPI_DIR) $(GO) test -count=1 ./...
	$(GO) test -count=1 -tags matprofile ./vision/...
	@$(MAKE) --no-print-directory test-display
	@$(MAKE) --no-print-directory test-ui

# The demo: gatewatch (embedded broker, SQLite) and two simulated gates
# (scripts/demo.sh); demo-mosquitto is the single-gate demo on Mosquitto.
.PHONY: demo-mosquitto gatewatch
gatewatch: deps
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/gatewatch ./cmd/gatewatch

demo: build gatewatch facenet-model
	@scripts/demo.sh

demo-mosquitto: build facenet-model
	@scripts/demo-mosquitto.sh

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint: deps
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then echo "$$unformatted" >&2; echo "gofmt: files above need formatting" >&2; exit 1; fi
	$(GO) vet ./...

fmt:
	gofmt -w .

clean:
	rm -rf bin

# Fuzz the command parser and the payload decoders, FUZZTIME each.
FUZZTIME ?= 30s
.PHONY: fuzz-commands
fuzz-commands: deps
	for f in FuzzVerify FuzzParseResult FuzzNonceFile; do \
	  $(GO) test ./gate/command -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) || exit 1; done
	$(GO) test ./configs/schema -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime $(FUZZTIME)
# Fever-screening fusion: per-frame benchmark, and the calibration file
# parser's fuzzer (30 s by default: make fuzz-calibration FUZZTIME=5m).
.PHONY: bench-fusion fuzz-calibration
bench-fusion: deps
	$(GO) test -run '^$$' -bench . -benchmem ./vision/fusion

fuzz-calibration: deps
	$(GO) test -run '^$$' -fuzz FuzzParseCalibration -fuzztime $(FUZZTIME) ./vision/fusion
# EU DCC conformance against the member states' test vectors (issue 6).
# DCC_DIR may name any folder of dgc-testdata raw JSON files, at any depth.
DCC_DIR ?= ../shared/testdata/dcc
.PHONY: conformance-dcc
conformance-dcc: deps
	$(GO) run ./cmd/conformance-dcc -dir $(DCC_DIR)
# Thermal sensors (issue 5). MLX_DIR holds eeprom.hex, frameN.hex and
# to_frameN.csv (see ../shared/testdata/mlx90640/README.md).
MLX_DIR ?= ../shared/testdata/mlx90640
.PHONY: conformance-mlx90640 bench-thermal fuzz-thermal

conformance-mlx90640: deps
	$(GO) run ./cmd/conformance-mlx90640 -dir '$(MLX_DIR)'

bench-thermal: deps
	$(GO) test -run '^$$' -bench . -benchmem ./device/thermal/...

# Large seeds need a bounded minimisation, or the fuzzer stalls minimising.
fuzz-thermal: deps
	@set -e; for t in "FuzzExtractParams ./device/thermal/mlx90640" "FuzzCompute ./device/thermal/mlx90640" \
	  "FuzzParseHex ./device/thermal/mlx90640/conformance" "FuzzParsePacket ./device/thermal/lepton" \
	  "FuzzAssembler ./device/thermal/lepton" "FuzzDecode ./device/thermal/amg8833" "FuzzDecodeY16 ./vision/uvc"; do \
	  set -- $$t; $(GO) test -run '^$$' -fuzz "^$$1\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 50x $$2; done
# QR decode rate and speed against zbarimg and ZXingReader (issue 4). Folders
# hold images N.ext with their exact expected text in N.txt.
QR_DIRS ?= ../shared/testdata/qr-zxing/qrcode-1 ../shared/testdata/qr-zxing/qrcode-2 ../shared/testdata/qr-zxing/qrcode-3
.PHONY: bench-qr
bench-qr:
	@GATEGUARD_EXTRA_PACKAGES="zbar-tools zxing-cpp-tools $(GATEGUARD_EXTRA_PACKAGES)" scripts/deps.sh
	$(GO) run ./cmd/bench-qr $(QR_DIRS)
.PHONY: soak-mqtt bench-mqtt

# Per-frame cost of the face camera's pipeline as the daemon wires it, on
# 640x480 frames with a face and a code, without the code, and face
# detection alone (issue 13); last line frame_ms_code=… frame_ms_empty=…
# frame_ms_face_only=… (CPU ms per frame).
.PHONY: bench-frame
bench-frame: deps
	$(GO) run ./cmd/bench-frame -data ../shared/testdata

# Gate latency (issue 13): simulated attempts at 30 frames/s through the
# real pipeline and decision, from the frame in which the code is first
# readable to the relay; last line attempts=… p50_ms=… p99_ms=… frame_ms=….
BENCH_GATE_ATTEMPTS ?= 40
.PHONY: bench-gate
bench-gate: deps
	$(GO) run ./cmd/bench-gate -data ../shared/testdata -attempts $(BENCH_GATE_ATTEMPTS)

# Delivery soak: >= 10,000 events through the daemon's durable outbox and
# publisher (the hidden `gateguard synth` subcommand, run as a separate
# process) while the harness restarts Mosquitto 6 times and SIGKILLs the
# daemon twice; a persistent-session consumer de-duplicates by event id.
# The last line is the result.
SOAK_RESULT := bin/soak-mqtt.txt
soak-mqtt: deps
	@mkdir -p bin && rm -f $(SOAK_RESULT)
	GATEGUARD_SOAK=1 GATEGUARD_SOAK_RESULT=$(CURDIR)/$(SOAK_RESULT) \
		$(GO) test -count=1 -timeout 30m -run '^TestSoakMQTT$$' -v ./cmd/gateguard
	@cat $(SOAK_RESULT)

# Central soak (issue 11): 50 simulated gates, each with the gate's own
# durable outbox and publisher, 10 events/s each for 2 minutes, through a
# 3-node NATS cluster (JetStream replicas 3) into gatewatch on PostgreSQL
# while a NATS node and gatewatch are SIGKILLed and restarted; every event is
# then counted in the store. STORE=sqlite: the embedded broker and SQLite.
# The last line is the result.
STORE ?= postgres
SOAK_CENTRAL_RESULT := bin/soak-central.txt
.PHONY: soak-central
soak-central: deps
	@mkdir -p bin && rm -f $(SOAK_CENTRAL_RESULT)
	GATEWATCH_SOAK=1 STORE=$(STORE) GATEWATCH_SOAK_RESULT=$(CURDIR)/$(SOAK_CENTRAL_RESULT) \
		$(GO) test -count=1 -timeout 30m -run '^TestSoakCentral$$' -v ./cmd/gatewatch
	@cat $(SOAK_CENTRAL_RESULT)

# Durable events/s and 100,000-event backlog drain, side by side with a plain
# non-durable paho QoS 1 publish loop on the same broker.
bench-mqtt: deps
	$(GO) test -count=1 -timeout 30m -run '^$$' -bench 'Durable|Plain|Backlog' -benchtime 1x ./gate/mqtt
# Face verification (issue 10): the gate's YuNet, alignment and descriptor on
# a folder per identity (FACES_DIR); enrols the first 3 images of each, chooses
# the threshold rule's value on FACE_TUNE and reports the other identities as
# held out; last line identities=… FAR=… FRR=… threshold=… embed_ms=….
# FACE_DESCRIPTOR=-lbph runs the weak fallback instead.
FACES_DIR ?= ../shared/testdata/faces/orl
FACE_TUNE ?= s1-s12
FACE_DESCRIPTOR ?=
.PHONY: facenet-model eval-faces
facenet-model: deps
	@[ -f $(FACENET_MODEL) ] && [ $(FACENET_MODEL) -nt $(FACEAPI_DIR)/face_recognition_model.bin ] && \
	  [ $(FACENET_MODEL) -nt vision/facerec/convert/net.go ] || \
	  $(GO) run ./cmd/facenet-convert -weights '$(FACEAPI_DIR)' -o $(FACENET_MODEL)

eval-faces: facenet-model
	$(GO) run ./cmd/eval-faces -faces '$(FACES_DIR)' -model $(FACENET_MODEL) -tune '$(FACE_TUNE)' $(FACE_DESCRIPTOR)
# The lane display in headless chromium (issue 15): Debian's chromium driven
# by playwright-core (pinned in tests/browser/package-lock.json, npm ci; no
# browser download) on the demo scenario, in English and in Chinese; the
# screenshots go to bin/display-screens/.
.PHONY: browser-deps test-display
browser-deps: deps
	@scripts/browser-deps.sh

test-display: build browser-deps
	GATEGUARD_BIN=$(CURDIR)/$(BIN) node tests/browser/display.test.js

# Memory on the demo (issue 12): scripts/mem.sh runs one gateguard daemon
# through the demo scenario on simulated hardware (its own Mosquitto; not
# scripts/demo.sh, which runs gatewatch and two gates) under scripts/rss.sh;
# the last line is rss_mb=… anon_mb=… file_mb=… hwm_mb=… (steady-state medians
# and the peak, from /proc/PID/status). MEM_BIN=path measures another binary
# (e.g. a plain `go build` one); MEM_ENV='NAME=VALUE …' sets the daemon's
# environment; MEM_SMAPS=FILE keeps an smaps copy, summarised by
# scripts/smaps.sh FILE (resident kB per library and segment).
MEM_BIN ?= $(BIN)
.PHONY: mem
mem: build
	@scripts/mem.sh $(MEM_BIN)

# Raspberry Pi OS (bookworm) cross builds with cgo, against a Debian sysroot
# per architecture unpacked in bin/sysroot-ARCH (scripts/pi-sysroot.sh), with
# Debian's cross compilers and the OpenCV flags above. pi-smoke runs both
# binaries under qemu-user (version, selftest when built, the demo
# scenario); its last line contains "ok" only when both passed. It is slow
# the first time (gocv's C++ per architecture, then cached) and not part of
# `make test`.
PI_PACKAGES := gcc-aarch64-linux-gnu g++-aarch64-linux-gnu gcc-arm-linux-gnueabihf \
	g++-arm-linux-gnueabihf qemu-user-static file
.PHONY: pi-deps pi-build pi-build-arm64 pi-build-armhf pi-smoke
pi-deps:
	@GATEGUARD_EXTRA_PACKAGES="$(PI_PACKAGES) $(GATEGUARD_EXTRA_PACKAGES)" scripts/deps.sh

pi-build: pi-build-arm64 pi-build-armhf

pi-build-arm64 pi-build-armhf: pi-build-%: pi-deps
	@scripts/pi-sysroot.sh $*
	@GATEGUARD_CV_CPPFLAGS='$(CV_CPPFLAGS)' GATEGUARD_CV_CFLAGS='$(CV_CFLAGS)' \
	  GATEGUARD_CV_CXXFLAGS='$(CV_CXXFLAGS)' GATEGUARD_CV_LDFLAGS='$(CV_LDFLAGS)' \
	  VERSION='$(VERSION)' scripts/pi-build.sh $* bin/gateguard-linux-$*

pi-smoke: pi-deps
	@MAKE='$(MAKE)' scripts/pi-smoke.sh

# Debian packages (issue 12), one per architecture, in bin/deb: the binary,
# the systemd unit, /etc/gateguard/gateguard.yaml (a conffile), the state
# folder and a postinst that creates the gateguard user in the device
# groups (scripts/deb.sh, dpkg-deb). amd64 packages `make build`'s binary;
# arm64 and armhf package the pi-build outputs.
DEB_DIR ?= bin/deb
.PHONY: deb deb-amd64 deb-arm64 deb-armhf
deb: deb-amd64 deb-arm64 deb-armhf
	@ls -l $(DEB_DIR)/*.deb

deb-amd64: build
	@scripts/deb.sh amd64 $(BIN) $(DEB_DIR) '$(VERSION)'

deb-arm64 deb-armhf: deb-%: pi-build-%
	@scripts/deb.sh $* bin/gateguard-linux-$* $(DEB_DIR) '$(VERSION)'

# gatewatch (issue 11): ingest rate into SQLite and PostgreSQL, and p50/p95 of
# a person-over-a-month and a gate-over-a-day search on a bulk-generated log
# of BENCH_CENTRAL_ROWS events (10 million by default; needs ~10 GB of /tmp).
BENCH_CENTRAL_ROWS ?= 10000000
.PHONY: bench-central
bench-central: deps
	$(GO) run ./cmd/bench-central -rows $(BENCH_CENTRAL_ROWS)
# The security staff's console (issue 14) end to end in headless Debian
# chromium driven by playwright-core (pinned in tests/browser/package-lock.json,
# npm ci, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1: never a browser download)
# against gatewatch (SQLite, a Mosquitto on a free port) and simulated gates
# (cmd/gatewatch-sim); screenshots of each page go to bin/ui-screens/.
# people.test.js: face enrolment import and push from the People page.
# soak-ui: 20 simulated gates x 10 events/s into an open live page for
# SOAK_UI_SECONDS (120); the last line is the numbers. SOAK_STORE=postgres
# (a throwaway PostgreSQL server) and SOAK_BROKER=nats (gatewatch's embedded
# broker, each gate with its own credentials) run it on the large-site
# stack instead of SQLite and Mosquitto.
SOAK_UI_SECONDS ?= 120
SOAK_STORE ?= sqlite
SOAK_BROKER ?= mosquitto
.PHONY: console-bins test-ui soak-ui vendor-htmx
console-bins: gatewatch
	$(GO) build -o bin/gatewatch-sim ./cmd/gatewatch-sim

test-ui: console-bins
	@scripts/browser-deps.sh
	node tests/browser/console/console.test.js
	node tests/browser/console/people.test.js

soak-ui: console-bins
	@scripts/browser-deps.sh
	SOAK_UI_SECONDS=$(SOAK_UI_SECONDS) SOAK_STORE=$(SOAK_STORE) SOAK_BROKER=$(SOAK_BROKER) node tests/browser/console/soak.js

# Re-vendors htmx (pinned in scripts/vendor-htmx.sh) and checks its sha256.
vendor-htmx:
	@scripts/vendor-htmx.sh
