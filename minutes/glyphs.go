package minutes

import (
	"encoding/binary"
	"sync"

	"github.com/go-fonts/dejavu/dejavusans"
	"github.com/go-fonts/dejavu/dejavusansbold"
)

// coverage is the set of BMP runes that both the regular and the bold font
// draw. fpdf measures a rune the font lacks as zero wide yet draws a box
// for it, so such runes would run past their cells: pdfSafe swaps them for
// U+FFFD, which the fonts have.
var coverage = sync.OnceValue(func() *[1 << 16]bool {
	var both [1 << 16]bool
	regular, bold := cmap(dejavusans.TTF), cmap(dejavusansbold.TTF)
	for r := range both {
		both[r] = regular[r] && bold[r]
	}
	return &both
})

// cmap reads which BMP runes a TrueType font maps to a glyph, from its
// Unicode BMP (format 4) character map; a font it cannot read covers
// nothing.
func cmap(ttf []byte) *[1 << 16]bool {
	var has [1 << 16]bool
	u16 := func(off int) int {
		if off < 0 || off+2 > len(ttf) {
			return 0
		}
		return int(binary.BigEndian.Uint16(ttf[off:]))
	}
	u32 := func(off int) int {
		if off < 0 || off+4 > len(ttf) {
			return 0
		}
		return int(binary.BigEndian.Uint32(ttf[off:]))
	}
	// The table directory: find "cmap".
	table := 0
	for i := range u16(4) {
		rec := 12 + 16*i
		if rec+16 <= len(ttf) && string(ttf[rec:rec+4]) == "cmap" {
			table = u32(rec + 8)
		}
	}
	if table == 0 {
		return &has
	}
	// A Windows Unicode BMP (3, 1) or Unicode (0, *) subtable in format 4.
	sub := 0
	for i := range u16(table + 2) {
		rec := table + 4 + 8*i
		platform, encoding, off := u16(rec), u16(rec+2), u32(rec+4)
		if (platform == 3 && encoding == 1 || platform == 0) && u16(table+off) == 4 {
			sub = table + off
		}
	}
	if sub == 0 {
		return &has
	}
	segs := u16(sub+6) / 2
	ends, starts := sub+14, sub+16+2*segs
	deltas, ranges := starts+2*segs, starts+4*segs
	for i := range segs {
		start, end := u16(starts+2*i), u16(ends+2*i)
		delta, rangeOff := u16(deltas+2*i), u16(ranges+2*i)
		for c := start; c <= end && c < 0xFFFF; c++ {
			glyph := (c + delta) & 0xFFFF
			if rangeOff != 0 {
				glyph = u16(ranges + 2*i + rangeOff + 2*(c-start))
				if glyph != 0 {
					glyph = (glyph + delta) & 0xFFFF
				}
			}
			has[c] = glyph != 0
		}
	}
	return &has
}
