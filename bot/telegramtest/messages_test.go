package telegramtest

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"
)

// apiErr extracts the Bot API error tgbotapi returns.
func apiErr(t *testing.T, err error) *tgbotapi.Error {
	t.Helper()
	var te *tgbotapi.Error
	if !errors.As(err, &te) {
		t.Fatalf("error = %v, want a *tgbotapi.Error", err)
	}
	return te
}

func voteKeyboard(data ...string) tgbotapi.InlineKeyboardMarkup {
	var row []tgbotapi.InlineKeyboardButton
	for _, d := range data {
		row = append(row, tgbotapi.NewInlineKeyboardButtonData(strings.ToUpper(d), d))
	}
	return tgbotapi.NewInlineKeyboardMarkup(row)
}

func TestSendEditDeleteThroughTgbotapi(t *testing.T) {
	s := newServer(t)
	bot := newBot(t, s)

	msg := tgbotapi.NewMessage(groupID, "<b>Bầu Khối trưởng</b> 2025")
	msg.ParseMode = tgbotapi.ModeHTML
	msg.ReplyMarkup = voteKeyboard("a", "b")
	sent, err := bot.Send(msg)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if sent.Text != "Bầu Khối trưởng 2025" || sent.Chat.ID != groupID || sent.From.ID != s.Bot().ID {
		t.Errorf("sent = %q in %d from %d", sent.Text, sent.Chat.ID, sent.From.ID)
	}
	wantEnt := []tgbotapi.MessageEntity{{Type: "bold", Offset: 0, Length: 15}}
	if diff := cmp.Diff(wantEnt, sent.Entities); diff != "" {
		t.Errorf("entities (-want +got):\n%s", diff)
	}
	if sent.ReplyMarkup == nil || len(sent.ReplyMarkup.InlineKeyboard[0]) != 2 {
		t.Errorf("reply markup = %+v, want two buttons", sent.ReplyMarkup)
	}

	// Same text, same keyboard: not modified.
	edit := tgbotapi.NewEditMessageTextAndMarkup(groupID, sent.MessageID, "<b>Bầu Khối trưởng</b> 2025", voteKeyboard("a", "b"))
	edit.ParseMode = tgbotapi.ModeHTML
	_, err = bot.Send(edit)
	if te := apiErr(t, err); te.Code != 400 || !strings.HasPrefix(te.Message, "Bad Request: message is not modified") {
		t.Errorf("identical edit: %d %q, want 400 message is not modified", te.Code, te.Message)
	}
	// Same text without formatting is a change.
	plain := tgbotapi.NewEditMessageTextAndMarkup(groupID, sent.MessageID, "Bầu Khối trưởng 2025", voteKeyboard("a", "b"))
	if _, err := bot.Send(plain); err != nil {
		t.Errorf("edit dropping bold: %v", err)
	}
	// Same text without reply_markup removes the keyboard: a change too.
	if _, err := bot.Send(tgbotapi.NewEditMessageText(groupID, sent.MessageID, "Bầu Khối trưởng 2025")); err != nil {
		t.Errorf("edit dropping keyboard: %v", err)
	}
	got, _ := s.Message(groupID, sent.MessageID)
	if got.ReplyMarkup != nil || got.Edits != 2 || got.EditDate.IsZero() {
		t.Errorf("after edits: markup %v, edits %d, edit date %v", got.ReplyMarkup, got.Edits, got.EditDate)
	}
	// Markup edits: a new keyboard, then the same one again.
	if _, err := bot.Send(tgbotapi.NewEditMessageReplyMarkup(groupID, sent.MessageID, voteKeyboard("c"))); err != nil {
		t.Errorf("markup edit: %v", err)
	}
	_, err = bot.Send(tgbotapi.NewEditMessageReplyMarkup(groupID, sent.MessageID, voteKeyboard("c")))
	if te := apiErr(t, err); !strings.Contains(te.Message, "message is not modified") {
		t.Errorf("identical markup edit: %q, want not modified", te.Message)
	}
	// Unknown message.
	_, err = bot.Send(tgbotapi.NewEditMessageText(groupID, 9999, "x"))
	if te := apiErr(t, err); te.Message != "Bad Request: message to edit not found" {
		t.Errorf("edit unknown: %q", te.Message)
	}
	// Delete, then delete again.
	if _, err := bot.Request(tgbotapi.NewDeleteMessage(groupID, sent.MessageID)); err != nil {
		t.Errorf("delete: %v", err)
	}
	_, err = bot.Request(tgbotapi.NewDeleteMessage(groupID, sent.MessageID))
	if te := apiErr(t, err); te.Message != "Bad Request: message to delete not found" {
		t.Errorf("second delete: %q", te.Message)
	}
	_, err = bot.Send(tgbotapi.NewEditMessageText(groupID, sent.MessageID, "late"))
	if te := apiErr(t, err); te.Message != "Bad Request: message to edit not found" {
		t.Errorf("edit deleted: %q", te.Message)
	}
	if got, _ := s.Message(groupID, sent.MessageID); !got.Deleted {
		t.Error("message not marked deleted")
	}
	if r := s.Rejections(); len(r) != 0 {
		t.Errorf("rejections = %+v, want none: state errors are not contract violations", r)
	}
}

func TestEditingSomeoneElsesMessage(t *testing.T) {
	s := newServer(t)
	bot := newBot(t, s)
	m := s.SendText(groupID, alice, "hello")
	_, err := bot.Send(tgbotapi.NewEditMessageText(groupID, m.MessageID, "hacked"))
	if te := apiErr(t, err); te.Message != "Bad Request: message can't be edited" {
		t.Errorf("edit user message: %q", te.Message)
	}
	_, err = bot.Request(tgbotapi.NewDeleteMessage(groupID, m.MessageID))
	if te := apiErr(t, err); te.Message != "Bad Request: message can't be deleted" {
		t.Errorf("delete user message as non-admin: %q", te.Message)
	}
	s.SetMemberStatus(groupID, s.Bot().ID, StatusAdministrator)
	if _, err := bot.Request(tgbotapi.NewDeleteMessage(groupID, m.MessageID)); err != nil {
		t.Errorf("delete user message as admin: %v", err)
	}
}

func TestWhoTheBotMayWriteTo(t *testing.T) {
	s := newServer(t)
	bot := newBot(t, s)
	tests := []struct {
		name     string
		chatID   int64
		wantCode int
		wantMsg  string
	}{
		{name: "user who started the bot", chatID: alice},
		{name: "user who never started the bot", chatID: bob, wantCode: 403, wantMsg: "Forbidden: bot can't initiate conversation with a user"},
		{name: "user who blocked the bot", chatID: carol, wantCode: 403, wantMsg: "Forbidden: bot was blocked by the user"},
		{name: "unknown chat", chatID: 424242, wantCode: 400, wantMsg: "Bad Request: chat not found"},
		{name: "group", chatID: groupID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bot.Send(tgbotapi.NewMessage(tt.chatID, "hi"))
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("send: %v", err)
				}
				return
			}
			if te := apiErr(t, err); te.Code != tt.wantCode || te.Message != tt.wantMsg {
				t.Errorf("got %d %q, want %d %q", te.Code, te.Message, tt.wantCode, tt.wantMsg)
			}
		})
	}

	s.StartPrivate(bob)
	if _, err := bot.Send(tgbotapi.NewMessage(bob, "now you can")); err != nil {
		t.Errorf("after StartPrivate: %v", err)
	}
	s.SetMemberStatus(groupID, s.Bot().ID, StatusKicked)
	_, err := bot.Send(tgbotapi.NewMessage(groupID, "x"))
	if te := apiErr(t, err); te.Code != 403 || te.Message != "Forbidden: bot was kicked from the supergroup chat" {
		t.Errorf("kicked: %d %q", te.Code, te.Message)
	}
}

func TestCallbackQueries(t *testing.T) {
	clock := newFakeClock()
	s := newServer(t, WithClock(clock.Now), WithCallbackQueryTimeout(15e9))
	bot := newBot(t, s)
	msg := tgbotapi.NewMessage(alice, "Vote?")
	msg.ReplyMarkup = voteKeyboard("yes", "no")
	sent, err := bot.Send(msg)
	if err != nil {
		t.Fatal(err)
	}

	qid := s.PressButton(alice, alice, sent.MessageID, "yes")
	ups, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil || len(ups) != 1 || ups[0].CallbackQuery == nil {
		t.Fatalf("updates = %+v, %v; want one callback query", ups, err)
	}
	cq := ups[0].CallbackQuery
	if cq.ID != qid || cq.Data != "yes" || cq.From.ID != alice || cq.Message.MessageID != sent.MessageID {
		t.Errorf("callback query = %+v", cq)
	}

	if _, err := bot.Request(tgbotapi.NewCallbackWithAlert(qid, "Counted")); err != nil {
		t.Fatalf("answer: %v", err)
	}
	want := CallbackAnswer{QueryID: qid, ChatID: alice, MessageID: sent.MessageID, FromID: alice, Data: "yes",
		Answered: true, Text: "Counted", ShowAlert: true}
	got, ok := s.CallbackAnswer(qid)
	if diff := cmp.Diff(want, got); !ok || diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}

	const tooOld = "Bad Request: query is too old and response timeout expired or query ID is invalid"
	_, err = bot.Request(tgbotapi.NewCallback(qid, "again"))
	if te := apiErr(t, err); te.Message != tooOld {
		t.Errorf("second answer: %q", te.Message)
	}
	_, err = bot.Request(tgbotapi.NewCallback("123", ""))
	if te := apiErr(t, err); te.Message != tooOld {
		t.Errorf("unknown query: %q", te.Message)
	}
	late := s.PressButton(alice, alice, sent.MessageID, "no")
	clock.Advance(16e9)
	_, err = bot.Request(tgbotapi.NewCallback(late, ""))
	if te := apiErr(t, err); te.Message != tooOld {
		t.Errorf("expired query: %q", te.Message)
	}
}

func TestDocumentRoundTrip(t *testing.T) {
	s := newServer(t)
	bot := newBot(t, s)
	ics := []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")

	doc := tgbotapi.NewDocument(alice, tgbotapi.FileBytes{Name: "hop-khoi.ics", Bytes: ics})
	doc.Caption = "<b>Lịch họp</b> &amp; chương trình"
	doc.ParseMode = tgbotapi.ModeHTML
	sent, err := bot.Send(doc)
	if err != nil {
		t.Fatalf("send document: %v", err)
	}
	if sent.Document == nil || sent.Document.FileName != "hop-khoi.ics" || sent.Document.MimeType != "text/calendar" ||
		sent.Document.FileSize != len(ics) || sent.Caption != "Lịch họp & chương trình" {
		t.Fatalf("sent = %+v / %+v", sent, sent.Document)
	}
	stored := s.BotMessages(alice)[0]
	if !bytes.Equal(stored.Document.Data, ics) || stored.HTML != doc.Caption || stored.Document.Caption != sent.Caption {
		t.Errorf("stored document = %+v", stored.Document)
	}

	// Download through getFile and the file endpoint.
	body, _ := download(t, s, bot, sent.Document.FileID)
	if !bytes.Equal(body, ics) {
		t.Errorf("downloaded %q, want the uploaded bytes", body)
	}

	// Resending by file_id reuses the file.
	again, err := bot.Send(tgbotapi.NewDocument(groupID, tgbotapi.FileID(sent.Document.FileID)))
	if err != nil {
		t.Fatalf("resend by file_id: %v", err)
	}
	if again.Document.FileID != sent.Document.FileID {
		t.Errorf("file id = %q, want %q", again.Document.FileID, sent.Document.FileID)
	}
	// Editing the caption.
	ec := tgbotapi.NewEditMessageCaption(alice, sent.MessageID, "Lịch họp (sửa)")
	if _, err := bot.Send(ec); err != nil {
		t.Errorf("edit caption: %v", err)
	}
	if _, err := bot.Send(ec); err == nil || !strings.Contains(err.Error(), "not modified") {
		t.Errorf("identical caption edit: %v, want not modified", err)
	}
	_, err = bot.Send(tgbotapi.NewEditMessageText(alice, sent.MessageID, "text"))
	if te := apiErr(t, err); te.Message != "Bad Request: there is no text in the message to edit" {
		t.Errorf("text edit of a document: %q", te.Message)
	}
	// A caption edit of a text message, and one with a reply keyboard.
	plain, err := bot.Send(tgbotapi.NewMessage(alice, "plain"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = bot.Send(tgbotapi.NewEditMessageCaption(alice, plain.MessageID, "caption"))
	if te := apiErr(t, err); te.Message != "Bad Request: there is no caption in the message to edit" {
		t.Errorf("caption edit of a text message: %q", te.Message)
	}
	_, err = bot.MakeRequest("editMessageCaption", tgbotapi.Params{
		"chat_id": strconv.FormatInt(alice, 10), "message_id": strconv.Itoa(sent.MessageID),
		"caption": "Lịch họp (sửa lần hai)", "reply_markup": `{"keyboard":[[{"text":"a"}]]}`,
	})
	if te := apiErr(t, err); !strings.HasPrefix(te.Message, "Bad Request: ") {
		t.Errorf("caption edit with a reply keyboard: %q", te.Message)
	}
}

func TestUserMessagesCarryCommands(t *testing.T) {
	s := newServer(t)
	bot := newBot(t, s)
	s.SendText(groupID, alice, "/vote@committee_test_bot 3")
	s.SendText(bob, bob, "/start inv_abc")
	s.SendDocumentFrom(alice, alice, "nomination.pdf", []byte("%PDF-1.4"), "/nominate HCLD")

	ups, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil || len(ups) != 3 {
		t.Fatalf("updates = %d, %v; want 3", len(ups), err)
	}
	tests := []struct {
		cmd, args string
		chatType  string
	}{
		{cmd: "vote", args: "3", chatType: "supergroup"},
		{cmd: "start", args: "inv_abc", chatType: "private"},
	}
	for i, tt := range tests {
		m := ups[i].Message
		if !m.IsCommand() || m.Command() != tt.cmd || m.CommandArguments() != tt.args || m.Chat.Type != tt.chatType {
			t.Errorf("update %d: command %q args %q chat %q, want %q %q %q", i, m.Command(), m.CommandArguments(), m.Chat.Type, tt.cmd, tt.args, tt.chatType)
		}
	}
	if d := ups[2].Message.Document; d == nil || d.MimeType != "application/pdf" || ups[2].Message.Caption != "/nominate HCLD" {
		t.Errorf("document update = %+v", ups[2].Message)
	}
	// Writing to the bot started bob's private chat.
	if _, err := bot.Send(tgbotapi.NewMessage(bob, "welcome")); err != nil {
		t.Errorf("reply to bob: %v", err)
	}
	if n := len(s.Messages(bob)); n != 2 {
		t.Errorf("messages in bob's chat = %d, want 2", n)
	}
}

func TestCommandsAndChatMembers(t *testing.T) {
	s := newServer(t)
	bot := newBot(t, s)
	cmds := []tgbotapi.BotCommand{{Command: "vote", Description: "Bỏ phiếu"}, {Command: "status", Description: "Tình hình"}}
	scope := tgbotapi.NewBotCommandScopeChat(groupID)
	if _, err := bot.Request(tgbotapi.NewSetMyCommandsWithScopeAndLanguage(scope, "vi", cmds...)); err != nil {
		t.Fatalf("setMyCommands: %v", err)
	}
	want := []BotCommand{{Command: "vote", Description: "Bỏ phiếu"}, {Command: "status", Description: "Tình hình"}}
	if diff := cmp.Diff(want, s.Commands("vi", "chat:-1001234567890")); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	got, err := bot.GetMyCommandsWithConfig(tgbotapi.NewGetMyCommandsWithScopeAndLanguage(scope, "vi"))
	if err != nil || len(got) != 2 {
		t.Errorf("getMyCommands = %+v, %v", got, err)
	}
	if c := s.Commands("", ""); len(c) != 0 {
		t.Errorf("default commands = %+v, want none", c)
	}

	statuses := []struct {
		user int64
		want string
	}{{alice, "creator"}, {carol, "member"}, {bob, "left"}}
	for _, tt := range statuses {
		m, err := bot.GetChatMember(tgbotapi.GetChatMemberConfig{ChatConfigWithUser: tgbotapi.ChatConfigWithUser{ChatID: groupID, UserID: tt.user}})
		if err != nil || m.Status != tt.want || m.User.ID != tt.user {
			t.Errorf("member %d: %q, %v; want %q", tt.user, m.Status, err, tt.want)
		}
	}
	_, err = bot.GetChatMember(tgbotapi.GetChatMemberConfig{ChatConfigWithUser: tgbotapi.ChatConfigWithUser{ChatID: groupID, UserID: 5}})
	if te := apiErr(t, err); te.Message != "Bad Request: user not found" {
		t.Errorf("unknown user: %q", te.Message)
	}
	s.SetMemberStatus(groupID, carol, StatusAdministrator)
	admins, err := bot.GetChatAdministrators(tgbotapi.ChatAdministratorsConfig{ChatConfig: tgbotapi.ChatConfig{ChatID: groupID}})
	if err != nil || len(admins) != 2 || admins[0].User.ID != alice || !admins[1].CanDeleteMessages {
		t.Errorf("admins = %+v, %v", admins, err)
	}
	chat, err := bot.GetChat(tgbotapi.ChatInfoConfig{ChatConfig: tgbotapi.ChatConfig{ChatID: groupID}})
	if err != nil || chat.Title != "Khối thi đua" || chat.Type != "supergroup" {
		t.Errorf("chat = %+v, %v", chat, err)
	}
	n, err := bot.GetChatMembersCount(tgbotapi.ChatMemberCountConfig{ChatConfig: tgbotapi.ChatConfig{ChatID: groupID}})
	if err != nil || n != 3 {
		t.Errorf("member count = %d, %v; want 3 (alice, carol, bot)", n, err)
	}
	if r := s.Rejections(); len(r) != 0 {
		t.Errorf("rejections = %+v", r)
	}
}

func TestAddGroupRegistersUnknownMembers(t *testing.T) {
	s := New()
	t.Cleanup(s.Close)
	s.AddGroup(Chat{ID: -42, Title: "G"}, Member{UserID: 7, Status: StatusCreator})
	s.AddUser(User{ID: 7, FirstName: "Seven"})
	bot := newBot(t, s)
	m, err := bot.GetChatMember(tgbotapi.GetChatMemberConfig{ChatConfigWithUser: tgbotapi.ChatConfigWithUser{ChatID: -42, UserID: 7}})
	if err != nil || m.Status != "creator" || m.User.FirstName != "Seven" {
		t.Errorf("member = %+v %+v, %v", m, m.User, err)
	}
	chat, err := bot.GetChat(tgbotapi.ChatInfoConfig{ChatConfig: tgbotapi.ChatConfig{ChatID: -42}})
	if err != nil || chat.Type != "group" {
		t.Errorf("chat = %+v, %v; want a group", chat, err)
	}
}
