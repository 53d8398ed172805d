// Package charttest reads the pictures package chart draws, for tests:
// what a chart shows is told by the colours it is drawn in.
package charttest

import (
	"image"
	"image/color"

	"github.com/committeebot/committeebot/chart"
)

// Pixels counts the pixels of img of exactly colour c.
func Pixels(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)) == c {
				n++
			}
		}
	}
	return n
}

// OptionBars counts the pixels of options' vote bars (chart.VoteColor
// and chart.WinnerColor): none when a chart shows no per-option count.
func OptionBars(img image.Image) int {
	return Pixels(img, chart.VoteColor) + Pixels(img, chart.WinnerColor)
}
