package telegramtest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseFormatted(t *testing.T) {
	tests := []struct {
		name      string
		mode      string
		in        string
		wantText  string
		wantEnts  []Entity
		wantError string // substring; "" for success
	}{
		{name: "plain text is trimmed", in: "  hi\n", wantText: "hi"},
		{name: "HTML bold", mode: "HTML", in: "<b>Bầu</b> cử", wantText: "Bầu cử",
			wantEnts: []Entity{{Type: "bold", Offset: 0, Length: 3}}},
		{name: "HTML tags are case-insensitive", mode: "html", in: "<B>x</B>", wantText: "x",
			wantEnts: []Entity{{Type: "bold", Offset: 0, Length: 1}}},
		{name: "HTML offsets in UTF-16", mode: "HTML", in: "😀 <i>ok</i>", wantText: "😀 ok",
			wantEnts: []Entity{{Type: "italic", Offset: 3, Length: 2}}},
		{name: "HTML nested, outer first", mode: "HTML", in: "<b>a<i>b</i></b>", wantText: "ab",
			wantEnts: []Entity{{Type: "bold", Offset: 0, Length: 2}, {Type: "italic", Offset: 1, Length: 1}}},
		{name: "HTML entities", mode: "HTML", in: "&lt;&gt;&amp;&quot;&#65;&#x42;", wantText: `<>&"AB`},
		{name: "HTML link", mode: "HTML", in: `<a href="https://t.me/bot?start=a&amp;b">join</a>`, wantText: "join",
			wantEnts: []Entity{{Type: "text_link", Offset: 0, Length: 4, URL: "https://t.me/bot?start=a&b"}}},
		{name: "HTML pre with language", mode: "HTML", in: `<pre><code class="language-go">x</code></pre>`, wantText: "x",
			wantEnts: []Entity{{Type: "pre", Offset: 0, Length: 1, Language: "go"}}},
		{name: "HTML expandable quote", mode: "HTML", in: `<blockquote expandable>q</blockquote>`, wantText: "q",
			wantEnts: []Entity{{Type: "expandable_blockquote", Offset: 0, Length: 1}}},
		{name: "HTML trimming moves entities", mode: "HTML", in: "\n <b> x</b>", wantText: "x",
			wantEnts: []Entity{{Type: "bold", Offset: 0, Length: 1}}},
		{name: "HTML raw greater-than is text", mode: "HTML", in: "a > b", wantText: "a > b"},
		{name: "HTML unknown tag", mode: "HTML", in: "<p>x</p>", wantError: `Unsupported start tag "p" at byte offset 0`},
		{name: "HTML unclosed start tag", mode: "HTML", in: `<a href="x`, wantError: "Unclosed start tag at byte offset 0"},
		{name: "HTML end tag without start", mode: "HTML", in: "x</b>", wantError: "Unexpected end tag at byte offset 1"},
		{name: "HTML unclosed element", mode: "HTML", in: "<b><i>x</i>", wantError: `Can't find end tag corresponding to start tag "b"`},
		{name: "HTML bare ampersand", mode: "HTML", in: "Q&A", wantError: `unescaped "&" at byte offset 1`},
		{name: "HTML unknown named entity", mode: "HTML", in: "&nbsp;", wantError: `unescaped "&"`},
		{name: "HTML emoji needs an id", mode: "HTML", in: "<tg-emoji>x</tg-emoji>", wantError: `must have attribute "emoji-id"`},
		{name: "MarkdownV2 entities", mode: "MarkdownV2", in: `*b* _i_ __u__ ~s~ ||p|| ` + "`c`" + ` [l](https://x.y/\))`,
			wantText: "b i u s p c l",
			wantEnts: []Entity{{Type: "bold", Offset: 0, Length: 1}, {Type: "italic", Offset: 2, Length: 1},
				{Type: "underline", Offset: 4, Length: 1}, {Type: "strikethrough", Offset: 6, Length: 1},
				{Type: "spoiler", Offset: 8, Length: 1}, {Type: "code", Offset: 10, Length: 1},
				{Type: "text_link", Offset: 12, Length: 1, URL: "https://x.y/)"}}},
		{name: "MarkdownV2 pre with language", mode: "MarkdownV2", in: "```go\nx.y\n```", wantText: "x.y",
			wantEnts: []Entity{{Type: "pre", Offset: 0, Length: 3, Language: "go"}}},
		{name: "MarkdownV2 escapes", mode: "MarkdownV2", in: `1\. a\-b \(c\) 5\!`, wantText: "1. a-b (c) 5!"},
		{name: "MarkdownV2 reserved dash", mode: "MarkdownV2", in: "a-b", wantError: "Character '-' is reserved"},
		{name: "MarkdownV2 unclosed bold", mode: "MarkdownV2", in: "*a", wantError: "Can't find end of Bold entity at byte offset 0"},
		{name: "Markdown legacy", mode: "Markdown", in: "*b* _i_ `c` [l](http://x)", wantText: "b i c l",
			wantEnts: []Entity{{Type: "bold", Offset: 0, Length: 1}, {Type: "italic", Offset: 2, Length: 1},
				{Type: "code", Offset: 4, Length: 1}, {Type: "text_link", Offset: 6, Length: 1, URL: "http://x"}}},
		{name: "Markdown legacy unclosed", mode: "Markdown", in: "a_b", wantError: "Can't find end of the entity starting at byte offset 1"},
		{name: "unknown mode", mode: "BBCode", in: "x", wantError: "unsupported parse_mode"},
		{name: "invalid UTF-8", in: "\xff", wantError: "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseFormatted(tt.in, tt.mode)
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if f.text != tt.wantText {
				t.Errorf("text = %q, want %q", f.text, tt.wantText)
			}
			if diff := cmp.Diff(tt.wantEnts, f.entities); diff != "" {
				t.Errorf("entities (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCommandEntities(t *testing.T) {
	tests := []struct {
		text string
		want []Entity
	}{
		{text: "/start", want: []Entity{{Type: "bot_command", Offset: 0, Length: 6}}},
		{text: "/vote@committee_test_bot 3", want: []Entity{{Type: "bot_command", Offset: 0, Length: 24}}},
		{text: "😀 /help me", want: []Entity{{Type: "bot_command", Offset: 3, Length: 5}}},
		{text: "a/b", want: nil},
		{text: "/ alone", want: nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, commandEntities(tt.text)); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.text, diff)
		}
	}
}
