// Package charttest reads the pictures package chart draws, for tests:
// what a chart shows is told by the colours it is drawn in.
package charttest

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"

	"github.com/committeebot/committeebot/chart"
)

// RGBA returns img as an *image.RGBA (a copy unless it is one), whose
// pixels can be read without a call each.
func RGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok {
		return r
	}
	b := img.Bounds()
	out := image.NewRGBA(b)
	draw.Draw(out, b, img, b.Min, draw.Src)
	return out
}

// Pixels counts the pixels of img of exactly colour c (opaque).
func Pixels(img image.Image, c color.RGBA) int {
	if p, ok := img.(*image.Paletted); ok && p.Stride == p.Rect.Dx() {
		// What package chart encodes, decoded: count the bytes of c's
		// entries (a byte a pixel) instead of converting every pixel.
		n := 0
		for i, pc := range p.Palette {
			if color.RGBAModel.Convert(pc) == c {
				n += bytes.Count(p.Pix, []byte{byte(i)})
			}
		}
		return n
	}
	pix := RGBA(img).Pix
	n := 0
	for i := 0; i+3 < len(pix); i += 4 {
		if pix[i] == c.R && pix[i+1] == c.G && pix[i+2] == c.B && pix[i+3] == c.A {
			n++
		}
	}
	return n
}

// OptionBars counts the pixels of options' vote bars (chart.VoteColor
// and chart.WinnerColor): none when a chart shows no per-option count.
func OptionBars(img image.Image) int {
	rgba := RGBA(img)
	return Pixels(rgba, chart.VoteColor) + Pixels(rgba, chart.WinnerColor)
}
