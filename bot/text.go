package bot

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The one rule for text people type that the bot keeps or says again:
// no control characters, no IRC formatting, no invisible characters that
// reorder or hide text. What is stored is then safe to say on IRC, to
// mail, and to show on the web, and an abstract cannot come back out as
// a CTCP offer (\x01DCC SEND …\x01) or a NUL on the wire.
//
// Words (titles, names, pledges, addresses: anything before "--") are
// refused with an answer saying which character is where; the free text
// after "--" (abstracts, reasons, notes) is cleaned, with a note in the
// answer. Lines said where notes are taken, and mail, are cleaned quietly.

// textFault is a character free text may not hold.
type textFault struct {
	what string // "IRC formatting (bold, \x02)"
	fix  string // what to do instead
}

const (
	fixFormat  = "turn colours and formatting off in your client and send it again as plain text"
	fixPlain   = "send it again as plain text, without it"
	fixInvis   = "type it again without it (text copied from web pages or chat programs can bring such characters along)"
	fixUTF8    = "set your client's encoding to UTF-8 and send it again"
	fixOneLine = "write it on one line, with spaces"
)

// invalidByte stands for a byte that is not UTF-8 where a rune is expected.
const invalidByte rune = -1

// ircFormats are the mIRC formatting codes IRC clients send.
var ircFormats = map[rune]string{
	0x02: "bold", 0x03: "colour", 0x04: "hex colour", 0x0f: "reset", 0x11: "monospace",
	0x16: "reverse", 0x1d: "italics", 0x1e: "strikethrough", 0x1f: "underline",
}

// invisibles are the bidi embeddings, overrides and isolates (Trojan
// Source, CVE-2021-42574) and the zero-width characters.
var invisibles = map[rune]string{
	0x202a: "left-to-right embedding", 0x202b: "right-to-left embedding", 0x202c: "pop directional formatting",
	0x202d: "left-to-right override", 0x202e: "right-to-left override",
	0x2066: "left-to-right isolate", 0x2067: "right-to-left isolate", 0x2068: "first strong isolate",
	0x2069: "pop directional isolate",
	0x200b: "zero width space", 0x200c: "zero width non-joiner", 0x200d: "zero width joiner",
	0x2060: "word joiner", 0xfeff: "zero width no-break space",
}

// fault classifies r, the rune at s[i:] (invalidByte for a byte that is
// not UTF-8), in text of one line or several; nil means it may stay.
func fault(s string, i int, r rune, multiline bool) *textFault {
	switch {
	case r == invalidByte:
		return &textFault{fmt.Sprintf("a byte that is not UTF-8 (\\x%02x)", s[i]), fixUTF8}
	case r == '\t' || r == '\n' || r == '\r' || r == 0x2028 || r == 0x2029:
		if multiline {
			return nil
		}
		if r == '\t' {
			return &textFault{"a tab", fixOneLine}
		}
		return &textFault{"a line break", fixOneLine}
	case r == 0x01:
		return &textFault{`a CTCP marker (\x01)`, fixPlain}
	case ircFormats[r] != "":
		return &textFault{fmt.Sprintf(`IRC formatting (%s, \x%02x)`, ircFormats[r], r), fixFormat}
	case r < 0x20 || r >= 0x7f && r < 0xa0:
		return &textFault{fmt.Sprintf("a control character (U+%04X)", r), fixPlain}
	case invisibles[r] != "":
		if (r == 0x200c || r == 0x200d) && joins(s, i, r) {
			return nil
		}
		what := fmt.Sprintf("an invisible %s (U+%04X)", invisibles[r], r)
		if r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			what += ", which reorders the text shown after it,"
		}
		return &textFault{what, fixInvis}
	}
	return nil
}

// joins reports whether the zero width (non-)joiner at s[i:] sits between
// two characters outside ASCII that are neither spaces nor invisible: there
// it does its job (Persian and Indic words, emoji sequences like 👩‍💻),
// elsewhere it only hides a difference.
func joins(s string, i int, r rune) bool {
	before, _ := utf8.DecodeLastRuneInString(s[:i])
	after, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
	ok := func(c rune) bool {
		return c >= 0x80 && c != utf8.RuneError && !unicode.IsSpace(c) && invisibles[c] == "" && !unicode.IsControl(c)
	}
	return ok(before) && ok(after)
}

// runes calls fn for each rune of s with its byte offset; a byte that is
// not UTF-8 comes as invalidByte.
func runes(s string, fn func(i int, r rune, size int)) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			r, size = invalidByte, 1
		}
		fn(i, r, size)
		i += size
	}
}

// checkLine refuses one line of text (a title, a name) that holds a
// character the rule forbids, saying which, where and how to fix it.
func checkLine(s string) error {
	var err error
	pos := 0
	runes(s, func(i int, r rune, size int) {
		pos++
		if err != nil {
			return
		}
		if f := fault(s, i, r, false); f != nil {
			err = userErr(fmt.Sprintf("%s has %s at character %d: %s.", quoteAround(s, i), f.what, pos, f.fix))
		}
	})
	return err
}

// quoteAround quotes s for an answer, escaping what is invisible; a long s
// is cut to the part around byte offset i.
func quoteAround(s string, i int) string {
	const room = 30
	pre, post := "", ""
	if start := i - room; start > 0 {
		for start < i && !utf8.RuneStart(s[start]) {
			start++
		}
		s, i, pre = s[start:], i-start, "…"
	}
	if end := i + room; end < len(s) {
		for end < len(s) && !utf8.RuneStart(s[end]) {
			end++
		}
		s, post = s[:end], "…"
	}
	q := strconv.Quote(s) // escapes what does not print: every invisible character shows
	if pre != "" || post != "" {
		q = q[:1] + pre + q[1:len(q)-1] + post + q[len(q)-1:]
	}
	return q
}

// cleanText removes what the rule forbids from free text: IRC colour codes
// with their numbers, other formatting, control characters (tabs and line
// breaks stay where multiline; else they become spaces), invisible
// characters, and bytes that are not UTF-8. Line breaks become "\n". It
// returns how many characters went.
func cleanText(s string, multiline bool) (string, int) {
	var b strings.Builder
	removed, changed := 0, false
	skip := 0 // bytes of colour numbers still to drop
	runes(s, func(i int, r rune, size int) {
		if skip > 0 {
			skip -= size
			return
		}
		switch {
		case r == '\r' && strings.HasPrefix(s[i+1:], "\n"):
			changed = true
			return // the "\n" follows
		case r == '\r' || r == 0x2028 || r == 0x2029:
			r, changed = '\n', true
		}
		if (r == '\n' || r == '\t') && !multiline {
			b.WriteByte(' ')
			changed = true
			return
		}
		if fault(s, i, r, multiline) == nil {
			b.WriteRune(r)
			return
		}
		removed++
		switch r {
		case 0x03:
			skip = colourLen(s[i+1:], 2, isDigit)
		case 0x04:
			skip = colourLen(s[i+1:], 6, isHexDigit)
		}
	})
	if removed == 0 && !changed {
		return s, 0
	}
	return b.String(), removed
}

// cleanLine is cleanText for one line.
func cleanLine(s string) string {
	s, _ = cleanText(s, false)
	return s
}

// colourLen is the length of the numbers after a colour code: a
// foreground of up to max digits, then optionally a comma and a
// background. A comma without a background after it stays.
func colourLen(s string, max int, digit func(byte) bool) int {
	n := 0
	for n < len(s) && n < max && digit(s[n]) {
		n++
	}
	if n == 0 || n >= len(s) || s[n] != ',' {
		return n
	}
	m := 0
	for n+1+m < len(s) && m < max && digit(s[n+1+m]) {
		m++
	}
	if m == 0 {
		return n
	}
	return n + 1 + m
}

func isDigit(c byte) bool    { return '0' <= c && c <= '9' }
func isHexDigit(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// checkArgs applies the rule to a command line: every word must be clean;
// the free text is cleaned. It returns a note for the answer when the free
// text lost characters (whole: the free text is a message's body, a
// mail's).
func checkArgs(a *Args, whole bool) (note string, err error) {
	for _, w := range a.Words {
		if err := checkLine(w); err != nil {
			return "", err
		}
	}
	text, removed := cleanText(a.Text, true)
	a.Text = strings.TrimSpace(text)
	if removed == 0 {
		return "", nil
	}
	what, where := "characters", "the text after --"
	if removed == 1 {
		what = "character"
	}
	if whole {
		where = "your mail's text"
	}
	return fmt.Sprintf("(Removed %d control, formatting or invisible %s from %s.)", removed, what, where), nil
}

// SplitLine cuts s to at most max bytes on a UTF-8 boundary, at a space if
// there is one in the last third, and returns the rest.
func SplitLine(s string, max int) (head, rest string) {
	if len(s) <= max {
		return s, ""
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if sp := strings.LastIndexByte(s[:cut], ' '); sp > max*2/3 {
		cut = sp
	}
	return strings.TrimRight(s[:cut], " "), strings.TrimLeft(s[cut:], " ")
}
