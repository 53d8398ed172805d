package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture is a tiny api.json with the phrasings the generator must read.
const fixture = `{
  "version": "Bot API 0.1",
  "methods": {
    "sendMessage": {"name": "sendMessage", "returns": ["Message"], "fields": [
      {"name": "chat_id", "types": ["Integer", "String"], "required": true, "description": "Target chat"},
      {"name": "text", "types": ["String"], "required": true, "description": "Text of the message to be sent, 1-4096 characters after entities parsing"},
      {"name": "reply_markup", "types": ["InlineKeyboardMarkup"], "required": false, "description": "Keyboard"}
    ]},
    "getUpdates": {"name": "getUpdates", "returns": ["Array of Update"], "fields": [
      {"name": "limit", "types": ["Integer"], "required": false, "description": "Limits the number. Values between 1-100 are accepted. Defaults to 100."},
      {"name": "allowed_updates", "types": ["Array of String"], "required": false, "description": "A JSON-serialized list"}
    ]},
    "setWebhook": {"name": "setWebhook", "returns": ["Boolean"], "fields": [
      {"name": "url", "types": ["String"], "required": true, "description": "HTTPS URL. Use an empty string to remove webhook integration."},
      {"name": "secret_token", "types": ["String"], "required": false, "description": "A secret token, 1-256 characters. Only characters A-Z, a-z, 0-9, _ and - are allowed."}
    ]},
    "editMessageText": {"name": "editMessageText", "returns": ["Message", "Boolean"], "fields": [
      {"name": "message_id", "types": ["Integer"], "required": false, "description": "Required if inline_message_id is not specified. Identifier."}
    ]}
  },
  "types": {
    "InlineKeyboardMarkup": {"name": "InlineKeyboardMarkup", "fields": [
      {"name": "inline_keyboard", "types": ["Array of Array of InlineKeyboardButton"], "required": true, "description": "Rows"}
    ]},
    "InlineKeyboardButton": {"name": "InlineKeyboardButton", "fields": [
      {"name": "text", "types": ["String"], "required": true, "description": "Label text on the button"},
      {"name": "callback_data", "types": ["String"], "required": false, "description": "Optional. Data to be sent, 1-64 bytes"}
    ]},
    "Message": {"name": "Message", "fields": [
      {"name": "message_id", "types": ["Integer"], "required": true, "description": "Unique message identifier"}
    ]}
  }
}`

func TestGenerateFacts(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "api.json")
	if err := os.WriteFile(in, []byte(fixture), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "table.go")
	if err := run(in, out, "telegramtest"); err != nil {
		t.Fatalf("run: %v", err)
	}
	src, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := string(src)
	wants := []string{
		`const apiVersion = "Bot API 0.1"`,
		`{Name: "text", Types: []string{"String"}, Required: true, Limit: Limit{Unit: UnitChars, Min: 1, Max: 4096, AfterEntities: true}},`,
		`{Name: "limit", Types: []string{"Integer"}, Limit: Limit{Unit: UnitValue, Min: 1, Max: 100}},`,
		`{Name: "url", Types: []string{"String"}, Required: true, EmptyOK: true},`,
		`{Name: "secret_token", Types: []string{"String"}, Limit: Limit{Unit: UnitChars, Min: 1, Max: 256}, Charset: "A-Za-z0-9_-"},`,
		`{Name: "message_id", Types: []string{"Integer"}, CondRequired: true},`,
		`{Name: "callback_data", Types: []string{"String"}, Limit: Limit{Unit: UnitBytes, Min: 1, Max: 64}},`,
	}
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("generated table lacks %s", w)
		}
	}
	// Facts only: no description prose, and only types a request can carry.
	for _, banned := range []string{"Label text on the button", "Unique message identifier", `{Name: "Message"`} {
		if strings.Contains(got, banned) {
			t.Errorf("generated table contains %q", banned)
		}
	}
	// Methods come out sorted.
	if strings.Index(got, `"editMessageText"`) > strings.Index(got, `"getUpdates"`) {
		t.Error("methods are not sorted")
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "api.json")
	if err := os.WriteFile(in, []byte(fixture), 0o600); err != nil {
		t.Fatal(err)
	}
	var outs [][]byte
	for i := range 3 {
		out := filepath.Join(dir, "table"+string(rune('a'+i))+".go")
		if err := run(in, out, "telegramtest"); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(out)
		outs = append(outs, b)
	}
	if !bytes.Equal(outs[0], outs[1]) || !bytes.Equal(outs[1], outs[2]) {
		t.Error("generator output differs between runs")
	}
}

// TestCommittedTableIsUpToDate regenerates the package's table from the
// shared API description when it is available (it is not needed at run
// time, so the test skips without it).
func TestCommittedTableIsUpToDate(t *testing.T) {
	in := filepath.Join("..", "..", "..", "..", "..", "shared", "telegram", "api.json")
	if _, err := os.Stat(in); err != nil {
		t.Skipf("API description not available: %v", err)
	}
	out := filepath.Join(t.TempDir(), "apitable_gen.go")
	if err := run(in, out, "telegramtest"); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(out)
	got, err := os.ReadFile(filepath.Join("..", "..", "apitable_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Error("apitable_gen.go is stale: run go generate ./bot/telegramtest/")
	}
}
