package handlers

import (
	"strings"
	"testing"
)

func TestSplitMessageKeepsEveryPartWithinTheLimit(t *testing.T) {
	line := strings.Repeat("á", 99) + "\n" // 100 runes a line
	tests := []struct {
		name      string
		text      string
		max       int
		wantParts int
	}{
		{"short", "xin chào", 4096, 1},
		{"exactly the limit", strings.Repeat("a", 4096), 4096, 1},
		{"5000 characters of lines", strings.Repeat(line, 50), 4096, 2},
		{"one long line", strings.Repeat("b", 5000), 4096, 2},
		{"emoji count twice", strings.Repeat("😀", 3000), 4096, 2},
		{"escaped user text", strings.Repeat("&amp;", 1000), 4096, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := splitMessage(tt.text, tt.max)
			if len(parts) != tt.wantParts {
				t.Errorf("got %d parts, want %d", len(parts), tt.wantParts)
			}
			for i, p := range parts {
				if n := utf16Len(p); n > tt.max || n == 0 {
					t.Errorf("part %d has %d UTF-16 units, want 1..%d", i, n, tt.max)
				}
				if strings.Count(p, "&") != strings.Count(p, ";") && strings.Contains(tt.text, "&amp;") {
					t.Errorf("part %d splits an HTML entity", i)
				}
			}
			if got := strings.Join(parts, ""); strings.ReplaceAll(got, "\n", "") != strings.ReplaceAll(tt.text, "\n", "") {
				t.Error("parts do not add up to the text")
			}
		})
	}
}

func TestPlainStripsMarkupAndFitsACallbackAnswer(t *testing.T) {
	got := plain("<b>Nút</b> &amp; " + strings.Repeat("x", 300))
	if strings.Contains(got, "<b>") || !strings.HasPrefix(got, "Nút & ") {
		t.Errorf("plain = %q", got[:20])
	}
	if n := len([]rune(got)); n > 200 {
		t.Errorf("plain is %d runes, want at most 200", n)
	}
}
