package lane

import (
	"context"
	"log/slog"

	"github.com/gateguard/gateguard/device/tower"
)

// Tower is a signal tower; device/tower implements it.
type Tower interface {
	Show(p tower.Pattern) error
}

// Pattern is the tower pattern of a lane state.
func Pattern(st State) tower.Pattern {
	switch st.Kind {
	case CodeSeen:
		return tower.Checking
	case Remeasure:
		return tower.Remeasure
	case Admitted:
		return tower.Admitted
	case Denied:
		return tower.Denied
	case Fever:
		return tower.Fever
	case FireAlarm:
		return tower.Alarm
	case Open:
		return tower.Open
	case Locked:
		return tower.Locked
	case Maintenance:
		return tower.Maintenance
	}
	return tower.Off
}

// DriveTower shows each state of the stream on t until ctx ends or the
// stream stops. A failed Show is logged and the next state tried.
func DriveTower(ctx context.Context, s *Stream, t Tower, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	states, cancel := s.Subscribe()
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case st, ok := <-states:
			if !ok {
				return
			}
			log.Debug("tower", "state", st.Kind, "pattern", Pattern(st))
			if err := t.Show(Pattern(st)); err != nil {
				log.Error("tower light", "state", st.Kind, "err", err)
			}
		}
	}
}
