package chart

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Sizes in points at scale 1, drawn at 72 dpi: one point is one pixel.
// A chart taller than targetHeight is drawn smaller, down to minScale,
// so that a phone showing the whole photo still shows legible text.
const (
	dpi          = 72
	margin       = 40
	lineHeight   = 1.3 // of the font size
	maxLabel     = 0.34
	targetHeight = 2400
	minScale     = 0.6
)

// metrics are the sizes of one rendering.
type metrics struct {
	title, sub, head, text, key, tick vg.Length // font sizes
	row, bar, keyLine, gap, column    vg.Length
	dash, line, tickLen               vg.Length
}

func metricsAt(s float64) metrics {
	l := func(v float64) vg.Length { return vg.Length(v * s) }
	return metrics{
		title: l(40), sub: l(26), head: l(30), text: l(28), key: l(25), tick: l(25),
		row: l(58), bar: l(30), keyLine: l(46), gap: l(34), column: l(18),
		dash: l(44), line: l(4), tickLen: l(10),
	}
}

// item is one horizontal band of the chart's body, drawn from its top.
type item struct {
	height vg.Length
	draw   func(c draw.Canvas, p *plot.Plot, top vg.Length)
}

// body is the plotter that draws the sections in the plot's data area;
// labels and counts go to the columns left and right of it.
type body struct {
	f         *faces
	c         Chart
	m         metrics
	left      vg.Length // where labels start
	right     vg.Length // where counts end
	items     []item
	height    vg.Length
	labelSty  text.Style
	countSty  text.Style
	winnerSty text.Style
}

func render(c Chart) (image.Image, error) {
	f, err := loadFaces()
	if err != nil {
		return nil, fmt.Errorf("chart: fonts: %w", err)
	}
	scale := 1.0
	l := layoutAt(f, c, scale)
	for i := 0; i < 3 && l.total > targetHeight && scale > minScale; i++ {
		// Margins do not shrink, so aim a little lower than the ratio.
		scale = max(minScale, scale*float64(targetHeight-2*margin)/float64(l.total-2*margin))
		l = layoutAt(f, c, scale)
	}
	height := int(math.Ceil(float64(l.total)))
	if height > MaxHeight {
		return nil, ErrTooLarge
	}
	img := newCanvas(Width, vg.Length(height), dpi)
	defer img.close()
	full := draw.New(img)
	y := full.Max.Y - margin
	for _, line := range l.head {
		full.FillText(line.sty, vg.Point{X: margin, Y: y - line.height/2}, line.text)
		y -= line.height
	}
	area := l.area
	area.Max.Y = area.Min.Y + l.body.height + l.axis
	area.Canvas = full.Canvas
	l.plot.Draw(area)
	return img.Image(), nil
}

// headLine is one line of the title or subtitle.
type headLine struct {
	text   string
	sty    text.Style
	height vg.Length
}

// layout is a chart measured at one scale.
type layout struct {
	head  []headLine
	body  *body
	plot  *plot.Plot
	area  draw.Canvas // the plot's area, its height still to be set
	axis  vg.Length   // the plot's area below its data area
	total vg.Length
}

func layoutAt(f *faces, c Chart, scale float64) layout {
	m := metricsAt(scale)
	var l layout
	content := vg.Length(Width - 2*margin)
	title := f.style(m.title, true, inkColor)
	sub := f.style(m.sub, false, mutedColor)
	for _, s := range wrap(title, f.printable(c.Title), content, 3) {
		l.head = append(l.head, headLine{s, title, m.title * lineHeight})
	}
	for _, t := range c.Subtitle {
		for _, s := range wrap(sub, f.printable(t), content, 2) {
			l.head = append(l.head, headLine{s, sub, m.sub * lineHeight})
		}
	}
	headHeight := vg.Length(margin) + m.gap/2
	for _, h := range l.head {
		headHeight += h.height
	}
	b := &body{f: f, c: c, m: m, left: margin, right: Width - margin,
		labelSty: f.style(m.text, false, inkColor), countSty: f.style(m.text, false, inkColor),
		winnerSty: f.style(m.text, true, inkColor)}
	labelW, countW := b.columns()
	b.layout()
	l.body, l.plot = b, b.plot()
	// The plot's area starts right of the labels and ends left of the
	// counts; its data area is that less the axis below, whose height a
	// probe of any size tells.
	l.area = draw.Canvas{Rectangle: vg.Rectangle{
		Min: vg.Point{X: margin + labelW + m.column, Y: margin},
		Max: vg.Point{X: Width - margin - countW - m.column, Y: margin + 1000},
	}}
	dc := l.plot.DataCanvas(l.area)
	l.axis = 1000 - (dc.Max.Y - dc.Min.Y)
	l.total = headHeight + b.height + l.axis + margin
	return l
}

// columns measures the label column (the widest label, within maxLabel
// of the content) and the count column (the widest count).
func (b *body) columns() (labelW, countW vg.Length) {
	labels := []string{b.f.printable(b.c.Labels.Turnout)}
	counts := []string{b.turnoutText()}
	for _, q := range b.c.Questions {
		for _, o := range q.Options {
			labels = append(labels, b.f.printable(o.Label))
			counts = append(counts, b.countText(o.Votes))
		}
	}
	for _, s := range labels {
		labelW = max(labelW, b.labelSty.Width(s))
	}
	labelW = min(labelW, maxLabel*(b.right-b.left))
	for _, s := range counts {
		countW = max(countW, b.winnerSty.Width(s))
	}
	return labelW, countW
}

func (b *body) turnoutText() string {
	return strconv.Itoa(b.c.Turnout) + "/" + strconv.Itoa(b.c.Electorate)
}

// countText is an option's votes and their share of the electorate.
func (b *body) countText(votes int) string {
	share := 0.0
	if b.c.Electorate > 0 {
		share = 100 * float64(votes) / float64(b.c.Electorate)
	}
	s := strconv.FormatFloat(share, 'f', 1, 64)
	if d := b.c.Labels.Decimal; d != "" && d != "." {
		s = strings.Replace(s, ".", d, 1)
	}
	return strconv.Itoa(votes) + " · " + s + "%"
}

// plot is the plot holding the body, with the vote axis below it.
func (b *body) plot() *plot.Plot {
	p := plot.New()
	p.BackgroundColor = nil
	p.HideY()
	p.Y.Min, p.Y.Max = 0, 1
	p.X.Min, p.X.Max = 0, float64(max(b.c.Electorate, 1))
	p.X.Padding = 0
	p.X.LineStyle = draw.LineStyle{Color: mutedColor, Width: 2}
	p.X.Tick.LineStyle = draw.LineStyle{Color: mutedColor, Width: 2}
	p.X.Tick.Length = b.m.tickLen
	p.X.Tick.Marker = plot.TickerFunc(voteTicks)
	p.X.Tick.Label = b.f.style(b.m.tick, false, inkColor)
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XCenter, draw.YTop
	p.X.Label.Text = b.f.printable(b.c.Labels.Axis)
	p.X.Label.TextStyle = b.f.style(b.m.tick, false, mutedColor)
	p.X.Label.TextStyle.XAlign, p.X.Label.TextStyle.YAlign = draw.XCenter, draw.YBottom
	p.X.Label.Padding = 8
	p.TextHandler = b.f.handler
	p.Add(b)
	return p
}

// voteTicks marks whole votes from 0 to the electorate: at most about
// eight labelled steps of 1, 2 or 5 times a power of ten, and the
// electorate itself.
func voteTicks(lo, hi float64) []plot.Tick {
	step := 1.0
	for hi/step > 8 {
		switch {
		case isPow10(step):
			step *= 2
		case isPow10(step / 2):
			step = step / 2 * 5
		default:
			step *= 2
		}
	}
	var ticks []plot.Tick
	for v := lo; v < hi-step/2; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.Itoa(int(v))})
	}
	return append(ticks, plot.Tick{Value: hi, Label: strconv.Itoa(int(hi))})
}

func isPow10(v float64) bool {
	l := math.Log10(v)
	return math.Abs(l-math.Round(l)) < 1e-9
}

// layout lists the bands of the body: the turnout against the quorum,
// each question's options against its pass mark, the notes.
func (b *body) layout() {
	key := b.f.style(b.m.key, false, inkColor)
	head := b.f.style(b.m.head, true, inkColor)
	note := b.f.style(b.m.key, false, mutedColor)
	width := b.right - b.left

	b.add(b.m.keyLine, b.keyLine(key, QuorumColor, b.c.Labels.Quorum, ""))
	turnoutBar := b.bar(b.c.Labels.Turnout, b.turnoutText(), b.c.Turnout, TurnoutColor, false)
	b.add(b.m.row, turnoutBar)
	b.lineAcross(b.c.QuorumNeed, QuorumColor, len(b.items)-1, len(b.items))

	for _, q := range b.c.Questions {
		b.add(b.m.gap, nil)
		for _, line := range wrap(head, b.f.printable(q.Text), width, 2) {
			b.add(b.m.head*lineHeight, b.textLine(head, line))
		}
		outcome := b.f.printable(q.Outcome)
		label := b.f.printable(q.NeededLabel)
		keyW := b.m.dash + b.m.column/2 + key.Width(label)
		outcomeSty := b.f.style(b.m.key, true, inkColor)
		if outcome != "" && keyW+b.m.column+outcomeSty.Width(outcome) > width {
			b.add(b.m.keyLine, b.keyLine(key, PassColor, label, ""))
			b.add(b.m.key*lineHeight, b.rightLine(outcomeSty, outcome))
		} else {
			b.add(b.m.keyLine, b.keyLine(key, PassColor, label, outcome))
		}
		first := len(b.items)
		for _, o := range q.Options {
			clr := VoteColor
			if o.Winner {
				clr = WinnerColor
			}
			b.add(b.m.row, b.bar(o.Label, b.countText(o.Votes), o.Votes, clr, o.Winner))
		}
		if len(q.Options) > 0 {
			b.lineAcross(q.Needed, PassColor, first, len(b.items))
		}
	}
	if len(b.c.Notes) > 0 {
		b.add(b.m.gap/2, nil)
	}
	for _, n := range b.c.Notes {
		for _, line := range wrap(note, b.f.printable(n), width, 4) {
			b.add(b.m.key*lineHeight, b.textLine(note, line))
		}
	}
	b.add(b.m.gap/2, nil)
}

func (b *body) add(h vg.Length, fn func(c draw.Canvas, p *plot.Plot, top vg.Length)) {
	b.items = append(b.items, item{height: h, draw: fn})
	b.height += h
}

// textLine draws one line of text across the body.
func (b *body) textLine(sty text.Style, s string) func(draw.Canvas, *plot.Plot, vg.Length) {
	return func(c draw.Canvas, _ *plot.Plot, top vg.Length) {
		c.FillText(sty, vg.Point{X: b.left, Y: top - sty.Font.Size*lineHeight/2}, s)
	}
}

// rightLine draws one line of text against the right margin.
func (b *body) rightLine(sty text.Style, s string) func(draw.Canvas, *plot.Plot, vg.Length) {
	return func(c draw.Canvas, _ *plot.Plot, top vg.Length) {
		sty.XAlign = draw.XRight
		c.FillText(sty, vg.Point{X: b.right, Y: top - sty.Font.Size*lineHeight/2}, s)
	}
}

// keyLine explains a line: a dashed sample in its colour, the
// explanation, and at the right the outcome.
func (b *body) keyLine(sty text.Style, clr color.Color, label, outcome string) func(draw.Canvas, *plot.Plot, vg.Length) {
	line := b.dashed(clr)
	label = ellipsis(sty, b.f.printable(label), b.right-b.left-b.m.dash-b.m.column/2)
	return func(c draw.Canvas, _ *plot.Plot, top vg.Length) {
		y := top - b.m.keyLine/2
		c.StrokeLine2(line, b.left, y, b.left+b.m.dash, y)
		c.FillText(sty, vg.Point{X: b.left + b.m.dash + b.m.column/2, Y: y}, label)
		if outcome != "" {
			o := b.f.style(b.m.key, true, inkColor)
			o.XAlign = draw.XRight
			c.FillText(o, vg.Point{X: b.right, Y: y}, outcome)
		}
	}
}

// bar draws one row: the label, the track as long as the electorate with
// the grid over it, the bar of n votes and the count.
func (b *body) bar(label, count string, n int, clr color.Color, bold bool) func(draw.Canvas, *plot.Plot, vg.Length) {
	return func(c draw.Canvas, p *plot.Plot, top vg.Length) {
		x, _ := p.Transforms(&c)
		y := top - b.m.row/2
		labelW := c.Min.X - b.m.column - b.left
		c.FillText(b.labelSty, vg.Point{X: b.left, Y: y}, ellipsis(b.labelSty, b.f.printable(label), labelW))
		lo, hi := y-b.m.bar/2, y+b.m.bar/2
		fillRect(c, trackColor, x(0), lo, x(p.X.Max), hi)
		grid := draw.LineStyle{Color: gridColor, Width: 1}
		for _, t := range voteTicks(p.X.Min, p.X.Max) {
			if t.Value > 0 && t.Value < p.X.Max {
				c.StrokeLine2(grid, x(t.Value), lo, x(t.Value), hi)
			}
		}
		if v := min(float64(n), p.X.Max); v > 0 {
			fillRect(c, clr, x(0), lo, x(v), hi)
		}
		sty := b.countSty
		if bold {
			sty = b.winnerSty
		}
		c.FillText(sty, vg.Point{X: c.Max.X + b.m.column, Y: y}, count)
	}
}

// lineAcross draws the dashed line of a mark at value votes across the
// rows items[from:to], after them.
func (b *body) lineAcross(value int, clr color.Color, from, to int) {
	b.add(0, func(c draw.Canvas, p *plot.Plot, top vg.Length) {
		x, _ := p.Transforms(&c)
		var above vg.Length
		for _, it := range b.items[from:to] {
			above += it.height
		}
		v := min(float64(value), p.X.Max)
		c.StrokeLine2(b.dashed(clr), x(v), top+above-(b.m.row-b.m.bar)/2+b.m.line*2, x(v), top+(b.m.row-b.m.bar)/2-b.m.line*2)
	})
}

// Plot implements plot.Plotter: it draws the bands from the top of the
// data area down.
func (b *body) Plot(c draw.Canvas, p *plot.Plot) {
	top := c.Max.Y
	for _, it := range b.items {
		if it.draw != nil {
			it.draw(c, p, top)
		}
		top -= it.height
	}
}

// dashed is the style of a mark's line.
func (b *body) dashed(clr color.Color) draw.LineStyle {
	return draw.LineStyle{Color: clr, Width: b.m.line, Dashes: []vg.Length{3 * b.m.line, 1.75 * b.m.line}}
}

// fillRect fills the rectangle from (x0, y0) to (x1, y1).
func fillRect(c draw.Canvas, clr color.Color, x0, y0, x1, y1 vg.Length) {
	c.FillPolygon(clr, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
}
