package bot

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		in      string
		words   []string
		text    string
		hasText bool
		err     bool
	}{
		{in: "", words: nil},
		{in: "vote 7 3", words: []string{"vote", "7", "3"}},
		{in: "  vote   7\t3  ", words: []string{"vote", "7", "3"}},
		{in: `propose session "Renting Macs for CI" -- who does it, what it costs`,
			words: []string{"propose", "session", "Renting Macs for CI"}, text: "who does it, what it costs", hasText: true},
		{in: `propose "Title" --`, words: []string{"propose", "Title"}, hasText: true},
		{in: `propose "Title" -- a -- b "c"`, words: []string{"propose", "Title"}, text: `a -- b "c"`, hasText: true},
		{in: `propose "a \"quoted\" word"`, words: []string{"propose", `a "quoted" word`}},
		{in: `propose “Curly quotes” ok`, words: []string{"propose", "Curly quotes", "ok"}},
		{in: `propose “Mixed quotes" ok`, words: []string{"propose", "Mixed quotes", "ok"}},
		{in: `propose "" x`, words: []string{"propose", "", "x"}},
		{in: `propose "--" x`, words: []string{"propose", "--", "x"}},
		{in: `it's fine`, words: []string{"it's", "fine"}},
		{in: `say a"b`, words: []string{"say", `a"b`}},
		{in: `propose "unterminated`, err: true},
		{in: `--x`, words: []string{"--x"}},
		// Not UTF-8: the free text stays as typed, byte for byte.
		{in: "-- \xf1\xf2", hasText: true, text: "\xf1\xf2"},
		{in: "say \xff\"x -- \xe9t\xe9", words: []string{"say", "\xff\"x"}, text: "\xe9t\xe9", hasText: true},
		{in: "say \"a\xffb\"", words: []string{"say", "a\xffb"}},
	}
	for _, tt := range tests {
		a, err := Split(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("Split(%q) error = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		if !reflect.DeepEqual(a.Words, tt.words) || a.Text != tt.text || a.HasText != tt.hasText {
			t.Errorf("Split(%q) = %q, %q, %v; want %q, %q, %v", tt.in, a.Words, a.Text, a.HasText, tt.words, tt.text, tt.hasText)
		}
	}
}

func FuzzSplit(f *testing.F) {
	for _, s := range []string{"vote 7 3", `propose "x y" -- z`, `"a \" b"`, `“x”`, "--", `"`, "-- \xf1\xf2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Split(s)
		if err != nil {
			return
		}
		for _, w := range a.Words {
			if utf8.ValidString(s) && !utf8.ValidString(w) {
				t.Errorf("word %q of valid input is not valid UTF-8", w)
			}
		}
		if !strings.Contains(s, a.Text) {
			t.Errorf("text %q is not as typed in %q", a.Text, s)
		}
	})
}
