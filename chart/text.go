package chart

import (
	"image/color"
	"strings"
	"sync"
	"unicode"

	"github.com/go-fonts/dejavu/dejavusans"
	"github.com/go-fonts/dejavu/dejavusansbold"
	xfont "golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/unicode/norm"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// typeface names the embedded DejaVu Sans in the chart's own font cache
// (plot's global cache, holding its default Liberation fonts, is left
// alone).
const typeface = "DejaVu Sans"

// faces are the parsed fonts and a text handler that knows only them.
type faces struct {
	regular, bold *opentype.Font
	handler       text.Handler
}

var loadFaces = sync.OnceValues(func() (*faces, error) {
	regular, err := opentype.Parse(dejavusans.TTF)
	if err != nil {
		return nil, err
	}
	bold, err := opentype.Parse(dejavusansbold.TTF)
	if err != nil {
		return nil, err
	}
	cache := font.NewCache(font.Collection{
		{Font: font.Font{Typeface: typeface}, Face: regular},
		{Font: font.Font{Typeface: typeface, Weight: xfont.WeightBold}, Face: bold},
	})
	return &faces{regular: regular, bold: bold, handler: text.Plain{Fonts: cache}}, nil
})

// style is a text style of the chart's font.
func (f *faces) style(size vg.Length, bold bool, clr color.Color) text.Style {
	fnt := font.Font{Typeface: typeface, Size: size}
	if bold {
		fnt.Weight = xfont.WeightBold
	}
	return text.Style{Color: clr, Font: fnt, XAlign: draw.XLeft, YAlign: draw.YCenter, Handler: f.handler}
}

// printable makes s drawable with the fonts on one line: NFC (decomposed
// Vietnamese marks would be drawn apart), white space of any kind as one
// space, the emoji check and cross marks of chat texts as the fonts' ✓
// and ✗, other pictographs and their joiners and selectors dropped, and
// any other rune neither font has as U+FFFD, which both have.
func (f *faces) printable(s string) string {
	var buf sfnt.Buffer
	has := func(r rune) bool {
		i, err := f.regular.GlyphIndex(&buf, r)
		if err != nil || i == 0 {
			return false
		}
		i, err = f.bold.GlyphIndex(&buf, r)
		return err == nil && i != 0
	}
	var b strings.Builder
	for _, r := range norm.NFC.String(s) {
		if m, ok := marks[r]; ok {
			r = m
		}
		switch {
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		case r == '\u200D' || unicode.Is(unicode.Variation_Selector, r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
		case has(r):
			b.WriteRune(r)
		case unicode.In(r, unicode.So, unicode.Sk) || r > 0xFFFF && !unicode.IsLetter(r):
		default:
			b.WriteRune('\uFFFD')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// marks are the fonts' marks for the emoji marks chat texts use.
var marks = map[rune]rune{
	'✅': '✓', '✔': '✓', '☑': '✓', '❌': '✗', '❎': '✗', '✖': '✗', '⚠': '!', '❗': '!', '❓': '?',
}

// wrap breaks s into lines no wider than width, at most maxLines; the
// last line ends with "…" when text was left out. A word wider than a
// line is cut.
func wrap(sty text.Style, s string, width vg.Length, maxLines int) []string {
	var lines []string
	line := ""
	words := strings.Fields(s)
	for i := 0; i < len(words); i++ {
		w := words[i]
		next := w
		if line != "" {
			next = line + " " + w
		}
		if sty.Width(next) <= width {
			line = next
			continue
		}
		if line == "" { // one word wider than the line: cut it
			cut := fit(sty, w, width)
			lines = append(lines, cut)
			words[i] = w[len(cut):]
			i--
		} else {
			lines = append(lines, line)
			line = ""
			i--
		}
		if len(lines) == maxLines {
			lines[maxLines-1] = ellipsis(sty, lines[maxLines-1]+" "+strings.Join(words[i+1:], " "), width)
			return lines
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// fit is the longest prefix of s (whole runes, at least one) no wider
// than width.
func fit(sty text.Style, s string, width vg.Length) string {
	end := 0
	for i, r := range s {
		if end > 0 && sty.Width(s[:i+len(string(r))]) > width {
			break
		}
		end = i + len(string(r))
	}
	return s[:end]
}

// ellipsis shortens s to width, ending with "…" when it had to.
func ellipsis(sty text.Style, s string, width vg.Length) string {
	s = strings.TrimSpace(s)
	if sty.Width(s) <= width {
		return s
	}
	return strings.TrimRight(fit(sty, s, width-sty.Width("…")), " ") + "…"
}
