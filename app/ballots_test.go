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

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/internal/clocktest"
	"github.com/committeebot/committeebot/storage"
)

// blocWithDelegates sets up the bloc with three units, Bob for TANDTC,
// Carol for KTNN and Dave for BTP.
func blocWithDelegates(t *testing.T, h *harness) {
	t.Helper()
	blocOf(t, h, []string{"TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước", "BTP Bộ Tư pháp"}, []seat{{bobID, "TANDTC"}, {carolID, "KTNN"}, {daveID, "BTP"}})
}

// ballotBot starts the bot with ho, sets up the bloc of blocWithDelegates
// and opens a ballot with cmd as Alice: it returns the harness, the group
// post and the /start payload of its Vote button.
func ballotBot(t *testing.T, ho harnessOpts, cmd string) (*harness, telegramtest.Message, string) {
	t.Helper()
	h := delegatesBot(t, ho)
	post, payload := openBallot(t, h, cmd)
	return h, post, payload
}

// delegatesBot starts the bot with ho and sets up the bloc of
// blocWithDelegates.
func delegatesBot(t *testing.T, ho harnessOpts) *harness {
	t.Helper()
	h := startBot(t, ho)
	blocWithDelegates(t, h)
	return h
}

var voteLink = regexp.MustCompile(`\?start=(vote_[0-9]+_[0-9]+)$`)

// openBallot runs cmd as Alice in the group and returns the group post and
// the /start payload of its Vote button.
func openBallot(t *testing.T, h *harness, cmd string) (telegramtest.Message, string) {
	t.Helper()
	sent := h.tg.SendText(groupID, aliceID, cmd)
	// The post, not a result of an earlier ballot posted meanwhile by
	// its job.
	m := h.waitAfter(groupID, sent.MessageID, "answer to "+cmd, func(m telegramtest.Message) bool {
		return !strings.HasPrefix(m.Text, "📋")
	})
	h.settle()
	if len(m.ReplyMarkup) == 0 || m.ReplyMarkup[0][0].URL == "" {
		t.Fatalf("%s: the group post has no Vote button: %q", cmd, m.Text)
	}
	match := voteLink.FindStringSubmatch(m.ReplyMarkup[0][0].URL)
	if match == nil {
		t.Fatalf("Vote button links to %q", m.ReplyMarkup[0][0].URL)
	}
	return m, match[1]
}

// castVote follows the Vote link as user, picks the labelled options, reviews
// and submits, and returns the final text of the personal ballot.
func castVote(t *testing.T, h *harness, user int64, payload string, picks ...string) string {
	t.Helper()
	card := h.say(user, user, "/start "+payload)
	for _, p := range picks {
		press(t, h, user, user, current(h, user, card), p)
	}
	press(t, h, user, user, current(h, user, card), "📝 Xem lại và gửi")
	press(t, h, user, user, current(h, user, card), "✅ Gửi phiếu")
	return current(h, user, card).Text
}

var receiptRE = regexp.MustCompile(`[A-Z2-9]{5}-[A-Z2-9]{5}`)

func TestSecretElectionFromPostToMinutes(t *testing.T) {
	t.Parallel()
	h, post, payload := ballotBot(t, harnessOpts{}, "/elect head")
	hasAll(t, "group post", post.Text, "Bầu Khối trưởng năm", "bỏ phiếu kín", "mỗi đơn vị một phiếu", "0/3 đơn vị")
	receipts := map[string]string{}
	for user, pick := range map[int64]string{bobID: "TANDTC", carolID: "TANDTC"} {
		text := castVote(t, h, user, payload, pick)
		rc := receiptRE.FindString(text)
		if rc == "" {
			t.Fatalf("no receipt after voting: %q", text)
		}
		receipts[rc] = pick
	}
	// Bob's unit cannot vote twice, and nobody sees running counts.
	h.expect(bobID, bobID, "/start "+payload, "đã bỏ phiếu rồi")
	waitFor(t, func() bool { return strings.Contains(current(h, groupID, post).Text, "2/3 đơn vị") })
	if got := current(h, groupID, post).Text; strings.Contains(got, "TANDTC: ") {
		t.Errorf("the group post shows running counts: %q", got)
	}
	// The last unit's vote closes the ballot.
	receipts[receiptRE.FindString(castVote(t, h, daveID, payload, "KTNN"))] = "KTNN"
	result := h.waitFirst(groupID, func(m telegramtest.Message) bool { return strings.HasPrefix(m.Text, "📋 Kết quả:") })
	hasAll(t, "result", result.Text, "Hợp lệ: 3/3", "TANDTC — Tòa án nhân dân tối cao: 2 (66,7% tổng số)", "trúng cử")
	// Apply the result: TANDTC becomes head.
	if len(result.ReplyMarkup) == 0 {
		t.Fatal("no button to apply the election's result")
	}
	press(t, h, groupID, bobID, result, result.ReplyMarkup[0][0].Text) // not an admin: refused
	if got := current(h, groupID, result).Text; strings.Contains(got, "là Khối trưởng năm") {
		t.Errorf("a delegate applied the result: %q", got)
	}
	press(t, h, groupID, aliceID, result, result.ReplyMarkup[0][0].Text)
	if got := current(h, groupID, result).Text; !strings.Contains(got, "TANDTC là Khối trưởng năm") {
		t.Errorf("after applying the result the message reads %q", got)
	}
	h.expect(groupID, bobID, "/status", "Đã bầu cho năm", "Khối trưởng TANDTC")
	// The new year begins: TANDTC is the head.
	year := regexp.MustCompile(`Khối trưởng năm (\d{4})`).FindStringSubmatch(post.Text)
	if year == nil {
		t.Fatalf("no year in %q", post.Text)
	}
	h.expect(groupID, bobID, "/year "+year[1], "Chỉ thư ký")
	h.expect(groupID, aliceID, "/year "+year[1], "Khối trưởng: TANDTC")

	// The minutes: PDF and CSV, every receipt with its choice.
	before := len(h.tg.BotMessages(groupID))
	ballotID := strings.Split(payload, "_")[2]
	h.say(groupID, carolID, "/results "+ballotID)
	var pdf, csvDoc *telegramtest.Document
	waitFor(t, func() bool {
		for _, m := range h.tg.BotMessages(groupID)[before:] {
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
	logs := h.logs.String()
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
	h, _, payload := ballotBot(t, harnessOpts{appOpts: []app.Option{app.WithClock(clock.Now)}}, "/motion Thông qua chương trình công tác? secret=yes deadline=2h")

	// A non-member.
	h.expect(aliceID, aliceID, "/start "+payload, "không có quyền")
	// Forged buttons: another ballot, a state that does not fit.
	card := h.say(bobID, bobID, "/start "+payload)
	for _, data := range []string{"bv:1:999:0", "bv:1:1:zz", "bvs:1:1:7", "bvs:9:1:0", "bv:1"} {
		h.pressData(bobID, bobID, card.MessageID, data)
	}
	h.expect(groupID, aliceID, "/ballot 1", "0/3")
	// A vote one second after the deadline is refused although nobody
	// closed the ballot yet.
	press(t, h, bobID, bobID, current(h, bobID, card), "Tán thành")
	press(t, h, bobID, bobID, current(h, bobID, card), "📝 Xem lại và gửi")
	clock.Advance(2*time.Hour + time.Second)
	press(t, h, bobID, bobID, current(h, bobID, card), "✅ Gửi phiếu")
	// Refused as late, or as closed when the deadline's job closed the
	// ballot first: either way not counted.
	if got := current(h, bobID, card).Text; !strings.Contains(got, "quá hạn") && !strings.Contains(got, "đã kết thúc; phiếu không được nhận") {
		t.Errorf("late vote answered %q", got)
	}
	h.expect(groupID, aliceID, "/ballot 1", "0/3")
}

func TestOpenMotionShowsVotesAndAllowsChanges(t *testing.T) {
	t.Parallel()
	h, _, payload := ballotBot(t, harnessOpts{}, "/motion Tổ chức hội nghị tại Hà Nội?")
	castVote(t, h, bobID, payload, "Tán thành")
	if text := castVote(t, h, bobID, payload, "Không tán thành"); !strings.Contains(text, "Đã đổi") {
		t.Errorf("changing an open vote: %q", text)
	}
	h.expect(groupID, carolID, "/ballot 1", "TANDTC (Bob): Không tán thành")
	// Reopened, the personal ballot shows Bob's current choice.
	h.expect(bobID, bobID, "/start "+payload, "Lựa chọn của bạn: Không tán thành")
	// Alice closes it; 1 of 3 took part: not valid.
	if result := closeAndWaitResult(t, h, "1"); !strings.Contains(result, "Không hợp lệ: chỉ 1/3") {
		t.Errorf("the result of an open motion with 1 of 3: %q", result)
	}
	h.expect(carolID, carolID, "/start "+payload, "đã kết thúc")
}

func TestTiedElectionGoesToARunoff(t *testing.T) {
	t.Parallel()
	h := startBot(t, harnessOpts{})
	blocOf(t, h, []string{"TANDTC Tòa án", "KTNN Kiểm toán", "BTP Tư pháp", "BQP Quốc phòng"}, []seat{{bobID, "TANDTC"}, {carolID, "KTNN"}, {daveID, "BTP"}, {adminID, "BQP"}})
	_, payload := openBallot(t, h, "/elect deputy TANDTC,KTNN")
	castVote(t, h, bobID, payload, "TANDTC")
	castVote(t, h, carolID, payload, "KTNN")
	castVote(t, h, daveID, payload, "TANDTC")
	castVote(t, h, adminID, payload, "KTNN")
	h.waitFirst(groupID, func(m telegramtest.Message) bool { return strings.Contains(m.Text, "/runoff 1") })
	post, payload2 := openBallot(t, h, "/runoff 1")
	hasAll(t, "runoff post", post.Text, "vòng 2")
	hasNone(t, "runoff post", post.Text, "BTP")
	if payload2 == payload {
		t.Error("the runoff reuses the first ballot")
	}
	// One second round per election, and no third.
	h.expect(groupID, aliceID, "/runoff 1", "đã có vòng 2: /ballot 2")
	h.expect(groupID, aliceID, "/runoff 2", "không có vòng 3")
	h.expectNot(groupID, aliceID, "/ballots", "/ballot 3")
}

func TestRemindVotersReachesOnlyThoseWhoHaveNotVoted(t *testing.T) {
	t.Parallel()
	h, _, payload := ballotBot(t, harnessOpts{}, "/motion Duyệt kế hoạch?")
	castVote(t, h, bobID, payload, "Tán thành")
	bobBefore := len(h.tg.BotMessages(bobID))
	h.expect(groupID, aliceID, "/remind_voters 1", "Đã nhắc 2")
	for _, u := range []int64{carolID, daveID} {
		waitFor(t, func() bool {
			msgs := h.tg.BotMessages(u)
			return len(msgs) > 0 && strings.Contains(msgs[len(msgs)-1].Text, "Nhắc")
		})
	}
	h.quiet(bobID)
	if len(h.tg.BotMessages(bobID)) != bobBefore {
		t.Error("Bob, who voted, was reminded")
	}
}

func TestNominationsBallotMovesNominations(t *testing.T) {
	t.Parallel()
	h := delegatesBot(t, harnessOpts{})
	h.require(bobID, bobID, "/nominate CTD_CP | TANDTC | Dẫn đầu phong trào thi đua", "/nomination 1")
	h.expect(groupID, aliceID, "/ballot_nominations CTD_CP", "Không có hồ sơ")
	h.say(groupID, aliceID, "/nomination_status 1 under_review")
	_, payload := openBallot(t, h, "/ballot_nominations CTD_CP")
	if m := h.say(groupID, carolID, "/nomination 1"); !strings.Contains(strings.ToLower(m.Text), "biểu quyết") {
		t.Errorf("the nomination is not in voting: %q", m.Text)
	}
	// While the ballot is open, only its result moves the nomination.
	h.expect(bobID, bobID, "/withdraw 1", "/ballot 1")
	h.expect(groupID, aliceID, "/nomination_status 1 approved", "/ballot 1")
	castVote(t, h, bobID, payload, "Đồng ý")
	castVote(t, h, carolID, payload, "Đồng ý")
	castVote(t, h, daveID, payload, "Không đồng ý")
	// 80% of 3 units is 3 approvals: 2 are not enough.
	h.waitFirst(groupID, func(m telegramtest.Message) bool {
		return strings.HasPrefix(m.Text, "📋") && strings.Contains(m.Text, "không thông qua")
	})
	waitFor(t, func() bool {
		m := h.say(groupID, carolID, "/nomination 1")
		return strings.Contains(strings.ToLower(m.Text), "không được")
	}, func() string { return h.say(groupID, carolID, "/nomination 1").Text })
}

func TestRemovedDelegateCannotVoteAnyMore(t *testing.T) {
	t.Parallel()
	h, _, payload := ballotBot(t, harnessOpts{}, "/elect Đơn vị dẫn đầu TANDTC,KTNN")
	card := h.say(carolID, carolID, "/start "+payload)
	press(t, h, carolID, carolID, card, "KTNN")
	press(t, h, carolID, carolID, current(h, carolID, card), "📝 Xem lại và gửi")
	// The secretariat removes Carol before she submits.
	h.require(groupID, aliceID, "/delegate_remove @carol", "Đã bỏ Carol")
	press(t, h, carolID, carolID, current(h, carolID, card), "✅ Gửi phiếu")
	if got := current(h, carolID, card).Text; !strings.Contains(got, "không có quyền") {
		t.Errorf("a removed delegate's vote answered %q", got)
	}
	h.expect(groupID, aliceID, "/ballot 1", "0/3")
}

// flagBallot starts the bot with the bloc of blocWithDelegates and
// TANDTC's nomination #1 for the Government Emulation Flag put to ballot
// 1, and returns the harness and the ballot's payload.
func flagBallot(t *testing.T) (*harness, string) {
	t.Helper()
	h := delegatesBot(t, harnessOpts{})
	h.say(bobID, bobID, "/nominate CTD_CP | TANDTC | Dẫn đầu phong trào thi đua")
	h.say(groupID, aliceID, "/nomination_status 1 under_review")
	_, payload := openBallot(t, h, "/ballot_nominations CTD_CP")
	return h, payload
}

func TestNominationsLeftUndecidedCanBeVotedAgain(t *testing.T) {
	t.Parallel()
	h, payload := flagBallot(t)
	castVote(t, h, bobID, payload, "Đồng ý")
	m := h.say(groupID, aliceID, "/close 1")
	press(t, h, groupID, aliceID, m, "🔒 Kết thúc")
	waitFor(t, func() bool { return countMessages(h, groupID, "📋") == 1 })
	// 1 of 3 took part: nothing decided, the nomination is still in voting
	// and goes into the next ballot.
	post, _ := openBallot(t, h, "/ballot_nominations CTD_CP")
	hasAll(t, "the second ballot", post.Text, "/nomination 1")
}

// TestRedeliveredSubmitCountsOnceAndShowsTheSameReceipt replays the press
// of "Submit" after the bot lost the record of having handled it (a crash
// after the cast, before the update was marked done): the vote counts
// once, and the voter is answered with the same receipt, not "already
// voted".
func TestRedeliveredSubmitCountsOnceAndShowsTheSameReceipt(t *testing.T) {
	t.Parallel()
	h, post, payload := ballotBot(t, harnessOpts{}, "/elect head")
	card, qid, raw := submitPress(t, h, bobID, payload, "KTNN")
	id := h.tg.EnqueueUpdate(json.RawMessage(raw))
	first := h.waitAnswer(qid)
	h.settle()
	receipt := receiptRE.FindString(first.Text)
	if receipt == "" || !strings.Contains(current(h, bobID, card).Text, receipt) {
		t.Fatalf("answer %q and ballot %q should carry one receipt", first.Text, current(h, bobID, card).Text)
	}

	// The bot stops having lost the claim of the update (as if it had
	// crashed before marking it done), and Telegram delivers it again to
	// the next start.
	h.shutdown()
	if err := h.rd.Client().Del(context.Background(), storage.NewKeys(h.rd.Prefix()).UpdateClaim(int64(id))).Err(); err != nil {
		t.Fatal(err)
	}
	h.tg.EnqueueUpdate(json.RawMessage(raw))
	h.start(app.WithOutboxLimits(storage.OutboxLimits{}))
	// The first copy may come back too, if the bot stopped before
	// confirming it: every answer carries the one receipt.
	for _, a := range callbackAnswers(t, h, qid, 2)[1:] {
		if !strings.Contains(a, receipt) {
			t.Errorf("the redelivered submit was answered %q, want the same receipt %s", a, receipt)
		}
	}
	h.settle()
	if got := current(h, groupID, post).Text; !strings.Contains(got, "1/3 đơn vị") {
		t.Errorf("after the redelivery the post reads %q, want 1/3", got)
	}
	if !strings.Contains(current(h, bobID, card).Text, receipt) {
		t.Errorf("the ballot now reads %q", current(h, bobID, card).Text)
	}
}

// The submit button's route takes no update claim: its handler names
// every effect after the update. The same press handled twice, possibly at
// once (here as two updates carrying the one callback query, which no
// claim on the update id could catch), must count once, answer both copies
// with the one receipt, and tell the unit's other delegate once.
func TestSubmitHandledTwiceCountsOnce(t *testing.T) {
	t.Parallel()
	h := startBot(t, harnessOpts{})
	blocOf(t, h, []string{"TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước", "BTP Bộ Tư pháp"}, []seat{{bobID, "TANDTC"}, {daveID, "TANDTC"}, {carolID, "KTNN"}})
	post, payload := openBallot(t, h, "/elect head")
	_, qid, raw := submitPress(t, h, bobID, payload, "KTNN")
	var press map[string]json.RawMessage
	if err := json.Unmarshal(raw, &press); err != nil {
		t.Fatal(err)
	}
	delete(press, "update_id") // each copy gets the next id
	h.tg.EnqueueUpdate(press)
	h.tg.EnqueueUpdate(press)
	answers := callbackAnswers(t, h, qid, 2)
	receipt := receiptRE.FindString(answers[0])
	for _, a := range answers {
		if receipt == "" || receiptRE.FindString(a) != receipt {
			t.Errorf("the copies were answered %q, want one receipt in every answer", answers)
			break
		}
	}
	h.settle()
	if got := current(h, groupID, post).Text; !strings.Contains(got, "1/3 đơn vị") {
		t.Errorf("the post reads %q, want 1/3", got)
	}
	if notices := countMessages(h, daveID, "ℹ️ Đơn vị TANDTC đã bỏ phiếu «"); notices != 1 {
		t.Errorf("Dave, of the same unit, was told %d times that TANDTC voted, want once", notices)
	}
}

// submitPress opens user's personal ballot, picks and reviews, and returns
// the card and a press of "submit" made in the stand-in but not yet
// delivered: its callback query id and the raw update.
func submitPress(t *testing.T, h *harness, user int64, payload string, picks ...string) (telegramtest.Message, string, []byte) {
	t.Helper()
	card := h.say(user, user, "/start "+payload)
	for _, p := range picks {
		press(t, h, user, user, current(h, user, card), p)
	}
	press(t, h, user, user, current(h, user, card), "📝 Xem lại và gửi")
	var submit string
	for _, row := range current(h, user, card).ReplyMarkup {
		for _, b := range row {
			if b.Text == "✅ Gửi phiếu" {
				submit = b.CallbackData
			}
		}
	}
	if submit == "" {
		t.Fatalf("no submit button on %q", current(h, user, card).Text)
	}
	qid, raw := h.tg.PressButtonUpdate(user, user, card.MessageID, submit)
	return card, qid, raw
}

// callbackAnswers waits until the bot has answered callback query qid at
// least n times and returns the answers' texts.
func callbackAnswers(t *testing.T, h *harness, qid string, n int) []string {
	t.Helper()
	var answers []string
	waitFor(t, func() bool {
		answers = answers[:0]
		for _, r := range h.tg.Requests() {
			if r.Method == "answerCallbackQuery" && r.Params["callback_query_id"] == qid {
				answers = append(answers, r.Params["text"])
			}
		}
		return len(answers) >= n
	}, h.logs.String)
	return answers
}

// A ballot's electorate and candidates are fixed when it opens: removing a
// unit it counts is refused with a pointer to the ballot, and allowed once
// the ballot is closed.
func TestUnitOnAnOpenBallotIsNotRemoved(t *testing.T) {
	t.Parallel()
	h, _, _ := ballotBot(t, harnessOpts{}, "/elect head")
	m := h.say(groupID, aliceID, "/unit_remove BTP")
	press(t, h, groupID, aliceID, m, "🗑 Bỏ")
	if got := current(h, groupID, m).Text; !strings.Contains(got, "/ballot 1") {
		t.Errorf("removing a unit of an open ballot: %q", got)
	}
	h.expect(groupID, aliceID, "/units", "BTP")
	m = h.say(groupID, aliceID, "/close 1")
	press(t, h, groupID, aliceID, m, "🔒 Kết thúc")
	h.quiet(groupID)
	m = h.say(groupID, aliceID, "/unit_remove BTP")
	press(t, h, groupID, aliceID, m, "🗑 Bỏ")
	h.expectNot(groupID, aliceID, "/units", "BTP")
}

// A secret ballot with fewer than three ballots (here one of three, not
// valid) publishes its turnout, not its counts: everyone would know how
// the one voter voted.
func TestSmallSecretBallotPublishesTurnoutOnly(t *testing.T) {
	t.Parallel()
	h, _, payload := ballotBot(t, harnessOpts{}, "/elect head")
	castVote(t, h, bobID, payload, "KTNN")
	result := closeAndWaitResult(t, h, "1")
	hasAll(t, "the result of a one-ballot secret election", result, "1/3", "dưới 3 phiếu")
	hasNone(t, "the result of a one-ballot secret election", result, "tổng số)")
	h.expectNot(groupID, carolID, "/results 1", "tổng số)")
}

// closeAndWaitResult closes ballot id as Alice in the group and returns the
// text of the result post ("📋 …").
func closeAndWaitResult(t *testing.T, h *harness, id string) string {
	t.Helper()
	return pressCloseAndWaitResult(t, h, h.say(groupID, aliceID, "/close "+id))
}

// pressCloseAndWaitResult presses "close" on m, /close's confirmation,
// and waits for the result in the group.
func pressCloseAndWaitResult(t *testing.T, h *harness, m telegramtest.Message) string {
	t.Helper()
	press(t, h, groupID, aliceID, m, "🔒 Kết thúc")
	var result string
	waitFor(t, func() bool {
		for _, m := range h.tg.BotMessages(groupID) {
			if strings.HasPrefix(m.Text, "📋") {
				result = m.Text
			}
		}
		return result != ""
	})
	return result
}

// A deadline is at most voting.max_deadline (90 days) ahead.
func TestBallotDeadlineWithinBound(t *testing.T) {
	t.Parallel()
	h := delegatesBot(t, harnessOpts{})
	h.expect(groupID, aliceID, "/motion Thông qua? deadline=99999d", "tối đa 90 ngày")
	h.expectNot(groupID, aliceID, "/ballots", "/ballot 1")
	openBallot(t, h, "/motion Thông qua? deadline=30d")
}

// Bidirectional controls typed into a title never reach a list: they
// would reverse the rest of the line, commands included.
func TestBidiControlsDoNotReachLists(t *testing.T) {
	t.Parallel()
	h, _, _ := ballotBot(t, harnessOpts{}, "/motion Thông qua \u202eđề án\u202c mới?")
	m := h.say(groupID, aliceID, "/ballots")
	if strings.ContainsAny(m.Text, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069") || !strings.Contains(m.Text, "Thông qua đề án mới?") {
		t.Errorf("/ballots: %q", m.Text)
	}
}

// The personal ballot says on whose behalf one votes: the unit, or (on a
// members ballot) one's own vote — never "you vote for TANDTC", which
// reads as a vote for a candidate.
func TestPersonalBallotSaysOnWhoseBehalf(t *testing.T) {
	t.Parallel()
	h, post, units := ballotBot(t, harnessOpts{}, "/elect head")
	// The post shows the pass mark and the quorum before anyone votes:
	// more than half of 3 units is 2, two thirds of 3 is 2.
	hasAll(t, "the ballot post", post.Text, "Mức đạt: 2/3 phiếu", "2/3 tham gia")
	h.expect(bobID, bobID, "/start "+units, "Bỏ phiếu thay mặt: TANDTC")
	_, members := openBallot(t, h, "/motion Thông qua? electorate=members")
	h.expect(bobID, bobID, "/start "+members, "Phiếu của chính bạn")
}

// The result of a ballot is posted once, whoever closes it and however
// often: the last vote handled twice, /close after it, and a stop between
// asking for the result and closing (the result's job closes the ballot
// itself).
func TestResultIsPostedOnceWhateverStops(t *testing.T) {
	t.Parallel()
	h, _, payload := ballotBot(t, harnessOpts{env: map[string]string{"COMMITTEEBOT_REMINDERS_TICK": "20ms"}}, "/motion Thông qua chương trình?")
	castVote(t, h, bobID, payload, "Tán thành")
	castVote(t, h, carolID, payload, "Tán thành")
	// Dave's vote, the last, is delivered twice (a retry after a stop).
	_, qid, raw := submitPress(t, h, daveID, payload, "Tán thành")
	var press map[string]json.RawMessage
	if err := json.Unmarshal(raw, &press); err != nil {
		t.Fatal(err)
	}
	delete(press, "update_id")
	h.tg.EnqueueUpdate(press)
	h.tg.EnqueueUpdate(press)
	callbackAnswers(t, h, qid, 2)
	waitFor(t, func() bool { return countMessages(h, groupID, "📋 Kết quả") == 1 })
	h.expect(groupID, aliceID, "/close 1", "đã kết thúc")

	// A second ballot: the handler asked for the result and stopped before
	// closing. The job closes it and posts the result; votes stop.
	_, payload2 := openBallot(t, h, "/motion Thông qua kế hoạch?")
	castVote(t, h, bobID, payload2, "Tán thành")
	ctx := context.Background()
	sched := storage.NewScheduler(h.rd.Client(), storage.NewKeys(h.rd.Prefix()), time.Minute)
	p, _ := json.Marshal(map[string]string{"c": "1", "b": "2"})
	if err := sched.ScheduleOnce(ctx, storage.Job{ID: "bres.1.2", Kind: "ballot_result", Payload: p, DueAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return countMessages(h, groupID, "📋 Kết quả") == 2 })
	h.expect(carolID, carolID, "/start "+payload2, "đã kết thúc")
	h.quiet(groupID)
	if n := countMessages(h, groupID, "📋 Kết quả"); n != 2 {
		t.Errorf("%d results posted, want 2 (one per ballot)", n)
	}
}
