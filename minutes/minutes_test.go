package minutes_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/committeebot/committeebot/minutes"
)

// ict is Vietnam's time zone, fixed so tests need no tz database.
var ict = time.FixedZone("ICT", 7*3600)

// viLabels are Vietnamese labels as the handlers would pass them.
func viLabels() minutes.Labels {
	return minutes.Labels{
		Title:        "BIÊN BẢN KIỂM PHIẾU",
		Committee:    "Khối thi đua",
		Ballot:       "Nội dung bỏ phiếu",
		Kind:         "Loại",
		Mode:         "Hình thức",
		Place:        "Địa điểm",
		Opened:       "Bắt đầu",
		Closed:       "Kết thúc",
		Electorate:   "Tổng số thành viên",
		Turnout:      "Số thành viên đã bỏ phiếu",
		Absent:       "Số thành viên không bỏ phiếu",
		QuorumNeed:   "Số phiếu tối thiểu để hợp lệ",
		Validity:     "Tính hợp lệ",
		Secret:       "Bỏ phiếu kín",
		Open:         "Biểu quyết công khai",
		Valid:        "Hợp lệ (đủ số thành viên tham gia)",
		Invalid:      "Không hợp lệ (không đủ số thành viên tham gia)",
		Results:      "KẾT QUẢ KIỂM PHIẾU",
		Question:     "Câu hỏi",
		Option:       "Phương án",
		Votes:        "Số phiếu",
		Share:        "Tỷ lệ / tổng số",
		Needed:       "Số phiếu cần đạt",
		Threshold:    "Ngưỡng",
		Outcome:      "Kết quả",
		Receipts:     "DANH SÁCH PHIẾU THEO MÃ BIÊN NHẬN",
		ReceiptsNote: "Mỗi người bỏ phiếu nhận riêng một mã biên nhận: tra mã của mình trong danh sách để biết lá phiếu đã được tính đúng, mà không ai biết phiếu nào của ai.",
		Code:         "Mã biên nhận",
		Roll:         "DANH SÁCH BIỂU QUYẾT",
		Voter:        "Người biểu quyết",
		CastAt:       "Thời điểm",
		Answers:      "Lựa chọn",
		SignHint:     "(Ký, ghi rõ họ tên)",
		Generated:    "Lập lúc",
		Chair:        "Chủ tọa",
		Secretary:    "Thư ký",
		Counters:     "Ban kiểm phiếu",
		Opinions:     "Ý kiến bằng văn bản",
		NoOpinions:   "Không có",
		Issued:       "Số phiếu phát ra",
		Returned:     "Số phiếu thu vào",
		GoodPapers:   "Số phiếu hợp lệ",
		BadPapers:    "Số phiếu không hợp lệ",
		Conclusion:   "KẾT LUẬN",
		Page:         "Trang",
		TimeLayout:   "15:04 ngày 02/01/2006",
		Decimal:      ",",
	}
}

// units are the member units of the demo bloc.
var units = []string{
	"Bộ Quốc phòng (BQP)", "Bộ Công an (BCA)", "Bộ Tư pháp (BTP)",
	"Viện kiểm sát nhân dân tối cao (VKSNDTC)", "Tòa án nhân dân tối cao (TANDTC)",
	"Kiểm toán nhà nước (KTNN)", "Thanh tra Chính phủ (TTCP)",
	"Ban Quản lý Lăng Chủ tịch Hồ Chí Minh (BQLLANG)",
}

// election is a small secret election of the bloc's head.
func election() minutes.Minutes {
	votes := []int{0, 0, 0, 1, 5, 1, 0, 0}
	var rows []minutes.Row
	for i, u := range units {
		rows = append(rows, minutes.Row{Option: u, Votes: votes[i], Percent: 100 * float64(votes[i]) / 8, Winner: i == 4})
	}
	opened := time.Date(2025, 1, 20, 2, 0, 0, 0, time.UTC)
	return minutes.Minutes{
		Labels:     viLabels(),
		Committee:  "Khối thi đua các cơ quan Nội chính Trung ương",
		Ballot:     "Bầu đơn vị Trưởng khối năm 2025",
		Kind:       "Bầu cử",
		Place:      "Trực tuyến qua Telegram",
		Secret:     true,
		Opened:     opened,
		Closed:     opened.Add(30 * time.Minute),
		Location:   ict,
		Electorate: 8,
		Turnout:    7,
		QuorumNeed: 6,
		Valid:      true,
		Chair:      "Nguyễn Văn An",
		Counters:   []string{"Lê Hoàng Cường", "Phạm Minh Đức"},
		Issued:     8,
		Returned:   7,
		GoodPapers: 7,
		Conclusion: []string{"✅ Tòa án nhân dân tối cao (TANDTC) trúng cử đơn vị Trưởng khối năm 2025."},
		Questions: []minutes.Question{{
			Text:      "Bầu đơn vị Trưởng khối năm 2025",
			Rows:      rows,
			Needed:    5,
			Threshold: "quá 1/2 tổng số thành viên",
			Outcome:   "Trúng cử: Tòa án nhân dân tối cao (TANDTC)",
		}},
		Receipts: []minutes.ReceiptRow{
			{Code: "3KF7-Q2", Answers: []string{"Tòa án nhân dân tối cao (TANDTC)"}},
			{Code: "7MX2-A9", Answers: []string{"Kiểm toán nhà nước (KTNN)"}},
			{Code: "9PD4-C1", Answers: []string{"Tòa án nhân dân tối cao (TANDTC)"}},
			{Code: "B2W8-N5", Answers: []string{"Viện kiểm sát nhân dân tối cao (VKSNDTC)"}},
			{Code: "H6T3-R8", Answers: []string{"Tòa án nhân dân tối cao (TANDTC)"}},
			{Code: "M4Z9-E3", Answers: []string{"Tòa án nhân dân tối cao (TANDTC)"}},
			{Code: "X8J5-K6", Answers: []string{"Tòa án nhân dân tối cao (TANDTC)"}},
		},
		Notes: []string{"Biên bản được lập từ kết quả bỏ phiếu trực tuyến, là bản dự thảo để các thành viên ký xác nhận."},
		Signers: []minutes.Signer{
			{Role: "Chủ tọa", Name: "Nguyễn Văn An"},
			{Role: "Thư ký", Name: "Trần Thị Bình"},
			{Role: "Trưởng ban kiểm phiếu", Name: "Lê Hoàng Cường"},
			{Role: "Thành viên ban kiểm phiếu"},
			{Role: "Thành viên ban kiểm phiếu"},
		},
		Generated: opened.Add(31 * time.Minute),
	}
}

// nominations is a secret approval vote of n delegates on three
// nominations, with n receipts.
func nominations(n int) minutes.Minutes {
	m := election()
	m.Ballot = "Biểu quyết đề nghị khen thưởng năm 2024"
	m.Kind = "Biểu quyết khen thưởng"
	m.Electorate, m.Turnout, m.QuorumNeed = n+40, n, (2*(n+40)+2)/3
	m.Valid = m.Turnout >= m.QuorumNeed
	answers := []string{"Tán thành", "Không tán thành", "Không ý kiến"}
	m.Questions = nil
	for _, u := range []string{"Bộ Tư pháp", "Thanh tra Chính phủ", "Kiểm toán nhà nước"} {
		q := minutes.Question{
			Text:      "Đề nghị tặng Cờ thi đua của Chính phủ cho " + u,
			Needed:    (2*m.Electorate + 2) / 3,
			Threshold: "2/3 tổng số thành viên",
			Outcome:   "Được đề nghị",
		}
		for i, a := range answers {
			v := []int{n * 8 / 10, n / 10, n - n*8/10 - n/10}[i]
			q.Rows = append(q.Rows, minutes.Row{Option: a, Votes: v, Percent: 100 * float64(v) / float64(m.Electorate), Winner: i == 0})
		}
		m.Questions = append(m.Questions, q)
	}
	m.Receipts = nil
	for i := range n {
		code := fmt.Sprintf("%04X-%02X", (i*7919+17)%65536, (i*31)%256)
		m.Receipts = append(m.Receipts, minutes.ReceiptRow{Code: code, Answers: []string{answers[i%3], answers[(i+1)%3], answers[0]}})
	}
	return m
}

// motion is an open vote of the bloc's units, with the roll.
func motion() minutes.Minutes {
	m := election()
	m.Secret = false
	m.Ballot = "Thông qua Quy chế hoạt động của Khối"
	m.Kind = "Biểu quyết"
	m.Receipts = nil
	m.Questions = []minutes.Question{
		{Text: "Thông qua Quy chế hoạt động của Khối", Needed: 5, Outcome: "Thông qua", Rows: []minutes.Row{
			{Option: "Đồng ý", Votes: 6, Percent: 75, Winner: true}, {Option: "Không đồng ý", Votes: 1, Percent: 12.5}, {Option: "Không ý kiến", Percent: 0},
		}},
		{Text: "Thông qua chương trình công tác năm 2025", Needed: 5, Outcome: "Thông qua", Rows: []minutes.Row{
			{Option: "Đồng ý", Votes: 7, Percent: 87.5, Winner: true}, {Option: "Không đồng ý"}, {Option: "Không ý kiến"},
		}},
	}
	for i, u := range units[:7] {
		a := "Đồng ý"
		if i == 2 {
			a = "Không đồng ý"
		}
		m.Votes = append(m.Votes, minutes.VoteRow{Voter: u, At: m.Opened.Add(time.Duration(i+1) * time.Minute), Answers: []string{a, "Đồng ý"}})
	}
	return m
}

// readCSV parses out as the spreadsheet would, after its byte order mark.
func readCSV(t *testing.T, out []byte) [][]string {
	t.Helper()
	body, ok := bytes.CutPrefix(out, []byte("\uFEFF"))
	if !ok {
		t.Fatalf("CSV does not start with a UTF-8 byte order mark: %q", out[:min(len(out), 8)])
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v", err)
	}
	return recs
}

func TestCSVSecretElectionReadsBackFieldByField(t *testing.T) {
	out, err := minutes.CSV(election())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("\r\n")) {
		t.Error("CSV lines do not end with CRLF")
	}
	want := [][]string{
		{"BIÊN BẢN KIỂM PHIẾU"},
		{"Khối thi đua", "Khối thi đua các cơ quan Nội chính Trung ương"},
		{"Nội dung bỏ phiếu", "Bầu đơn vị Trưởng khối năm 2025"},
		{"Loại", "Bầu cử"},
		{"Hình thức", "Bỏ phiếu kín"},
		{"Địa điểm", "Trực tuyến qua Telegram"},
		{"Bắt đầu", "09:00 ngày 20/01/2025"},
		{"Kết thúc", "09:30 ngày 20/01/2025"},
		{"Chủ tọa", "Nguyễn Văn An"},
		{"Thư ký", "………………………………………"},
		{"Ban kiểm phiếu", "Lê Hoàng Cường, Phạm Minh Đức"},
		{"Tổng số thành viên", "8"},
		{"Số thành viên đã bỏ phiếu", "7"},
		{"Số thành viên không bỏ phiếu", "1"},
		{"Ý kiến bằng văn bản", "Không có"},
		{"Số phiếu tối thiểu để hợp lệ", "6"},
		{"Tính hợp lệ", "Hợp lệ (đủ số thành viên tham gia)"},
		{"Số phiếu phát ra", "8"},
		{"Số phiếu thu vào", "7"},
		{"Số phiếu hợp lệ", "7"},
		{"Số phiếu không hợp lệ", "0"},
		{"Lập lúc", "09:31 ngày 20/01/2025"},
		{"KẾT QUẢ KIỂM PHIẾU"},
		{"#", "Câu hỏi", "Phương án", "Số phiếu", "Tỷ lệ / tổng số", "Số phiếu cần đạt", "Ngưỡng", "Kết quả"},
	}
	votes := []string{"0", "0", "0", "1", "5", "1", "0", "0"}
	pcts := []string{"0.00", "0.00", "0.00", "12.50", "62.50", "12.50", "0.00", "0.00"}
	for i, u := range units {
		want = append(want, []string{"1", "Bầu đơn vị Trưởng khối năm 2025", u, votes[i], pcts[i], "5",
			"quá 1/2 tổng số thành viên", "Trúng cử: Tòa án nhân dân tối cao (TANDTC)"})
	}
	want = append(want,
		[]string{"DANH SÁCH PHIẾU THEO MÃ BIÊN NHẬN"},
		[]string{"#", "Mã biên nhận", "Câu hỏi 1"},
	)
	for i, r := range election().Receipts {
		want = append(want, []string{strconv.Itoa(i + 1), r.Code, r.Answers[0]})
	}
	want = append(want, []string{"KẾT LUẬN"}, []string{"✅ Tòa án nhân dân tối cao (TANDTC) trúng cử đơn vị Trưởng khối năm 2025."})
	if diff := cmp.Diff(want, readCSV(t, out)); diff != "" {
		t.Errorf("CSV records (-want +got):\n%s", diff)
	}
}

func TestCSVOpenBallotListsRollWithTimes(t *testing.T) {
	out, err := minutes.CSV(motion())
	if err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, out)
	at := -1
	for i, r := range recs {
		if len(r) == 1 && r[0] == "DANH SÁCH BIỂU QUYẾT" {
			at = i
		}
	}
	if at < 0 {
		t.Fatalf("no roll heading in %q", recs)
	}
	want := [][]string{
		{"#", "Người biểu quyết", "Thời điểm", "Câu hỏi 1", "Câu hỏi 2"},
		{"1", "Bộ Quốc phòng (BQP)", "09:01 ngày 20/01/2025", "Đồng ý", "Đồng ý"},
		{"2", "Bộ Công an (BCA)", "09:02 ngày 20/01/2025", "Đồng ý", "Đồng ý"},
		{"3", "Bộ Tư pháp (BTP)", "09:03 ngày 20/01/2025", "Không đồng ý", "Đồng ý"},
		{"4", "Viện kiểm sát nhân dân tối cao (VKSNDTC)", "09:04 ngày 20/01/2025", "Đồng ý", "Đồng ý"},
		{"5", "Tòa án nhân dân tối cao (TANDTC)", "09:05 ngày 20/01/2025", "Đồng ý", "Đồng ý"},
		{"6", "Kiểm toán nhà nước (KTNN)", "09:06 ngày 20/01/2025", "Đồng ý", "Đồng ý"},
		{"7", "Thanh tra Chính phủ (TTCP)", "09:07 ngày 20/01/2025", "Đồng ý", "Đồng ý"},
	}
	if diff := cmp.Diff(want, recs[at+1:min(at+1+len(want), len(recs))]); diff != "" {
		t.Errorf("roll records (-want +got):\n%s", diff)
	}
	if got := recs[4]; !cmp.Equal(got, []string{"Hình thức", "Biểu quyết công khai"}) {
		t.Errorf("mode record = %q", got)
	}
}

func TestCSVCleansTextAndDefusesFormulas(t *testing.T) {
	m := election()
	m.Committee = "=HYPERLINK(\"http://x\")"
	m.Ballot = "Bầu\tTrưởng khối, \"2025\"\r\nlần 2"
	m.Receipts[0].Code = "-3KF7"
	// Decomposed marks (as some keyboards type them) are composed.
	m.Kind = "Ba\u0302\u0300u cu\u031b\u0309"
	out, err := minutes.CSV(m)
	if err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, out)
	tests := []struct {
		name string
		rec  int
		want []string
	}{
		{"formula", 1, []string{"Khối thi đua", "'=HYPERLINK(\"http://x\")"}},
		{"tab, comma, quotes and line break", 2, []string{"Nội dung bỏ phiếu", "Bầu Trưởng khối, \"2025\"\nlần 2"}},
		{"composed", 3, []string{"Loại", "Bầu cử"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, recs[tt.rec]); diff != "" {
				t.Errorf("record %d (-want +got):\n%s", tt.rec, diff)
			}
		})
	}
	if got := recs[len(recs)-9][1]; got != "'-3KF7" {
		t.Errorf("receipt code = %q, want '-3KF7", got)
	}
}

func TestRejectsMinutesThatCannotBeRendered(t *testing.T) {
	short := election()
	short.Receipts[2].Answers = nil
	leak := election()
	leak.Votes = motion().Votes
	badVote := motion()
	badVote.Votes[0].Answers = []string{"Đồng ý"}
	tests := []struct {
		name string
		m    minutes.Minutes
		want error
	}{
		{"receipt without answers", short, minutes.ErrAnswers},
		{"vote missing an answer", badVote, minutes.ErrAnswers},
		{"secret ballot with a roll", leak, minutes.ErrSecretRoll},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := minutes.CSV(tt.m); !errors.Is(err, tt.want) {
				t.Errorf("CSV error = %v, want %v", err, tt.want)
			}
			if _, err := minutes.PDF(tt.m); !errors.Is(err, tt.want) {
				t.Errorf("PDF error = %v, want %v", err, tt.want)
			}
		})
	}
}

// shared are the minutes several tests render, by name.
var shared = map[string]func() minutes.Minutes{
	"secret election": election,
	"500 receipts":    func() minutes.Minutes { return nominations(500) },
}

// renderings keeps each of shared rendered once per test process:
// rendering 500 receipts takes seconds of CPU under the race detector,
// and four tests read the same PDF.
var renderings sync.Map // name → *rendering

type rendering struct {
	once sync.Once
	pdf  []byte
}

// rendered returns the PDF of shared[name], rendered (and checked) by
// the first test that asks for it.
func rendered(t *testing.T, name string) []byte {
	t.Helper()
	v, _ := renderings.LoadOrStore(name, &rendering{})
	r := v.(*rendering)
	r.once.Do(func() { r.pdf = renderPDF(t, shared[name]()) })
	if r.pdf == nil {
		t.Fatalf("%s: not rendered (see the first test that rendered it)", name)
	}
	return r.pdf
}

// pageObjects matches a page object (not the /Pages tree).
var pageObjects = regexp.MustCompile(`/Type /Page\b[^s]`)

// renderPDF renders m and checks it is a PDF.
func renderPDF(t *testing.T, m minutes.Minutes) []byte {
	t.Helper()
	out, err := minutes.PDF(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte("%PDF-")) {
		t.Fatalf("output starts with %q, not %%PDF-", out[:min(len(out), 8)])
	}
	return out
}

func TestPDFOf500ReceiptsHasItsPages(t *testing.T) {
	t.Parallel()
	out := rendered(t, "500 receipts")
	// A page of facts and results with the first 3 receipts, 42 receipts
	// a page (rows of 6 mm under a repeated header) for 11 pages, the
	// last 35, then the note kept with the signatures on the last page.
	const want = 14
	if got := len(pageObjects.FindAll(out, -1)); got != want {
		t.Errorf("pages = %d, want %d", got, want)
	}
	if !bytes.Contains(out, []byte("/Count 14")) {
		t.Error("page tree does not count 14 pages")
	}
}

func TestPDFIsDeterministic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    func() minutes.Minutes
	}{
		{"secret election", election},
		{"open motion", motion},
		{"500 receipts", func() minutes.Minutes { return nominations(500) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One of the two renderings is the other tests', if shared.
			var a []byte
			if _, ok := shared[tt.name]; ok {
				a = rendered(t, tt.name)
			} else {
				a = renderPDF(t, tt.m())
			}
			b := renderPDF(t, tt.m())
			if !bytes.Equal(a, b) {
				t.Error("two renderings of the same minutes differ")
			}
			if !bytes.Contains(a, []byte("D:20250120023100")) {
				t.Error("creation date is not the generation time")
			}
		})
	}
}

// pdftotext runs poppler's pdftotext on pdf with args, or skips the test
// where it is not installed.
func pdftotext(t *testing.T, pdf []byte, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext not installed (apt-get install poppler-utils)")
	}
	in := filepath.Join(t.TempDir(), "minutes.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, append(args, in, "-")...).Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

func TestPDFTextIsVietnamese(t *testing.T) {
	text := pdftotext(t, rendered(t, "secret election"))
	for _, want := range []string{
		"BIÊN BẢN KIỂM PHIẾU",
		"Khối thi đua các cơ quan Nội chính Trung ương",
		"Ban Quản lý Lăng Chủ tịch Hồ Chí Minh",
		"Trúng cử: Tòa án nhân dân tối cao (TANDTC)",
		"62,50%",
		"09:30 ngày 20/01/2025",
		"X8J5-K6",
		"Trưởng ban kiểm phiếu",
		"(Ký, ghi rõ họ tên)",
		"Lê Hoàng Cường",
		"Trang 1/2",
		"Trang 2/2",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
}

func TestPDFReplacesRunesTheFontsLack(t *testing.T) {
	m := election()
	m.Committee = "Khối 中 🎉 thi đua"
	m.Questions[0].Outcome = "✅ Thông qua · ❌ không · ⚠️ chú ý · ⚖️ hoà"
	text := pdftotext(t, renderPDF(t, m))
	for _, want := range []string{"Khối \uFFFD thi đua", "✓ Thông qua · ✗ không ·", "chú ý · ⚖ hoà"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
}

// Marks of chat texts print as the fonts' marks: no rune is missing.
func TestPDFHasNoMissingGlyphs(t *testing.T) {
	text := pdftotext(t, rendered(t, "secret election"))
	if strings.ContainsRune(text, '\uFFFD') {
		t.Errorf("PDF text has a missing glyph:\n%s", text)
	}
	for _, want := range []string{"KẾT LUẬN", "✓ Tòa án nhân dân tối cao (TANDTC) trúng cử", "Ban kiểm phiếu", "Lê Hoàng Cường, Phạm Minh Đức", "Số phiếu phát ra"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
}

func TestPDFNumbersEveryPageAndEndsWithTheLastReceipt(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("renders and reads back 500 receipts")
	}
	m := nominations(500)
	pages := strings.Split(pdftotext(t, rendered(t, "500 receipts")), "\f")
	pages = pages[:len(pages)-1] // text after the last form feed
	if len(pages) != 14 {
		t.Fatalf("pdftotext pages = %d, want 14", len(pages))
	}
	for i, p := range pages {
		if want := fmt.Sprintf("Trang %d/14", i+1); !strings.Contains(p, want) {
			t.Errorf("page %d lacks %q", i+1, want)
		}
		if i > 0 && !strings.Contains(p, "Mã biên nhận") && !strings.Contains(p, "Chủ tọa") {
			t.Errorf("page %d repeats no table header", i+1)
		}
	}
	if last := m.Receipts[499].Code; !strings.Contains(pages[12], last) {
		t.Errorf("last page lacks the last receipt %q", last)
	}
}

// word is a word's box as pdftotext -bbox reports it, in points.
type word struct {
	page                   int
	text                   string
	xMin, yMin, xMax, yMax float64
}

// words lists every word's box in pdf.
func words(t *testing.T, pdf []byte) []word {
	t.Helper()
	html := pdftotext(t, pdf, "-bbox")
	var ws []word
	page := 0
	// What FindAllStringSubmatch of `<page |<word …` would find, tried
	// only at each "<" and on the rest of its line (pdftotext writes an
	// element a line, and a word holds no white space): the regexp
	// machine stepping over the 500 receipts' half megabyte, or matching
	// at each word against all the rest of it, takes most of a second
	// under the race detector.
	for i := strings.IndexByte(html, '<'); i >= 0; {
		rest := html[i:]
		if end := strings.IndexByte(rest, '\n'); end >= 0 {
			rest = rest[:end]
		}
		next := i + 1
		if strings.HasPrefix(rest, "<page ") {
			page++
			next = i + len("<page ")
		} else if m := wordElement.FindStringSubmatch(rest); m != nil {
			next = i + len(m[0])
			w := word{page: page, text: m[5]}
			for k, p := range []*float64{&w.xMin, &w.yMin, &w.xMax, &w.yMax} {
				v, err := strconv.ParseFloat(m[k+1], 64)
				if err != nil {
					t.Fatal(err)
				}
				*p = v
			}
			ws = append(ws, w)
		}
		j := strings.IndexByte(html[next:], '<')
		if j < 0 {
			break
		}
		i = next + j
	}
	return ws
}

// wordElement is a word's box in pdftotext -bbox's output, at the start
// of the text.
var wordElement = regexp.MustCompile(`^<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)

func TestPDFKeepsEveryWordInsideTheMargins(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("renders and reads back 500 receipts")
	}
	long := election()
	long.Committee = strings.Repeat("Khối thi đua các cơ quan Nội chính Trung ương ", 6)
	long.Questions[0].Text = strings.Repeat("Bầu đơn vị Trưởng khối năm 2025 theo quy chế hoạt động của Khối. ", 80)
	long.Questions[0].Rows[0].Option = strings.Repeat("Ủy ban nhân dân thành phố Hồ Chí Minh ", 5)
	long.Questions[0].Rows[1].Option = "Mộttừrấtdàikhôngcókhoảngtrắngnàocảđểxuốngdòngđâuđâuđâuđâuđâuđâuđâuđâuđâuđâuđâu"
	long.Questions[0].Outcome = strings.Repeat("Không đơn vị nào đạt số phiếu cần thiết; tổ chức bỏ phiếu vòng hai. ", 4)
	long.Receipts[3].Answers[0] = strings.Repeat("Viện kiểm sát nhân dân tối cao ", 4)
	long.Signers[0].Name = "Nguyễn Thị Phương Thảo Hoàng Ngọc Bảo Châu"
	openLong := motion()
	openLong.Votes[0].Voter = strings.Repeat("Ban Quản lý Lăng Chủ tịch Hồ Chí Minh ", 20)
	many := nominations(60)
	for i := range 3 {
		q := many.Questions[i]
		q.Text += " (bổ sung)"
		many.Questions = append(many.Questions, q)
	}
	for i := range many.Receipts {
		many.Receipts[i].Answers = append(many.Receipts[i].Answers, many.Receipts[i].Answers...)
	}
	// Runes the fonts lack print as U+FFFD, as wide as it is drawn.
	foreign := election()
	foreign.Committee = strings.Repeat("中文委员会 🎉", 30)
	foreign.Receipts[0].Answers[0] = strings.Repeat("中文", 40)
	tests := []struct {
		name string
		m    minutes.Minutes
	}{
		{"long texts", long},
		{"runes the fonts lack", foreign},
		{"open ballot with a voter name longer than a page", openLong},
		{"six questions in one answers column", many},
		{"500 receipts", minutes.Minutes{}}, // shared with the other tests
	}
	const mm = 72 / 25.4
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pdf []byte
			if _, ok := shared[tt.name]; ok {
				pdf = rendered(t, tt.name)
			} else {
				pdf = renderPDF(t, tt.m)
			}
			ws := words(t, pdf)
			if len(ws) == 0 {
				t.Fatal("no words found")
			}
			for _, w := range ws {
				inFooter := w.yMin > 280*mm
				switch {
				case w.xMin < 18*mm-0.5 || w.xMax > (210-18)*mm+0.5:
					t.Errorf("page %d: %q from x %.1f to %.1f mm is outside the side margins", w.page, w.text, w.xMin/mm, w.xMax/mm)
				case w.yMin < 8*mm:
					t.Errorf("page %d: %q at y %.1f mm is above the top margin", w.page, w.text, w.yMin/mm)
				case !inFooter && w.yMax > 279*mm+0.5:
					t.Errorf("page %d: %q reaches y %.1f mm, into the footer", w.page, w.text, w.yMax/mm)
				case inFooter && w.yMax > 292*mm:
					t.Errorf("page %d: footer word %q reaches y %.1f mm", w.page, w.text, w.yMax/mm)
				}
			}
		})
	}
}

// ExampleCSV shows the records of the minutes of an open vote.
func ExampleCSV() {
	opened := time.Date(2025, 1, 20, 2, 0, 0, 0, time.UTC)
	m := minutes.Minutes{
		Labels: minutes.Labels{
			Title: "MINUTES OF THE VOTE COUNT", Committee: "Committee", Ballot: "Ballot", Kind: "Kind",
			Mode: "Mode", Open: "open vote", Opened: "Opened", Closed: "Closed",
			Electorate: "Members", Turnout: "Voted", Absent: "Did not vote", QuorumNeed: "Quorum",
			Validity: "Validity", Valid: "valid", Results: "RESULTS", Question: "Question",
			Option: "Option", Votes: "Votes", Share: "% of members", Needed: "Needed",
			Threshold: "Threshold", Outcome: "Outcome", Roll: "ROLL", Voter: "Voter", Generated: "Made",
		},
		Committee: "Bloc", Ballot: "Adopt the rules", Kind: "Motion",
		Opened: opened, Closed: opened.Add(time.Hour),
		Electorate: 3, Turnout: 2, QuorumNeed: 2, Valid: true,
		Questions: []minutes.Question{{
			Text: "Adopt the rules?", Needed: 2, Threshold: "2/3", Outcome: "adopted",
			Rows: []minutes.Row{{Option: "yes", Votes: 2, Percent: 200.0 / 3}, {Option: "no"}},
		}},
		Votes: []minutes.VoteRow{{Voter: "BTP", Answers: []string{"yes"}}, {Voter: "KTNN", Answers: []string{"yes"}}},
	}
	out, err := minutes.CSV(m)
	if err != nil {
		panic(err)
	}
	out = bytes.TrimPrefix(out, []byte("\uFEFF"))
	fmt.Print(strings.ReplaceAll(string(out), "\r\n", "\n"))
	// Output:
	// MINUTES OF THE VOTE COUNT
	// Committee,Bloc
	// Ballot,Adopt the rules
	// Kind,Motion
	// Mode,open vote
	// Opened,2025-01-20 02:00 UTC
	// Closed,2025-01-20 03:00 UTC
	// Members,3
	// Voted,2
	// Did not vote,1
	// Quorum,2
	// Validity,valid
	// Made,2025-01-20 03:00 UTC
	//
	// RESULTS
	// #,Question,Option,Votes,% of members,Needed,Threshold,Outcome
	// 1,Adopt the rules?,yes,2,66.67,2,2/3,adopted
	// 1,Adopt the rules?,no,0,0.00,2,2/3,adopted
	//
	// ROLL
	// #,Voter,Question 1
	// 1,BTP,yes
	// 2,KTNN,yes
}
