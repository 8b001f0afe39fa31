package irctest

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseMessage(t *testing.T) {
	tests := []struct {
		line string
		want Message
	}{
		{"PING :irc.test.local\r\n", Message{Command: "PING", Params: []string{"irc.test.local"}}},
		{"ping x", Message{Command: "PING", Params: []string{"x"}}},
		{":irc.test.local 001 alice :Welcome to the TestNet IRC Network alice!alice@127.0.0.1\n", Message{
			Prefix: Prefix{Nick: "irc.test.local"}, Command: "001",
			Params: []string{"alice", "Welcome to the TestNet IRC Network alice!alice@127.0.0.1"},
		}},
		{"@account=alice;time=2026-11-21T23:35:33.123Z :alice!al@127.0.0.1 PRIVMSG #hall :hi there", Message{
			Tags:   map[string]string{"account": "alice", "time": "2026-11-21T23:35:33.123Z"},
			Prefix: Prefix{Nick: "alice", User: "al", Host: "127.0.0.1"}, Command: "PRIVMSG",
			Params: []string{"#hall", "hi there"},
		}},
		// tag escapes: \: ; \s space \\ backslash \r \n, unknown escape
		// drops the backslash, trailing backslash dropped
		{`@a=x\:y\sz\\w\r\n;b=\q;c=end\ CMD`, Message{
			Tags:    map[string]string{"a": "x;y z\\w\r\n", "b": "q", "c": "end"},
			Command: "CMD",
		}},
		// valueless, empty-valued and repeated tags; vendor and client tags
		{"@a;b=;+example.com/c=1;d=1;d=2 CMD", Message{
			Tags:    map[string]string{"a": "", "b": "", "+example.com/c": "1", "d": "2"},
			Command: "CMD",
		}},
		{"@; CMD", Message{Command: "CMD"}},
		// several spaces between parts, trailing with colons and spaces
		{":n!u@h   PRIVMSG   #c   ::) a  b ", Message{
			Prefix: Prefix{Nick: "n", User: "u", Host: "h"}, Command: "PRIVMSG",
			Params: []string{"#c", ":) a  b "},
		}},
		{"CMD a b :", Message{Command: "CMD", Params: []string{"a", "b", ""}}},
		{"CMD a b ", Message{Command: "CMD", Params: []string{"a", "b"}}},
		{"  CMD", Message{Command: "CMD"}},
		// prefixes: server, nick@host, nick!user
		{":n@h CMD", Message{Prefix: Prefix{Nick: "n", Host: "h"}, Command: "CMD"}},
		{":n!u CMD", Message{Prefix: Prefix{Nick: "n", User: "u"}, Command: "CMD"}},
		{":n!u!x@h@y CMD", Message{Prefix: Prefix{Nick: "n", User: "u!x", Host: "h@y"}, Command: "CMD"}},
		{"AUTHENTICATE +", Message{Command: "AUTHENTICATE", Params: []string{"+"}}},
		{":irc.test.local CAP * LS * :sasl=PLAIN,EXTERNAL message-tags", Message{
			Prefix: Prefix{Nick: "irc.test.local"}, Command: "CAP",
			Params: []string{"*", "LS", "*", "sasl=PLAIN,EXTERNAL message-tags"},
		}},
	}
	for _, tt := range tests {
		got, err := ParseMessage(tt.line)
		if err != nil {
			t.Errorf("ParseMessage(%q): %v", tt.line, err)
			continue
		}
		got.Raw = ""
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseMessage(%q)\n got %#v\nwant %#v", tt.line, got, tt.want)
		}
	}
}

func TestParseMessageErrors(t *testing.T) {
	tests := []struct {
		line string
		err  error
	}{
		{"", ErrEmptyLine},
		{"\r\n", ErrEmptyLine},
		{"   ", ErrEmptyLine},
		{"@a=b", ErrNoCommand},
		{"@a=b ", ErrNoCommand},
		{":prefix", ErrNoCommand},
		{":prefix ", ErrNoCommand},
		{": CMD", ErrBadPrefix},
		{":! CMD", ErrBadPrefix},
		{"CMD a\rb", ErrBadChar},
		{"CMD a\nb", ErrBadChar},
		{"CMD a\x00b", ErrBadChar},
		{"12 x", ErrBadCommand},
		{"1234 x", ErrBadCommand},
		{"PRIV-MSG x", ErrBadCommand},
		{":p :cmd", ErrBadCommand},
	}
	for _, tt := range tests {
		_, err := ParseMessage(tt.line)
		if !errors.Is(err, tt.err) {
			t.Errorf("ParseMessage(%q) error = %v, want %v", tt.line, err, tt.err)
		}
	}
}

func TestMessageString(t *testing.T) {
	tests := []struct {
		m    Message
		want string
	}{
		{Message{Command: "PRIVMSG", Params: []string{"#c", "hello world"}}, "PRIVMSG #c :hello world"},
		{Message{Command: "PRIVMSG", Params: []string{"#c", "word"}}, "PRIVMSG #c word"},
		{Message{Command: "PRIVMSG", Params: []string{"#c", ":)"}}, "PRIVMSG #c ::)"},
		{Message{Command: "CMD", Params: []string{""}}, "CMD :"},
		{Message{
			Tags:   map[string]string{"b": "x y;z\\", "a": ""},
			Prefix: Prefix{Nick: "n", User: "u", Host: "h"}, Command: "CMD",
		}, `@a;b=x\sy\:z\\ :n!u@h CMD`},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.m, got, tt.want)
		}
	}
}

func TestTagEscapeRoundTrip(t *testing.T) {
	for _, v := range []string{"", "plain", "a;b c\\d\re\nf", `\`, `\\s`, "; ;"} {
		if got := UnescapeTagValue(EscapeTagValue(v)); got != v {
			t.Errorf("Unescape(Escape(%q)) = %q", v, got)
		}
	}
}

func TestMessageHelpers(t *testing.T) {
	m, err := ParseMessage("@account=bob;time=2026-01-02T03:04:05.678Z :bob!b@h PRIVMSG #c :hi")
	if err != nil {
		t.Fatal(err)
	}
	if m.Account() != "bob" || m.Last() != "hi" || m.Param(0) != "#c" || m.Param(5) != "" {
		t.Errorf("helpers: account=%q last=%q p0=%q", m.Account(), m.Last(), m.Param(0))
	}
	ts, ok := m.Time()
	if !ok || ts.Nanosecond() != 678000000 || ts.Year() != 2026 {
		t.Errorf("Time() = %v, %v", ts, ok)
	}
	if v, ok := m.Tag("account"); !ok || v != "bob" {
		t.Errorf("Tag(account) = %q, %v", v, ok)
	}
	if _, ok := m.Tag("nope"); ok {
		t.Error("Tag(nope) present")
	}
}

// FuzzParseMessage checks that the parser never panics and that whatever
// it accepts survives formatting and parsing again unchanged.
func FuzzParseMessage(f *testing.F) {
	for _, s := range []string{
		"PING :x",
		":irc.test.local 001 alice :Welcome",
		"@account=alice;time=2026-11-21T23:35:33.123Z :alice!al@127.0.0.1 PRIVMSG #hall :hi there",
		`@a=x\:y\sz\\w\r\n;b=\q;c=end\ CMD`,
		"@a;b=;+example.com/c=1 CMD a b :",
		":n!u!x@h@y CMD  a   :b c",
		"CAP * LS * :sasl=PLAIN",
		"",
		":",
		"@",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		m, err := ParseMessage(line)
		if err != nil {
			return
		}
		out := m.String()
		m2, err := ParseMessage(out)
		if err != nil {
			t.Fatalf("ParseMessage(%q) ok, but its String() %q fails: %v", line, out, err)
		}
		m.Raw, m2.Raw = "", ""
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip of %q via %q:\n got %#v\nwant %#v", line, out, m2, m)
		}
	})
}
