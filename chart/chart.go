// Package chart draws a closed ballot's result as a PNG to post next to
// the result text in Telegram: per question, each option's votes as a bar
// against the whole electorate with the pass mark as a dashed line, and
// above them the ballots cast as a bar against the quorum, also a line.
//
// The package does no localization: the caller passes every text already
// in the committee's language, as for package minutes, whose font (DejaVu
// Sans, which covers Vietnamese) it uses. It draws with gonum.org/v1/plot
// (its axis, text layout and rasterizer).
//
// Layout, for a phone: one column 1080 pixels wide, text about a
// fortieth of the width high (legible when Telegram fits the photo to a
// phone's width), one row per option: its label, its bar on a grey track
// as long as the electorate, its votes and share. Every section shares
// one vote axis, drawn once at the bottom, so bars of different questions
// compare directly.
//
// Output is deterministic: the same Chart gives the same pixels (and, with
// the same Go version, the same bytes).
package chart

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"sync"
)

// Limits of the picture. Telegram refuses a photo whose width and height
// add up to more than 10 000 pixels or whose sides differ more than 20
// times, and shrinks large ones; a chart that would be taller than
// MaxHeight is refused with ErrTooLarge rather than sent unreadable.
const (
	Width     = 1080
	MaxHeight = 8000
)

// Errors of PNG.
var (
	// ErrTooLarge means the chart would be taller than MaxHeight: too
	// many questions and options for one picture.
	ErrTooLarge = errors.New("chart: too many questions and options for one picture")
	// ErrInput means numbers that cannot be drawn (negative counts).
	ErrInput = errors.New("chart: negative count")
)

// Colours of the chart. Tests look for VoteColor and WinnerColor to tell
// whether per-option counts were drawn.
var (
	VoteColor    = color.RGBA{R: 0x3d, G: 0x6f, B: 0xb4, A: 0xff} // an option's votes
	WinnerColor  = color.RGBA{R: 0x2e, G: 0x8b, B: 0x57, A: 0xff} // the passing option's votes
	TurnoutColor = color.RGBA{R: 0x7e, G: 0x5c, B: 0xb8, A: 0xff} // ballots cast
	PassColor    = color.RGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff} // the pass mark line
	QuorumColor  = color.RGBA{R: 0xe0, G: 0x70, B: 0x00, A: 0xff} // the quorum line
	trackColor   = color.RGBA{R: 0xe9, G: 0xec, B: 0xf0, A: 0xff}
	gridColor    = color.RGBA{R: 0xc8, G: 0xcf, B: 0xd7, A: 0xff}
	inkColor     = color.RGBA{R: 0x1f, G: 0x23, B: 0x28, A: 0xff}
	mutedColor   = color.RGBA{R: 0x57, G: 0x60, B: 0x6a, A: 0xff}
)

// Chart is what one result picture shows. Texts are plain (no HTML),
// already localized; runes the font lacks (emoji) are dropped, check and
// cross marks drawn as the font's ✓ and ✗.
type Chart struct {
	// Title heads the picture (the ballot); Subtitle lines follow it
	// (when it closed, whether it is valid).
	Title    string
	Subtitle []string
	// Electorate is everyone entitled to vote: every bar's track is
	// this long, and the vote axis ends there.
	Electorate int
	// Turnout is the ballots cast; QuorumNeed the ballots needed for
	// the vote to count.
	Turnout    int
	QuorumNeed int
	// Questions with their options. None when the counts are withheld
	// (a secret ballot with too few ballots): then only the turnout is
	// drawn, and Notes should say why.
	Questions []Question
	// Notes are drawn below the sections, in grey.
	Notes  []string
	Labels Labels
}

// Labels are the fixed texts of the chart, already localized.
type Labels struct {
	// Turnout labels the row of ballots cast ("Đã bỏ phiếu").
	Turnout string
	// Quorum explains the quorum line ("Túc số: 6/9 phiếu để hợp lệ").
	Quorum string
	// Axis names the vote axis ("Số phiếu trên tổng số 9 cử tri").
	Axis string
	// Decimal is the decimal separator of shares ("," in Vietnamese);
	// "." when empty.
	Decimal string
}

// Question is one question's count.
type Question struct {
	// Text heads the question's section.
	Text string
	// Needed is the votes an option needs to pass: the pass mark line;
	// NeededLabel explains it ("Cần 5/9 phiếu để thông qua").
	Needed      int
	NeededLabel string
	// Outcome is said at the right of the pass mark's explanation
	// ("thông qua"); may be empty.
	Outcome string
	Options []Option
}

// Option is one option's votes.
type Option struct {
	Label string
	Votes int
	// Winner draws the bar in WinnerColor: the option passed.
	Winner bool
}

func (c Chart) check() error {
	if c.Electorate < 0 || c.Turnout < 0 || c.QuorumNeed < 0 {
		return ErrInput
	}
	for _, q := range c.Questions {
		if q.Needed < 0 {
			return ErrInput
		}
		for _, o := range q.Options {
			if o.Votes < 0 {
				return ErrInput
			}
		}
	}
	return nil
}

// PNG renders the chart. Errors: ErrInput, ErrTooLarge.
func PNG(c Chart) ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	img, err := render(c)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	// BestSpeed: three times faster than the default for 8 % more bytes
	// (265 KB → 285 KB for the largest chart), far from Telegram's
	// 10 MB for a photo.
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, paletted(img)); err != nil {
		return nil, fmt.Errorf("chart: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// paletted maps img to the chart's palette: its colours and the blends
// between those drawn over each other, which is what anti-aliasing
// makes. One byte a pixel instead of three compresses faster and to a
// third of the bytes; the picture looks the same.
func paletted(img image.Image) image.Image {
	src, ok := img.(*image.RGBA)
	if !ok {
		return img
	}
	b := src.Bounds()
	out := image.NewPaletted(b, palette())
	index := map[color.RGBA]uint8{}
	last, lastIndex := color.RGBA{}, uint8(0)
	haveLast := false
	w := b.Dx()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := src.Pix[src.PixOffset(b.Min.X, y):][:4*w]
		dst := out.Pix[out.PixOffset(b.Min.X, y):][:w]
		if y > b.Min.Y {
			// Most rows of a chart (margins, gaps, the inside of bars)
			// repeat the row above: one comparison instead of a lookup
			// a pixel.
			prev := src.Pix[src.PixOffset(b.Min.X, y-1):][:4*w]
			if bytes.Equal(row, prev) {
				copy(dst, out.Pix[out.PixOffset(b.Min.X, y-1):][:w])
				continue
			}
		}
		for x := 0; x < w; x++ {
			c := color.RGBA{R: row[4*x], G: row[4*x+1], B: row[4*x+2], A: row[4*x+3]}
			if !haveLast || c != last {
				i, ok := index[c]
				if !ok {
					i = uint8(out.Palette.Index(c))
					index[c] = i
				}
				last, lastIndex, haveLast = c, i, true
			}
			dst[x] = lastIndex
		}
	}
	return out
}

// palette is the chart's colours and, for each pair drawn over each
// other, steps between them.
var palette = sync.OnceValue(func() color.Palette {
	flat := []color.RGBA{white, trackColor, gridColor, inkColor, mutedColor, VoteColor, WinnerColor, TurnoutColor, PassColor, QuorumColor}
	var pal color.Palette
	seen := map[color.RGBA]bool{}
	add := func(c color.RGBA) {
		if !seen[c] && len(pal) < 256 {
			seen[c] = true
			pal = append(pal, c)
		}
	}
	for _, c := range flat {
		add(c)
	}
	blends := []struct {
		fg, bg color.RGBA
		steps  int
	}{
		{inkColor, white, 32}, {mutedColor, white, 24}, {mutedColor, trackColor, 4},
		{VoteColor, trackColor, 8}, {WinnerColor, trackColor, 8}, {TurnoutColor, trackColor, 8},
		{trackColor, white, 8}, {gridColor, trackColor, 4}, {gridColor, white, 4},
		{VoteColor, white, 8}, {WinnerColor, white, 8}, {TurnoutColor, white, 8},
		{PassColor, trackColor, 8}, {PassColor, white, 8}, {PassColor, VoteColor, 8}, {PassColor, WinnerColor, 8},
		{QuorumColor, trackColor, 8}, {QuorumColor, white, 8}, {QuorumColor, TurnoutColor, 8},
	}
	for _, bl := range blends {
		for i := 1; i < bl.steps; i++ {
			add(mix(bl.fg, bl.bg, float64(i)/float64(bl.steps)))
		}
	}
	return pal
})

var white = color.RGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}

// mix is fg over bg at opacity a.
func mix(fg, bg color.RGBA, a float64) color.RGBA {
	m := func(f, b uint8) uint8 { return uint8(math.Round(float64(b) + (float64(f)-float64(b))*a)) }
	return color.RGBA{R: m(fg.R, bg.R), G: m(fg.G, bg.G), B: m(fg.B, bg.B), A: 0xff}
}
