package gate

import (
	"fmt"
	"strings"
	"time"
)

// Alerts about one person (fever, spoof) are rate-limited per person, never
// globally: the first occurrence raises a new alert; repeats by the same
// person within AlertWindow are counted under the same alert id and reported
// in at most one update per window; the alert ends once a window passes with
// no repeat. Another person's alert is never held back. Every attempt is
// still an entry event: only the alert stream is thinned. A lane's
// tailgating alert is rate-limited the same way, with the lane as its person.

// personKey names one person's alert of one type.
type personKey struct{ typ, person string }

// personAlert is an open per-person alert.
type personAlert struct {
	id       string
	holder   string // the events' holder; empty for an unverified credential
	severity string
	last     time.Time // the last occurrence
	sent     time.Time // the last message sent
	count    int       // occurrences since new
	unsent   int       // occurrences not yet reported
}

// personalAlert raises, counts or updates person's alert of type typ.
func (c *Controller) personalAlert(typ, severity, person string, ev Event, msg string) {
	if person == "" || c.o.AlertWindow <= 0 {
		c.alert(typ, AlertNew, severity, ev, msg)
		return
	}
	now := c.o.Now()
	k := personKey{typ, person}
	pa, open := c.personal[k]
	if open && now.Sub(pa.last) >= c.o.AlertWindow {
		c.endPersonal(k, pa) // the sweep has not run yet
		open = false
	}
	if !open {
		pa = &personAlert{id: newID(), holder: ev.Holder, severity: severity, last: now, sent: now, count: 1}
		c.personal[k] = pa
		c.alertWithCount(pa.id, typ, AlertNew, severity, ev, msg, 1)
		return
	}
	pa.last, pa.count, pa.unsent = now, pa.count+1, pa.unsent+1
	if now.Sub(pa.sent) < c.o.AlertWindow {
		c.log.Info("alert rate-limited for this person", "type", typ, "alert", pa.id, "count", pa.count)
		return
	}
	pa.sent, pa.unsent = now, 0
	c.alertWithCount(pa.id, typ, AlertUpdate, severity, ev,
		fmt.Sprintf("%s (%d times since the alert was raised)", msg, pa.count), pa.count)
}

// sweepPersonal ends the per-person alerts whose window passed with no repeat.
func (c *Controller) sweepPersonal() {
	now := c.o.Now()
	for k, pa := range c.personal {
		if now.Sub(pa.last) >= c.o.AlertWindow {
			c.endPersonal(k, pa)
		}
	}
}

func (c *Controller) endPersonal(k personKey, pa *personAlert) {
	delete(c.personal, k)
	msg := fmt.Sprintf("no repeat within %v; %d occurrence(s) in all", c.o.AlertWindow, pa.count)
	a := c.alertBase(pa.id, k.typ, AlertEnd, "info", msg)
	a.Holder, a.Count = pa.holder, pa.count // never the raw payload that keyed it
	if err := c.record(TopicAlert, a.ID, &a.Seq, &a); err != nil {
		c.log.Error("alert not recorded", "type", k.typ, "err", err)
	}
}

func (c *Controller) alertWithCount(id, typ, state, severity string, ev Event, msg string, count int) {
	a := c.alertBase(id, typ, state, severity, msg)
	a.Event, a.Holder, a.Reading, a.Count = ev.ID, ev.Holder, ev.Reading, count
	if typ == AlertFaceMismatch {
		a.Face = ev.Face
	}
	if err := c.record(TopicAlert, a.ID, &a.Seq, &a); err != nil {
		c.log.Error("alert not recorded", "type", typ, "err", err)
	}
}

// passbackViolation reports a credential used twice within the site's
// anti-passback window, denied (hard, timed) or only logged (soft).
func passbackViolation(c Credential) (string, bool) {
	if c.Status == StatusAntiPassback {
		return "the same pass was used again within the anti-passback window: denied", true
	}
	for _, r := range c.Reasons {
		if strings.HasPrefix(r, PassbackSoftReason) {
			return "the same pass was used again within the anti-passback window (soft mode: not denied for it): " + r, true
		}
	}
	return "", false
}
