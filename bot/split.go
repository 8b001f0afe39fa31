package bot

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Args is a command line split into words, and the free text after "--".
type Args struct {
	Words []string
	// Quoted tells, per word, whether it was written in quotes: a quoted
	// "talk" is a title, not a keyword.
	Quoted []bool
	// Text is everything after a lone "--", as typed (trimmed).
	Text string
	// HasText tells "--" with nothing after it from no "--" at all.
	HasText bool
}

// openQuotes maps the quotes people type (IRC clients and phones turn " into
// curly quotes) to their closing quote.
var openQuotes = map[rune]rune{'"': '"', '“': '”', '„': '“', '«': '»'}

// keyword returns word i lower-cased if it was written without quotes, so it
// may be a keyword, else "".
func (a Args) keyword(i int) string {
	if i >= len(a.Words) || a.Quoted[i] {
		return ""
	}
	return strings.ToLower(a.Words[i])
}

// shift drops the first n words.
func (a *Args) shift(n int) {
	a.Words, a.Quoted = a.Words[n:], a.Quoted[n:]
}

// Split splits a command line the way a shell would, much simplified: words
// are separated by spaces; "double quotes" (or curly quotes) group words, with
// \" for a quote inside; a lone -- ends the words and the rest of the line is
// free text, taken as typed.
func Split(line string) (Args, error) {
	var a Args
	var word strings.Builder
	inWord := false
	quoted := false
	// Walk by byte offset, not over []rune(line): the text after "--" is
	// cut from line itself, so it stays as typed even where line is not
	// valid UTF-8 (a rune slice would turn each bad byte into U+FFFD).
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRuneInString(line[i:])
		switch {
		case unicode.IsSpace(r):
			if inWord {
				if !quoted && word.String() == "--" {
					a.HasText = true
					a.Text = strings.TrimSpace(line[i:])
					return a, nil
				}
				a.Words = append(a.Words, word.String())
				a.Quoted = append(a.Quoted, quoted)
				word.Reset()
				inWord, quoted = false, false
			}
		case openQuotes[r] != 0 && (!inWord || word.Len() == 0):
			closing := openQuotes[r]
			inWord, quoted = true, true
			j := i + size
			closed := false
			for j < len(line) {
				c, n := utf8.DecodeRuneInString(line[j:])
				if c == '\\' && j+n < len(line) {
					if e, m := utf8.DecodeRuneInString(line[j+n:]); e == closing || e == '\\' {
						word.WriteString(line[j+n : j+n+m])
						j += n + m
						continue
					}
				}
				if c == closing || (closing == '”' && c == '"') {
					j += n
					closed = true
					break
				}
				word.WriteString(line[j : j+n])
				j += n
			}
			if !closed {
				return Args{}, &Error{Msg: "a quote is not closed: put a " + string(closing) + " at the end of the quoted words"}
			}
			i = j
			continue
		default:
			inWord = true
			word.WriteString(line[i : i+size])
		}
		i += size
	}
	if inWord {
		if !quoted && word.String() == "--" {
			a.HasText = true
			return a, nil
		}
		a.Words = append(a.Words, word.String())
		a.Quoted = append(a.Quoted, quoted)
	}
	return a, nil
}
