package telegramtest

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// mdV2Reserved are the characters MarkdownV2 requires to be escaped with a
// backslash wherever they do not delimit an entity.
const mdV2Reserved = "_*[]()~`>#+-=|{}.!"

// mdOpen is an entity opened in MarkdownV2 and not yet closed.
type mdOpen struct {
	marker string
	typ    string
	start  int // UTF-16 offset in the output
	at     int // byte offset in the source
	lang   string
}

// mdWriter accumulates output text and tracks its UTF-16 length.
type mdWriter struct {
	b   strings.Builder
	pos int
}

func (w *mdWriter) rune(r rune) {
	w.b.WriteRune(r)
	w.pos += utf16.RuneLen(r)
}

// parseMarkdownV2 implements Telegram's MarkdownV2 parse mode: *bold*,
// _italic_, __underline__, ~strikethrough~, ||spoiler||, `code`,
// ```pre```, [text](url), > block quotes and backslash escapes. Any
// reserved character outside an entity marker must be escaped.
func parseMarkdownV2(src string) (string, []Entity, error) {
	var (
		w       mdWriter
		stack   []mdOpen
		ents    []Entity
		bqStart = -1
	)
	top := func() *mdOpen {
		if len(stack) == 0 {
			return nil
		}
		return &stack[len(stack)-1]
	}
	closeTop := func() {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if w.pos > o.start {
			ents = append(ents, Entity{Type: o.typ, Offset: o.start, Length: w.pos - o.start, Language: o.lang})
		}
	}
	toggle := func(marker, typ string, at int) {
		if t := top(); t != nil && t.marker == marker {
			closeTop()
			return
		}
		stack = append(stack, mdOpen{marker: marker, typ: typ, start: w.pos, at: at})
	}
	lineStart := true
	for i := 0; i < len(src); {
		c := src[i]
		if c == '\\' {
			if i+1 >= len(src) || src[i+1] == 0 || src[i+1] > 126 {
				return "", nil, officialf("Character '\\' is reserved and must be escaped with the preceding '\\'")
			}
			w.rune(rune(src[i+1]))
			i += 2
			lineStart = false
			continue
		}
		if t := top(); t != nil && (t.marker == "`" || t.marker == "```") {
			switch {
			case t.marker == "```" && strings.HasPrefix(src[i:], "```"):
				closeTop()
				i += 3
			case t.marker == "`" && c == '`':
				closeTop()
				i++
			default:
				r, n := utf8.DecodeRuneInString(src[i:])
				w.rune(r)
				i += n
			}
			continue
		}
		wasLineStart := lineStart
		lineStart = false
		switch c {
		case '*':
			toggle("*", "bold", i)
			i++
		case '_':
			if strings.HasPrefix(src[i:], "__") {
				toggle("__", "underline", i)
				i += 2
			} else {
				toggle("_", "italic", i)
				i++
			}
		case '~':
			toggle("~", "strikethrough", i)
			i++
		case '|':
			if !strings.HasPrefix(src[i:], "||") {
				return "", nil, reservedErr(c)
			}
			toggle("||", "spoiler", i)
			i += 2
		case '`':
			if strings.HasPrefix(src[i:], "```") {
				o := mdOpen{marker: "```", typ: "pre", at: i}
				i += 3
				if nl := strings.IndexByte(src[i:], '\n'); nl >= 0 && !strings.ContainsAny(src[i:i+nl], " `") {
					o.lang = src[i : i+nl]
					i += nl + 1
				}
				o.start = w.pos
				stack = append(stack, o)
			} else {
				stack = append(stack, mdOpen{marker: "`", typ: "code", start: w.pos, at: i})
				i++
			}
		case '[':
			stack = append(stack, mdOpen{marker: "[", typ: "text_link", start: w.pos, at: i})
			i++
		case ']':
			t := top()
			if t == nil || t.marker != "[" || i+1 >= len(src) || src[i+1] != '(' {
				return "", nil, reservedErr(c)
			}
			url, n, err := readMarkdownURL(src, i+2)
			if err != nil {
				return "", nil, err
			}
			o := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if w.pos > o.start {
				typ := "text_link"
				if strings.HasPrefix(url, "tg://user?id=") {
					typ = "text_mention"
				}
				ents = append(ents, Entity{Type: typ, Offset: o.start, Length: w.pos - o.start, URL: url})
			}
			i = n
		case '>':
			if !wasLineStart {
				return "", nil, reservedErr(c)
			}
			if bqStart < 0 {
				bqStart = w.pos
			}
			i++
		default:
			if strings.IndexByte(mdV2Reserved, c) >= 0 {
				return "", nil, reservedErr(c)
			}
			r, n := utf8.DecodeRuneInString(src[i:])
			w.rune(r)
			i += n
			if r == '\n' {
				lineStart = true
				if bqStart >= 0 && (i >= len(src) || src[i] != '>') {
					ents = append(ents, Entity{Type: "blockquote", Offset: bqStart, Length: w.pos - 1 - bqStart})
					bqStart = -1
				}
			}
		}
	}
	if bqStart >= 0 && w.pos > bqStart {
		ents = append(ents, Entity{Type: "blockquote", Offset: bqStart, Length: w.pos - bqStart})
	}
	if t := top(); t != nil {
		return "", nil, officialf("Can't find end of %s entity at byte offset %d", entityTitle(t.typ), t.at)
	}
	sortEntities(ents)
	return w.b.String(), ents, nil
}

// readMarkdownURL reads a link target up to its unescaped ')' and returns
// it with the index after the parenthesis.
func readMarkdownURL(src string, from int) (string, int, error) {
	var b strings.Builder
	for i := from; i < len(src); i++ {
		switch src[i] {
		case '\\':
			if i+1 < len(src) {
				i++
				b.WriteByte(src[i])
			}
		case ')':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(src[i])
		}
	}
	return "", 0, officialf("Can't find end of a URL at byte offset %d", from)
}

func reservedErr(c byte) error {
	return officialf("Character '%c' is reserved and must be escaped with the preceding '\\'", c)
}

func entityTitle(typ string) string {
	switch typ {
	case "text_link":
		return "TextUrl"
	case "strikethrough":
		return "Strikethrough"
	default:
		return strings.ToUpper(typ[:1]) + typ[1:]
	}
}

// parseMarkdown implements the legacy Markdown parse mode: *bold*,
// _italic_, `code`, ```pre``` and [text](url), without nesting. A
// backslash escapes the four marker characters.
func parseMarkdown(src string) (string, []Entity, error) {
	var (
		w    mdWriter
		ents []Entity
	)
	writeLiteral := func(s string) {
		for _, r := range s {
			w.rune(r)
		}
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\\' && i+1 < len(src) && strings.IndexByte("_*`[", src[i+1]) >= 0:
			w.rune(rune(src[i+1]))
			i += 2
		case c == '*' || c == '_':
			end := strings.IndexByte(src[i+1:], c)
			if end < 0 {
				return "", nil, officialf("Can't find end of the entity starting at byte offset %d", i)
			}
			start := w.pos
			writeLiteral(src[i+1 : i+1+end])
			typ := "bold"
			if c == '_' {
				typ = "italic"
			}
			if w.pos > start {
				ents = append(ents, Entity{Type: typ, Offset: start, Length: w.pos - start})
			}
			i += end + 2
		case strings.HasPrefix(src[i:], "```"):
			end := strings.Index(src[i+3:], "```")
			if end < 0 {
				return "", nil, officialf("Can't find end of the entity starting at byte offset %d", i)
			}
			body, lang := src[i+3:i+3+end], ""
			if nl := strings.IndexByte(body, '\n'); nl >= 0 && !strings.Contains(body[:nl], " ") {
				lang, body = body[:nl], body[nl+1:]
			}
			start := w.pos
			writeLiteral(body)
			if w.pos > start {
				ents = append(ents, Entity{Type: "pre", Offset: start, Length: w.pos - start, Language: lang})
			}
			i += end + 6
		case c == '`':
			end := strings.IndexByte(src[i+1:], '`')
			if end < 0 {
				return "", nil, officialf("Can't find end of the entity starting at byte offset %d", i)
			}
			start := w.pos
			writeLiteral(src[i+1 : i+1+end])
			if w.pos > start {
				ents = append(ents, Entity{Type: "code", Offset: start, Length: w.pos - start})
			}
			i += end + 2
		case c == '[':
			end := strings.IndexByte(src[i+1:], ']')
			if end < 0 {
				return "", nil, officialf("Can't find end of the entity starting at byte offset %d", i)
			}
			after := i + 1 + end + 1
			if after >= len(src) || src[after] != '(' {
				w.rune('[')
				i++
				continue
			}
			paren := strings.IndexByte(src[after:], ')')
			if paren < 0 {
				return "", nil, officialf("Can't find end of the entity starting at byte offset %d", i)
			}
			start := w.pos
			writeLiteral(src[i+1 : i+1+end])
			if w.pos > start {
				ents = append(ents, Entity{Type: "text_link", Offset: start, Length: w.pos - start, URL: src[after+1 : after+paren]})
			}
			i = after + paren + 1
		default:
			r, n := utf8.DecodeRuneInString(src[i:])
			w.rune(r)
			i += n
		}
	}
	sortEntities(ents)
	return w.b.String(), ents, nil
}
