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

.PHONY: soak-mqtt bench-mqtt

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

# Durable events/s and 100,000-event backlog drain, side by side with a plain
# non-durable paho QoS 1 publish loop on the same broker.
bench-mqtt: deps
	$(GO) test -count=1 -timeout 30m -run '^$$' -bench 'Durable|Plain|Backlog' -benchtime 1x ./gate/mqtt
