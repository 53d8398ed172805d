package minutes

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/go-fonts/dejavu/dejavusans"
	"github.com/go-fonts/dejavu/dejavusansbold"
	"github.com/go-pdf/fpdf"
)

// Page geometry, in millimetres (A4 portrait).
const (
	pageW    = 210.0
	pageH    = 297.0
	marginL  = 18.0
	marginR  = 18.0
	marginT  = 16.0
	marginB  = 18.0
	contentW = pageW - marginL - marginR
	bottom   = pageH - marginB // where content must end
	cellPad  = 1.5             // left and right padding inside table cells
	rowPad   = 0.8             // top and bottom padding inside table rows
	family   = "dejavu"
)

// Font sizes (points) and their line heights (mm).
const (
	sizeTitle   = 16.0
	sizeHeading = 11.5
	sizeBody    = 10.0
	sizeTable   = 9.0
	sizeSmall   = 7.5
	lineBody    = 5.0
	lineTable   = 4.4
	lineSmall   = 3.6
)

// Grays of the sober palette (0–255).
const (
	grayText   = 90  // secondary text: hints, header, footer
	grayRule   = 170 // table borders
	grayHeader = 228 // fill of table headers and fact labels
	grayZebra  = 246 // fill of every other table row
	grayBar    = 150 // bars of options
	grayWinner = 60  // bar of the winning option
	grayTrack  = 235 // the bar's empty track
)

// maxAnswerColumns is how many questions get a column each in the
// receipts or roll table; past it, one column holds every answer.
const maxAnswerColumns = 4

// PDF renders the minutes as an A4 PDF: the facts of the ballot, a table
// per question (options, votes, percentage of the electorate, a bar with
// a mark at the votes needed), the receipts of a secret ballot or the roll
// of an open one (tables repeat their header on each page), notes and
// signature blocks, with "n/N" page numbers. Long texts wrap; a row too
// tall for a page continues on the next. PDF returns ErrAnswers or
// ErrSecretRoll for minutes it cannot render.
func PDF(m Minutes) ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	f, err := render(m)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return nil, fmt.Errorf("minutes: write pdf: %w", err)
	}
	return buf.Bytes(), nil
}

// doc is the document being laid out.
type doc struct {
	f *fpdf.Fpdf
	m Minutes
}

// render lays the minutes out, then goes back to every page for its
// footer: its "n/N" needs the page count, and fpdf's page-count alias
// would be measured as its placeholder, not as the number it becomes.
func render(m Minutes) (*fpdf.Fpdf, error) {
	f := fpdf.New("P", "mm", "A4", "")
	d := &doc{f: f, m: m}
	gen := m.generated().UTC() // fpdf writes no offset: say UTC
	f.SetCatalogSort(true)
	f.SetCreationDate(gen)
	f.SetModificationDate(gen)
	f.SetCompression(true)
	f.SetMargins(marginL, marginT, marginR)
	f.SetAutoPageBreak(false, marginB) // breaks are ours: tables repeat headers
	f.SetCellMargin(cellPad)
	f.AddUTF8FontFromBytes(family, "", dejavusans.TTF)
	f.AddUTF8FontFromBytes(family, "B", dejavusansbold.TTF)
	f.SetTitle(d.runningTitle(), true)
	f.SetSubject(d.txt(m.Committee), true)
	f.SetHeaderFunc(d.header)
	f.SetDrawColor(grayRule, grayRule, grayRule)
	f.SetLineWidth(0.2)
	f.AddPage()

	d.title()
	d.facts()
	d.results()
	if m.Secret {
		d.receipts()
	} else {
		d.roll()
	}
	d.notes()
	d.signatures()
	for i, n := 1, f.PageCount(); i <= n; i++ {
		f.SetPage(i)
		d.footer(n)
	}
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("minutes: render pdf: %w", err)
	}
	return f, nil
}

// txt makes s safe for the PDF on one line.
func (d *doc) txt(s string) string { return pdfSafe(clean(s, false)) }

// para makes s safe for the PDF, keeping its line breaks.
func (d *doc) para(s string) string { return pdfSafe(clean(s, true)) }

// pdfSafe makes s printable with the embedded fonts: the check and cross
// marks of chat texts (✅, ❌…) become the fonts' own ✓ and ✗, other
// pictographs (emoji, past the Basic Multilingual Plane or not in the
// fonts) and the joiners and variation selectors that go with them are
// dropped, and any other rune the fonts lack (see coverage) becomes
// U+FFFD. fpdf measures a missing rune as zero wide, so none may reach it.
func pdfSafe(s string) string {
	has := coverage()
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if m, ok := textMarks[r]; ok {
			r = m
		}
		switch {
		case r == '\u200D' || unicode.Is(unicode.Variation_Selector, r):
			// a joiner or an emoji's presentation selector: nothing to print
		case r == '\n' || r <= 0xFFFF && has[r]:
			b.WriteRune(r)
		case unicode.In(r, unicode.So, unicode.Sk) || r > 0xFFFF && !unicode.IsLetter(r):
			// a pictograph or its modifier: nothing to print
		default:
			b.WriteRune('\uFFFD')
		}
	}
	// Dropping a leading pictograph leaves its space.
	return strings.TrimLeft(b.String(), " ")
}

// textMarks are the fonts' marks for the emoji marks chat texts use.
var textMarks = map[rune]rune{
	'✅': '✓', '✔': '✓', '☑': '✓', '🗸': '✓',
	'❌': '✗', '❎': '✗', '✖': '✗', '🗙': '✗',
	'⚠': '!', '❗': '!', '❓': '?',
}

// font selects the family in style "" or "B" at size points.
func (d *doc) font(style string, size float64) { d.f.SetFont(family, style, size) }

// gray sets the text color.
func (d *doc) gray(g int) { d.f.SetTextColor(g, g, g) }

// split wraps s (already safe) to lines that fit width w with the
// current font, padding included; an empty s is one empty line.
func (d *doc) split(s string, w float64) []string {
	lines := d.f.SplitText(s, w)
	if len(lines) == 0 {
		return []string{""}
	}
	return lines
}

// fit cuts s (already safe) with an ellipsis to fit width w.
func (d *doc) fit(s string, w float64) string {
	limit := w - 2*cellPad
	if d.f.GetStringWidth(s) <= limit {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && d.f.GetStringWidth(string(r)+"…") > limit {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

// room is the height left on the page.
func (d *doc) room() float64 { return bottom - d.f.GetY() }

// ensure starts a new page unless h fits on this one.
func (d *doc) ensure(h float64) {
	if h > d.room() {
		d.f.AddPage()
	}
}

// gap moves down by h, or to a new page when that would reach the bottom.
func (d *doc) gap(h float64) {
	if h >= d.room() {
		d.f.AddPage()
		return
	}
	d.f.SetY(d.f.GetY() + h)
}

// header runs atop every page: from the second one, a running title.
func (d *doc) header() {
	f := d.f
	if f.PageNo() > 1 {
		d.font("", sizeSmall)
		d.gray(grayText)
		f.SetXY(marginL, 9)
		f.CellFormat(contentW, lineSmall, d.fit(d.runningTitle(), contentW), "", 0, "L", false, 0, "")
		f.Line(marginL, 13, pageW-marginR, 13)
		d.gray(0)
	}
	f.SetXY(marginL, marginT)
}

// runningTitle is the document title and the ballot's, for the running
// header and the PDF's metadata.
func (d *doc) runningTitle() string {
	var parts []string
	for _, s := range []string{d.m.Labels.Title, d.m.Ballot} {
		if s = d.txt(s); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " — ")
}

// footer is drawn on every page once all are laid out: when the minutes
// were made, and the page number of pages in all. fpdf writes a font or
// color only when it differs from the one it set last, which is the last
// page's, not this page's: both are set here without that shortcut.
func (d *doc) footer(pages int) {
	f := d.f
	f.SetFont(family, "B", sizeSmall+1)
	f.SetFillColor(255, 255, 255)
	y := bottom + 5
	f.Line(marginL, y-1.5, pageW-marginR, y-1.5)
	d.font("", sizeSmall)
	d.gray(grayText)
	page := strconv.Itoa(f.PageNo()) + "/" + strconv.Itoa(pages)
	if p := d.txt(d.m.Labels.Page); p != "" {
		page = p + " " + page
	}
	pw := f.GetStringWidth(page) + 2*cellPad
	gen := d.txt(strings.TrimSpace(d.m.Labels.Generated + " " + d.m.time(d.m.generated())))
	f.SetXY(marginL, y)
	f.CellFormat(contentW-pw, lineSmall, d.fit(gen, contentW-pw), "", 0, "L", false, 0, "")
	f.SetXY(pageW-marginR-pw, y)
	f.CellFormat(pw, lineSmall, page, "", 0, "R", false, 0, "")
	d.gray(0)
}

// paragraph prints s wrapped to the content width, breaking pages
// between lines.
func (d *doc) paragraph(s, style string, size, lh float64, align string) {
	d.font(style, size)
	for _, line := range d.split(d.para(s), contentW) {
		d.ensure(lh)
		d.f.SetX(marginL)
		d.f.CellFormat(contentW, lh, line, "", 1, align, false, 0, "")
	}
}

// heading prints a section heading, kept on a page with the next need mm.
func (d *doc) heading(s string, need float64) {
	if s == "" {
		return
	}
	d.font("B", sizeHeading)
	lines := d.split(d.para(s), contentW)
	d.ensure(float64(len(lines))*6 + need)
	for _, line := range lines {
		d.f.SetX(marginL)
		d.f.CellFormat(contentW, 6, line, "", 1, "L", false, 0, "")
	}
	d.f.SetY(d.f.GetY() + 1.5)
}

// title prints the document title.
func (d *doc) title() {
	if d.m.Labels.Title == "" {
		return
	}
	d.paragraph(d.m.Labels.Title, "B", sizeTitle, 8, "C")
	d.gap(5)
}

// facts prints the ballot's facts as a two-column table.
func (d *doc) facts() {
	t := table{cols: []column{{w: 64, align: "L"}, {w: contentW - 64, align: "L"}}, labelFill: true}
	for _, fc := range d.m.facts() {
		d.row(&t, []string{fc.label, fc.value}, rowStyle{})
	}
	d.gap(6)
}

// results prints each question's count.
func (d *doc) results() {
	l := d.m.Labels
	d.heading(l.Results, 25)
	for i, q := range d.m.Questions {
		d.question(i, q)
	}
}

// question prints one question: its text, a table of options, the votes
// needed and the outcome.
func (d *doc) question(i int, q Question) {
	l, m := d.m.Labels, d.m
	t := table{
		cols: []column{
			{w: 72, align: "L"},
			{w: 20, align: "R"},
			{w: 26, align: "R"},
			{w: contentW - 118, align: "L"},
		},
		header: []string{l.Option, l.Votes, l.Share, ""},
		zebra:  true,
	}
	cells := func(r Row) []string {
		return []string{r.Option, strconv.Itoa(r.Votes), percent(r.Percent, l.Decimal) + "%", ""}
	}
	var first []string
	if len(q.Rows) > 0 {
		first = cells(q.Rows[0])
	}
	text := d.m.questionLabel(i) + ": " + q.Text
	d.font("B", sizeBody)
	head := d.split(d.para(text), contentW)
	d.ensure(float64(len(head))*lineBody + 1 + d.tableStart(&t, first))
	d.paragraph(text, "B", sizeBody, lineBody, "L")
	d.f.SetY(d.f.GetY() + 1)

	mark := -1.0
	if m.Electorate > 0 && q.Needed > 0 {
		mark = math.Min(100, 100*float64(q.Needed)/float64(m.Electorate))
	}
	for j, r := range q.Rows {
		st := rowStyle{bold: r.Winner, bar: &bar{col: 3, pct: r.Percent, mark: mark, strong: r.Winner}, index: j}
		d.row(&t, cells(r), st)
	}
	d.f.SetY(d.f.GetY() + 1.5)
	needed := l.Needed + ": " + strconv.Itoa(q.Needed)
	if q.Threshold != "" {
		needed += " (" + q.Threshold + ")"
	}
	d.paragraph(needed, "", sizeBody, lineBody, "L")
	d.paragraph(l.Outcome+": "+q.Outcome, "B", sizeBody, lineBody, "L")
	d.gap(5)
}

// answerColumns lays out the answer columns in width w: one per question,
// or a single one when questions are many.
func (d *doc) answerColumns(w float64) (cols []column, header []string) {
	n := len(d.m.Questions)
	if n == 0 {
		return nil, nil
	}
	if n > maxAnswerColumns {
		return []column{{w: w, align: "L"}}, []string{d.m.Labels.Answers}
	}
	for i := range n {
		cols = append(cols, column{w: w / float64(n), align: "L"})
		header = append(header, d.m.questionLabel(i))
	}
	return cols, header
}

// answerCells are a row's answer cells, matching answerColumns.
func (d *doc) answerCells(answers []string) []string {
	if len(d.m.Questions) > maxAnswerColumns {
		parts := make([]string, len(answers))
		for i, a := range answers {
			parts[i] = strconv.Itoa(i+1) + ": " + a
		}
		return []string{strings.Join(parts, "; ")}
	}
	return answers
}

// receipts prints the secret ballot's receipt codes and answers.
func (d *doc) receipts() {
	l := d.m.Labels
	const numW = 12.0
	codes := []string{l.Code}
	for _, r := range d.m.Receipts {
		codes = append(codes, r.Code)
	}
	codeW := d.widest(codes, 24, 50)
	if len(d.m.Questions) == 0 {
		codeW = contentW - numW
	}
	cols, header := d.answerColumns(contentW - numW - codeW)
	t := table{
		cols:   append([]column{{w: numW, align: "R"}, {w: codeW, align: "L"}}, cols...),
		header: append([]string{"#", l.Code}, header...),
		zebra:  true,
	}
	cells := func(i int, r ReceiptRow) []string {
		return append([]string{strconv.Itoa(i + 1), r.Code}, d.answerCells(r.Answers)...)
	}
	var first []string
	if len(d.m.Receipts) > 0 {
		first = cells(0, d.m.Receipts[0])
	}
	d.font("", sizeTable)
	note := 0.0
	if l.ReceiptsNote != "" {
		note = float64(len(d.split(d.para(l.ReceiptsNote), contentW)))*lineTable + 2
	}
	d.heading(l.Receipts, note+d.tableStart(&t, first))
	if l.ReceiptsNote != "" {
		d.paragraph(l.ReceiptsNote, "", sizeTable, lineTable, "L")
		d.f.SetY(d.f.GetY() + 2)
	}
	d.headerRow(&t)
	for i, r := range d.m.Receipts {
		d.row(&t, cells(i, r), rowStyle{index: i})
	}
	d.gap(6)
}

// roll prints who voted what on an open ballot.
func (d *doc) roll() {
	l, m := d.m.Labels, d.m
	const numW = 12.0
	times := m.castTimes()
	atW := 0.0
	if times {
		at := []string{l.CastAt}
		for _, v := range m.Votes {
			at = append(at, m.time(v.At))
		}
		atW = d.widest(at, 20, 48)
	}
	voterW := 62.0
	if len(m.Questions) == 0 {
		voterW = contentW - numW - atW
	}
	cols, header := d.answerColumns(contentW - numW - voterW - atW)
	t := table{
		cols:   []column{{w: numW, align: "R"}, {w: voterW, align: "L"}},
		header: []string{"#", l.Voter},
		zebra:  true,
	}
	if times {
		t.cols = append(t.cols, column{w: atW, align: "L"})
		t.header = append(t.header, l.CastAt)
	}
	t.cols, t.header = append(t.cols, cols...), append(t.header, header...)
	cells := func(i int, v VoteRow) []string {
		c := []string{strconv.Itoa(i + 1), v.Voter}
		if times {
			c = append(c, m.time(v.At))
		}
		return append(c, d.answerCells(v.Answers)...)
	}
	var first []string
	if len(m.Votes) > 0 {
		first = cells(0, m.Votes[0])
	}
	d.heading(l.Roll, d.tableStart(&t, first))
	d.headerRow(&t)
	for i, v := range m.Votes {
		d.row(&t, cells(i, v), rowStyle{index: i})
	}
	d.gap(6)
}

// Signature blocks: three to a row, with room to sign of signRoom mm.
const (
	signersPerRow = 3
	signRoom      = 24.0
)

// notes prints the conclusion and the caller's closing paragraphs, on the
// page of the first row of signatures when they fit on one together: the
// signatures never stand alone on a page.
func (d *doc) notes() {
	h := 0.0
	if len(d.m.Conclusion) > 0 && d.m.Labels.Conclusion != "" {
		d.font("B", sizeHeading)
		h += float64(len(d.split(d.para(d.m.Labels.Conclusion), contentW)))*6 + 1.5
	}
	d.font("B", sizeBody)
	for _, c := range d.m.Conclusion {
		h += float64(len(d.split(d.para(c), contentW)))*lineBody + 1
	}
	if len(d.m.Conclusion) > 0 {
		h += 4
	}
	d.font("", sizeBody)
	for _, n := range d.m.Notes {
		h += float64(len(d.split(d.para(n), contentW)))*lineBody + 2
	}
	if len(d.m.Signers) > 0 {
		_, sh := d.signatureRow(d.m.Signers[:min(signersPerRow, len(d.m.Signers))])
		h += 4 + sh
	}
	if h <= bottom-marginT {
		d.ensure(h)
	}
	if len(d.m.Conclusion) > 0 {
		d.heading(d.m.Labels.Conclusion, 0)
		for _, c := range d.m.Conclusion {
			d.paragraph(c, "B", sizeBody, lineBody, "L")
			d.f.SetY(d.f.GetY() + 1)
		}
		d.gap(4)
	}
	for _, n := range d.m.Notes {
		d.paragraph(n, "", sizeBody, lineBody, "L")
		d.gap(2)
	}
}

// sigBlock is one signer's wrapped lines.
type sigBlock struct{ role, hint, name []string }

// signatureRow wraps a row of signers and measures its height.
func (d *doc) signatureRow(row []Signer) ([]sigBlock, float64) {
	w := d.signatureWidth()
	blocks := make([]sigBlock, len(row))
	h := 0.0
	for i, s := range row {
		d.font("B", sizeBody)
		b := sigBlock{role: d.split(d.txt(s.Role), w)}
		if s.Name != "" {
			b.name = d.split(d.txt(s.Name), w)
		}
		d.font("", sizeSmall)
		if d.m.Labels.SignHint != "" {
			b.hint = d.split(d.txt(d.m.Labels.SignHint), w)
		}
		blocks[i] = b
		bh := float64(len(b.role)+len(b.name))*lineBody + float64(len(b.hint))*lineSmall + signRoom
		h = math.Max(h, bh)
	}
	return blocks, h
}

// signatureWidth is the width of one signature block.
func (d *doc) signatureWidth() float64 {
	return contentW / float64(min(len(d.m.Signers), signersPerRow))
}

// signatures prints a block per signer, three to a row: role, hint,
// room to sign, name.
func (d *doc) signatures() {
	signers := d.m.Signers
	if len(signers) == 0 {
		return
	}
	d.gap(4)
	w := d.signatureWidth()
	cols := min(len(signers), signersPerRow)
	for start := 0; start < len(signers); start += signersPerRow {
		row := signers[start:min(start+signersPerRow, len(signers))]
		blocks, h := d.signatureRow(row)
		d.ensure(h)
		y0 := d.f.GetY()
		// A last, shorter row is centred under the full ones.
		x0 := marginL + float64(cols-len(row))*w/2
		for i, b := range blocks {
			x := x0 + float64(i)*w
			y := y0
			d.font("B", sizeBody)
			for _, line := range b.role {
				d.f.SetXY(x, y)
				d.f.CellFormat(w, lineBody, line, "", 0, "C", false, 0, "")
				y += lineBody
			}
			d.font("", sizeSmall)
			d.gray(grayText)
			for _, line := range b.hint {
				d.f.SetXY(x, y)
				d.f.CellFormat(w, lineSmall, line, "", 0, "C", false, 0, "")
				y += lineSmall
			}
			d.gray(0)
			y += signRoom
			d.font("B", sizeBody)
			for _, line := range b.name {
				d.f.SetXY(x, y)
				d.f.CellFormat(w, lineBody, line, "", 0, "C", false, 0, "")
				y += lineBody
			}
		}
		d.f.SetXY(marginL, y0+h)
		d.gap(10)
	}
}
