package sim

import (
	"fmt"
	"image"
	"image/color"

	"gocv.io/x/gocv"
)

// ShowTarget shows the calibration target alone: a matt black disc of
// radius r pixels centred at c, on a white card twice its diameter, in front
// of the plain background. It stays until Show or Clear.
func (c *Camera) ShowTarget(centre image.Point, r int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	card := image.Rect(centre.X-2*r, centre.Y-2*r, centre.X+2*r, centre.Y+2*r)
	if r < 3 || !card.In(image.Rect(0, 0, c.size.X, c.size.Y)) {
		return fmt.Errorf("sim: target of radius %d at %v does not fit the %v frame", r, centre, c.size)
	}
	c.scene.SetTo(gocv.NewScalar(90, 90, 90, 0))
	gocv.Rectangle(&c.scene, card, color.RGBA{240, 240, 240, 0}, -1)
	gocv.Circle(&c.scene, centre, r, color.RGBA{15, 15, 15, 0}, -1)
	return nil
}
