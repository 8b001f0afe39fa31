package matrix

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// command returns the command a message body gives the bot, without its
// prefix or address: "!vote 3" and "hallway: vote 3" (any of names, case
// folded, followed by ':' or ',') both give "vote 3". In a direct chat
// every message is for the bot and the prefix is optional. ok is false for
// a message not addressed to the bot.
func command(body, prefix string, names []string, direct bool) (cmd string, ok bool) {
	body = strings.TrimSpace(stripReplyFallback(body))
	if prefix != "" && strings.HasPrefix(body, prefix) {
		rest := body[len(prefix):]
		r, _ := utf8.DecodeRuneInString(rest)
		// "!vote" yes; "!!" or "! " (emphasis, not a command) no
		if unicode.IsLetter(r) {
			return strings.TrimSpace(rest), true
		}
	}
	for _, name := range names {
		if name == "" || len(body) <= len(name) || !strings.EqualFold(body[:len(name)], name) {
			continue
		}
		rest := body[len(name):]
		if rest[0] != ':' && rest[0] != ',' {
			continue
		}
		rest = strings.TrimSpace(rest[1:])
		if prefix != "" {
			rest = strings.TrimSpace(strings.TrimPrefix(rest, prefix))
		}
		if rest == "" {
			return "", false
		}
		return rest, true
	}
	if direct {
		if prefix != "" {
			body = strings.TrimSpace(strings.TrimPrefix(body, prefix))
		}
		return body, body != ""
	}
	return "", false
}

// stripReplyFallback removes the quoted lines older clients put before a
// reply ("> <@alice:example.org> text", then an empty line), so a reply to
// the bot reads as what was typed.
func stripReplyFallback(body string) string {
	if !strings.HasPrefix(body, "> ") {
		return body
	}
	rest := body
	for strings.HasPrefix(rest, ">") {
		i := strings.IndexByte(rest, '\n')
		if i < 0 {
			return body // all quote: leave it as it is
		}
		rest = rest[i+1:]
	}
	if strings.HasPrefix(rest, "\n") {
		return rest[1:]
	}
	return rest
}
