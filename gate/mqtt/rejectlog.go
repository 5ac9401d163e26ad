package mqtt

import (
	"log/slog"
	"slices"
	"sync"
	"time"
)

// rejectLog keeps rejected commands from flooding the log: within each
// period the first rejection of a reason is logged with its details (the
// sample) and the rest are counted; flush logs one summary line with the
// count per reason, when anything was left unlogged. Ten thousand junk
// commands cost a few lines, not ten thousand.
type rejectLog struct {
	log   *slog.Logger
	every time.Duration

	mu         sync.Mutex // guards the fields below
	counts     map[string]int
	suppressed bool // some rejection this period was counted, not logged
	unanswer   int  // rejections dropped unanswered (their queue was full)
	unsent     int  // rejection results that could not be published
}

func newRejectLog(log *slog.Logger, every time.Duration) *rejectLog {
	return &rejectLog{log: log, every: every, counts: map[string]int{}}
}

// note counts one rejection, and logs it if it is the first of its reason
// this period.
func (l *rejectLog) note(reason, name, id, operator, detail string) {
	l.mu.Lock()
	l.counts[reason]++
	first := l.counts[reason] == 1
	if !first {
		l.suppressed = true
	}
	l.mu.Unlock()
	if first {
		l.log.Warn("command rejected", "reason", reason, "command", name, "id", id, "operator", operator,
			"detail", detail, "more", "further rejections for this reason are counted in the next summary")
	}
}

func (l *rejectLog) unanswered() {
	l.mu.Lock()
	l.unanswer++
	l.suppressed = true
	l.mu.Unlock()
}

func (l *rejectLog) notPublished() {
	l.mu.Lock()
	l.unsent++
	l.suppressed = true
	l.mu.Unlock()
}

// flush ends the period: one summary line if any rejection went unlogged.
func (l *rejectLog) flush() {
	l.mu.Lock()
	counts, suppressed, unanswer, unsent := l.counts, l.suppressed, l.unanswer, l.unsent
	l.counts, l.suppressed, l.unanswer, l.unsent = map[string]int{}, false, 0, 0
	l.mu.Unlock()
	if !suppressed {
		return
	}
	reasons := make([]string, 0, len(counts))
	total := 0
	for r, n := range counts {
		reasons = append(reasons, r)
		total += n
	}
	slices.Sort(reasons)
	attrs := []any{"period", l.every, "total", total}
	for _, r := range reasons {
		attrs = append(attrs, r, counts[r])
	}
	attrs = append(attrs, "unanswered", unanswer, "results_not_published", unsent)
	l.log.Warn("commands rejected", attrs...)
}
