package minutes

import "math"

// column is one table column.
type column struct {
	w     float64
	align string // "L", "R" or "C"
}

// table is a grid of wrapped cells whose header repeats on each page.
type table struct {
	cols      []column
	header    []string // nil: no header row
	zebra     bool     // fill every other row
	labelFill bool     // fill the first column (label/value tables)
}

// rowStyle is how one row is drawn.
type rowStyle struct {
	header bool
	bold   bool
	index  int  // row number, for zebra fills
	bar    *bar // a bar drawn in a column instead of text
}

// bar is a horizontal bar of pct percent, with a thin mark at mark
// percent (negative: none).
type bar struct {
	col       int
	pct, mark float64
	strong    bool
}

// headerRow prints the table's header row.
func (d *doc) headerRow(t *table) {
	if t.header != nil {
		d.row(t, t.header, rowStyle{header: true, bold: true})
	}
}

// row prints one row of t. Cells wrap within their column; the row moves
// to a new page (under a repeated header) when it does not fit, and one
// taller than a whole page continues on the next.
func (d *doc) row(t *table, cells []string, st rowStyle) {
	f := d.f
	headerH := 0.0
	if t.header != nil && !st.header {
		headerH = d.rowHeight(t, t.header)
	}
	style := ""
	if st.bold {
		style = "B"
	}
	d.font(style, sizeTable)
	lines := make([][]string, len(t.cols))
	n := 1
	for i, c := range t.cols {
		s := ""
		if i < len(cells) {
			s = d.para(cells[i])
		}
		lines[i] = d.split(s, c.w)
		n = max(n, len(lines[i]))
	}
	perPage := int((bottom-marginT-headerH-2*rowPad)/lineTable + 1e-9)
	for start := 0; start < n; {
		fit := int((d.room()-2*rowPad)/lineTable + 1e-9)
		// Start a row on a new page rather than split it, unless it is
		// taller than a page anyway (then it starts here, with two lines
		// at least); a header never ends a page alone.
		wanted := n - start
		if wanted > perPage {
			wanted = 2
		}
		if st.header {
			wanted = n + 1
		}
		if fit < wanted || fit < 1 {
			f.AddPage()
			if !st.header {
				d.headerRow(t)
				d.font(style, sizeTable)
			}
			continue
		}
		k := min(n-start, fit)
		h := float64(k)*lineTable + 2*rowPad
		y := f.GetY()
		x := marginL
		for i, c := range t.cols {
			fill := -1
			switch {
			case st.header:
				fill = grayHeader
			case t.labelFill && i == 0:
				fill = grayHeader
			case t.zebra && st.index%2 == 1:
				fill = grayZebra
			}
			if fill >= 0 {
				f.SetFillColor(fill, fill, fill)
				f.Rect(x, y, c.w, h, "FD")
			} else {
				f.Rect(x, y, c.w, h, "D")
			}
			if st.bar != nil && st.bar.col == i && !st.header {
				if start == 0 {
					d.drawBar(x, y, c.w, h, st.bar)
				}
			} else {
				end := min(start+k, len(lines[i]))
				for j := start; j < end; j++ {
					f.SetXY(x, y+rowPad+float64(j-start)*lineTable)
					f.CellFormat(c.w, lineTable, lines[i][j], "", 0, c.align, false, 0, "")
				}
			}
			x += c.w
		}
		f.SetXY(marginL, y+h)
		start += k
	}
}

// tableStart is the height of t's header and its first row (nil: none),
// at most a page: what a heading keeps with it.
func (d *doc) tableStart(t *table, first []string) float64 {
	h := 0.0
	if t.header != nil {
		h += d.rowHeight(t, t.header)
	}
	if first != nil {
		h += d.rowHeight(t, first)
	}
	return math.Min(h, bottom-marginT-12)
}

// rowHeight is the height of a single-page row of cells in t.
func (d *doc) rowHeight(t *table, cells []string) float64 {
	d.font("B", sizeTable)
	n := 1
	for i, c := range t.cols {
		if i < len(cells) {
			n = max(n, len(d.split(d.para(cells[i]), c.w)))
		}
	}
	return float64(n)*lineTable + 2*rowPad
}

// drawBar draws b in the cell at x, y of size w × h.
func (d *doc) drawBar(x, y, w, h float64, b *bar) {
	f := d.f
	const barH = 3.2
	bx, bw := x+cellPad, w-2*cellPad
	by := y + h/2 - barH/2
	f.SetFillColor(grayTrack, grayTrack, grayTrack)
	f.Rect(bx, by, bw, barH, "F")
	pct := math.Max(0, math.Min(100, b.pct))
	g := grayBar
	if b.strong {
		g = grayWinner
	}
	if pct > 0 {
		f.SetFillColor(g, g, g)
		f.Rect(bx, by, bw*pct/100, barH, "F")
	}
	if b.mark >= 0 {
		mx := bx + bw*b.mark/100
		f.SetDrawColor(0, 0, 0)
		f.SetLineWidth(0.35)
		f.Line(mx, by-0.8, mx, by+barH+0.8)
		f.SetLineWidth(0.2)
		f.SetDrawColor(grayRule, grayRule, grayRule)
	}
}

// widest is the width that fits the widest of ss on one line in the
// table font, bold for the header, between lo and hi mm.
func (d *doc) widest(ss []string, lo, hi float64) float64 {
	w := 0.0
	for i, s := range ss {
		style := ""
		if i == 0 {
			style = "B"
		}
		d.font(style, sizeTable)
		w = math.Max(w, d.f.GetStringWidth(d.txt(s)))
	}
	return math.Max(lo, math.Min(hi, math.Ceil(w+2*cellPad+0.5)))
}
