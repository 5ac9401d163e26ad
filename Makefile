# GateGuard — see README.md. Every target that builds runs `deps` first, which
# installs missing Debian packages (OpenCV 4.6, opencv-data, Mosquitto) and the
# Go modules.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/gateguard
# Pure-Go packages: no cgo, so they are also tested with the race detector.
PURE     := ./configs/... ./gate/... ./device/... ./vision ./vision/fusion

.PHONY: all deps build test test-pure demo bench lint fmt clean

all: build

deps:
	@scripts/deps.sh

build: deps
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gateguard

test: deps
	$(GO) vet ./...
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt: files above need formatting" >&2; exit 1)
	$(GO) test -race -count=1 $(PURE)
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags matprofile ./vision/...

demo: build
	@scripts/demo.sh

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint: deps
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt: files above need formatting" >&2; exit 1)
	$(GO) vet ./...

fmt:
	gofmt -w .

clean:
	rm -rf bin

# QR decode rate and speed against zbarimg and ZXingReader (issue 4). Folders
# hold images N.ext with their exact expected text in N.txt.
QR_DIRS ?= ../shared/testdata/qr-zxing/qrcode-1 ../shared/testdata/qr-zxing/qrcode-2 ../shared/testdata/qr-zxing/qrcode-3
.PHONY: bench-qr
bench-qr:
	@GATEGUARD_EXTRA_PACKAGES="zbar-tools zxing-cpp-tools $(GATEGUARD_EXTRA_PACKAGES)" scripts/deps.sh
	$(GO) run ./cmd/bench-qr $(QR_DIRS)
