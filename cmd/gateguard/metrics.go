package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/vision"
	"github.com/gateguard/gateguard/vision/fusion"
	"github.com/gateguard/gateguard/vision/scan"
)

// gateMetrics is the daemon's Prometheus instrumentation, on a registry of
// its own (no global one): the gate's decisions (as gate.Metrics), the
// camera loops, the outbox and the broker. No label names a person.
type gateMetrics struct {
	reg *prometheus.Registry
	bb  *fusion.BlackbodyOptions // nil without a blackbody

	frames      *prometheus.CounterVec
	readErrors  *prometheus.CounterVec
	qrDecodes   prometheus.Counter
	qrSeconds   prometheus.Histogram
	faceFrames  prometheus.Counter
	facesInView prometheus.Gauge
	decisions   *prometheus.CounterVec
	reasons     *prometheus.CounterVec
	skin        prometheus.Histogram
	blackbody   prometheus.Gauge
	bbInView    prometheus.Gauge
	faults      *prometheus.CounterVec
}

var _ gate.Metrics = (*gateMetrics)(nil)

// newGateMetrics registers the collectors for cfg's gate.
func newGateMetrics(cfg *configs.Config) *gateMetrics {
	reg := prometheus.NewRegistry()
	// The process (resident memory, open files, CPU) and the Go runtime:
	// what an unattended daemon is watched for over months.
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	f := factory{reg}
	m := &gateMetrics{
		reg: reg,
		frames: f.counterVec("gateguard_frames_total",
			"Frames read, by camera (face, thermal); rate() is the frame rate.", "camera"),
		readErrors: f.counterVec("gateguard_camera_read_errors_total",
			"Failed camera reads, by camera.", "camera"),
		qrDecodes: f.counter("gateguard_qr_decodes_total", "QR codes decoded (each presentation once)."),
		qrSeconds: f.histogram("gateguard_qr_decode_seconds", "Time to decode the QR codes in one frame.",
			prometheus.ExponentialBuckets(0.001, 2, 12)),
		faceFrames:  f.counter("gateguard_face_frames_total", "Frames in which at least one face was seen."),
		facesInView: f.gauge("gateguard_faces_in_view", "Faces in the latest frame."),
		decisions: f.counterVec("gateguard_decisions_total",
			"Entry decisions, by result (admitted, denied).", "result"),
		reasons: f.counterVec("gateguard_decision_reasons_total",
			"Reasons given with entry decisions, by result and reason (a decision may give several, or none).", "result", "reason"),
		skin: f.histogram("gateguard_skin_temperature_celsius", "Skin temperatures measured for decisions.",
			prometheus.LinearBuckets(30, 0.5, 21)),
		blackbody: f.gauge("gateguard_blackbody_celsius", "The blackbody reference's reading in the latest thermal frame."),
		bbInView:  f.gauge("gateguard_blackbody_in_view", "1 while the blackbody is found in the thermal frame, else 0."),
		faults: f.counterVec("gateguard_device_faults_total",
			"Devices becoming faulty, by device (thermal, camera, relay, outbox, ...).", "device"),
	}
	if b := cfg.Thermal.Blackbody; b != nil {
		m.bb = &fusion.BlackbodyOptions{Rect: b.Region(), SetpointC: b.SetpointC, MaxVariationC: b.Variation(),
			Window: b.WindowOrDefault(), MaxOffsetC: b.Offset(), MaxSpreadC: b.Spread()}
	}
	info := f.gaugeVec("gateguard_build_info", "Build information; the value is 1.", "version", "goversion", "site", "gate")
	info.WithLabelValues(version, runtime.Version(), cfg.Site, cfg.Gate).Set(1)
	return m
}

// factory registers collectors on one registry.
type factory struct{ reg *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	f.reg.MustRegister(h)
	return h
}

func (f factory) gaugeFunc(name, help string, fn func() float64) {
	f.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
}

// Decided counts an entry decision (gate.Metrics).
func (m *gateMetrics) Decided(result string, reasons []gate.Reason, r *gate.Reading) {
	m.decisions.WithLabelValues(result).Inc()
	for _, rs := range reasons {
		m.reasons.WithLabelValues(result, string(rs)).Inc()
	}
	if r != nil && r.SkinC > 0 {
		m.skin.Observe(r.SkinC)
	}
}

// DeviceFault counts a device becoming faulty (gate.Metrics).
func (m *gateMetrics) DeviceFault(device string) { m.faults.WithLabelValues(device).Inc() }

// observe counts one observation of the face camera's loop.
func (m *gateMetrics) observe(o vision.Observation) {
	if o.Err != nil {
		m.readErrors.WithLabelValues("face").Inc()
		return
	}
	m.frames.WithLabelValues("face").Inc()
	for _, c := range o.Codes {
		if c.FirstSeen {
			m.qrDecodes.Inc()
		}
	}
	if len(o.Faces) > 0 {
		m.faceFrames.Inc()
	}
	m.facesInView.Set(float64(len(o.Faces)))
}

// thermalSink counts each thermal frame and reads the blackbody in it,
// then hands the frame on to next.
func (m *gateMetrics) thermalSink(next func(*thermal.Frame)) func(*thermal.Frame) {
	return func(f *thermal.Frame) {
		m.frames.WithLabelValues("thermal").Inc()
		if m.bb != nil {
			c, err := fusion.CheckBlackbody(*m.bb, f)
			if err == nil {
				m.blackbody.Set(c)
				m.bbInView.Set(1)
			} else {
				m.bbInView.Set(0)
			}
		}
		next(f)
	}
}

// timedDecoder times each frame's QR decoding.
type timedDecoder struct {
	scan.CodeDecoder
	h prometheus.Histogram
}

func (t timedDecoder) Decode(img gocv.Mat) ([]vision.Code, error) {
	start := time.Now()
	codes, err := t.CodeDecoder.Decode(img)
	t.h.Observe(time.Since(start).Seconds())
	return codes, err
}

// watch adds the outbox's depth and the age of its oldest event, and the
// broker connection when there is a publisher.
func (m *gateMetrics) watch(ob eventLog, pub interface{ Connected() bool }) {
	f := factory{m.reg}
	f.gaugeFunc("gateguard_outbox_depth", "Events and alerts recorded and not yet published.",
		func() float64 { return float64(ob.Depth()) })
	f.gaugeFunc("gateguard_outbox_oldest_age_seconds", "Age of the oldest message not yet published; 0 when none.",
		func() float64 { return oldestAge(ob) })
	if pub != nil {
		f.gaugeFunc("gateguard_broker_connected", "1 while the broker connection is open, else 0.", func() float64 {
			if pub.Connected() {
				return 1
			}
			return 0
		})
	}
}

// oldestAge is the age in seconds of the oldest unpublished message, read
// from its payload's "time".
func oldestAge(ob eventLog) float64 {
	msgs, err := ob.PeekAfter(0, 1)
	if err != nil || len(msgs) == 0 {
		return 0
	}
	var p struct {
		Time time.Time `json:"time"`
	}
	if json.Unmarshal(msgs[0].Payload, &p) != nil || p.Time.IsZero() {
		return 0
	}
	return max(time.Since(p.Time).Seconds(), 0)
}

// handler serves the registry in Prometheus' text format.
func (m *gateMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// plug instruments a built daemon: frames and codes from the camera loop,
// the QR decoding time, and the outbox and the broker. The controller got
// m as its gate.Metrics from build, the thermal loop from run.
func (m *gateMetrics) plug(d *daemon) {
	d.onFrame = append(d.onFrame, m.observe)
	if d.scanner.Codes != nil {
		d.scanner.Codes = timedDecoder{CodeDecoder: d.scanner.Codes, h: m.qrSeconds}
	}
	var pub interface{ Connected() bool }
	if d.pub != nil {
		pub = d.pub
	}
	m.watch(d.outbox, pub)
}

// serveMetrics returns the service serving /metrics on addr until ctx ends.
func serveMetrics(addr string, m *gateMetrics, log *slog.Logger) (service, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return service{}, fmt.Errorf("metrics.listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	return service{name: "metrics", run: func(ctx context.Context) error {
		log.Info("metrics endpoint listening", "addr", ln.Addr().String())
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ln) }()
		select {
		case err := <-done:
			return fmt.Errorf("metrics: %w", err)
		case <-ctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("metrics: %w", err)
		}
		return nil
	}}, nil
}
