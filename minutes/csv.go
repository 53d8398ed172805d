package minutes

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
)

// bom starts the CSV so that spreadsheets read it as UTF-8.
const bom = "\uFEFF"

// CSV renders the minutes as comma-separated values: UTF-8 starting with
// a byte order mark (Excel then reads Vietnamese correctly; strip it
// before parsing), CRLF line ends, and records of varying length (parse
// with FieldsPerRecord = -1). Blank lines separate the sections:
//
//   - the title alone, then one "label, value" record per fact, ending
//     with the time the minutes were made;
//   - the results heading alone, a header record, then one record per
//     option of each question: question number, question text, option,
//     votes, percentage of the electorate ("." and two decimals), votes
//     needed, threshold, outcome;
//   - the receipts heading alone (secret ballot), a header record, then
//     one record per receipt: row number, code, one answer per question;
//     or the roll heading alone (open ballot), a header record, then one
//     record per vote: row number, voter, the time cast when any vote has
//     one, one answer per question;
//   - the conclusion heading alone, then one record per paragraph of the
//     conclusion (when there is one).
//
// Texts that a spreadsheet would run as a formula (starting with =, +, -,
// @) get a leading apostrophe. CSV returns ErrAnswers or ErrSecretRoll
// for minutes it cannot render.
func CSV(m Minutes) ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(bom)
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	l := m.Labels
	write := func(rec ...string) { _ = w.Write(rec) } // errors surface in w.Error

	write(text(l.Title))
	for _, f := range m.facts() {
		write(text(f.label), text(f.value))
	}
	write(text(l.Generated), text(m.time(m.generated())))

	write()
	write(text(l.Results))
	write("#", text(l.Question), text(l.Option), text(l.Votes), text(l.Share),
		text(l.Needed), text(l.Threshold), text(l.Outcome))
	for i, q := range m.Questions {
		for _, r := range q.Rows {
			write(strconv.Itoa(i+1), text(q.Text), text(r.Option), strconv.Itoa(r.Votes),
				percent(r.Percent, "."), strconv.Itoa(q.Needed), text(q.Threshold), text(q.Outcome))
		}
	}

	write()
	header := []string{"#"}
	if m.Secret {
		write(text(l.Receipts))
		header = append(header, text(l.Code))
	} else {
		write(text(l.Roll))
		header = append(header, text(l.Voter))
		if m.castTimes() {
			header = append(header, text(l.CastAt))
		}
	}
	for i := range m.Questions {
		header = append(header, text(m.questionLabel(i)))
	}
	write(header...)
	if m.Secret {
		for i, r := range m.Receipts {
			write(append([]string{strconv.Itoa(i + 1), text(r.Code)}, texts(r.Answers)...)...)
		}
	} else {
		times := m.castTimes()
		for i, v := range m.Votes {
			rec := []string{strconv.Itoa(i + 1), text(v.Voter)}
			if times {
				rec = append(rec, text(m.time(v.At)))
			}
			write(append(rec, texts(v.Answers)...)...)
		}
	}
	if len(m.Conclusion) > 0 {
		write()
		write(text(l.Conclusion))
		for _, c := range m.Conclusion {
			write(text(c))
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("minutes: write csv: %w", err)
	}
	return buf.Bytes(), nil
}

// text prepares a text field: cleaned, and defused if a spreadsheet would
// take it for a formula.
func text(s string) string {
	s = clean(s, true)
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}

// texts applies text to each of ss.
func texts(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = text(s)
	}
	return out
}
