// Package irctest is a small raw-IRC client for integration and load tests
// against a real IRC server (scripts/testenv.sh starts InspIRCd + Anope).
//
// It speaks the protocol directly over a net.Conn: CAP negotiation, SASL
// PLAIN, NickServ registration, and a soju-style Expect that waits for the
// next message matching a predicate. Every line the server sends is kept in
// order until a test consumes it.
package irctest

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Prefix is the source of a message: nick!user@host for users, or just a
// server name (in Nick) for servers.
type Prefix struct {
	Nick string
	User string
	Host string
}

// IsZero reports whether the message had no prefix.
func (p Prefix) IsZero() bool { return p == Prefix{} }

// String formats the prefix as nick!user@host, leaving out empty parts.
func (p Prefix) String() string {
	s := p.Nick
	if p.User != "" {
		s += "!" + p.User
	}
	if p.Host != "" {
		s += "@" + p.Host
	}
	return s
}

// parsePrefix splits nick!user@host. The nick ends at the first '!' or
// '@'; after a '!', the user ends at the next '@'.
func parsePrefix(s string) Prefix {
	var p Prefix
	i := strings.IndexAny(s, "!@")
	if i < 0 {
		p.Nick = s
		return p
	}
	p.Nick = s[:i]
	rest := s[i:]
	if rest[0] == '!' {
		rest = rest[1:]
		j := strings.IndexByte(rest, '@')
		if j < 0 {
			p.User = rest
			return p
		}
		p.User = rest[:j]
		rest = rest[j:]
	}
	p.Host = rest[1:]
	return p
}

// Message is one IRC line.
type Message struct {
	Tags    map[string]string // IRCv3 message tags, values unescaped; nil when none
	Prefix  Prefix            // zero when the line had no prefix
	Command string            // upper case: "PRIVMSG", "001", ...
	Params  []string          // middle params and trailing param, in order
	Raw     string            // the line as received (without CRLF); empty for built messages
}

// Param returns the i-th parameter, or "" if there are fewer.
func (m Message) Param(i int) string {
	if i < 0 || i >= len(m.Params) {
		return ""
	}
	return m.Params[i]
}

// Last returns the last parameter (the trailing one, for PRIVMSG the text).
func (m Message) Last() string { return m.Param(len(m.Params) - 1) }

// Tag returns the value of a tag and whether it was present.
func (m Message) Tag(key string) (string, bool) {
	v, ok := m.Tags[key]
	return v, ok
}

// Account returns the account-tag of the message ("" when absent).
func (m Message) Account() string { return m.Tags["account"] }

// Time parses the server-time tag.
func (m Message) Time() (time.Time, bool) {
	v, ok := m.Tags["time"]
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t, err == nil
}

// String formats the message as a line without CRLF. Tags are sorted so
// the output is deterministic.
func (m Message) String() string {
	var b strings.Builder
	if len(m.Tags) > 0 {
		keys := make([]string, 0, len(m.Tags))
		for k := range m.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('@')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(';')
			}
			b.WriteString(k)
			if v := m.Tags[k]; v != "" {
				b.WriteByte('=')
				b.WriteString(EscapeTagValue(v))
			}
		}
		b.WriteByte(' ')
	}
	if !m.Prefix.IsZero() {
		b.WriteByte(':')
		b.WriteString(m.Prefix.String())
		b.WriteByte(' ')
	}
	b.WriteString(m.Command)
	for i, p := range m.Params {
		b.WriteByte(' ')
		if i == len(m.Params)-1 && (p == "" || p[0] == ':' || strings.IndexByte(p, ' ') >= 0) {
			b.WriteByte(':')
		}
		b.WriteString(p)
	}
	return b.String()
}

// EscapeTagValue escapes a tag value per IRCv3 message-tags.
func EscapeTagValue(v string) string {
	if !strings.ContainsAny(v, "; \\\r\n") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case ';':
			b.WriteString(`\:`)
		case ' ':
			b.WriteString(`\s`)
		case '\\':
			b.WriteString(`\\`)
		case '\r':
			b.WriteString(`\r`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// UnescapeTagValue undoes EscapeTagValue. As the spec says, a backslash
// before any other character is dropped, and so is a trailing backslash.
func UnescapeTagValue(v string) string {
	if strings.IndexByte(v, '\\') < 0 {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(v) {
			break
		}
		switch v[i] {
		case ':':
			b.WriteByte(';')
		case 's':
			b.WriteByte(' ')
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		default: // includes '\\'
			b.WriteByte(v[i])
		}
	}
	return b.String()
}

// ErrEmptyLine and friends are returned by ParseMessage.
var (
	ErrEmptyLine  = errors.New("empty line")
	ErrNoCommand  = errors.New("no command")
	ErrBadCommand = errors.New("bad command")
	ErrBadChar    = errors.New("CR, LF or NUL inside line")
	ErrBadPrefix  = errors.New("empty prefix")
)

func validCommand(s string) bool {
	if len(s) == 3 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) {
		return true
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// ParseMessage parses one IRC line (a trailing CRLF or LF is allowed).
func ParseMessage(line string) (Message, error) {
	line = strings.TrimSuffix(line, "\n")
	line = strings.TrimSuffix(line, "\r")
	raw := line
	if strings.ContainsAny(line, "\r\n\x00") {
		return Message{}, fmt.Errorf("irc line %q: %w", raw, ErrBadChar)
	}
	m := Message{Raw: raw}
	s := strings.TrimLeft(line, " ")
	if s == "" {
		return Message{}, fmt.Errorf("irc line %q: %w", raw, ErrEmptyLine)
	}
	if s[0] == '@' {
		var tags string
		tags, s = cut(s[1:])
		for _, kv := range strings.Split(tags, ";") {
			k, v, _ := strings.Cut(kv, "=")
			if k == "" {
				continue
			}
			if m.Tags == nil {
				m.Tags = make(map[string]string)
			}
			m.Tags[k] = UnescapeTagValue(v)
		}
	}
	if s != "" && s[0] == ':' {
		var p string
		p, s = cut(s[1:])
		m.Prefix = parsePrefix(p)
		if m.Prefix.IsZero() {
			return Message{}, fmt.Errorf("irc line %q: %w", raw, ErrBadPrefix)
		}
	}
	var cmd string
	cmd, s = cut(s)
	if cmd == "" {
		return Message{}, fmt.Errorf("irc line %q: %w", raw, ErrNoCommand)
	}
	if !validCommand(cmd) {
		return Message{}, fmt.Errorf("irc line %q: %w %q", raw, ErrBadCommand, cmd)
	}
	m.Command = strings.ToUpper(cmd)
	for s != "" {
		if s[0] == ':' {
			m.Params = append(m.Params, s[1:])
			break
		}
		var p string
		p, s = cut(s)
		m.Params = append(m.Params, p)
	}
	return m, nil
}

// cut returns the token before the first space and the rest with leading
// spaces removed.
func cut(s string) (tok, rest string) {
	i := strings.IndexByte(s, ' ')
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i+1:], " ")
}
