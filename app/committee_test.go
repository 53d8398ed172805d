package app_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/internal/clocktest"
	"github.com/committeebot/committeebot/storage"
)

var update = flag.Bool("update", false, "rewrite golden files")

var inviteLink = regexp.MustCompile(`https://t\.me/` + botName + `\?start=([A-Za-z0-9_-]+)`)

// setupBloc binds the test group to a bloc with units, as the group's
// administrator Alice would.
func setupBloc(t *testing.T, h *harness, units ...string) {
	t.Helper()
	h.require(groupID, aliceID, "/setup Khối thi đua Nội chính", "Đã lập khối")
	for _, u := range units {
		h.require(groupID, aliceID, "/unit_add "+u, "Đã thêm đơn vị")
	}
}

// seat is a delegate to be: user, for the unit of code unit.
type seat struct {
	user int64
	unit string
}

// blocOf binds the test group to a bloc with units, as setupBloc does,
// and has each seat's user join their unit through an invite.
func blocOf(t *testing.T, h *harness, units []string, seats []seat) {
	t.Helper()
	setupBloc(t, h, units...)
	for _, s := range seats {
		join(t, h, s.user, invite(t, h, s.unit))
	}
}

// invite makes an invite for unit as Alice, in the group, and returns the
// token the bot sent her privately.
func invite(t *testing.T, h *harness, unit string) string {
	t.Helper()
	last := 0
	if msgs := h.tg.BotMessages(aliceID); len(msgs) > 0 {
		last = msgs[len(msgs)-1].MessageID
	}
	h.require(groupID, aliceID, "/invite "+unit, "Đã gửi riêng")
	// The private message and the group's answer leave the outbox
	// independently: wait for the private one.
	m := h.waitReply(aliceID, last)
	match := inviteLink.FindStringSubmatch(m.Text)
	if match == nil {
		t.Fatalf("no invite link in %q", m.Text)
	}
	return match[1]
}

// join makes user a delegate with the invite token, and waits for the
// group to be told.
func join(t *testing.T, h *harness, user int64, token string) {
	t.Helper()
	before := len(h.tg.BotMessages(groupID))
	h.require(user, user, "/start "+token, "Chào mừng")
	waitFor(t, func() bool {
		msgs := h.tg.BotMessages(groupID)
		return len(msgs) > before && strings.Contains(msgs[len(msgs)-1].Text, "đã tham gia")
	})
}

func TestSetupByGroupAdminOnly(t *testing.T) {
	t.Parallel()
	h := startBot(t, harnessOpts{})
	h.expectEach(t, []exchange{
		{"a plain member's setup", groupID, bobID, "/setup Khối X", []string{"Chỉ quản trị viên"}},
		{"status before setup", groupID, bobID, "/status", []string{"chưa gắn với khối"}},
		{"setup in a private chat", aliceID, aliceID, "/setup Khối X", []string{"chỉ dùng trong nhóm"}},
	})
	if m := h.say(groupID, aliceID, "/setup"); !strings.Contains(m.Text, "Khối thi đua &lt;Test&gt; &amp; Co") && !strings.Contains(m.Text, "Khối thi đua <Test> & Co") {
		t.Errorf("/setup without a name should use the group title, answered %q", m.Text)
	}
	h.expect(groupID, adminID, "/setup Khác", "đã là khối")
}

func TestInviteJoinAndMembers(t *testing.T) {
	t.Parallel()
	h := startBot(t, harnessOpts{})
	setupBloc(t, h, "TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước")
	token := invite(t, h, "TANDTC")

	join(t, h, bobID, token)
	m := h.say(groupID, carolID, "/members")
	hasAll(t, "/members", m.Text, "TANDTC", "Bob", "@bob", "Chưa có đại diện: KTNN")
	h.expect(groupID, carolID, "/units", "Bob", "chưa có đại diện")
	// Bob, now a delegate, sees his unit in private.
	h.expect(bobID, bobID, "/start", "TANDTC")
	// The same link a second time.
	h.expect(carolID, carolID, "/start "+token, "đã được dùng")
	// A non-admin cannot invite.
	h.expect(groupID, bobID, "/invite KTNN", "Chỉ thư ký khối")
}

func TestInviteOpenedByTwoUsersAtOnceMakesOneDelegate(t *testing.T) {
	t.Parallel()
	h := startBot(t, harnessOpts{})
	setupBloc(t, h, "TANDTC Tòa án nhân dân tối cao")
	token := invite(t, h, "TANDTC")

	users := []int64{bobID, carolID, daveID}
	h.sendAtOnce(users, "/start "+token)
	h.quiet(groupID)
	got := h.waitOutcomes(users, 3, func(text string) string {
		switch {
		case strings.Contains(text, "Chào mừng"):
			return "welcomed"
		case strings.Contains(text, "đã được dùng"):
			return "refused"
		}
		return ""
	})
	if got["welcomed"] != 1 || got["refused"] != 2 {
		t.Errorf("welcomed %d, refused %d; want exactly one delegate", got["welcomed"], got["refused"])
	}
	if m := h.say(groupID, aliceID, "/members"); strings.Count(m.Text, "👤") != 1 {
		t.Errorf("/members lists %d delegates, want 1: %q", strings.Count(m.Text, "👤"), m.Text)
	}
}

func TestExpiredAndForgedInvitesAreRefused(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Date(2024, 4, 1, 9, 0, 0, 0, time.UTC))
	h := startBot(t, harnessOpts{appOpts: []app.Option{app.WithClock(clock.Now)}})
	setupBloc(t, h, "TANDTC Tòa án nhân dân tối cao")
	token := invite(t, h, "TANDTC")
	for _, forged := range []string{"abc", strings.ToUpper(token), token + "x", "<b>x</b>"} {
		h.expect(bobID, bobID, "/start "+forged, "không hợp lệ")
	}
	clock.Advance(8 * 24 * time.Hour)
	h.expect(bobID, bobID, "/start "+token, "hết hạn")
	h.expectNot(groupID, aliceID, "/members", "Bob")
}

// secondBloc makes another group, created by creator with members, and
// binds it to a bloc "Khối B" as its creator would.
func secondBloc(t *testing.T, h *harness, chatID, creator int64, members ...int64) {
	t.Helper()
	ms := []telegramtest.Member{{UserID: creator, Status: "creator"}}
	for _, m := range members {
		ms = append(ms, telegramtest.Member{UserID: m, Status: "member"})
	}
	h.tg.AddGroup(telegramtest.Chat{ID: chatID, Type: "supergroup", Title: "Khối B"}, ms...)
	h.require(chatID, creator, "/setup Khối B", "Đã lập khối")
}

func TestTwoCommitteesCannotSeeEachOther(t *testing.T) {
	t.Parallel()
	h := startBot(t, harnessOpts{})
	const otherGroup = -1001600
	setupBloc(t, h, "TANDTC Tòa án nhân dân tối cao")
	secondBloc(t, h, otherGroup, daveID, carolID)
	h.require(otherGroup, daveID, "/unit_add BYT Bộ Y tế", "Đã thêm")
	a := h.say(groupID, carolID, "/units")
	b := h.say(otherGroup, carolID, "/units")
	hasAll(t, "bloc A's units", a.Text, "TANDTC")
	hasNone(t, "bloc A's units", a.Text, "BYT")
	hasAll(t, "bloc B's units", b.Text, "BYT")
	hasNone(t, "bloc B's units", b.Text, "TANDTC")
	// Alice administers group A only: in group B she is nobody.
	h.tg.SetMemberStatus(otherGroup, aliceID, "member")
	h.expect(otherGroup, aliceID, "/unit_remove BYT", "Chỉ thư ký khối")
	// Nor can she act on bloc B with a forged button.
	m := h.say(groupID, aliceID, "/unit_remove TANDTC")
	h.pressData(groupID, aliceID, m.MessageID, "urmok:2:BYT")
	h.expect(otherGroup, daveID, "/units", "BYT")
}

func TestCovenantSigningToCompletion(t *testing.T) {
	t.Parallel()
	h := startBot(t, harnessOpts{})
	blocOf(t, h, []string{"TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước"}, []seat{{bobID, "TANDTC"}, {carolID, "KTNN"}})

	h.expect(groupID, bobID, "/covenant 2024 | Giao ước", "Chỉ thư ký khối")
	h.expect(groupID, aliceID, "/covenant 2024 Giao ước", "Cách dùng")
	m := h.say(groupID, aliceID, "/covenant 2024 | Giao ước thi đua năm 2024")
	if !strings.Contains(m.Text, "Giao ước thi đua năm 2024") || len(m.ReplyMarkup) == 0 {
		t.Fatalf("/covenant answered %q", m.Text)
	}
	h.expect(groupID, daveID, "/sign", "dành cho đại diện")
	h.expect(bobID, bobID, "/sign", "1/2")
	h.expect(bobID, bobID, "/sign", "đã ký")
	// Carol signs with the button under the group message.
	h.pressData(groupID, carolID, m.MessageID, m.ReplyMarkup[0][0].CallbackData)
	waitFor(t, func() bool { return count(h, groupID, "Tất cả 2 đơn vị đã ký") > 0 })
	h.quiet(groupID)
	if n := count(h, groupID, "Tất cả 2 đơn vị đã ký"); n != 1 {
		t.Errorf("the group was told %d times that everyone signed, want once", n)
	}
	h.expect(groupID, daveID, "/covenant", "2/2")
}

func TestBadUnitInputChangesNothing(t *testing.T) {
	t.Parallel()
	h := startBot(t, harnessOpts{})
	setupBloc(t, h, "TANDTC Tòa án nhân dân tối cao")
	tests := []struct {
		args string
		want string
	}{
		{"TAND TC Tòa án", "Đã thêm"}, // "TAND" is a fine code; "TC Tòa án" the name
		{"tandtc Tòa án", "không hợp lệ"},
		{strings.Repeat("A", 40) + " Tên", "không hợp lệ"},
		{"<b>X</b> Tên", "không hợp lệ"},
		{"TANDTC Trùng mã", "Đã có đơn vị"},
		{"KTNN", "Cách dùng"},
		{"KTNN " + strings.Repeat("x", 201), "1 đến 200"},
	}
	for _, tt := range tests {
		m := h.say(groupID, aliceID, "/unit_add "+tt.args)
		if !strings.Contains(m.Text, tt.want) {
			t.Errorf("/unit_add %.30q answered %q, want %q", tt.args, m.Text, tt.want)
		}
	}
	m := h.say(groupID, bobID, "/units")
	if got := strings.Count(m.Text, "\n\n"); got != 2 {
		t.Errorf("/units lists %d units, want 2 (TANDTC, TAND): %q", got, m.Text)
	}
	hasNone(t, "/units after the refusals", m.Text, "<b>X", "tandtc")
}

func TestUnitAddStepByStep(t *testing.T) {
	t.Parallel()
	h := startBot(t, harnessOpts{})
	setupBloc(t, h)
	h.require(groupID, aliceID, "/unit_add", "nhắn riêng")
	prompt := h.tg.BotMessages(aliceID)
	if len(prompt) == 0 || !strings.Contains(prompt[len(prompt)-1].Text, "Mã đơn vị") {
		t.Fatalf("no private question: %+v", prompt)
	}
	h.expect(aliceID, aliceID, "bad code", "không hợp lệ")
	h.expect(aliceID, aliceID, "KTNN", "Tên đầy đủ")
	h.expect(aliceID, aliceID, "Kiểm toán nhà nước", "Đã thêm đơn vị")
	// Cancel in the middle leaves nothing behind.
	h.say(aliceID, aliceID, "/unit_add")
	h.expect(aliceID, aliceID, "/cancel", "Đã huỷ")
	h.expect(aliceID, aliceID, "BTP", "chỉ hiểu các lệnh")
}

func TestRolesAndStatusCardGolden(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Date(2024, 4, 10, 8, 0, 0, 0, time.UTC))
	h := startBot(t, harnessOpts{appOpts: []app.Option{app.WithClock(clock.Now)}})
	blocOf(t, h, []string{"TANDTC Tòa án nhân dân tối cao", "VKSNDTC Viện kiểm sát nhân dân tối cao", "KTNN Kiểm toán nhà nước"}, []seat{{bobID, "TANDTC"}})
	h.expect(groupID, aliceID, "/role TANDTC head", "Khối trưởng")
	h.expect(groupID, aliceID, "/role VKSNDTC deputy", "Khối phó")
	h.expect(groupID, aliceID, "/role KTNN chair", "Cách dùng")
	h.say(groupID, aliceID, "/covenant 2024 | Giao ước thi đua năm 2024")
	h.say(bobID, bobID, "/sign")

	golden(t, "status_vi", h.say(groupID, carolID, "/status").HTML)
	h.say(bobID, bobID, "/lang en")
	golden(t, "status_en", h.say(bobID, bobID, "/status").HTML)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from %s:\n--- want\n%s\n--- got\n%s", name, path, want, got)
	}
}

// testClock is a clock a test moves by hand.
// testClock is the step clock the bot under test reads.
type testClock = clocktest.Clock

// press presses the button labelled label on message m and waits for the
// answer.
func press(t *testing.T, h *harness, chat, user int64, m telegramtest.Message, label string) {
	t.Helper()
	for _, row := range m.ReplyMarkup {
		for _, b := range row {
			if b.Text == label {
				h.pressData(chat, user, m.MessageID, b.CallbackData)
				h.settle()
				return
			}
		}
	}
	t.Fatalf("no button %q on %q", label, m.Text)
}

// current is the message as it is now (after edits).
func current(h *harness, chat int64, m telegramtest.Message) telegramtest.Message {
	cur, _ := h.tg.Message(chat, m.MessageID)
	return cur
}

func TestAdminButtonsRemoveUnitsSetRolesAndRemoveDelegates(t *testing.T) {
	t.Parallel()
	h := delegatesBot(t, harnessOpts{})

	// Role by buttons: unit, then role.
	m := h.say(groupID, aliceID, "/role")
	press(t, h, groupID, aliceID, m, "KTNN")
	press(t, h, groupID, aliceID, current(h, groupID, m), "Khối trưởng")
	if got := current(h, groupID, m).Text; !strings.Contains(got, "KTNN là Khối trưởng") {
		t.Errorf("after the role buttons the message reads %q", got)
	}
	// A delegate pressing an admin's button is refused.
	m = h.say(groupID, aliceID, "/unit_remove")
	press(t, h, groupID, bobID, m, "TANDTC")
	if got := current(h, groupID, m).Text; strings.Contains(got, "Bỏ đơn vị") {
		t.Errorf("a delegate's press went through: %q", got)
	}
	// Remove a unit: confirm, and its delegate goes with it.
	press(t, h, groupID, aliceID, m, "KTNN")
	press(t, h, groupID, aliceID, current(h, groupID, m), "🗑 Bỏ")
	if got := current(h, groupID, m).Text; !strings.Contains(got, "Đã bỏ đơn vị KTNN") {
		t.Errorf("after confirming the message reads %q", got)
	}
	st := h.say(groupID, daveID, "/status")
	hasAll(t, "/status after removing KTNN (the head)", st.Text, "2 đơn vị")
	hasNone(t, "/status after removing KTNN (the head)", st.Text, "KTNN")
	if r := h.say(carolID, carolID, "/sign"); !strings.Contains(r.Text, "chưa là đại diện") && !strings.Contains(r.Text, "dành cho đại diện") {
		t.Errorf("Carol, delegate of a removed unit, got %q", r.Text)
	}
	// Remove a delegate by @username: Dave is told privately.
	h.expect(groupID, aliceID, "/delegate_remove @dave", "Đã bỏ Dave")
	waitFor(t, func() bool {
		msgs := h.tg.BotMessages(daveID)
		return len(msgs) > 0 && strings.Contains(msgs[len(msgs)-1].Text, "đã bỏ bạn")
	})
	// Bob leaves by himself.
	h.expect(bobID, bobID, "/leave", "thôi làm đại diện")
	h.expectNot(groupID, aliceID, "/members", "👤")
}

func TestBlocFollowsItsGroupAndSurvivesRemoval(t *testing.T) {
	t.Parallel()
	h := startBot(t, harnessOpts{})
	setupBloc(t, h, "TANDTC Tòa án nhân dân tối cao")
	const super = -1009999
	h.tg.AddGroup(telegramtest.Chat{ID: super, Type: "supergroup", Title: "Khối (siêu nhóm)"},
		telegramtest.Member{UserID: aliceID, Status: "creator"},
		telegramtest.Member{UserID: bobID, Status: "member"})
	// Telegram upgrades the group: a service message in each chat.
	h.tg.EnqueueUpdate(map[string]any{"message": map[string]any{
		"message_id": 900, "date": 1, "chat": map[string]any{"id": groupID, "type": "group", "title": "Khối"},
		"from": map[string]any{"id": aliceID, "is_bot": false, "first_name": "Alice"}, "migrate_to_chat_id": super,
	}})
	h.quiet(groupID)
	h.expect(super, bobID, "/units", "TANDTC")
	// The bot is removed from the supergroup: the bloc is detached, its
	// data kept.
	botMembership(h, super, 2, "member", "kicked")
	h.quiet(super)
	h.expect(super, bobID, "/units", "chưa gắn với khối")
	// Added back: the bloc returns with its data.
	botMembership(h, super, 3, "left", "member")
	waitFor(t, func() bool { return countMessages(h, super, "👋 Tôi đã trở lại") == 1 })
	h.expect(super, bobID, "/units", "TANDTC")
}

// botMembership enqueues the update Telegram sends when Alice changes the
// bot's status in the supergroup chat from one status to another; date
// orders the updates.
func botMembership(h *harness, chat int64, date int, from, to string) {
	bot := map[string]any{"id": 1, "is_bot": true, "first_name": "Bot"}
	h.tg.EnqueueUpdate(map[string]any{"my_chat_member": map[string]any{
		"chat": map[string]any{"id": chat, "type": "supergroup", "title": "Khối"},
		"from": map[string]any{"id": aliceID, "is_bot": false, "first_name": "Alice"}, "date": date,
		"old_chat_member": map[string]any{"user": bot, "status": from},
		"new_chat_member": map[string]any{"user": bot, "status": to},
	}})
}

// An invite of another unit moves a delegate only when they confirm,
// naming both units; the group hears of the move; a repeated /start with
// the same link is a quiet "you are already …".
func TestInviteOfAnotherUnitAsksBeforeMoving(t *testing.T) {
	t.Parallel()
	h := startBot(t, harnessOpts{})
	blocOf(t, h, []string{"TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước"}, []seat{{bobID, "TANDTC"}})
	token := invite(t, h, "KTNN")
	ask := h.say(bobID, bobID, "/start "+token)
	if !strings.Contains(ask.Text, "TANDTC") || !strings.Contains(ask.Text, "KTNN") {
		t.Fatalf("the move was not asked, naming both units: %q", ask.Text)
	}
	if m := h.say(groupID, aliceID, "/members"); !strings.Contains(m.Text, "TANDTC") || strings.Contains(m.Text, "Chưa có đại diện: TANDTC") {
		t.Errorf("Bob moved before confirming: %q", m.Text)
	}
	before := len(h.tg.BotMessages(groupID))
	press(t, h, bobID, bobID, ask, "🔁 Chuyển sang KTNN")
	if got := current(h, bobID, ask).Text; !strings.Contains(got, "đã chuyển từ TANDTC") {
		t.Errorf("after confirming: %q", got)
	}
	waitFor(t, func() bool {
		msgs := h.tg.BotMessages(groupID)
		return len(msgs) > before && strings.Contains(msgs[len(msgs)-1].Text, "đã chuyển từ")
	})
	before = len(h.tg.BotMessages(groupID))
	if m := h.say(bobID, bobID, "/start "+token); !strings.Contains(m.Text, "Bạn đã là đại diện của <b>KTNN</b>") && !strings.Contains(m.Text, "Bạn đã là đại diện của KTNN") {
		t.Errorf("a repeated /start answered %q", m.Text)
	}
	h.quiet(groupID)
	if n := len(h.tg.BotMessages(groupID)); n != before {
		t.Errorf("a repeated /start told the group again (%d new messages)", n-before)
	}
}

// New delegates are told to the group in one message per minute, naming
// everyone who joined in it: a hundred joins cost the group's 20 messages
// a minute one message, not five minutes of its budget.
func TestJoinsAreToldOncePerMinute(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Date(2025, 1, 10, 2, 0, 10, 0, time.UTC))
	h := startBot(t, harnessOpts{
		env:     map[string]string{"COMMITTEEBOT_BOT_JOIN_DIGEST": "1m", "COMMITTEEBOT_REMINDERS_TICK": "20ms"},
		appOpts: []app.Option{app.WithClock(clock.Now), app.WithOutboxLimits(storage.OutboxLimits{})},
	})
	setupBloc(t, h, "TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước", "BTP Bộ Tư pháp")
	before := len(h.tg.BotMessages(groupID))
	for user, unit := range map[int64]string{bobID: "TANDTC", daveID: "BTP"} {
		sent := h.tg.SendText(user, user, "/start "+invite(t, h, unit))
		if m := h.waitReply(user, sent.MessageID); !strings.Contains(m.Text, "Chào mừng") {
			t.Fatalf("joining %s: %q", unit, m.Text)
		}
		// The same update delivered again (a retry) tells nothing twice.
		h.tg.Redeliver(sent.UpdateID)
		h.settle()
	}
	// Carol's invite is redeemed, and the handling stops right there (a
	// crash): her /start, delivered again, still gets her join told.
	token := invite(t, h, "KTNN")
	cs := storage.NewCommittees(h.rd.Client(), storage.NewKeys(h.rd.Prefix()), storage.WithClock(clock.Now))
	if _, err := cs.Redeem(context.Background(), token, domain.Delegate{UserID: carolID, Name: "Carol", Username: "carol"}, false); err != nil {
		t.Fatal(err)
	}
	if m := h.say(carolID, carolID, "/start "+token); !strings.Contains(m.Text, "Bạn đã là đại diện của <b>KTNN") && !strings.Contains(m.Text, "Bạn đã là đại diện của KTNN") {
		t.Fatalf("Carol's /start after the stop: %q", m.Text)
	}
	// Dave moves from BTP to KTNN in the same minute: told in the digest.
	ask := h.say(daveID, daveID, "/start "+invite(t, h, "KTNN"))
	press(t, h, daveID, daveID, ask, "🔁 Chuyển sang KTNN")
	h.quiet(groupID)
	for _, m := range h.tg.BotMessages(groupID)[before:] {
		if strings.Contains(m.Text, "tham gia") {
			t.Fatalf("a join was told before the minute ended: %q", m.Text)
		}
	}
	clock.Advance(time.Minute)
	waitFor(t, func() bool { return countMessages(h, groupID, "👋 3 người đã tham gia") == 1 })
	h.quiet(groupID)
	last := h.tg.BotMessages(groupID)
	text := last[len(last)-1].Text
	hasAll(t, "the digest", text, "Bob (TANDTC)", "Carol (KTNN)", "Dave (BTP)", "🔁 Dave đã chuyển từ BTP sang KTNN")
	if n := countMessages(h, groupID, "🔁"); n != 0 {
		t.Errorf("the move was also told on its own (%d messages)", n)
	}
	if n := countMessages(h, groupID, "👋"); n != 1 {
		t.Errorf("%d join messages, want one", n)
	}
}

// The emulation year turns by itself on 1 January in the bloc's time zone,
// once across replicas, and never backwards over a /year correction.
func TestYearTurnsOnTheFirstOfJanuary(t *testing.T) {
	t.Parallel()
	// 31 December 2025, 16:00 UTC = 23:00 in Hanoi.
	clock := clocktest.New(time.Date(2025, 12, 31, 16, 0, 0, 0, time.UTC))
	opts := []app.Option{app.WithClock(clock.Now), app.WithOutboxLimits(storage.OutboxLimits{})}
	h := startBot(t, harnessOpts{env: map[string]string{"COMMITTEEBOT_REMINDERS_TICK": "20ms"}, appOpts: opts})
	h.startReplica("second", opts...)
	setupBloc(t, h, "TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước")
	h.require(groupID, aliceID, "/year", "2025")
	clock.Advance(time.Hour + time.Minute) // 00:01 on 1 January in Hanoi
	waitFor(t, func() bool { return countMessages(h, groupID, "🎆") == 1 })
	h.quiet(groupID)
	if n := countMessages(h, groupID, "🎆"); n != 1 {
		t.Errorf("the new year was told %d times, want once", n)
	}
	h.expect(groupID, aliceID, "/year", "2026")
}
