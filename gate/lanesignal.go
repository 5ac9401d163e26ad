package gate

import "time"

// LaneSignal is what the controller tells the people at the lane about: its
// lane, its mode and, once an attempt is decided, that decision exactly as
// it was recorded and acted on. gate/lane turns signals into the one stream
// of lane states that the lane display and the tower light both follow.
type LaneSignal struct {
	// Seq increases by one with every signal of a controller.
	Seq  uint64
	Time time.Time
	// Lane is the lane state (LaneIdle, LaneChecking, LaneOpen, LaneFireAlarm).
	Lane string
	Mode Mode
	// FireAlarm is set while a fire alarm is active or latched.
	FireAlarm bool
	// Hint, while checking, says why the gate is still waiting: a face too
	// far, too close, turned away or not good enough, or a borderline
	// reading being measured again. Empty when there is nothing to say.
	Hint Reason
	// Entry is set on the signal that ends an attempt: the recorded entry
	// event, with Admitted saying whether the lane was released for it
	// (an admission that could not be recorded is denied).
	Entry    *Event
	Admitted bool
}

// LaneObserver is told of every LaneSignal, in order, from the controller's
// goroutine. Lane must not block.
type LaneObserver interface {
	Lane(s LaneSignal)
}

// LaneObserverFunc adapts a function to LaneObserver.
type LaneObserverFunc func(s LaneSignal)

// Lane calls f.
func (f LaneObserverFunc) Lane(s LaneSignal) { f(s) }

// signalLane tells the lane observer of the controller's current state, and
// of the entry just decided when entry is set.
func (c *Controller) signalLane(entry *Event, admitted bool) {
	if c.o.LaneObserver == nil {
		return
	}
	c.laneSeq++
	s := LaneSignal{Seq: c.laneSeq, Time: c.o.Now(), Lane: c.lane, Mode: c.mode,
		FireAlarm: c.fireOn || c.fireAlert != "", Entry: entry, Admitted: admitted}
	if c.att != nil {
		s.Hint = c.att.hint()
	}
	c.o.LaneObserver.Lane(s)
}

// hintChanged signals the lane when the attempt's hint changed since it was
// last signalled.
func (c *Controller) hintChanged() {
	if c.att == nil {
		return
	}
	if h := c.att.hint(); h != c.att.shownHint {
		c.att.shownHint = h
		c.signalLane(nil, false)
	}
}

// hint is why the attempt is still waiting, for the person at the lane.
func (a *attempt) hint() Reason {
	switch {
	case a.reading != nil:
		return ""
	case a.th.remeasure != "":
		return a.th.remeasure
	case a.poorFace && !a.faceSeen:
		return ReasonPoorFace
	}
	return ""
}
