package irc

import (
	"strings"
	"testing"
)

func TestIRCLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                                 "plain",
		"\x01DCC SEND x 1 2 3\x01":              "DCC SEND x 1 2 3",
		"a\x00b":                                "ab",
		"one\r\nQUIT :bye":                      "one  QUIT :bye",
		"\x01ACTION waves\x01 and \x02bold\x02": "ACTION waves and \x02bold\x02",
	} {
		if got := ircLine(in); got != want {
			t.Errorf("ircLine(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzIRCLine: no line break, NUL or CTCP marker gets through.
func FuzzIRCLine(f *testing.F) {
	f.Add("\x01DCC SEND x 1 2 3\x01")
	f.Add("one\r\nQUIT :bye")
	f.Fuzz(func(t *testing.T, s string) {
		if l := ircLine(s); strings.ContainsAny(l, "\x00\x01\r\n") {
			t.Errorf("ircLine(%q) = %q", s, l)
		}
	})
}
