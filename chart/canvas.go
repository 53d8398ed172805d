package chart

import (
	"image"
	"image/color"
	"math"

	xfont "golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgimg"
)

// canvas is vgimg's canvas drawing text straight onto its pixels. vgimg
// draws every glyph through gg, which composites it with a bilinear
// kernel of golang.org/x/image/draw, pixel by pixel through the
// image.Image interface, and builds a new font face for every string:
// about a third of a chart's drawing time. Text of the chart is never
// rotated or transformed, so each glyph's mask can go onto the RGBA
// pixels with image/draw's direct path (what font.Drawer does), with one
// face per font and size for the whole picture. The pixels are those of
// vgimg within a unit of a channel (rounding of the compositing).
//
// Should anything transform the canvas (Translate, Rotate, Scale), text
// drawn while it is transformed goes through vgimg as before.
type canvas struct {
	*vgimg.Canvas
	rgba *image.RGBA
	// state is the colour and whether the canvas is transformed, one
	// entry per Push.
	state []canvasState
	faces map[faceKey]xfont.Face
}

type canvasState struct {
	color       color.Color
	transformed bool
}

type faceKey struct {
	face *opentype.Font
	size vg.Length
}

// newCanvas is a white canvas of w×h points at dpi.
func newCanvas(w, h vg.Length, dpi int) *canvas {
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
	c := &canvas{Canvas: img, state: []canvasState{{color: color.Black}}, faces: map[faceKey]xfont.Face{}}
	c.rgba, _ = img.Image().(*image.RGBA)
	return c
}

func (c *canvas) top() *canvasState { return &c.state[len(c.state)-1] }

// SetColor implements vg.Canvas.
func (c *canvas) SetColor(clr color.Color) {
	c.Canvas.SetColor(clr)
	if clr == nil {
		clr = color.Black
	}
	c.top().color = clr
}

// Push implements vg.Canvas.
func (c *canvas) Push() {
	c.Canvas.Push()
	c.state = append(c.state, *c.top())
}

// Pop implements vg.Canvas.
func (c *canvas) Pop() {
	c.Canvas.Pop()
	c.state = c.state[:len(c.state)-1]
}

// Translate implements vg.Canvas.
func (c *canvas) Translate(pt vg.Point) {
	c.Canvas.Translate(pt)
	c.top().transformed = true
}

// Rotate implements vg.Canvas.
func (c *canvas) Rotate(a float64) {
	c.Canvas.Rotate(a)
	c.top().transformed = true
}

// Scale implements vg.Canvas.
func (c *canvas) Scale(x, y float64) {
	c.Canvas.Scale(x, y)
	c.top().transformed = true
}

// FillString implements vg.Canvas: str with its baseline's start at pt.
func (c *canvas) FillString(f font.Face, pt vg.Point, str string) {
	if f.Font.Size == 0 {
		return
	}
	if c.rgba == nil || c.top().transformed {
		c.Canvas.FillString(f, pt, str)
		return
	}
	key := faceKey{f.Face, f.Font.Size}
	face, ok := c.faces[key]
	if !ok {
		face = f.FontFace(c.DPI())
		c.faces[key] = face
	}
	_, h := c.Size()
	dpi := c.DPI()
	d := xfont.Drawer{
		Dst:  c.rgba,
		Src:  image.NewUniform(c.top().color),
		Face: face,
		// As gg places it: y down from the top, rounded to 1/64 pixel.
		Dot: fixed.Point26_6{X: fix(pt.X.Dots(dpi)), Y: fix((h - pt.Y).Dots(dpi))},
	}
	d.DrawString(str)
}

// close releases the faces.
func (c *canvas) close() {
	for _, f := range c.faces {
		f.Close()
	}
}

func fix(x float64) fixed.Int26_6 { return fixed.Int26_6(math.Round(x * 64)) }
