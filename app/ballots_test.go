package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/internal/clocktest"
	"github.com/committeebot/committeebot/storage"
)

func TestSecretElectionFromPostToMinutes(t *testing.T) {
	t.Parallel()
	h, post, payload := apptest.BallotBot(t, apptest.Options{}, "/elect head")
	apptest.HasAll(t, "group post", post.Text, "Bầu Khối trưởng năm", "bỏ phiếu kín", "mỗi đơn vị một phiếu", "0/3 đơn vị")
	receipts := map[string]string{}
	for user, pick := range map[int64]string{bobID: "TANDTC", carolID: "TANDTC"} {
		text := apptest.CastVote(t, h, user, payload, pick)
		rc := apptest.ReceiptRE.FindString(text)
		if rc == "" {
			t.Fatalf("no receipt after voting: %q", text)
		}
		receipts[rc] = pick
	}
	// Bob's unit cannot vote twice, and nobody sees running counts.
	h.Expect(bobID, bobID, "/start "+payload, "đã bỏ phiếu rồi")
	apptest.WaitFor(t, func() bool { return strings.Contains(apptest.Current(h, groupID, post).Text, "2/3 đơn vị") })
	if got := apptest.Current(h, groupID, post).Text; strings.Contains(got, "TANDTC: ") {
		t.Errorf("the group post shows running counts: %q", got)
	}
	// The last unit's vote closes the ballot.
	receipts[apptest.ReceiptRE.FindString(apptest.CastVote(t, h, daveID, payload, "KTNN"))] = "KTNN"
	result := h.WaitFirst(groupID, func(m telegramtest.Message) bool { return strings.HasPrefix(m.Text, "📋 Kết quả:") })
	apptest.HasAll(t, "result", result.Text, "Hợp lệ: 3/3", "TANDTC — Tòa án nhân dân tối cao: 2 (66,7% tổng số)", "trúng cử")
	// Apply the result: TANDTC becomes head.
	if len(result.ReplyMarkup) == 0 {
		t.Fatal("no button to apply the election's result")
	}
	apptest.Press(t, h, groupID, bobID, result, result.ReplyMarkup[0][0].Text) // not an admin: refused
	if got := apptest.Current(h, groupID, result).Text; strings.Contains(got, "là Khối trưởng năm") {
		t.Errorf("a delegate applied the result: %q", got)
	}
	apptest.Press(t, h, groupID, aliceID, result, result.ReplyMarkup[0][0].Text)
	if got := apptest.Current(h, groupID, result).Text; !strings.Contains(got, "TANDTC là Khối trưởng năm") {
		t.Errorf("after applying the result the message reads %q", got)
	}
	h.Expect(groupID, bobID, "/status", "Đã bầu cho năm", "Khối trưởng TANDTC")
	// The new year begins: TANDTC is the head.
	year := regexp.MustCompile(`Khối trưởng năm (\d{4})`).FindStringSubmatch(post.Text)
	if year == nil {
		t.Fatalf("no year in %q", post.Text)
	}
	h.Expect(groupID, bobID, "/year "+year[1], "Chỉ thư ký")
	h.Expect(groupID, aliceID, "/year "+year[1], "Khối trưởng: TANDTC")

	// The minutes: PDF and CSV, every receipt with its choice.
	before := len(h.TG.BotMessages(groupID))
	ballotID := strings.Split(payload, "_")[2]
	h.Say(groupID, carolID, "/results "+ballotID)
	var pdf, csvDoc *telegramtest.Document
	apptest.WaitFor(t, func() bool {
		for _, m := range h.TG.BotMessages(groupID)[before:] {
			if d := m.Document; d != nil && strings.HasSuffix(d.FileName, ".pdf") {
				pdf = d
			} else if d != nil && strings.HasSuffix(d.FileName, ".csv") {
				csvDoc = d
			}
		}
		return pdf != nil && csvDoc != nil
	})
	if !bytes.HasPrefix(pdf.Data, []byte("%PDF")) {
		t.Error("the minutes PDF is not a PDF")
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(csvDoc.Data, []byte("\xef\xbb\xbf"))))
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("minutes CSV does not parse: %v", err)
	}
	found := 0
	for _, row := range rows {
		for rc, pick := range receipts {
			if len(row) >= 2 && row[len(row)-2] == rc || strings.Contains(strings.Join(row, "|"), rc) {
				if !strings.Contains(strings.Join(row, "|"), pick) {
					t.Errorf("receipt %s listed with %v, want %s", rc, row, pick)
				}
				found++
			}
		}
	}
	if found != len(receipts) {
		t.Errorf("found %d of %d receipts in the CSV", found, len(receipts))
	}
	// Logs never hold a choice: no candidate, no button data, no receipt.
	logs := h.Logs.String()
	for _, secret := range []string{"TANDTC", "KTNN", "bvs:", "bv:"} {
		if strings.Contains(logs, secret) {
			t.Errorf("%q reached the logs", secret)
		}
	}
	for rc := range receipts {
		if strings.Contains(logs, rc) {
			t.Errorf("receipt %s reached the logs", rc)
		}
	}
}

func TestVotesThatMustNotCount(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Date(2025, 1, 10, 2, 0, 0, 0, time.UTC))
	h, _, payload := apptest.BallotBot(t, apptest.Options{AppOpts: []app.Option{app.WithClock(clock.Now)}}, "/motion Thông qua chương trình công tác? secret=yes deadline=2h")

	// A non-member.
	h.Expect(aliceID, aliceID, "/start "+payload, "không có quyền")
	// Forged buttons: another ballot, a state that does not fit.
	card := h.Say(bobID, bobID, "/start "+payload)
	for _, data := range []string{"bv:1:999:0", "bv:1:1:zz", "bvs:1:1:7", "bvs:9:1:0", "bv:1"} {
		h.PressData(bobID, bobID, card.MessageID, data)
	}
	h.Expect(groupID, aliceID, "/ballot 1", "0/3")
	// A vote one second after the deadline is refused although nobody
	// closed the ballot yet.
	apptest.Press(t, h, bobID, bobID, apptest.Current(h, bobID, card), "Tán thành")
	apptest.Press(t, h, bobID, bobID, apptest.Current(h, bobID, card), "📝 Xem lại và gửi")
	clock.Advance(2*time.Hour + time.Second)
	apptest.Press(t, h, bobID, bobID, apptest.Current(h, bobID, card), "✅ Gửi phiếu")
	// Refused as late, or as closed when the deadline's job closed the
	// ballot first: either way not counted.
	if got := apptest.Current(h, bobID, card).Text; !strings.Contains(got, "quá hạn") && !strings.Contains(got, "đã kết thúc; phiếu không được nhận") {
		t.Errorf("late vote answered %q", got)
	}
	h.Expect(groupID, aliceID, "/ballot 1", "0/3")
}

func TestOpenMotionShowsVotesAndAllowsChanges(t *testing.T) {
	t.Parallel()
	h, _, payload := apptest.BallotBot(t, apptest.Options{}, "/motion Tổ chức hội nghị tại Hà Nội?")
	apptest.CastVote(t, h, bobID, payload, "Tán thành")
	if text := apptest.CastVote(t, h, bobID, payload, "Không tán thành"); !strings.Contains(text, "Đã đổi") {
		t.Errorf("changing an open vote: %q", text)
	}
	h.Expect(groupID, carolID, "/ballot 1", "TANDTC (Bob): Không tán thành")
	// Reopened, the personal ballot shows Bob's current choice.
	h.Expect(bobID, bobID, "/start "+payload, "Lựa chọn của bạn: Không tán thành")
	// Alice closes it; 1 of 3 took part: not valid.
	if result := apptest.CloseAndWaitResult(t, h, "1"); !strings.Contains(result, "Không hợp lệ: chỉ 1/3") {
		t.Errorf("the result of an open motion with 1 of 3: %q", result)
	}
	h.Expect(carolID, carolID, "/start "+payload, "đã kết thúc")
}

func TestTiedElectionGoesToARunoff(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	apptest.BlocOf(t, h, []string{"TANDTC Tòa án", "KTNN Kiểm toán", "BTP Tư pháp", "BQP Quốc phòng"}, []apptest.Seat{{User: bobID, Unit: "TANDTC"}, {User: carolID, Unit: "KTNN"}, {User: daveID, Unit: "BTP"}, {User: adminID, Unit: "BQP"}})
	_, payload := apptest.OpenBallot(t, h, "/elect deputy TANDTC,KTNN")
	apptest.CastVote(t, h, bobID, payload, "TANDTC")
	apptest.CastVote(t, h, carolID, payload, "KTNN")
	apptest.CastVote(t, h, daveID, payload, "TANDTC")
	apptest.CastVote(t, h, adminID, payload, "KTNN")
	h.WaitFirst(groupID, func(m telegramtest.Message) bool { return strings.Contains(m.Text, "/runoff 1") })
	post, payload2 := apptest.OpenBallot(t, h, "/runoff 1")
	apptest.HasAll(t, "runoff post", post.Text, "vòng 2")
	apptest.HasNone(t, "runoff post", post.Text, "BTP")
	if payload2 == payload {
		t.Error("the runoff reuses the first ballot")
	}
	// One second round per election, and no third.
	h.Expect(groupID, aliceID, "/runoff 1", "đã có vòng 2: /ballot 2")
	h.Expect(groupID, aliceID, "/runoff 2", "không có vòng 3")
	h.ExpectNot(groupID, aliceID, "/ballots", "/ballot 3")
}

func TestRemindVotersReachesOnlyThoseWhoHaveNotVoted(t *testing.T) {
	t.Parallel()
	h, _, payload := apptest.BallotBot(t, apptest.Options{}, "/motion Duyệt kế hoạch?")
	apptest.CastVote(t, h, bobID, payload, "Tán thành")
	bobBefore := len(h.TG.BotMessages(bobID))
	h.Expect(groupID, aliceID, "/remind_voters 1", "Đã nhắc 2")
	for _, u := range []int64{carolID, daveID} {
		apptest.WaitFor(t, func() bool {
			msgs := h.TG.BotMessages(u)
			return len(msgs) > 0 && strings.Contains(msgs[len(msgs)-1].Text, "Nhắc")
		})
	}
	h.Quiet(bobID)
	if len(h.TG.BotMessages(bobID)) != bobBefore {
		t.Error("Bob, who voted, was reminded")
	}
}

func TestNominationsBallotMovesNominations(t *testing.T) {
	t.Parallel()
	h := apptest.DelegatesBot(t, apptest.Options{})
	h.Require(bobID, bobID, "/nominate CTD_CP | TANDTC | Dẫn đầu phong trào thi đua", "/nomination 1")
	h.Expect(groupID, aliceID, "/ballot_nominations CTD_CP", "Không có hồ sơ")
	h.Say(groupID, aliceID, "/nomination_status 1 under_review")
	_, payload := apptest.OpenBallot(t, h, "/ballot_nominations CTD_CP")
	if m := h.Say(groupID, carolID, "/nomination 1"); !strings.Contains(strings.ToLower(m.Text), "biểu quyết") {
		t.Errorf("the nomination is not in voting: %q", m.Text)
	}
	// While the ballot is open, only its result moves the nomination.
	h.Expect(bobID, bobID, "/withdraw 1", "/ballot 1")
	h.Expect(groupID, aliceID, "/nomination_status 1 approved", "/ballot 1")
	apptest.CastVote(t, h, bobID, payload, "Đồng ý")
	apptest.CastVote(t, h, carolID, payload, "Đồng ý")
	apptest.CastVote(t, h, daveID, payload, "Không đồng ý")
	// 80% of 3 units is 3 approvals: 2 are not enough.
	h.WaitFirst(groupID, func(m telegramtest.Message) bool {
		return strings.HasPrefix(m.Text, "📋") && strings.Contains(m.Text, "không thông qua")
	})
	apptest.WaitFor(t, func() bool {
		m := h.Say(groupID, carolID, "/nomination 1")
		return strings.Contains(strings.ToLower(m.Text), "không được")
	}, func() string { return h.Say(groupID, carolID, "/nomination 1").Text })
}

func TestRemovedDelegateCannotVoteAnyMore(t *testing.T) {
	t.Parallel()
	h, _, payload := apptest.BallotBot(t, apptest.Options{}, "/elect Đơn vị dẫn đầu TANDTC,KTNN")
	card := h.Say(carolID, carolID, "/start "+payload)
	apptest.Press(t, h, carolID, carolID, card, "KTNN")
	apptest.Press(t, h, carolID, carolID, apptest.Current(h, carolID, card), "📝 Xem lại và gửi")
	// The secretariat removes Carol before she submits.
	h.Require(groupID, aliceID, "/delegate_remove @carol", "Đã bỏ Carol")
	apptest.Press(t, h, carolID, carolID, apptest.Current(h, carolID, card), "✅ Gửi phiếu")
	if got := apptest.Current(h, carolID, card).Text; !strings.Contains(got, "không có quyền") {
		t.Errorf("a removed delegate's vote answered %q", got)
	}
	h.Expect(groupID, aliceID, "/ballot 1", "0/3")
}

// flagBallot starts the bot with the bloc of BlocWithDelegates and
// TANDTC's nomination #1 for the Government Emulation Flag put to ballot
// 1, and returns the harness and the ballot's payload.
func flagBallot(t *testing.T) (*apptest.Harness, string) {
	t.Helper()
	h := apptest.DelegatesBot(t, apptest.Options{})
	h.Say(bobID, bobID, "/nominate CTD_CP | TANDTC | Dẫn đầu phong trào thi đua")
	h.Say(groupID, aliceID, "/nomination_status 1 under_review")
	_, payload := apptest.OpenBallot(t, h, "/ballot_nominations CTD_CP")
	return h, payload
}

func TestNominationsLeftUndecidedCanBeVotedAgain(t *testing.T) {
	t.Parallel()
	h, payload := flagBallot(t)
	apptest.CastVote(t, h, bobID, payload, "Đồng ý")
	m := h.Say(groupID, aliceID, "/close 1")
	apptest.Press(t, h, groupID, aliceID, m, "🔒 Kết thúc")
	apptest.WaitFor(t, func() bool { return apptest.CountMessages(h, groupID, "📋") == 1 })
	// 1 of 3 took part: nothing decided, the nomination is still in voting
	// and goes into the next ballot.
	post, _ := apptest.OpenBallot(t, h, "/ballot_nominations CTD_CP")
	apptest.HasAll(t, "the second ballot", post.Text, "/nomination 1")
}

// TestRedeliveredSubmitCountsOnceAndShowsTheSameReceipt replays the press
// of "Submit" after the bot lost the record of having handled it (a crash
// after the cast, before the update was marked done): the vote counts
// once, and the voter is answered with the same receipt, not "already
// voted".
func TestRedeliveredSubmitCountsOnceAndShowsTheSameReceipt(t *testing.T) {
	t.Parallel()
	h, post, payload := apptest.BallotBot(t, apptest.Options{}, "/elect head")
	card, qid, raw := submitPress(t, h, bobID, payload, "KTNN")
	id := h.TG.EnqueueUpdate(json.RawMessage(raw))
	first := h.WaitAnswer(qid)
	h.Settle()
	receipt := apptest.ReceiptRE.FindString(first.Text)
	if receipt == "" || !strings.Contains(apptest.Current(h, bobID, card).Text, receipt) {
		t.Fatalf("answer %q and ballot %q should carry one receipt", first.Text, apptest.Current(h, bobID, card).Text)
	}

	// The bot stops having lost the claim of the update (as if it had
	// crashed before marking it done), and Telegram delivers it again to
	// the next start.
	h.Shutdown()
	if err := h.Redis.Client().Del(context.Background(), storage.NewKeys(h.Redis.Prefix()).UpdateClaim(int64(id))).Err(); err != nil {
		t.Fatal(err)
	}
	h.TG.EnqueueUpdate(json.RawMessage(raw))
	h.Start(app.WithOutboxLimits(storage.OutboxLimits{}))
	// The first copy may come back too, if the bot stopped before
	// confirming it: every answer carries the one receipt.
	for _, a := range callbackAnswers(t, h, qid, 2)[1:] {
		if !strings.Contains(a, receipt) {
			t.Errorf("the redelivered submit was answered %q, want the same receipt %s", a, receipt)
		}
	}
	h.Settle()
	if got := apptest.Current(h, groupID, post).Text; !strings.Contains(got, "1/3 đơn vị") {
		t.Errorf("after the redelivery the post reads %q, want 1/3", got)
	}
	if !strings.Contains(apptest.Current(h, bobID, card).Text, receipt) {
		t.Errorf("the ballot now reads %q", apptest.Current(h, bobID, card).Text)
	}
}

// The submit button's route takes no update claim: its handler names
// every effect after the update. The same press handled twice, possibly at
// once (here as two updates carrying the one callback query, which no
// claim on the update id could catch), must count once, answer both copies
// with the one receipt, and tell the unit's other delegate once.
func TestSubmitHandledTwiceCountsOnce(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	apptest.BlocOf(t, h, []string{"TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước", "BTP Bộ Tư pháp"}, []apptest.Seat{{User: bobID, Unit: "TANDTC"}, {User: daveID, Unit: "TANDTC"}, {User: carolID, Unit: "KTNN"}})
	post, payload := apptest.OpenBallot(t, h, "/elect head")
	_, qid, raw := submitPress(t, h, bobID, payload, "KTNN")
	var press map[string]json.RawMessage
	if err := json.Unmarshal(raw, &press); err != nil {
		t.Fatal(err)
	}
	delete(press, "update_id") // each copy gets the next id
	h.TG.EnqueueUpdate(press)
	h.TG.EnqueueUpdate(press)
	answers := callbackAnswers(t, h, qid, 2)
	receipt := apptest.ReceiptRE.FindString(answers[0])
	for _, a := range answers {
		if receipt == "" || apptest.ReceiptRE.FindString(a) != receipt {
			t.Errorf("the copies were answered %q, want one receipt in every answer", answers)
			break
		}
	}
	h.Settle()
	if got := apptest.Current(h, groupID, post).Text; !strings.Contains(got, "1/3 đơn vị") {
		t.Errorf("the post reads %q, want 1/3", got)
	}
	if notices := apptest.CountMessages(h, daveID, "ℹ️ Đơn vị TANDTC đã bỏ phiếu «"); notices != 1 {
		t.Errorf("Dave, of the same unit, was told %d times that TANDTC voted, want once", notices)
	}
}

// submitPress opens user's personal ballot, picks and reviews, and returns
// the card and a press of "submit" made in the stand-in but not yet
// delivered: its callback query id and the raw update.
func submitPress(t *testing.T, h *apptest.Harness, user int64, payload string, picks ...string) (telegramtest.Message, string, []byte) {
	t.Helper()
	card := h.Say(user, user, "/start "+payload)
	for _, p := range picks {
		apptest.Press(t, h, user, user, apptest.Current(h, user, card), p)
	}
	apptest.Press(t, h, user, user, apptest.Current(h, user, card), "📝 Xem lại và gửi")
	var submit string
	for _, row := range apptest.Current(h, user, card).ReplyMarkup {
		for _, b := range row {
			if b.Text == "✅ Gửi phiếu" {
				submit = b.CallbackData
			}
		}
	}
	if submit == "" {
		t.Fatalf("no submit button on %q", apptest.Current(h, user, card).Text)
	}
	qid, raw := h.TG.PressButtonUpdate(user, user, card.MessageID, submit)
	return card, qid, raw
}

// callbackAnswers waits until the bot has answered callback query qid at
// least n times and returns the answers' texts.
func callbackAnswers(t *testing.T, h *apptest.Harness, qid string, n int) []string {
	t.Helper()
	var answers []string
	apptest.WaitFor(t, func() bool {
		answers = answers[:0]
		for _, r := range h.TG.Requests() {
			if r.Method == "answerCallbackQuery" && r.Params["callback_query_id"] == qid {
				answers = append(answers, r.Params["text"])
			}
		}
		return len(answers) >= n
	}, h.Logs.String)
	return answers
}

// A ballot's electorate and candidates are fixed when it opens: removing a
// unit it counts is refused with a pointer to the ballot, and allowed once
// the ballot is closed.
func TestUnitOnAnOpenBallotIsNotRemoved(t *testing.T) {
	t.Parallel()
	h, _, _ := apptest.BallotBot(t, apptest.Options{}, "/elect head")
	m := h.Say(groupID, aliceID, "/unit_remove BTP")
	apptest.Press(t, h, groupID, aliceID, m, "🗑 Bỏ")
	if got := apptest.Current(h, groupID, m).Text; !strings.Contains(got, "/ballot 1") {
		t.Errorf("removing a unit of an open ballot: %q", got)
	}
	h.Expect(groupID, aliceID, "/units", "BTP")
	m = h.Say(groupID, aliceID, "/close 1")
	apptest.Press(t, h, groupID, aliceID, m, "🔒 Kết thúc")
	h.Quiet(groupID)
	m = h.Say(groupID, aliceID, "/unit_remove BTP")
	apptest.Press(t, h, groupID, aliceID, m, "🗑 Bỏ")
	h.ExpectNot(groupID, aliceID, "/units", "BTP")
}

// A secret ballot with fewer than three ballots (here one of three, not
// valid) publishes its turnout, not its counts: everyone would know how
// the one voter voted.
func TestSmallSecretBallotPublishesTurnoutOnly(t *testing.T) {
	t.Parallel()
	h, _, payload := apptest.BallotBot(t, apptest.Options{}, "/elect head")
	apptest.CastVote(t, h, bobID, payload, "KTNN")
	result := apptest.CloseAndWaitResult(t, h, "1")
	apptest.HasAll(t, "the result of a one-ballot secret election", result, "1/3", "dưới 3 phiếu")
	apptest.HasNone(t, "the result of a one-ballot secret election", result, "tổng số)")
	h.ExpectNot(groupID, carolID, "/results 1", "tổng số)")
}

// A deadline is at most voting.max_deadline (90 days) ahead.
func TestBallotDeadlineWithinBound(t *testing.T) {
	t.Parallel()
	h := apptest.DelegatesBot(t, apptest.Options{})
	h.Expect(groupID, aliceID, "/motion Thông qua? deadline=99999d", "tối đa 90 ngày")
	h.ExpectNot(groupID, aliceID, "/ballots", "/ballot 1")
	apptest.OpenBallot(t, h, "/motion Thông qua? deadline=30d")
}

// Bidirectional controls typed into a title never reach a list: they
// would reverse the rest of the line, commands included.
func TestBidiControlsDoNotReachLists(t *testing.T) {
	t.Parallel()
	h, _, _ := apptest.BallotBot(t, apptest.Options{}, "/motion Thông qua \u202eđề án\u202c mới?")
	m := h.Say(groupID, aliceID, "/ballots")
	if strings.ContainsAny(m.Text, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069") || !strings.Contains(m.Text, "Thông qua đề án mới?") {
		t.Errorf("/ballots: %q", m.Text)
	}
}

// The personal ballot says on whose behalf one votes: the unit, or (on a
// members ballot) one's own vote — never "you vote for TANDTC", which
// reads as a vote for a candidate.
func TestPersonalBallotSaysOnWhoseBehalf(t *testing.T) {
	t.Parallel()
	h, post, units := apptest.BallotBot(t, apptest.Options{}, "/elect head")
	// The post shows the pass mark and the quorum before anyone votes:
	// more than half of 3 units is 2, two thirds of 3 is 2.
	apptest.HasAll(t, "the ballot post", post.Text, "Mức đạt: 2/3 phiếu", "2/3 tham gia")
	h.Expect(bobID, bobID, "/start "+units, "Bỏ phiếu thay mặt: TANDTC")
	_, members := apptest.OpenBallot(t, h, "/motion Thông qua? electorate=members")
	h.Expect(bobID, bobID, "/start "+members, "Phiếu của chính bạn")
}

// The result of a ballot is posted once, whoever closes it and however
// often: the last vote handled twice, /close after it, and a stop between
// asking for the result and closing (the result's job closes the ballot
// itself).
func TestResultIsPostedOnceWhateverStops(t *testing.T) {
	t.Parallel()
	h, _, payload := apptest.BallotBot(t, apptest.Options{Env: map[string]string{"COMMITTEEBOT_REMINDERS_TICK": "20ms"}}, "/motion Thông qua chương trình?")
	apptest.CastVote(t, h, bobID, payload, "Tán thành")
	apptest.CastVote(t, h, carolID, payload, "Tán thành")
	// Dave's vote, the last, is delivered twice (a retry after a stop).
	_, qid, raw := submitPress(t, h, daveID, payload, "Tán thành")
	var press map[string]json.RawMessage
	if err := json.Unmarshal(raw, &press); err != nil {
		t.Fatal(err)
	}
	delete(press, "update_id")
	h.TG.EnqueueUpdate(press)
	h.TG.EnqueueUpdate(press)
	callbackAnswers(t, h, qid, 2)
	apptest.WaitFor(t, func() bool { return apptest.CountMessages(h, groupID, "📋 Kết quả") == 1 })
	h.Expect(groupID, aliceID, "/close 1", "đã kết thúc")

	// A second ballot: the handler asked for the result and stopped before
	// closing. The job closes it and posts the result; votes stop.
	_, payload2 := apptest.OpenBallot(t, h, "/motion Thông qua kế hoạch?")
	apptest.CastVote(t, h, bobID, payload2, "Tán thành")
	ctx := context.Background()
	sched := storage.NewScheduler(h.Redis.Client(), storage.NewKeys(h.Redis.Prefix()), time.Minute)
	p, _ := json.Marshal(map[string]string{"c": "1", "b": "2"})
	if err := sched.ScheduleOnce(ctx, storage.Job{ID: "bres.1.2", Kind: "ballot_result", Payload: p, DueAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	apptest.WaitFor(t, func() bool { return apptest.CountMessages(h, groupID, "📋 Kết quả") == 2 })
	h.Expect(carolID, carolID, "/start "+payload2, "đã kết thúc")
	h.Quiet(groupID)
	if n := apptest.CountMessages(h, groupID, "📋 Kết quả"); n != 2 {
		t.Errorf("%d results posted, want 2 (one per ballot)", n)
	}
}
