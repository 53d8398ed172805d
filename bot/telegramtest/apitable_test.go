package telegramtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGeneratedTableHoldsTheOfficialFacts(t *testing.T) {
	param := func(method, name string) Field {
		t.Helper()
		m, ok := LookupMethod(method)
		if !ok {
			t.Fatalf("method %s missing from the table", method)
		}
		f, ok := m.Param(name)
		if !ok {
			t.Fatalf("%s.%s missing from the table", method, name)
		}
		return f
	}
	field := func(typ, name string) Field {
		t.Helper()
		ty, ok := LookupType(typ)
		if !ok {
			t.Fatalf("type %s missing from the table", typ)
		}
		f, ok := ty.Field(name)
		if !ok {
			t.Fatalf("%s.%s missing from the table", typ, name)
		}
		return f
	}
	tests := []struct {
		name string
		got  Field
		want Field
	}{
		{name: "sendMessage.text", got: param("sendMessage", "text"),
			want: Field{Name: "text", Types: []string{"String"}, Required: true, Limit: Limit{Unit: UnitChars, Min: 1, Max: 4096, AfterEntities: true}}},
		{name: "sendMessage.chat_id", got: param("sendMessage", "chat_id"),
			want: Field{Name: "chat_id", Types: []string{"Integer", "String"}, Required: true}},
		{name: "sendDocument.caption", got: param("sendDocument", "caption"),
			want: Field{Name: "caption", Types: []string{"String"}, Limit: Limit{Unit: UnitChars, Min: 0, Max: 1024, AfterEntities: true}}},
		{name: "sendDocument.document", got: param("sendDocument", "document"),
			want: Field{Name: "document", Types: []string{"InputFile", "String"}, Required: true}},
		{name: "answerCallbackQuery.text", got: param("answerCallbackQuery", "text"),
			want: Field{Name: "text", Types: []string{"String"}, Limit: Limit{Unit: UnitChars, Min: 0, Max: 200}}},
		{name: "getUpdates.limit", got: param("getUpdates", "limit"),
			want: Field{Name: "limit", Types: []string{"Integer"}, Limit: Limit{Unit: UnitValue, Min: 1, Max: 100}}},
		{name: "setWebhook.secret_token", got: param("setWebhook", "secret_token"),
			want: Field{Name: "secret_token", Types: []string{"String"}, Limit: Limit{Unit: UnitChars, Min: 1, Max: 256}, Charset: "A-Za-z0-9_-"}},
		{name: "setWebhook.url", got: param("setWebhook", "url"),
			want: Field{Name: "url", Types: []string{"String"}, Required: true, EmptyOK: true}},
		{name: "setMyCommands.commands", got: param("setMyCommands", "commands"),
			want: Field{Name: "commands", Types: []string{"Array of BotCommand"}, Required: true, Limit: Limit{Unit: UnitItems, Max: 100}}},
		{name: "editMessageText.message_id", got: param("editMessageText", "message_id"),
			want: Field{Name: "message_id", Types: []string{"Integer"}, CondRequired: true}},
		{name: "InlineKeyboardButton.callback_data", got: field("InlineKeyboardButton", "callback_data"),
			want: Field{Name: "callback_data", Types: []string{"String"}, Limit: Limit{Unit: UnitBytes, Min: 1, Max: 64}}},
		{name: "BotCommand.command", got: field("BotCommand", "command"),
			want: Field{Name: "command", Types: []string{"String"}, Required: true, Limit: Limit{Unit: UnitChars, Min: 1, Max: 32}, Charset: "a-z0-9_"}},
		{name: "BotCommand.description", got: field("BotCommand", "description"),
			want: Field{Name: "description", Types: []string{"String"}, Required: true, Limit: Limit{Unit: UnitChars, Min: 1, Max: 256}}},
		{name: "BotCommandScopeChat.type", got: field("BotCommandScopeChat", "type"),
			want: Field{Name: "type", Types: []string{"String"}, Required: true, Const: "chat"}},
		{name: "ReplyKeyboardMarkup.input_field_placeholder", got: field("ReplyKeyboardMarkup", "input_field_placeholder"),
			want: Field{Name: "input_field_placeholder", Types: []string{"String"}, Limit: Limit{Unit: UnitChars, Min: 1, Max: 64}}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestLookupMethod(t *testing.T) {
	tests := []struct {
		name string
		want string
		ok   bool
	}{
		{name: "sendMessage", want: "sendMessage", ok: true},
		{name: "SendMessage", want: "sendMessage", ok: true},
		{name: "getChatMembersCount", want: "getChatMemberCount", ok: true},
		{name: "sendMessages", ok: false},
	}
	for _, tt := range tests {
		m, ok := LookupMethod(tt.name)
		if ok != tt.ok || (ok && m.Name != tt.want) {
			t.Errorf("LookupMethod(%q) = %v, %v; want %q, %v", tt.name, m, ok, tt.want, tt.ok)
		}
	}
	if m, _ := LookupMethod("deleteMessage"); !m.ReturnsTrue() {
		t.Error("deleteMessage should return True")
	}
	if m, _ := LookupMethod("sendMessage"); m.ReturnsTrue() {
		t.Error("sendMessage returns a Message")
	}
}
