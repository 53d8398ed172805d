// Package minutes renders the minutes of a vote count (biên bản kiểm
// phiếu) of a closed ballot, as an A4 PDF to print and sign and as CSV to
// open in a spreadsheet.
//
// The package does no localization: the caller passes every text already
// in the reader's language, fixed texts in Labels and the ballot's facts in
// Minutes, so the same code serves every language. It embeds the DejaVu
// Sans fonts, which cover Vietnamese.
//
// Output is deterministic: the same Minutes give the same bytes, so the
// documents can be compared in tests and their hashes recorded.
package minutes

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Input errors, returned by PDF and CSV.
var (
	// ErrAnswers: a receipt or a vote has not one answer per question.
	ErrAnswers = errors.New("minutes: each receipt and vote needs one answer per question")
	// ErrSecretRoll: a secret ballot's minutes were given who voted what,
	// which they must never show.
	ErrSecretRoll = errors.New("minutes: a secret ballot cannot list votes by voter")
)

// DefaultTimeLayout formats times when Labels.TimeLayout is empty.
const DefaultTimeLayout = "2006-01-02 15:04 MST"

// Labels are the fixed texts of the minutes, already localized. An empty
// label prints as nothing, so every label the document uses should be set.
type Labels struct {
	Title string // document title, e.g. "BIÊN BẢN KIỂM PHIẾU"

	// Names of the facts listed under the title.
	Committee  string // e.g. "Khối thi đua"
	Ballot     string // e.g. "Nội dung bỏ phiếu"
	Kind       string // e.g. "Loại"
	Mode       string // e.g. "Hình thức"
	Place      string // e.g. "Địa điểm"
	Opened     string // e.g. "Bắt đầu"
	Closed     string // e.g. "Kết thúc"
	Electorate string // e.g. "Tổng số thành viên"
	Turnout    string // e.g. "Số đã bỏ phiếu"
	Absent     string // e.g. "Số không bỏ phiếu"
	QuorumNeed string // e.g. "Số phiếu tối thiểu để cuộc bỏ phiếu hợp lệ"
	Validity   string // e.g. "Tính hợp lệ"
	Chair      string // e.g. "Chủ tọa"
	Secretary  string // e.g. "Thư ký"
	Counters   string // e.g. "Ban kiểm phiếu"
	Opinions   string // e.g. "Ý kiến bằng văn bản của thành viên vắng mặt"
	NoOpinions string // value of Opinions when there are none, e.g. "Không có"
	Issued     string // e.g. "Số phiếu phát ra"
	Returned   string // e.g. "Số phiếu thu vào"
	GoodPapers string // e.g. "Số phiếu hợp lệ"
	BadPapers  string // e.g. "Số phiếu không hợp lệ"

	// Values of Mode and Validity.
	Secret  string // e.g. "Bỏ phiếu kín"
	Open    string // e.g. "Biểu quyết công khai"
	Valid   string // e.g. "Hợp lệ (đủ số thành viên tham gia)"
	Invalid string // e.g. "Không hợp lệ (không đủ số thành viên tham gia)"

	// The results.
	Results   string // heading of the results, e.g. "KẾT QUẢ"
	Question  string // word before a question's number, e.g. "Câu hỏi" → "Câu hỏi 1"
	Option    string // column header, e.g. "Phương án"
	Votes     string // column header, e.g. "Số phiếu"
	Share     string // column header of the percentage of the electorate, e.g. "Tỷ lệ / tổng số"
	Needed    string // e.g. "Số phiếu cần đạt"
	Threshold string // CSV column header of Question.Threshold, e.g. "Ngưỡng"
	Outcome   string // e.g. "Kết quả"

	// Conclusion heading, e.g. "KẾT LUẬN".
	Conclusion string

	// Receipts of a secret ballot.
	Receipts     string // heading, e.g. "DANH SÁCH PHIẾU THEO MÃ BIÊN NHẬN"
	ReceiptsNote string // optional paragraph under the heading: what a receipt proves
	Code         string // column header, e.g. "Mã biên nhận"

	// Roll of an open ballot.
	Roll    string // heading, e.g. "DANH SÁCH BIỂU QUYẾT"
	Voter   string // column header, e.g. "Người/đơn vị biểu quyết"
	CastAt  string // column header of VoteRow.At, e.g. "Thời điểm"
	Answers string // header of the one column that holds every answer when questions are many, e.g. "Lựa chọn"

	// Signatures and footer.
	SignHint  string // under each signer's role, e.g. "(Ký, ghi rõ họ tên)"
	Generated string // footer, before the time the minutes were made, e.g. "Lập lúc"
	Page      string // footer, before "n/N", e.g. "Trang"; empty prints "n/N" alone

	// TimeLayout formats every time (time.Format layout); empty is
	// DefaultTimeLayout.
	TimeLayout string
	// Decimal separates the decimals of percentages in the PDF, e.g. ","
	// for Vietnamese; empty is ".". The CSV always uses ".", so that
	// spreadsheets and programs read the numbers alike.
	Decimal string
}

// Minutes is everything the minutes of one closed ballot show. Texts are
// printed as given, localized by the caller; they are only composed to
// NFC, with control characters dropped (and, in the PDF, runes the fonts
// lack shown as U+FFFD).
type Minutes struct {
	Labels Labels

	Committee string // the committee's name
	Ballot    string // the ballot's title
	Kind      string // localized kind, e.g. "Bầu cử" or "Biểu quyết khen thưởng"
	Place     string // optional, e.g. "Trực tuyến qua Telegram"
	// Secret ballots list receipts (Receipts); open ones list who voted
	// what (Votes).
	Secret bool

	Opened, Closed time.Time
	// Location is where times are shown; nil is UTC.
	Location *time.Location

	// Who chaired the meeting, kept the record and counted the votes
	// (the vote-counting committee, its head first). Empty ones print as
	// dotted lines to fill in by hand.
	Chair, Secretary string
	Counters         []string
	// Opinions are the written opinions of absent members; empty prints
	// Labels.NoOpinions.
	Opinions string

	Electorate int  // everyone entitled to vote: the total of members
	Turnout    int  // electors who voted
	QuorumNeed int  // votes the ballot needed to be valid
	Valid      bool // quorum reached
	// Ballot papers: issued to electors, returned, valid and invalid. For
	// a vote in the bot every elector is issued one, every cast vote is a
	// returned, valid paper.
	Issued, Returned, GoodPapers, BadPapers int

	Questions []Question
	// Receipts of a secret ballot, in the order to print (by code).
	Receipts []ReceiptRow
	// Votes of an open ballot, in the order to print; must be empty for a
	// secret ballot.
	Votes []VoteRow

	// Conclusion is what the count decided, one paragraph each, printed
	// under Labels.Conclusion after the lists and kept on one page with
	// the notes and the first row of signatures.
	Conclusion []string
	// Notes are optional paragraphs printed after the conclusion, before
	// the signatures (e.g. that the minutes are a draft to sign).
	Notes []string
	// Signers get a signature block each, in order, three to a row.
	Signers []Signer

	// Generated is when the minutes were made: printed in the footer and
	// used as the PDF's creation date. Zero means Closed.
	Generated time.Time
}

// Question is the count of one question.
type Question struct {
	Text      string // the question as asked
	Rows      []Row  // one per option, in option order
	Needed    int    // votes an option needed
	Threshold string // optional localized threshold, e.g. "2/3 tổng số thành viên"
	Outcome   string // localized conclusion, e.g. "Trúng cử: Tòa án nhân dân tối cao"
}

// Row is the count of one option.
type Row struct {
	Option  string  // the option's label
	Votes   int     // votes for it
	Percent float64 // of the whole electorate, 0–100
	Winner  bool    // the option that passed: printed in bold
}

// ReceiptRow is one secret ballot paper: its receipt code and its answers.
type ReceiptRow struct {
	Code    string
	Answers []string // localized option labels, one per question in order
}

// VoteRow is one elector's vote on an open ballot.
type VoteRow struct {
	Voter   string    // unit or delegate name
	At      time.Time // optional: when the vote was cast (a column when any is set)
	Answers []string  // localized option labels, one per question in order
}

// Signer is one signature block of the minutes.
type Signer struct {
	Role string // localized, e.g. "Chủ tọa", "Thư ký", "Trưởng ban kiểm phiếu"
	Name string // optional: printed under the room to sign
}

// check reports what makes m impossible to render.
func (m Minutes) check() error {
	if m.Secret && len(m.Votes) > 0 {
		return ErrSecretRoll
	}
	n := len(m.Questions)
	for _, r := range m.Receipts {
		if len(r.Answers) != n {
			return fmt.Errorf("receipt %q: %w", r.Code, ErrAnswers)
		}
	}
	for _, v := range m.Votes {
		if len(v.Answers) != n {
			return fmt.Errorf("vote of %q: %w", v.Voter, ErrAnswers)
		}
	}
	return nil
}

// generated is the time the minutes were made.
func (m Minutes) generated() time.Time {
	if m.Generated.IsZero() {
		return m.Closed
	}
	return m.Generated
}

// time formats t in the minutes' location and layout; zero is empty.
func (m Minutes) time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	loc := m.Location
	if loc == nil {
		loc = time.UTC
	}
	layout := m.Labels.TimeLayout
	if layout == "" {
		layout = DefaultTimeLayout
	}
	return t.In(loc).Format(layout)
}

// mode is the localized secret/open word.
func (m Minutes) mode() string {
	if m.Secret {
		return m.Labels.Secret
	}
	return m.Labels.Open
}

// validity is the localized valid/invalid word.
func (m Minutes) validity() string {
	if m.Valid {
		return m.Labels.Valid
	}
	return m.Labels.Invalid
}

// absent is how many electors did not vote.
func (m Minutes) absent() int { return max(m.Electorate-m.Turnout, 0) }

// fact is one labelled fact of the header.
type fact struct{ label, value string }

// facts lists the header facts, in print order; Place only when given,
// and only those with a label.
func (m Minutes) facts() []fact {
	l := m.Labels
	fs := []fact{
		{l.Committee, m.Committee},
		{l.Ballot, m.Ballot},
		{l.Kind, m.Kind},
		{l.Mode, m.mode()},
	}
	if m.Place != "" {
		fs = append(fs, fact{l.Place, m.Place})
	}
	opinions := m.Opinions
	if opinions == "" {
		opinions = l.NoOpinions
	}
	fs = append(fs,
		fact{l.Opened, m.time(m.Opened)},
		fact{l.Closed, m.time(m.Closed)},
		fact{l.Chair, orBlank(m.Chair)},
		fact{l.Secretary, orBlank(m.Secretary)},
		fact{l.Counters, orBlank(strings.Join(m.Counters, ", "))},
		fact{l.Electorate, strconv.Itoa(m.Electorate)},
		fact{l.Turnout, strconv.Itoa(m.Turnout)},
		fact{l.Absent, strconv.Itoa(m.absent())},
		fact{l.Opinions, opinions},
		fact{l.QuorumNeed, strconv.Itoa(m.QuorumNeed)},
		fact{l.Validity, m.validity()},
		fact{l.Issued, strconv.Itoa(m.Issued)},
		fact{l.Returned, strconv.Itoa(m.Returned)},
		fact{l.GoodPapers, strconv.Itoa(m.GoodPapers)},
		fact{l.BadPapers, strconv.Itoa(m.BadPapers)},
	)
	// A fact without a label is one the caller does not use.
	return slices.DeleteFunc(fs, func(f fact) bool { return f.label == "" })
}

// blank is printed for a name not given, to be filled in by hand.
const blank = "………………………………………"

// orBlank is s, or the dotted line when s is empty.
func orBlank(s string) string {
	if strings.TrimSpace(s) == "" {
		return blank
	}
	return s
}

// questionLabel names question i (0-based) in headers: "Câu hỏi 1".
func (m Minutes) questionLabel(i int) string {
	n := strconv.Itoa(i + 1)
	if m.Labels.Question == "" {
		return n
	}
	return m.Labels.Question + " " + n
}

// castTimes reports whether any open vote carries its time.
func (m Minutes) castTimes() bool {
	for _, v := range m.Votes {
		if !v.At.IsZero() {
			return true
		}
	}
	return false
}

// percent formats p with two decimals and the given separator.
func percent(p float64, decimal string) string {
	s := strconv.FormatFloat(p, 'f', 2, 64)
	if decimal != "" && decimal != "." {
		s = strings.Replace(s, ".", decimal, 1)
	}
	return s
}

// clean makes s printable: composed to NFC (text typed with decomposed
// Vietnamese marks would print them apart, as the PDF places no combining
// marks), \r\n and \r become \n, tabs become spaces and other control and
// format characters are dropped. Line breaks are kept only when multiline
// is set.
func clean(s string, multiline bool) string {
	s = strings.ReplaceAll(norm.NFC.String(s), "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r':
			if multiline {
				return '\n'
			}
			return ' '
		case r == '\t':
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
}
