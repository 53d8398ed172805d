package telegramtest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// formatted is a text after parse_mode processing.
type formatted struct {
	text     string   // what the user reads
	entities []Entity // offsets in UTF-16 code units
	raw      string   // as sent
	mode     string   // "HTML", "MarkdownV2", "Markdown" or ""
}

// parseFormatted applies parse_mode to raw the way Telegram does and trims
// the surrounding white space Telegram strips from messages. Errors are
// the "can't parse entities" 400s of the real server.
func parseFormatted(raw, parseMode string) (formatted, error) {
	f := formatted{raw: raw}
	if !utf8.ValidString(raw) {
		return f, badRequest("text must be encoded in UTF-8")
	}
	var err error
	switch strings.ToLower(parseMode) {
	case "":
		f.text = raw
	case "html":
		f.mode = "HTML"
		f.text, f.entities, err = parseHTML(raw)
	case "markdownv2":
		f.mode = "MarkdownV2"
		f.text, f.entities, err = parseMarkdownV2(raw)
	case "markdown":
		f.mode = "Markdown"
		f.text, f.entities, err = parseMarkdown(raw)
	default:
		return f, badRequest("unsupported parse_mode")
	}
	if err != nil {
		return f, badRequest("can't parse entities: %v", err)
	}
	f.text, f.entities = trimText(f.text, f.entities)
	return f, nil
}

// utf16Len counts UTF-16 code units, Telegram's unit for lengths.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// trimText strips leading and trailing white space, moving entities along.
func trimText(text string, ents []Entity) (string, []Entity) {
	trimmed := strings.TrimRightFunc(text, unicode.IsSpace)
	lead := len(trimmed) - len(strings.TrimLeftFunc(trimmed, unicode.IsSpace))
	shift := utf16Len(trimmed[:lead])
	trimmed = trimmed[lead:]
	total := utf16Len(trimmed)
	out := ents[:0]
	for _, e := range ents {
		start, end := e.Offset-shift, e.Offset+e.Length-shift
		start = max(start, 0)
		end = min(end, total)
		if end <= start {
			continue
		}
		e.Offset, e.Length = start, end-start
		out = append(out, e)
	}
	if len(out) == 0 {
		out = nil
	}
	return trimmed, out
}

// sortEntities orders entities by offset, outer ones first.
func sortEntities(ents []Entity) {
	sort.SliceStable(ents, func(i, j int) bool {
		if ents[i].Offset != ents[j].Offset {
			return ents[i].Offset < ents[j].Offset
		}
		return ents[i].Length > ents[j].Length
	})
}

// htmlTags maps the tags Telegram's HTML mode supports to entity types.
var htmlTags = map[string]string{
	"b": "bold", "strong": "bold",
	"i": "italic", "em": "italic",
	"u": "underline", "ins": "underline",
	"s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
	"span": "spoiler", "tg-spoiler": "spoiler",
	"a":          "text_link",
	"code":       "code",
	"pre":        "pre",
	"blockquote": "blockquote",
	"tg-emoji":   "custom_emoji",
}

type openTag struct {
	name  string
	ent   Entity
	start int // UTF-16 offset in the output
	skip  bool
}

// parseHTML implements Telegram's HTML parse mode: the supported tags,
// the four named character entities and numeric ones.
//
// It is deliberately stricter than the real server on one point: a "&"
// that does not start a character entity is an error here, while Telegram
// keeps it literally. Such an "&" almost always means user text reached
// the message without escaping, which the same user text with a "<" would
// turn into a failed send.
func parseHTML(src string) (string, []Entity, error) {
	var (
		out   strings.Builder
		pos   int // UTF-16 offset of the next output character
		stack []openTag
		ents  []Entity
	)
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '&':
			r, n, ok := decodeHTMLEntity(src[i:])
			if !ok {
				return "", nil, fmt.Errorf("unescaped \"&\" at byte offset %d; use \"&amp;\"", i)
			}
			out.WriteRune(r)
			pos += utf16.RuneLen(r)
			i += n
		case '<':
			if i+1 < len(src) && src[i+1] == '/' {
				end := strings.IndexByte(src[i:], '>')
				if end < 0 {
					return "", nil, officialf("Unclosed end tag at byte offset %d", i)
				}
				name := strings.ToLower(strings.TrimSpace(src[i+2 : i+end]))
				if len(stack) == 0 {
					return "", nil, officialf("Unexpected end tag at byte offset %d", i)
				}
				top := stack[len(stack)-1]
				if name != top.name {
					return "", nil, officialf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, top.name, name)
				}
				stack = stack[:len(stack)-1]
				if !top.skip && pos > top.start {
					e := top.ent
					e.Offset, e.Length = top.start, pos-top.start
					ents = append(ents, e)
				}
				i += end + 1
				continue
			}
			tag, next, err := parseStartTag(src, i)
			if err != nil {
				return "", nil, err
			}
			tag.start = pos
			// <pre><code class="language-x"> gives the pre block a language.
			if tag.name == "code" && len(stack) > 0 && stack[len(stack)-1].name == "pre" && tag.ent.Language != "" {
				stack[len(stack)-1].ent.Language = tag.ent.Language
				tag.skip = true
			}
			stack = append(stack, tag)
			i = next
		default:
			r, n := utf8.DecodeRuneInString(src[i:])
			out.WriteString(src[i : i+n])
			pos += utf16.RuneLen(r)
			i += n
		}
	}
	if len(stack) > 0 {
		return "", nil, officialf("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1].name)
	}
	sortEntities(ents)
	return out.String(), ents, nil
}

// parseStartTag reads the tag starting at src[at] == '<' and returns it with
// the index after its '>'.
func parseStartTag(src string, at int) (openTag, int, error) {
	j := at + 1
	for j < len(src) && (isASCIIAlnum(src[j]) || src[j] == '-') {
		j++
	}
	name := strings.ToLower(src[at+1 : j])
	entType, ok := htmlTags[name]
	if !ok {
		return openTag{}, 0, officialf("Unsupported start tag \"%s\" at byte offset %d", name, at)
	}
	attrs := map[string]string{}
	for {
		for j < len(src) && isHTMLSpace(src[j]) {
			j++
		}
		if j >= len(src) {
			return openTag{}, 0, officialf("Unclosed start tag at byte offset %d", at)
		}
		if src[j] == '>' {
			j++
			break
		}
		k := j
		for k < len(src) && (isASCIIAlnum(src[k]) || src[k] == '-' || src[k] == '_') {
			k++
		}
		if k == j {
			return openTag{}, 0, officialf("Empty attribute name in the tag \"%s\" at byte offset %d", name, j)
		}
		attr := strings.ToLower(src[j:k])
		j = k
		for j < len(src) && isHTMLSpace(src[j]) {
			j++
		}
		if j >= len(src) || src[j] != '=' {
			attrs[attr] = "" // valueless attribute, such as "expandable"
			continue
		}
		j++
		for j < len(src) && isHTMLSpace(src[j]) {
			j++
		}
		if j >= len(src) {
			return openTag{}, 0, officialf("Unclosed start tag at byte offset %d", at)
		}
		var value string
		if q := src[j]; q == '"' || q == '\'' {
			end := strings.IndexByte(src[j+1:], q)
			if end < 0 {
				return openTag{}, 0, officialf("Unclosed start tag at byte offset %d", at)
			}
			value = src[j+1 : j+1+end]
			j += end + 2
		} else {
			k := j
			for k < len(src) && !isHTMLSpace(src[k]) && src[k] != '>' {
				k++
			}
			value = src[j:k]
			j = k
		}
		attrs[attr] = decodeAttr(value)
	}
	tag := openTag{name: name, ent: Entity{Type: entType}}
	switch name {
	case "span":
		if attrs["class"] != "tg-spoiler" {
			return openTag{}, 0, officialf("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", at)
		}
	case "a":
		href := strings.TrimSpace(attrs["href"])
		if strings.HasPrefix(href, "tg://user?id=") {
			tag.ent.Type = "text_mention"
		}
		tag.ent.URL = href
		tag.skip = href == "" // Telegram drops links without a target
	case "code":
		if lang, ok := strings.CutPrefix(attrs["class"], "language-"); ok {
			tag.ent.Language = lang
		}
	case "blockquote":
		if _, ok := attrs["expandable"]; ok {
			tag.ent.Type = "expandable_blockquote"
		}
	case "tg-emoji":
		id := attrs["emoji-id"]
		if id == "" {
			return openTag{}, 0, officialf("Tag \"tg-emoji\" must have attribute \"emoji-id\" at byte offset %d", at)
		}
		tag.ent.CustomEmojiID = id
	}
	return tag, j, nil
}

// decodeHTMLEntity decodes the character entity at the start of s: &lt;
// &gt; &amp; &quot; or a numeric one. It returns the rune and the bytes used.
func decodeHTMLEntity(s string) (rune, int, bool) {
	end := strings.IndexByte(s, ';')
	if end < 2 || end > 10 {
		return 0, 0, false
	}
	body := s[1:end]
	switch body {
	case "lt":
		return '<', end + 1, true
	case "gt":
		return '>', end + 1, true
	case "amp":
		return '&', end + 1, true
	case "quot":
		return '"', end + 1, true
	}
	if body[0] != '#' {
		return 0, 0, false
	}
	var (
		n   uint64
		err error
	)
	if len(body) > 1 && (body[1] == 'x' || body[1] == 'X') {
		n, err = strconv.ParseUint(body[2:], 16, 32)
	} else {
		n, err = strconv.ParseUint(body[1:], 10, 32)
	}
	if err != nil || n == 0 || n > unicode.MaxRune || (n >= 0xD800 && n <= 0xDFFF) {
		return 0, 0, false
	}
	return rune(n), end + 1, true
}

// decodeAttr decodes character entities in an attribute value, keeping
// anything that is not one.
func decodeAttr(v string) string {
	if !strings.Contains(v, "&") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); {
		if v[i] == '&' {
			if r, n, ok := decodeHTMLEntity(v[i:]); ok {
				b.WriteRune(r)
				i += n
				continue
			}
		}
		b.WriteByte(v[i])
		i++
	}
	return b.String()
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isHTMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// official is an error whose text is the official server's wording,
// capitalized the way Telegram writes it.
type official string

func (e official) Error() string { return string(e) }

// officialf formats an official error message.
func officialf(format string, args ...any) error { return official(fmt.Sprintf(format, args...)) }
