package app_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/internal/clocktest"
	"github.com/committeebot/committeebot/storage"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestSetupByGroupAdminOnly(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	h.ExpectEach(t, []apptest.Exchange{
		apptest.Step("a plain member's setup", groupID, bobID, "/setup Khối X", "Chỉ quản trị viên"),
		apptest.Step("status before setup", groupID, bobID, "/status", "chưa gắn với khối"),
		apptest.Step("setup in a private chat", aliceID, aliceID, "/setup Khối X", "chỉ dùng trong nhóm"),
	})
	if m := h.Say(groupID, aliceID, "/setup"); !strings.Contains(m.Text, "Khối thi đua &lt;Test&gt; &amp; Co") && !strings.Contains(m.Text, "Khối thi đua <Test> & Co") {
		t.Errorf("/setup without a name should use the group title, answered %q", m.Text)
	}
	h.Expect(groupID, adminID, "/setup Khác", "đã là khối")
}

func TestInviteJoinAndMembers(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	apptest.SetupBloc(t, h, "TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước")
	token := apptest.Invite(t, h, "TANDTC")

	apptest.Join(t, h, bobID, token)
	m := h.Say(groupID, carolID, "/members")
	apptest.HasAll(t, "/members", m.Text, "TANDTC", "Bob", "@bob", "Chưa có đại diện: KTNN")
	h.Expect(groupID, carolID, "/units", "Bob", "chưa có đại diện")
	// Bob, now a delegate, sees his unit in private.
	h.Expect(bobID, bobID, "/start", "TANDTC")
	// The same link a second time.
	h.Expect(carolID, carolID, "/start "+token, "đã được dùng")
	// A non-admin cannot invite.
	h.Expect(groupID, bobID, "/invite KTNN", "Chỉ thư ký khối")
}

func TestInviteOpenedByTwoUsersAtOnceMakesOneDelegate(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	apptest.SetupBloc(t, h, "TANDTC Tòa án nhân dân tối cao")
	token := apptest.Invite(t, h, "TANDTC")

	users := []int64{bobID, carolID, daveID}
	h.SendAtOnce(users, "/start "+token)
	h.Quiet(groupID)
	got := h.WaitOutcomes(users, 3, func(text string) string {
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
	if m := h.Say(groupID, aliceID, "/members"); strings.Count(m.Text, "👤") != 1 {
		t.Errorf("/members lists %d delegates, want 1: %q", strings.Count(m.Text, "👤"), m.Text)
	}
}

func TestExpiredAndForgedInvitesAreRefused(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Date(2024, 4, 1, 9, 0, 0, 0, time.UTC))
	h := apptest.StartBot(t, apptest.Options{AppOpts: []app.Option{app.WithClock(clock.Now)}})
	apptest.SetupBloc(t, h, "TANDTC Tòa án nhân dân tối cao")
	token := apptest.Invite(t, h, "TANDTC")
	for _, forged := range []string{"abc", strings.ToUpper(token), token + "x", "<b>x</b>"} {
		h.Expect(bobID, bobID, "/start "+forged, "không hợp lệ")
	}
	clock.Advance(8 * 24 * time.Hour)
	h.Expect(bobID, bobID, "/start "+token, "hết hạn")
	h.ExpectNot(groupID, aliceID, "/members", "Bob")
}

// secondBloc makes another group, created by creator with members, and
// binds it to a bloc "Khối B" as its creator would.
func secondBloc(t *testing.T, h *apptest.Harness, chatID, creator int64, members ...int64) {
	t.Helper()
	ms := []telegramtest.Member{{UserID: creator, Status: "creator"}}
	for _, m := range members {
		ms = append(ms, telegramtest.Member{UserID: m, Status: "member"})
	}
	h.TG.AddGroup(telegramtest.Chat{ID: chatID, Type: "supergroup", Title: "Khối B"}, ms...)
	h.Require(chatID, creator, "/setup Khối B", "Đã lập khối")
}

func TestTwoCommitteesCannotSeeEachOther(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	const otherGroup = -1001600
	apptest.SetupBloc(t, h, "TANDTC Tòa án nhân dân tối cao")
	secondBloc(t, h, otherGroup, daveID, carolID)
	h.Require(otherGroup, daveID, "/unit_add BYT Bộ Y tế", "Đã thêm")
	a := h.Say(groupID, carolID, "/units")
	b := h.Say(otherGroup, carolID, "/units")
	apptest.HasAll(t, "bloc A's units", a.Text, "TANDTC")
	apptest.HasNone(t, "bloc A's units", a.Text, "BYT")
	apptest.HasAll(t, "bloc B's units", b.Text, "BYT")
	apptest.HasNone(t, "bloc B's units", b.Text, "TANDTC")
	// Alice administers group A only: in group B she is nobody.
	h.TG.SetMemberStatus(otherGroup, aliceID, "member")
	h.Expect(otherGroup, aliceID, "/unit_remove BYT", "Chỉ thư ký khối")
	// Nor can she act on bloc B with a forged button.
	m := h.Say(groupID, aliceID, "/unit_remove TANDTC")
	h.PressData(groupID, aliceID, m.MessageID, "urmok:2:BYT")
	h.Expect(otherGroup, daveID, "/units", "BYT")
}

func TestCovenantSigningToCompletion(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	apptest.BlocOf(t, h, []string{"TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước"}, []apptest.Seat{{User: bobID, Unit: "TANDTC"}, {User: carolID, Unit: "KTNN"}})

	h.Expect(groupID, bobID, "/covenant 2024 | Giao ước", "Chỉ thư ký khối")
	h.Expect(groupID, aliceID, "/covenant 2024 Giao ước", "Cách dùng")
	m := h.Say(groupID, aliceID, "/covenant 2024 | Giao ước thi đua năm 2024")
	if !strings.Contains(m.Text, "Giao ước thi đua năm 2024") || len(m.ReplyMarkup) == 0 {
		t.Fatalf("/covenant answered %q", m.Text)
	}
	h.Expect(groupID, daveID, "/sign", "dành cho đại diện")
	h.Expect(bobID, bobID, "/sign", "1/2")
	h.Expect(bobID, bobID, "/sign", "đã ký")
	// Carol signs with the button under the group message.
	h.PressData(groupID, carolID, m.MessageID, m.ReplyMarkup[0][0].CallbackData)
	apptest.WaitFor(t, func() bool { return apptest.Count(h, groupID, "Tất cả 2 đơn vị đã ký") > 0 })
	h.Quiet(groupID)
	if n := apptest.Count(h, groupID, "Tất cả 2 đơn vị đã ký"); n != 1 {
		t.Errorf("the group was told %d times that everyone signed, want once", n)
	}
	h.Expect(groupID, daveID, "/covenant", "2/2")
}

func TestBadUnitInputChangesNothing(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	apptest.SetupBloc(t, h, "TANDTC Tòa án nhân dân tối cao")
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
		m := h.Say(groupID, aliceID, "/unit_add "+tt.args)
		if !strings.Contains(m.Text, tt.want) {
			t.Errorf("/unit_add %.30q answered %q, want %q", tt.args, m.Text, tt.want)
		}
	}
	m := h.Say(groupID, bobID, "/units")
	if got := strings.Count(m.Text, "\n\n"); got != 2 {
		t.Errorf("/units lists %d units, want 2 (TANDTC, TAND): %q", got, m.Text)
	}
	apptest.HasNone(t, "/units after the refusals", m.Text, "<b>X", "tandtc")
}

func TestUnitAddStepByStep(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	apptest.SetupBloc(t, h)
	h.Require(groupID, aliceID, "/unit_add", "nhắn riêng")
	prompt := h.TG.BotMessages(aliceID)
	if len(prompt) == 0 || !strings.Contains(prompt[len(prompt)-1].Text, "Mã đơn vị") {
		t.Fatalf("no private question: %+v", prompt)
	}
	h.Expect(aliceID, aliceID, "bad code", "không hợp lệ")
	h.Expect(aliceID, aliceID, "KTNN", "Tên đầy đủ")
	h.Expect(aliceID, aliceID, "Kiểm toán nhà nước", "Đã thêm đơn vị")
	// Cancel in the middle leaves nothing behind.
	h.Say(aliceID, aliceID, "/unit_add")
	h.Expect(aliceID, aliceID, "/cancel", "Đã huỷ")
	h.Expect(aliceID, aliceID, "BTP", "chỉ hiểu các lệnh")
}

func TestRolesAndStatusCardGolden(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Date(2024, 4, 10, 8, 0, 0, 0, time.UTC))
	h := apptest.StartBot(t, apptest.Options{AppOpts: []app.Option{app.WithClock(clock.Now)}})
	apptest.BlocOf(t, h, []string{"TANDTC Tòa án nhân dân tối cao", "VKSNDTC Viện kiểm sát nhân dân tối cao", "KTNN Kiểm toán nhà nước"}, []apptest.Seat{{User: bobID, Unit: "TANDTC"}})
	h.Expect(groupID, aliceID, "/role TANDTC head", "Khối trưởng")
	h.Expect(groupID, aliceID, "/role VKSNDTC deputy", "Khối phó")
	h.Expect(groupID, aliceID, "/role KTNN chair", "Cách dùng")
	h.Say(groupID, aliceID, "/covenant 2024 | Giao ước thi đua năm 2024")
	h.Say(bobID, bobID, "/sign")

	golden(t, "status_vi", h.Say(groupID, carolID, "/status").HTML)
	h.Say(bobID, bobID, "/lang en")
	golden(t, "status_en", h.Say(bobID, bobID, "/status").HTML)
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

func TestAdminButtonsRemoveUnitsSetRolesAndRemoveDelegates(t *testing.T) {
	t.Parallel()
	h := apptest.DelegatesBot(t, apptest.Options{})

	// Role by buttons: unit, then role.
	m := h.Say(groupID, aliceID, "/role")
	apptest.Press(t, h, groupID, aliceID, m, "KTNN")
	apptest.Press(t, h, groupID, aliceID, apptest.Current(h, groupID, m), "Khối trưởng")
	if got := apptest.Current(h, groupID, m).Text; !strings.Contains(got, "KTNN là Khối trưởng") {
		t.Errorf("after the role buttons the message reads %q", got)
	}
	// A delegate pressing an admin's button is refused.
	m = h.Say(groupID, aliceID, "/unit_remove")
	apptest.Press(t, h, groupID, bobID, m, "TANDTC")
	if got := apptest.Current(h, groupID, m).Text; strings.Contains(got, "Bỏ đơn vị") {
		t.Errorf("a delegate's press went through: %q", got)
	}
	// Remove a unit: confirm, and its delegate goes with it.
	apptest.Press(t, h, groupID, aliceID, m, "KTNN")
	apptest.Press(t, h, groupID, aliceID, apptest.Current(h, groupID, m), "🗑 Bỏ")
	if got := apptest.Current(h, groupID, m).Text; !strings.Contains(got, "Đã bỏ đơn vị KTNN") {
		t.Errorf("after confirming the message reads %q", got)
	}
	st := h.Say(groupID, daveID, "/status")
	apptest.HasAll(t, "/status after removing KTNN (the head)", st.Text, "2 đơn vị")
	apptest.HasNone(t, "/status after removing KTNN (the head)", st.Text, "KTNN")
	if r := h.Say(carolID, carolID, "/sign"); !strings.Contains(r.Text, "chưa là đại diện") && !strings.Contains(r.Text, "dành cho đại diện") {
		t.Errorf("Carol, delegate of a removed unit, got %q", r.Text)
	}
	// Remove a delegate by @username: Dave is told privately.
	h.Expect(groupID, aliceID, "/delegate_remove @dave", "Đã bỏ Dave")
	apptest.WaitFor(t, func() bool {
		msgs := h.TG.BotMessages(daveID)
		return len(msgs) > 0 && strings.Contains(msgs[len(msgs)-1].Text, "đã bỏ bạn")
	})
	// Bob leaves by himself.
	h.Expect(bobID, bobID, "/leave", "thôi làm đại diện")
	h.ExpectNot(groupID, aliceID, "/members", "👤")
}

func TestBlocFollowsItsGroupAndSurvivesRemoval(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	apptest.SetupBloc(t, h, "TANDTC Tòa án nhân dân tối cao")
	const super = -1009999
	h.TG.AddGroup(telegramtest.Chat{ID: super, Type: "supergroup", Title: "Khối (siêu nhóm)"},
		telegramtest.Member{UserID: aliceID, Status: "creator"},
		telegramtest.Member{UserID: bobID, Status: "member"})
	// Telegram upgrades the group: a service message in each chat.
	h.TG.EnqueueUpdate(map[string]any{"message": map[string]any{
		"message_id": 900, "date": 1, "chat": map[string]any{"id": groupID, "type": "group", "title": "Khối"},
		"from": map[string]any{"id": aliceID, "is_bot": false, "first_name": "Alice"}, "migrate_to_chat_id": super,
	}})
	h.Quiet(groupID)
	h.Expect(super, bobID, "/units", "TANDTC")
	// The bot is removed from the supergroup: the bloc is detached, its
	// data kept.
	botMembership(h, super, 2, "member", "kicked")
	h.Quiet(super)
	h.Expect(super, bobID, "/units", "chưa gắn với khối")
	// Added back: the bloc returns with its data.
	botMembership(h, super, 3, "left", "member")
	apptest.WaitFor(t, func() bool { return apptest.CountMessages(h, super, "👋 Tôi đã trở lại") == 1 })
	h.Expect(super, bobID, "/units", "TANDTC")
}

// botMembership enqueues the update Telegram sends when Alice changes the
// bot's status in the supergroup chat from one status to another; date
// orders the updates.
func botMembership(h *apptest.Harness, chat int64, date int, from, to string) {
	bot := map[string]any{"id": 1, "is_bot": true, "first_name": "Bot"}
	h.TG.EnqueueUpdate(map[string]any{"my_chat_member": map[string]any{
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
	h := apptest.StartBot(t, apptest.Options{})
	apptest.BlocOf(t, h, []string{"TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước"}, []apptest.Seat{{User: bobID, Unit: "TANDTC"}})
	token := apptest.Invite(t, h, "KTNN")
	ask := h.Say(bobID, bobID, "/start "+token)
	if !strings.Contains(ask.Text, "TANDTC") || !strings.Contains(ask.Text, "KTNN") {
		t.Fatalf("the move was not asked, naming both units: %q", ask.Text)
	}
	if m := h.Say(groupID, aliceID, "/members"); !strings.Contains(m.Text, "TANDTC") || strings.Contains(m.Text, "Chưa có đại diện: TANDTC") {
		t.Errorf("Bob moved before confirming: %q", m.Text)
	}
	before := len(h.TG.BotMessages(groupID))
	apptest.Press(t, h, bobID, bobID, ask, "🔁 Chuyển sang KTNN")
	if got := apptest.Current(h, bobID, ask).Text; !strings.Contains(got, "đã chuyển từ TANDTC") {
		t.Errorf("after confirming: %q", got)
	}
	apptest.WaitFor(t, func() bool {
		msgs := h.TG.BotMessages(groupID)
		return len(msgs) > before && strings.Contains(msgs[len(msgs)-1].Text, "đã chuyển từ")
	})
	before = len(h.TG.BotMessages(groupID))
	if m := h.Say(bobID, bobID, "/start "+token); !strings.Contains(m.Text, "Bạn đã là đại diện của <b>KTNN</b>") && !strings.Contains(m.Text, "Bạn đã là đại diện của KTNN") {
		t.Errorf("a repeated /start answered %q", m.Text)
	}
	h.Quiet(groupID)
	if n := len(h.TG.BotMessages(groupID)); n != before {
		t.Errorf("a repeated /start told the group again (%d new messages)", n-before)
	}
}

// New delegates are told to the group in one message per minute, naming
// everyone who joined in it: a hundred joins cost the group's 20 messages
// a minute one message, not five minutes of its budget.
// redeemThenStop makes an invite to unit and redeems it for user as the
// invite script would for their /start, as if the handling had stopped
// right after it (a crash): nothing else of the /start is done. It
// returns the invite's token.
func redeemThenStop(t *testing.T, h *apptest.Harness, clock *apptest.Clock, unit string, user int64, name string) string {
	t.Helper()
	token := apptest.Invite(t, h, unit)
	cs := storage.NewCommittees(h.Redis.Client(), storage.NewKeys(h.Redis.Prefix()), storage.WithClock(clock.Now))
	if _, err := cs.Redeem(context.Background(), token, domain.Delegate{UserID: user, Name: name}, false); err != nil {
		t.Fatal(err)
	}
	return token
}

// With no digest period (bot.join_digest 0, the harness's), each join is
// told at once, once: a retried update tells nothing twice, a stop right
// after the invite was redeemed loses nothing, and a /start repeated a
// day later is quiet.
func TestEachJoinIsToldOnceWhateverStops(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Date(2025, 1, 10, 2, 0, 10, 0, time.UTC))
	h := apptest.StartBot(t, apptest.Options{AppOpts: []app.Option{app.WithClock(clock.Now)}})
	apptest.SetupBloc(t, h, "TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước")
	told := func(name string) int {
		return h.CountWhere(groupID, func(text string) bool { return strings.Contains(text, name+" đã tham gia") })
	}
	sent := h.TG.SendText(bobID, bobID, "/start "+apptest.Invite(t, h, "TANDTC"))
	if m := h.WaitReply(bobID, sent.MessageID); !strings.Contains(m.Text, "Chào mừng") {
		t.Fatalf("Bob joining: %q", m.Text)
	}
	apptest.WaitFor(t, func() bool { return told("Bob") == 1 }, h.Logs.String)
	// The same update delivered again (a retry) tells nothing twice.
	h.TG.Redeliver(sent.UpdateID)
	h.Settle()

	// Carol's invite is redeemed, and the handling stops right there (a
	// crash): her /start, delivered again, still gets her join told.
	token := redeemThenStop(t, h, clock, "KTNN", carolID, "Carol")
	clock.Advance(time.Minute)
	if m := h.Say(carolID, carolID, "/start "+token); !strings.Contains(m.Text, "Bạn đã là đại diện") {
		t.Fatalf("Carol's /start after the stop: %q", m.Text)
	}
	apptest.WaitFor(t, func() bool { return told("Carol") == 1 }, h.Logs.String)
	// Her /start again, and a day later: nothing more to tell.
	h.Say(carolID, carolID, "/start "+token)
	clock.Advance(25 * time.Hour)
	h.Say(carolID, carolID, "/start "+token)
	h.Quiet(groupID)
	if b, c := told("Bob"), told("Carol"); b != 1 || c != 1 {
		t.Errorf("joins told: Bob %d times, Carol %d times; want once each", b, c)
	}
}

func TestJoinsAreToldOncePerMinute(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Date(2025, 1, 10, 2, 0, 10, 0, time.UTC))
	h := apptest.StartBot(t, apptest.Options{
		Env:     map[string]string{"COMMITTEEBOT_BOT_JOIN_DIGEST": "1m", "COMMITTEEBOT_REMINDERS_TICK": "20ms"},
		AppOpts: []app.Option{app.WithClock(clock.Now), app.WithOutboxLimits(storage.OutboxLimits{})},
	})
	apptest.SetupBloc(t, h, "TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước", "BTP Bộ Tư pháp")
	before := len(h.TG.BotMessages(groupID))
	for user, unit := range map[int64]string{bobID: "TANDTC", daveID: "BTP"} {
		sent := h.TG.SendText(user, user, "/start "+apptest.Invite(t, h, unit))
		if m := h.WaitReply(user, sent.MessageID); !strings.Contains(m.Text, "Chào mừng") {
			t.Fatalf("joining %s: %q", unit, m.Text)
		}
		// The same update delivered again (a retry) tells nothing twice.
		h.TG.Redeliver(sent.UpdateID)
		h.Settle()
	}
	// Carol's invite is redeemed, and the handling stops right there (a
	// crash): her /start, delivered again, still gets her join told.
	token := redeemThenStop(t, h, clock, "KTNN", carolID, "Carol")
	if m := h.Say(carolID, carolID, "/start "+token); !strings.Contains(m.Text, "Bạn đã là đại diện của <b>KTNN") && !strings.Contains(m.Text, "Bạn đã là đại diện của KTNN") {
		t.Fatalf("Carol's /start after the stop: %q", m.Text)
	}
	// Dave moves from BTP to KTNN in the same minute: told in the digest.
	ask := h.Say(daveID, daveID, "/start "+apptest.Invite(t, h, "KTNN"))
	apptest.Press(t, h, daveID, daveID, ask, "🔁 Chuyển sang KTNN")
	h.Quiet(groupID)
	for _, m := range h.TG.BotMessages(groupID)[before:] {
		if strings.Contains(m.Text, "tham gia") {
			t.Fatalf("a join was told before the minute ended: %q", m.Text)
		}
	}
	clock.Advance(time.Minute)
	apptest.WaitFor(t, func() bool { return apptest.CountMessages(h, groupID, "👋 3 người đã tham gia") == 1 })
	h.Quiet(groupID)
	last := h.TG.BotMessages(groupID)
	text := last[len(last)-1].Text
	apptest.HasAll(t, "the digest", text, "Bob (TANDTC)", "Carol (KTNN)", "Dave (BTP)", "🔁 Dave đã chuyển từ BTP sang KTNN")
	if n := apptest.CountMessages(h, groupID, "🔁"); n != 0 {
		t.Errorf("the move was also told on its own (%d messages)", n)
	}
	if n := apptest.CountMessages(h, groupID, "👋"); n != 1 {
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
	h := apptest.StartBot(t, apptest.Options{Env: map[string]string{"COMMITTEEBOT_REMINDERS_TICK": "20ms"}, AppOpts: opts})
	h.StartReplica("second", opts...)
	apptest.SetupBloc(t, h, "TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước")
	h.Require(groupID, aliceID, "/year", "2025")
	clock.Advance(time.Hour + time.Minute) // 00:01 on 1 January in Hanoi
	apptest.WaitFor(t, func() bool { return apptest.CountMessages(h, groupID, "🎆") == 1 })
	h.Quiet(groupID)
	if n := apptest.CountMessages(h, groupID, "🎆"); n != 1 {
		t.Errorf("the new year was told %d times, want once", n)
	}
	h.Expect(groupID, aliceID, "/year", "2026")
}
