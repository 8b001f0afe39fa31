package irc

import "strings"

// ircLine is the last guard before a line goes to the IRC server: whatever
// got past the bot's text rule (bot/text.go: text stored before it, a bug)
// cannot end the line early (CR, LF), cut it (NUL) or turn it into a CTCP
// (\x01). The bot makes no CTCPs of its own through its send queue; girc
// answers CTCP queries itself.
func ircLine(s string) string {
	if !strings.ContainsAny(s, "\x00\x01\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '\x00', '\x01':
			return -1
		case '\r', '\n':
			return ' '
		}
		return r
	}, s)
}
