package demo

import (
	"html"
	"regexp"
	"strings"
)

var (
	linkTag = regexp.MustCompile(`<a href="([^"]*)">([^<]*)</a>`)
	anyTag  = regexp.MustCompile(`<[^>]*>`)
)

// toTerminal renders Telegram HTML as plain terminal text: links show their
// target, other tags are dropped and entities decoded.
func toTerminal(s string) string {
	s = linkTag.ReplaceAllString(s, "$2 ($1)")
	s = strings.NewReplacer("<br>", "\n").Replace(s)
	s = anyTag.ReplaceAllString(s, "")
	return html.UnescapeString(s)
}
