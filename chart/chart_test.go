package chart_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/plot/cmpimg"

	"github.com/committeebot/committeebot/chart"
	"github.com/committeebot/committeebot/chart/charttest"
)

var update = flag.Bool("update", false, "rewrite the golden images in testdata/")

// vi are the labels of a Vietnamese committee.
func vi(electorate, need int) chart.Labels {
	return chart.Labels{Turnout: "Đã bỏ phiếu", Quorum: fmt.Sprintf("Túc số: %d/%d phiếu để hợp lệ", need, electorate),
		Axis: fmt.Sprintf("Số phiếu, trên tổng số %d cử tri", electorate), Decimal: ","}
}

func election() chart.Chart {
	return chart.Chart{
		Title:      "📋 Kết quả: Bầu Khối trưởng năm 2026 (số 3)",
		Subtitle:   []string{"Kết thúc lúc 15:04 02/01/2026", "✅ Hợp lệ: 8/9 cử tri tham gia (cần ít nhất 6)"},
		Electorate: 9, Turnout: 8, QuorumNeed: 6, Labels: vi(9, 6),
		Questions: []chart.Question{{
			Text: "Bầu Khối trưởng", Needed: 5, NeededLabel: "Cần 5/9 phiếu để thông qua (quá nửa)", Outcome: "→ 🏅 trúng cử: TANDTC",
			Options: []chart.Option{
				{Label: "TANDTC — Tòa án nhân dân tối cao", Votes: 5, Winner: true},
				{Label: "VKSNDTC", Votes: 2}, {Label: "BTP", Votes: 1}, {Label: "Không ý kiến"},
			},
		}},
	}
}

func nominations() chart.Chart {
	c := chart.Chart{
		Title:      "Kết quả: Biểu quyết đề nghị Cờ thi đua của Chính phủ năm 2026 (số 7)",
		Subtitle:   []string{"Kết thúc lúc 09:30 15/11/2026"},
		Electorate: 12, Turnout: 11, QuorumNeed: 8, Labels: vi(12, 8),
	}
	for i, votes := range [][3]int{{9, 1, 1}, {5, 4, 2}, {8, 0, 3}} {
		q := chart.Question{
			Text:   fmt.Sprintf("%d. Hồ sơ đề nghị của đơn vị số %d vì thành tích xuất sắc dẫn đầu phong trào thi đua yêu nước năm 2026 của khối", i+1, i+1),
			Needed: 8, NeededLabel: "Cần 8/12 phiếu để thông qua (2/3)", Outcome: "→ ❌ không thông qua",
		}
		for j, label := range []string{"Đồng ý", "Không đồng ý", "Không ý kiến"} {
			q.Options = append(q.Options, chart.Option{Label: label, Votes: votes[j], Winner: j == 0 && votes[j] >= 8})
		}
		if votes[0] >= 8 {
			q.Outcome = "→ ✅ thông qua"
		}
		c.Questions = append(c.Questions, q)
	}
	return c
}

// voidMotion is an English committee's motion that missed its quorum.
func voidMotion() chart.Chart {
	return chart.Chart{
		Title: "Result: Adopt the 2027 emulation plan (no. 4)", Subtitle: []string{"⚠️ Not valid: only 3/10 electors took part (at least 7 needed)"},
		Electorate: 10, Turnout: 3, QuorumNeed: 7,
		Labels: chart.Labels{Turnout: "Voted", Quorum: "Quorum: 7 of 10 ballots for a valid vote", Axis: "Votes, out of all 10 electors"},
		Questions: []chart.Question{{
			Text: "Adopt the 2027 emulation plan", Needed: 6, NeededLabel: "Needs 6 of 10 votes to pass (more than half)", Outcome: "→ nothing decided",
			Options: []chart.Option{{Label: "Yes", Votes: 2}, {Label: "No", Votes: 1}, {Label: "Abstain"}},
		}},
	}
}

// withheld is a secret ballot with too few ballots: no counts.
func withheld() chart.Chart {
	return chart.Chart{
		Title: "Kết quả: Bầu Khối phó năm 2026 (số 5)", Electorate: 9, Turnout: 2, QuorumNeed: 6, Labels: vi(9, 6),
		Notes: []string{"🔒 Bỏ phiếu kín có dưới 3 phiếu, hoặc không hợp lệ: không công bố số phiếu từng phương án."},
	}
}

// charts are the charts the tests draw, by name.
var charts = map[string]func() chart.Chart{
	"election": election, "nominations": nominations, "void_motion": voidMotion, "withheld": withheld,
}

// drawings keeps each chart of charts drawn once per test process: drawing
// takes about a second of CPU under the race detector, and several tests
// look at the same picture.
var drawings sync.Map // name → *drawing

type drawing struct {
	once sync.Once
	png  []byte
	err  error
}

// drawn returns the PNG of charts[name], drawn by the first test that
// asks for it.
func drawn(t *testing.T, name string) []byte {
	t.Helper()
	v, _ := drawings.LoadOrStore(name, &drawing{})
	d := v.(*drawing)
	d.once.Do(func() { d.png, d.err = chart.PNG(charts[name]()) })
	if d.err != nil {
		t.Fatalf("%s: %v", name, d.err)
	}
	return d.png
}

// The charts look as reviewed: pixels within a small tolerance of the
// golden images (fonts rasterize a little differently across CPUs).
func TestChartsMatchTheirGoldenImages(t *testing.T) {
	t.Parallel()
	for name := range charts {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := drawn(t, name)
			golden := filepath.Join("testdata", name+".png")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./chart -update to write it)", err)
			}
			compare(t, got, want)
		})
	}
}

// compare fails unless got and want have the same size and at most one
// pixel in a thousand differs noticeably; it keeps the picture and a
// difference image among the test's artifacts.
func compare(t *testing.T, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return // the same file: the same pixels
	}
	g, w := decode(t, got), decode(t, want)
	if g.Bounds() != w.Bounds() {
		t.Fatalf("size %v, golden %v", g.Bounds().Size(), w.Bounds().Size())
	}
	const channelTolerance = 24
	differ := 0
	b := g.Bounds()
	gp, wp := charttest.RGBA(g).Pix, charttest.RGBA(w).Pix
	for i := 0; i+3 < len(gp); i += 4 {
		if !near(gp[i:i+3], wp[i:i+3], channelTolerance) {
			differ++
		}
	}
	if limit := b.Dx() * b.Dy() / 1000; differ > limit {
		dir := t.ArtifactDir()
		diff := image.NewRGBA(b)
		cmpimg.Diff(diff, g, w)
		write(t, filepath.Join(dir, "got.png"), g)
		write(t, filepath.Join(dir, "diff.png"), diff)
		t.Errorf("%d pixels differ from the golden image (at most %d); see %s", differ, limit, dir)
	}
}

// near reports whether two pixels' red, green and blue differ by at most
// tol each.
func near(a, b []uint8, tol int) bool {
	for i := range a {
		if d := int(a[i]) - int(b[i]); d > tol || d < -tol {
			return false
		}
	}
	return true
}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img
}

func write(t *testing.T, path string, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestTheSameChartGivesTheSameBytes(t *testing.T) {
	t.Parallel()
	// The smallest chart: what is deterministic for one is for all, and
	// drawing under the race detector is slow. One of the two drawings is
	// the golden test's.
	a := drawn(t, "election")
	b, err := chart.PNG(election())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two renderings of one chart differ")
	}
}

func TestWithheldCountsDrawNoOptionBars(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		bars bool
	}{{"withheld", false}, {"election", true}} {
		img := decode(t, drawn(t, tc.name))
		votes := charttest.OptionBars(img)
		if (votes > 0) != tc.bars {
			t.Errorf("%s: %d pixels of option bars", tc.name, votes)
		}
		if charttest.Pixels(img, chart.TurnoutColor) == 0 {
			t.Errorf("%s: no turnout bar", tc.name)
		}
	}
}

// The largest ballots the bot opens (20 nominations of three options, an
// election among 36) fit Telegram's limits for photos, with room: sides
// adding up to at most 10 000 pixels, at most 20 times longer than wide,
// well under 10 MB.
func TestTheLargestBallotsFitTelegramsPhotoLimits(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("draws the largest charts")
	}
	many := nominations()
	q := many.Questions[0]
	many.Questions = nil
	for range 20 {
		many.Questions = append(many.Questions, q)
	}
	candidates := election()
	candidates.Electorate, candidates.Labels = 36, vi(36, 24)
	candidates.Questions[0].Options = nil
	for i := range 36 {
		candidates.Questions[0].Options = append(candidates.Questions[0].Options, chart.Option{Label: fmt.Sprintf("ĐƠN VỊ %02d", i), Votes: i % 5})
	}
	for name, c := range map[string]chart.Chart{"20 nominations": many, "36 candidates": candidates} {
		got, err := chart.PNG(c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(got))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Width != chart.Width || cfg.Width+cfg.Height > 10000 || cfg.Height > 20*cfg.Width || cfg.Height > chart.MaxHeight {
			t.Errorf("%s: %d×%d pixels", name, cfg.Width, cfg.Height)
		}
		if len(got) > 400<<10 {
			t.Errorf("%s: %d bytes", name, len(got))
		}
	}
}

func TestImpossibleChartsAreRefused(t *testing.T) {
	t.Parallel()
	huge := election()
	for i := range 400 {
		huge.Questions[0].Options = append(huge.Questions[0].Options, chart.Option{Label: fmt.Sprint(i)})
	}
	negative := election()
	negative.Questions[0].Options[1].Votes = -1
	for _, tc := range []struct {
		c    chart.Chart
		want error
	}{{huge, chart.ErrTooLarge}, {negative, chart.ErrInput}} {
		if _, err := chart.PNG(tc.c); !errors.Is(err, tc.want) {
			t.Errorf("err = %v, want %v", err, tc.want)
		}
	}
}

// Vietnamese typed with combining marks draws as the composed letters,
// and emoji the font lacks are left out rather than drawn as boxes.
func TestTextIsDrawnComposedWithoutMissingGlyphs(t *testing.T) {
	t.Parallel()
	composed := withheld()
	decomposed := withheld()
	decomposed.Title = "Ke\u0302\u0301t qua\u0309: Ba\u0302\u0300u Kho\u0302\u0301i pho\u0301 na\u0306m 2026 (so\u0302\u0301 5) 🗳️"
	if decomposed.Title == composed.Title || !strings.HasPrefix(composed.Title, "Kết quả") {
		t.Fatal("the test's texts are wrong")
	}
	a := drawn(t, "withheld") // composed
	b, err := chart.PNG(decomposed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("decomposed marks or an emoji changed the picture")
	}
}
