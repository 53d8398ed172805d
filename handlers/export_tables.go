package handlers

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// table is one CSV file of the export: a name and its rows, the header
// first.
type table struct {
	name string
	rows [][]string
}

// exportTables lays the archive out as spreadsheet tables, one per kind
// of record, that refer to each other by id (docs/EXPORT.md lists their
// columns). They come from the archive, so they publish exactly what it
// does: no secret ballot's voter next to a choice, no counts of an
// undisclosed one.
func exportTables(a archive) []table {
	units := table{"units.csv", [][]string{{"code", "name", "added"}}}
	for _, u := range a.Units {
		units.rows = append(units.rows, []string{u.Code, u.Name, csvTime(u.Added)})
	}
	roles := table{"roles.csv", [][]string{{"year", "head", "deputy"}}}
	for _, y := range a.Roles {
		roles.rows = append(roles.rows, []string{strconv.Itoa(y.Year), y.Head, y.Deputy})
	}
	roleHistory := table{"role_history.csv", [][]string{{"at", "year", "role", "unit", "previous", "by"}}}
	for _, ch := range a.RoleHistory {
		roleHistory.rows = append(roleHistory.rows, []string{csvTime(ch.At), strconv.Itoa(ch.Year), ch.Role, ch.Unit, ch.Previous, idCell(ch.By)})
	}
	delegates := table{"delegates.csv", [][]string{{"user_id", "unit", "name", "username", "joined"}}}
	for _, d := range a.Delegates {
		delegates.rows = append(delegates.rows, []string{idCell(d.UserID), d.Unit, d.Name, d.Username, csvTime(d.Joined)})
	}
	delegateHistory := table{"delegate_history.csv", [][]string{{"at", "event", "user_id", "name", "from_unit", "to_unit", "by"}}}
	for _, ch := range a.DelegateHistory {
		delegateHistory.rows = append(delegateHistory.rows, []string{csvTime(ch.At), ch.Event, idCell(ch.UserID), ch.Name, ch.From, ch.To, idCell(ch.By)})
	}
	covenant := table{"covenant.csv", [][]string{{"year", "title", "unit", "signed", "user_id", "name", "signed_at"}}}
	if cov := a.Covenant; cov != nil {
		for _, s := range cov.Signed {
			covenant.rows = append(covenant.rows, []string{strconv.Itoa(cov.Year), cov.Title, s.Unit, "yes", idCell(s.UserID), s.Name, csvTime(s.At)})
		}
		for _, u := range cov.Pending {
			covenant.rows = append(covenant.rows, []string{strconv.Itoa(cov.Year), cov.Title, u, "no", "", "", ""})
		}
	}
	meetings := table{"meetings.csv", [][]string{{"id", "start", "duration_minutes", "title", "location", "status", "cancelled_at", "agenda",
		"attending", "declined", "units_attending", "created", "created_by", "updated", "sequence"}}}
	attendance := table{"attendance.csv", [][]string{{"meeting_id", "meeting_start", "unit", "user_id", "name", "username", "answer", "answered_at"}}}
	for _, m := range a.Meetings {
		duration := ""
		if m.DurationMinutes > 0 {
			duration = strconv.Itoa(m.DurationMinutes)
		}
		meetings.rows = append(meetings.rows, []string{m.ID, csvTime(m.Start), duration, m.Title, m.Location, m.Status, csvTime(m.CancelledAt),
			strings.Join(m.Agenda, "; "), strconv.Itoa(m.Attending), strconv.Itoa(m.Declined), strings.Join(m.UnitsAttending, ", "),
			csvTime(m.Created), idCell(m.By), csvTime(m.Updated), strconv.Itoa(m.Sequence)})
		for _, r := range m.Answers {
			attendance.rows = append(attendance.rows, []string{m.ID, csvTime(m.Start), r.Unit, idCell(r.UserID), r.Name, r.Username, r.Answer, csvTime(r.At)})
		}
	}
	nominations := table{"nominations.csv", [][]string{{"id", "year", "award", "unit", "nominee", "nominee_unit", "status", "created", "created_by",
		"last_change", "last_change_by", "last_note", "attachments", "achievements"}}}
	nominationHistory := table{"nomination_history.csv", [][]string{{"nomination_id", "at", "from", "to", "by", "by_name", "note", "override"}}}
	for _, n := range a.Nominations {
		var last archiveChange
		if len(n.History) > 0 {
			last = n.History[len(n.History)-1]
		}
		nominations.rows = append(nominations.rows, []string{idCell(n.ID), strconv.Itoa(n.Year), n.Award, n.Unit, n.Nominee, n.NomineeUnit, n.Status,
			csvTime(n.Created), n.ByName, csvTime(last.At), last.ByName, last.Note, strconv.Itoa(len(n.Attachments)), n.Achievements})
		for _, ch := range n.History {
			nominationHistory.rows = append(nominationHistory.rows, []string{idCell(n.ID), csvTime(ch.At), ch.From, ch.To, idCell(ch.By), ch.ByName, ch.Note, yesCell(ch.Override)})
		}
	}
	return append([]table{units, roles, roleHistory, delegates, delegateHistory, covenant, meetings, attendance,
		nominations, nominationHistory}, ballotTables(a.Ballots)...)
}

// ballotTables are the ballots, their results (one row per option), the
// rolls of open ballots and the receipts of secret ones.
func ballotTables(bs []archiveBallot) []table {
	ballots := table{"ballots.csv", [][]string{{"id", "kind", "title", "role", "year", "award", "round", "parent", "secret", "electorate",
		"electors", "quorum", "status", "opened", "deadline", "closed", "turnout", "quorum_needed", "valid", "disclosed", "chair", "secretary", "counters", "place", "opinions"}}}
	results := table{"ballot_results.csv", [][]string{{"ballot_id", "question_id", "question", "nomination", "threshold", "needed",
		"option", "label", "votes", "percent", "outcome", "winner"}}}
	votes := table{"ballot_votes.csv", [][]string{{"ballot_id", "voter", "user_id", "name", "at", "question_id", "option"}}}
	receipts := table{"ballot_receipts.csv", [][]string{{"ballot_id", "receipt", "question_id", "option"}}}
	for _, b := range bs {
		year := ""
		if b.Year != 0 {
			year = strconv.Itoa(b.Year)
		}
		row := []string{b.ID, b.Kind, b.Title, b.Role, year, b.Award, strconv.Itoa(b.Round), b.Parent, yesCell(b.Secret), b.Electorate,
			strconv.Itoa(len(b.Electors)), b.Quorum, b.Status, csvTime(b.Opened), csvTime(b.Deadline), csvTime(b.Closed),
			strconv.Itoa(b.Turnout), "", "", ""}
		if r := b.Result; r != nil {
			copy(row[len(row)-3:], []string{strconv.Itoa(r.QuorumNeeded), yesCell(r.Valid), yesCell(r.Disclosed)})
			results.rows = append(results.rows, resultRows(b, r)...)
			for _, rc := range r.Receipts {
				for _, q := range b.Questions {
					receipts.rows = append(receipts.rows, []string{b.ID, rc.Code, q.ID, rc.Choice[q.ID]})
				}
			}
		}
		var m archiveMinutes
		if b.Minutes != nil {
			m = *b.Minutes
		}
		ballots.rows = append(ballots.rows, append(row, m.Chair, m.Secretary, strings.Join(m.Counters, ", "), m.Place, m.Opinions))
		for _, v := range b.Votes {
			for _, q := range b.Questions {
				votes.rows = append(votes.rows, []string{b.ID, v.Voter, idCell(v.UserID), v.Name, csvTime(v.At), q.ID, v.Choice[q.ID]})
			}
		}
	}
	return []table{ballots, results, votes, receipts}
}

// resultRows are a closed ballot's counts, one row per option; the votes
// and percentages stay empty when the result is not disclosed.
func resultRows(b archiveBallot, r *archiveResult) [][]string {
	var rows [][]string
	for i, qr := range r.Questions {
		if i >= len(b.Questions) {
			break
		}
		q := b.Questions[i]
		counts := map[string]archiveCount{}
		for _, c := range qr.Counts {
			counts[c.Option] = c
		}
		for _, o := range q.Options {
			votes, percent := "", ""
			if c, ok := counts[o.Key]; ok {
				votes, percent = strconv.Itoa(c.Votes), strconv.FormatFloat(c.Percent, 'f', 2, 64)
			}
			winner := ""
			if qr.Winner == o.Key {
				winner = "yes"
			}
			rows = append(rows, []string{b.ID, q.ID, q.Text, q.Nomination, q.Threshold, strconv.Itoa(qr.Needed),
				o.Key, o.Label, votes, percent, qr.Outcome, winner})
		}
	}
	return rows
}

// yesCell is a yes/no cell.
func yesCell(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// idCell is a cell of a user or record id, empty for none (0).
func idCell(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// csvTime turns an archive time (RFC 3339) into what spreadsheets read as
// a date and time, "2006-01-02 15:04", in the same (the committee's) time
// zone.
func csvTime(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.Format("2006-01-02 15:04")
}

// csvBytes writes a table as CSV. It starts with a UTF-8 byte order mark
// so spreadsheet programs read Vietnamese correctly, and cells that a
// spreadsheet would take for a formula are prefixed with an apostrophe.
func csvBytes(t table) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	for _, row := range t.rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = safeCell(c)
		}
		if err := w.Write(cells); err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("%s: %w", t.name, err)
	}
	return buf.Bytes(), nil
}

// tablesZip packs the tables into one zip file, in their order, every
// entry stamped with the export time: the same data exported at the same
// moment gives the same bytes.
func tablesZip(tables []table, at time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, t := range tables {
		data, err := csvBytes(t)
		if err != nil {
			return nil, err
		}
		f, err := zw.CreateHeader(&zip.FileHeader{Name: t.name, Method: zip.Deflate, Modified: at})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		if _, err := f.Write(data); err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// safeCell defuses spreadsheet formulas in user text (CSV injection).
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
