package mail

import (
	"bytes"
	"strings"
	"testing"

	gomail "github.com/emersion/go-message/mail"
)

// TestReplyToRealWorldFrom answers mails whose From fields were seen in the
// wild: the reply must compose, and its To must read back as the sender's
// address and display name.
func TestReplyToRealWorldFrom(t *testing.T) {
	for _, tc := range []struct {
		name, from     string
		addr, display  string
		notInHeaderRaw string // must not appear as a header of its own
	}{
		{"comma", `"Smith, John" <john@example.org>`, "john@example.org", "Smith, John", ""},
		{"quotes", `"Robert \"Bob\" O'Brien" <bob@example.org>`, "bob@example.org", `Robert "Bob" O'Brien`, ""},
		{"at sign", `"jane@home" <jane@example.org>`, "jane@example.org", "jane@home", ""},
		{"semicolon and colon", `"Ops; Team: Lead" <ops@example.org>`, "ops@example.org", "Ops; Team: Lead", ""},
		{"encoded word", `=?utf-8?q?J=C3=B6rg_M=C3=BCller?= <jm@example.org>`, "jm@example.org", "Jörg Müller", ""},
		{"encoded comma", `=?iso-8859-1?q?M=FCller=2C_J=F6rg?= <mj@example.org>`, "mj@example.org", "Müller, Jörg", ""},
		{"encoded CRLF", `=?utf-8?b?RXZpbA0KQmNjOiB4QGV2aWwuZXhhbXBsZQ==?= <evil@example.org>`, "evil@example.org", "Evil Bcc: x@evil.example", "\r\nBcc:"},
		{"folded", "\"A Very Long Display Name That Someone's\r\n Mail Client Folded\" <fold@example.org>", "fold@example.org", "A Very Long Display Name That Someone's Mail Client Folded", ""},
		{"two addresses", `first@example.org, second@example.org`, "first@example.org", "", ""},
		{"group", `Team: a@example.org, b@example.org;`, "a@example.org", "", ""},
		{"bare", `plain@example.org`, "plain@example.org", "", ""},
		{"angle only", `<angle@example.org>`, "angle@example.org", "", ""},
		{"comment", `c@example.org (Carol Example)`, "c@example.org", "Carol Example", ""},
		{"IDN punycode", `=?utf-8?q?J=C3=B6rg?= <j@xn--bcher-kva.example>`, "j@xn--bcher-kva.example", "Jörg", ""},
		{"IDN UTF-8", "Jörg <jörg@bücher.example>", "jörg@bücher.example", "Jörg", ""},
		{"upper case", `Dana <Dana@Example.ORG>`, "dana@example.org", "Dana", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := "From: " + tc.from + "\r\nTo: bot@test.local\r\nSubject: register\r\nMessage-ID: <m1@example.org>\r\n\r\nhello\r\n"
			in, err := Parse(strings.NewReader(raw), nil)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if in.From.Addr != tc.addr {
				t.Fatalf("From address %q, want %q", in.From.Addr, tc.addr)
			}
			o := Reply(in, "Test Day <bot@test.local>", "registered\n")
			o.MessageID = "r1@test.local"
			data, err := Compose(o)
			if err != nil {
				t.Fatalf("compose the reply to %s: %v", tc.from, err)
			}
			header, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
			if tc.notInHeaderRaw != "" && bytes.Contains(header, []byte(tc.notInHeaderRaw)) {
				t.Fatalf("header injection: %q in\n%s", tc.notInHeaderRaw, header)
			}
			back, err := Parse(bytes.NewReader(data), nil)
			if err != nil {
				t.Fatalf("parse the reply: %v\n%s", err, data)
			}
			if len(back.To) != 1 || back.To[0].Addr != tc.addr || back.To[0].Name != tc.display {
				t.Fatalf("reply To %+v, want %q <%s>\n%s", back.To, tc.display, tc.addr, header)
			}
		})
	}
}

// FuzzAddressString: any display name is written so that it reads back
// as it was (on one line), and never breaks out of its header field.
func FuzzAddressString(f *testing.F) {
	for _, s := range []string{"Smith, John", `Robert "Bob" O'Brien`, "jane@home", "Ops; Team: Lead", "Jörg Müller", "Evil\r\nBcc: x@evil.example", "=?utf-8?q?x?=", "\\", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		a := Address{Name: name, Addr: "someone@example.org"}
		s := a.String()
		if strings.ContainsAny(s, "\r\n") {
			t.Fatalf("%q written as %q: a line break", name, s)
		}
		back, err := gomail.ParseAddress(s)
		if err != nil {
			t.Fatalf("%q written as %q does not parse: %v", name, s, err)
		}
		if want := oneLine(name); back.Name != want || back.Address != a.Addr {
			t.Fatalf("%q written as %q reads back as %q <%s>", name, s, back.Name, back.Address)
		}
	})
}

// FuzzConfirmationAnswer: a reply's first line is read as confirm, not
// me, or nothing, never anything else.
func FuzzConfirmationAnswer(f *testing.F) {
	for _, s := range []string{"confirm", "Yes please.", "STOP. I never asked for this.", "not me", "K7Q2-9XM4", "Thank you for your email.", "", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got := confirmationAnswer(body)
		if got != "" && got != "confirm" && got != "notme" && !codeRe.MatchString(strings.TrimPrefix(got, "confirm ")) {
			t.Fatalf("%q read as %q", body, got)
		}
	})
}
