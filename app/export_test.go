package app_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/internal/clocktest"
	"github.com/committeebot/committeebot/storage"
)

// exportArchive is what the tests read of the JSON archive.
type exportArchive struct {
	Format     string `json:"format"`
	ExportedBy struct {
		UserID int64 `json:"user_id"`
	} `json:"exported_by"`
	Committee struct {
		Name string `json:"name"`
	} `json:"committee"`
	Units []struct{ Code string } `json:"units"`
	Roles []struct {
		Year         int
		Head, Deputy string
	} `json:"roles"`
	RoleHistory []struct {
		Year         int
		Role, Unit   string
		Previous, At string
		By           int64
	} `json:"role_history"`
	Delegates       []struct{ UserID int64 } `json:"delegates"`
	DelegateHistory []struct {
		Event    string `json:"event"`
		UserID   int64  `json:"user_id"`
		Name     string `json:"name"`
		From, To string
		By       int64
	} `json:"delegate_history"`
	Awards   []struct{ Code string } `json:"awards"`
	Meetings []struct {
		ID, Title, Status string
		CancelledAt       string   `json:"cancelled_at"`
		Attending         int      `json:"attending"`
		Declined          int      `json:"declined"`
		UnitsAttending    []string `json:"units_attending"`
		Answers           []struct {
			UserID       int64 `json:"user_id"`
			Unit, Answer string
			At           string
		} `json:"answers"`
	} `json:"meetings"`
	Nominations []struct {
		ID      int64
		Status  string
		History []struct{ To, Note string }
	} `json:"nominations"`
	Ballots []json.RawMessage `json:"ballots"`
}

// exportBallot is what the tests read of one ballot of the archive.
type exportBallot struct {
	ID, Kind, Status string
	Secret           bool
	Turnout          int
	Result           *struct {
		Valid, Disclosed bool
		Questions        []struct {
			Outcome, Winner string
			Counts          []struct {
				Option string
				Votes  int
			}
		}
		Receipts []struct {
			Code   string
			Choice map[string]string
		}
	}
	Votes []struct {
		Voter  string
		UserID int64 `json:"user_id"`
		Choice map[string]string
	}
	Minutes *struct {
		Chair    string
		Counters []string
	}
}

// The export holds the bloc's data — roles and the delegates' history,
// meetings with attendance, nominations, ballots with what may be
// published of them — as JSON and as CSV tables in a zip, privately.
func TestExportSendsArchiveAndTablesPrivately(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Date(2024, 4, 1, 8, 0, 0, 0, time.UTC))
	h := apptest.DelegatesBot(t, apptest.Options{AppOpts: []app.Option{app.WithClock(clock.Now), app.WithOutboxLimits(storage.OutboxLimits{})}}) // Bob TANDTC, Carol KTNN, Dave BTP

	// Roles: TANDTC head; deputy KTNN, then BTP.
	for _, cmd := range []string{"/role TANDTC head", "/role KTNN deputy", "/role BTP deputy"} {
		h.Say(groupID, aliceID, cmd)
	}
	// Meetings: one answered, one cancelled.
	h.Say(groupID, aliceID, "/meeting_new 10/04/2024 14:00 | Hội nghị tổng kết năm 2023 | Hà Nội | Báo cáo tổng kết; Bầu Khối trưởng")
	h.Say(bobID, bobID, "/rsvp 1 yes")
	h.Say(carolID, carolID, "/rsvp 1 no")
	h.Say(groupID, aliceID, "/meeting_new 12/04/2024 09:00 | Họp sơ kết | Hà Nội")
	confirm := apptest.Ask(t, h, groupID, aliceID, "/meeting_cancel 2", "Huỷ cuộc họp")
	apptest.Press(t, h, groupID, aliceID, confirm, "🗑 Huỷ cuộc họp")
	// The delegates are told privately by a job; wait, so that its notice
	// does not land between a /start below and the ballot it opens.
	for _, u := range []int64{bobID, carolID, daveID} {
		waitMessage(t, h, u, "Cuộc họp đã bị huỷ")
	}
	// Nominations.
	h.Say(bobID, bobID, "/nominate CTD_CP | TANDTC | Dẫn đầu")
	h.Say(daveID, daveID, "/nominate CSTD_BO | =HYPERLINK(\"x\") Lê Văn C")
	h.Say(groupID, aliceID, "/nomination_status 1 under_review Đủ hồ sơ")
	// Ballot 1: a secret election every unit voted in (it closes itself).
	_, payload := apptest.OpenBallot(t, h, "/elect head")
	apptest.CastVote(t, h, bobID, payload, "TANDTC")
	apptest.CastVote(t, h, carolID, payload, "TANDTC")
	apptest.CastVote(t, h, daveID, payload, "KTNN")
	apptest.WaitFor(t, func() bool {
		return slices.ContainsFunc(h.TG.BotMessages(groupID), func(m telegramtest.Message) bool { return strings.HasPrefix(m.Text, "📋") })
	})
	h.Say(groupID, aliceID, "/minutes_info 1 chair=Nguyễn Văn An | counters=Trần Bình, Lê Chi")
	// Ballot 2: a secret election with one ballot: its counts stay
	// unpublished.
	_, payload = apptest.OpenBallot(t, h, "/elect deputy")
	apptest.CastVote(t, h, bobID, payload, "KTNN")
	apptest.Press(t, h, groupID, aliceID, h.Say(groupID, aliceID, "/close 2"), "🔒 Kết thúc")
	// Ballot 3: an open motion, closed.
	_, payload = apptest.OpenBallot(t, h, "/motion Thông qua quy chế hoạt động?")
	apptest.CastVote(t, h, bobID, payload, "Tán thành")
	apptest.CastVote(t, h, carolID, payload, "Không tán thành")
	apptest.Press(t, h, groupID, aliceID, h.Say(groupID, aliceID, "/close 3"), "🔒 Kết thúc")
	// Ballots 4 and 5 stay open: an open motion and a secret one.
	_, payload = apptest.OpenBallot(t, h, "/motion Họp trực tuyến?")
	apptest.CastVote(t, h, daveID, payload, "Tán thành")
	_, payload = apptest.OpenBallot(t, h, "/motion Đổi trụ sở? secret=yes")
	apptest.CastVote(t, h, carolID, payload, "Không tán thành")
	// Delegates' history: Dave leaves and comes back, Carol is removed.
	h.Say(daveID, daveID, "/leave")
	apptest.Join(t, h, daveID, apptest.Invite(t, h, "BTP"))
	h.Say(groupID, aliceID, "/delegate_remove 203")

	h.Expect(groupID, bobID, "/export", "Chỉ thư ký khối")
	before := len(h.TG.BotMessages(aliceID))
	h.Require(groupID, aliceID, "/export", "Đã gửi riêng")
	var docs []telegramtest.Message
	apptest.WaitFor(t, func() bool {
		docs = nil
		for _, m := range h.TG.BotMessages(aliceID)[before:] {
			if m.Document != nil {
				docs = append(docs, m)
			}
		}
		return len(docs) == 2
	})
	for _, m := range h.TG.BotMessages(groupID) {
		if m.Document != nil {
			t.Errorf("a document was posted in the group: %s", m.Document.FileName)
		}
	}
	if !strings.HasSuffix(docs[0].Document.FileName, ".json") || !strings.HasSuffix(docs[1].Document.FileName, "-tables.zip") {
		t.Fatalf("documents %s and %s, want the JSON archive and the tables' zip", docs[0].Document.FileName, docs[1].Document.FileName)
	}
	if c := docs[0].Document.Caption; !strings.Contains(c, "2 cuộc họp") || !strings.Contains(c, "5 cuộc bỏ phiếu") {
		t.Errorf("the archive's caption: %q", c)
	}
	if c := docs[1].Document.Caption; !strings.Contains(c, "14 bảng CSV") {
		t.Errorf("the tables' caption: %q", c)
	}

	t.Run("json", func(t *testing.T) { checkArchive(t, docs[0].Document.Data) })
	t.Run("csv", func(t *testing.T) { checkTables(t, docs[1].Document.Data) })
}

func checkArchive(t *testing.T, data []byte) {
	var arch exportArchive
	if err := json.Unmarshal(data, &arch); err != nil {
		t.Fatalf("the archive is not JSON: %v", err)
	}
	if arch.Format != "committeebot-export/2" || arch.ExportedBy.UserID != aliceID || arch.Committee.Name != "Khối thi đua Nội chính" ||
		len(arch.Units) != 3 || len(arch.Delegates) != 2 || len(arch.Awards) != 8 || len(arch.Nominations) != 2 {
		t.Errorf("archive: %+v", arch)
	}
	// Roles and their history.
	if len(arch.Roles) != 1 || arch.Roles[0].Year != 2024 || arch.Roles[0].Head != "TANDTC" || arch.Roles[0].Deputy != "BTP" {
		t.Errorf("roles: %+v", arch.Roles)
	}
	if rh := arch.RoleHistory; len(rh) != 3 || rh[2].Role != "deputy" || rh[2].Unit != "BTP" || rh[2].Previous != "KTNN" || rh[2].By != aliceID {
		t.Errorf("role history: %+v", rh)
	}
	// The delegates' history.
	var events []string
	for _, ch := range arch.DelegateHistory {
		events = append(events, ch.Event+":"+ch.From+">"+ch.To)
	}
	wantEvents := []string{"join:>TANDTC", "join:>KTNN", "join:>BTP", "leave:BTP>", "join:>BTP", "remove:KTNN>"}
	if !slices.Equal(events, wantEvents) {
		t.Errorf("delegate history %v, want %v", events, wantEvents)
	} else if last := arch.DelegateHistory[5]; last.UserID != carolID || last.By != aliceID || last.Name == "" {
		t.Errorf("Carol's removal: %+v", last)
	}
	// Meetings with attendance, the cancelled one marked.
	if len(arch.Meetings) != 2 {
		t.Fatalf("meetings: %+v", arch.Meetings)
	}
	m1, m2 := arch.Meetings[0], arch.Meetings[1]
	if m1.Status != "scheduled" || m1.Attending != 1 || m1.Declined != 1 || !slices.Equal(m1.UnitsAttending, []string{"TANDTC"}) ||
		len(m1.Answers) != 2 || m1.Answers[0].UserID != bobID || m1.Answers[0].Answer != "attend" || m1.Answers[0].At == "" ||
		m1.Answers[1].Unit != "KTNN" || m1.Answers[1].Answer != "decline" {
		t.Errorf("meeting 1: %+v", m1)
	}
	if m2.Status != "cancelled" || m2.CancelledAt == "" || len(m2.Answers) != 0 {
		t.Errorf("meeting 2: %+v", m2)
	}
	if n := arch.Nominations[0]; n.Status != "under_review" || len(n.History) != 2 || n.History[1].Note != "Đủ hồ sơ" {
		t.Errorf("nomination 1 in the archive: %+v", n)
	}
	// Ballots.
	if len(arch.Ballots) != 5 {
		t.Fatalf("%d ballots in the archive, want 5", len(arch.Ballots))
	}
	b := make([]exportBallot, 5)
	for i, raw := range arch.Ballots {
		if err := json.Unmarshal(raw, &b[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []int{0, 1, 4} {
		// A secret ballot never names a voter, let alone next to a
		// choice: no roll, no user id, no name.
		var top map[string]json.RawMessage
		if err := json.Unmarshal(arch.Ballots[i], &top); err != nil {
			t.Fatal(err)
		}
		if _, ok := top["votes"]; ok || b[i].Votes != nil {
			t.Errorf("secret ballot %s has a roll: %s", b[i].ID, arch.Ballots[i])
		}
		for _, who := range []string{"Bob", "Carol", "Dave", `"user_id"`} {
			if strings.Contains(string(arch.Ballots[i]), who) {
				t.Errorf("secret ballot %s names %s: %s", b[i].ID, who, arch.Ballots[i])
			}
		}
	}
	if r := b[0].Result; !b[0].Secret || b[0].Status != "closed" || r == nil || !r.Disclosed || !r.Valid ||
		r.Questions[0].Winner != "TANDTC" || len(r.Questions[0].Counts) != 3 || r.Questions[0].Counts[0].Votes != 2 ||
		len(r.Receipts) != 3 || r.Receipts[0].Choice["1"] == "" ||
		b[0].Minutes == nil || b[0].Minutes.Chair != "Nguyễn Văn An" || len(b[0].Minutes.Counters) != 2 {
		t.Errorf("the disclosed secret election: %s", arch.Ballots[0])
	}
	if r := b[1].Result; b[1].Turnout != 1 || r == nil || r.Disclosed || r.Valid || r.Questions[0].Outcome != "void" ||
		r.Questions[0].Counts != nil || len(r.Receipts) != 1 || r.Receipts[0].Choice != nil {
		t.Errorf("the undisclosed secret election: %s", arch.Ballots[1])
	}
	if r := b[2].Result; b[2].Secret || r == nil || !r.Disclosed || len(b[2].Votes) != 2 ||
		b[2].Votes[0].Voter != "KTNN" || b[2].Votes[0].Choice["1"] != "no" || b[2].Votes[1].UserID != bobID || b[2].Votes[1].Choice["1"] != "yes" {
		t.Errorf("the open motion: %s", arch.Ballots[2])
	}
	if b[3].Status != "open" || b[3].Result != nil || b[3].Turnout != 1 || len(b[3].Votes) != 1 || b[3].Votes[0].Choice["1"] != "yes" {
		t.Errorf("the open motion still open: %s", arch.Ballots[3])
	}
	if b[4].Status != "open" || !b[4].Secret || b[4].Result != nil || b[4].Turnout != 1 {
		t.Errorf("the secret motion still open: %s", arch.Ballots[4])
	}
}

func checkTables(t *testing.T, data []byte) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("the tables are not a zip: %v", err)
	}
	tables := map[string][][]string{}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(raw, []byte("\ufeff")) {
			t.Errorf("%s has no byte order mark", f.Name)
		}
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\ufeff")))).ReadAll()
		if err != nil {
			t.Fatalf("%s does not parse: %v", f.Name, err)
		}
		tables[f.Name] = rows
	}
	want := []string{"units.csv", "roles.csv", "role_history.csv", "delegates.csv", "delegate_history.csv", "covenant.csv",
		"meetings.csv", "attendance.csv", "nominations.csv", "nomination_history.csv", "ballots.csv", "ballot_results.csv",
		"ballot_votes.csv", "ballot_receipts.csv"}
	if !slices.Equal(names, want) {
		t.Fatalf("tables %v, want %v", names, want)
	}
	// rows keeps the rows of a table whose column col is val (all for "").
	rows := func(name, col, val string) [][]string {
		all := tables[name]
		i := slices.Index(all[0], col)
		var out [][]string
		for _, r := range all[1:] {
			if col == "" || r[i] == val {
				out = append(out, r)
			}
		}
		return out
	}
	cell := func(name string, row []string, col string) string { return row[slices.Index(tables[name][0], col)] }

	if n := tables["nominations.csv"]; len(n) != 3 || n[0][0] != "id" || n[1][6] != "under_review" || n[1][11] != "Đủ hồ sơ" {
		t.Errorf("nominations.csv: %q", n)
	} else if !strings.HasPrefix(n[2][4], "'=") {
		t.Errorf("a formula in a nominee was not defused: %q", n[2][4])
	}
	if r := rows("roles.csv", "year", "2024"); len(r) != 1 || r[0][1] != "TANDTC" || r[0][2] != "BTP" {
		t.Errorf("roles.csv: %q", tables["roles.csv"])
	}
	if r := rows("delegate_history.csv", "event", "leave"); len(r) != 1 || cell("delegate_history.csv", r[0], "from_unit") != "BTP" {
		t.Errorf("delegate_history.csv: %q", tables["delegate_history.csv"])
	}
	att := rows("attendance.csv", "meeting_id", "1")
	if len(att) != 2 || cell("attendance.csv", att[0], "answer") != "attend" || cell("attendance.csv", att[1], "answer") != "decline" ||
		cell("attendance.csv", att[0], "answered_at") == "" {
		t.Errorf("attendance.csv: %q", tables["attendance.csv"])
	}
	if m := rows("meetings.csv", "id", "2"); len(m) != 1 || cell("meetings.csv", m[0], "status") != "cancelled" {
		t.Errorf("meetings.csv: %q", tables["meetings.csv"])
	}
	// Who voted what: only the open motions.
	for _, r := range rows("ballot_votes.csv", "", "") {
		if r[0] != "3" && r[0] != "4" {
			t.Errorf("ballot_votes.csv has a vote of ballot %s (secret): %q", r[0], r)
		}
	}
	if len(rows("ballot_votes.csv", "ballot_id", "3")) != 2 {
		t.Errorf("ballot_votes.csv: %q", tables["ballot_votes.csv"])
	}
	// Counts: the disclosed election's, not the one-ballot one's.
	if r := rows("ballot_results.csv", "ballot_id", "1"); len(r) != 3 || cell("ballot_results.csv", r[0], "votes") != "2" ||
		cell("ballot_results.csv", r[0], "winner") != "yes" {
		t.Errorf("ballot_results.csv of ballot 1: %q", r)
	}
	r2 := rows("ballot_results.csv", "ballot_id", "2")
	if len(r2) == 0 {
		t.Errorf("ballot_results.csv has no rows of ballot 2: %q", tables["ballot_results.csv"])
	}
	for _, r := range r2 {
		if cell("ballot_results.csv", r, "votes") != "" || cell("ballot_results.csv", r, "percent") != "" {
			t.Errorf("ballot_results.csv gives counts of the undisclosed ballot 2: %q", r)
		}
	}
	if r := rows("ballot_receipts.csv", "ballot_id", "2"); len(r) != 1 || cell("ballot_receipts.csv", r[0], "option") != "" {
		t.Errorf("ballot_receipts.csv of ballot 2: %q", r)
	}
	if b := rows("ballots.csv", "id", "1"); len(b) != 1 || cell("ballots.csv", b[0], "chair") != "Nguyễn Văn An" ||
		cell("ballots.csv", b[0], "counters") != "Trần Bình, Lê Chi" {
		t.Errorf("ballots.csv: %q", tables["ballots.csv"])
	}
	if b := rows("ballots.csv", "id", "2"); len(b) != 1 || cell("ballots.csv", b[0], "disclosed") != "no" || cell("ballots.csv", b[0], "turnout") != "1" {
		t.Errorf("ballots.csv: %q", tables["ballots.csv"])
	}
}
