package mail

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// testCommands is a fixed command list, so the goldens do not change when
// the bot gains a command.
var testCommands = []string{"register", "cancel", "confirm", "pledge", "propose", "vote", "help"}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./mail -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./mail -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// dump renders what Parse made of a mail, for the golden files.
func dump(in *Incoming, err error) string {
	if err != nil {
		return fmt.Sprintf("error: %v\nmalformed: %v\ntoo large: %v\n", err, errors.Is(err, ErrMalformed), errors.Is(err, ErrTooLarge))
	}
	var b strings.Builder
	// Decoded, for people to read; Address.String is the header form.
	show := func(a Address) string {
		if a.Name == "" {
			return a.Addr
		}
		return a.Name + " <" + a.Addr + ">"
	}
	addrs := func(l []Address) string {
		s := make([]string, len(l))
		for i, a := range l {
			s[i] = show(a)
		}
		return strings.Join(s, ", ")
	}
	fmt.Fprintf(&b, "from: %s\n", show(in.From))
	fmt.Fprintf(&b, "sender: %s\n", in.Sender)
	fmt.Fprintf(&b, "reply-to: %s\n", addrs(in.ReplyTo))
	fmt.Fprintf(&b, "to: %s\n", addrs(in.To))
	fmt.Fprintf(&b, "cc: %s\n", addrs(in.Cc))
	fmt.Fprintf(&b, "subject: %q\n", in.Subject)
	fmt.Fprintf(&b, "message-id: %s\n", in.MessageID)
	fmt.Fprintf(&b, "in-reply-to: %s\n", strings.Join(in.InReplyTo, " "))
	fmt.Fprintf(&b, "references: %s\n", strings.Join(in.References, " "))
	date := ""
	if !in.Date.IsZero() {
		date = in.Date.Format(time.RFC3339)
	}
	fmt.Fprintf(&b, "date: %s\n", date)
	no, why := in.MustNotReply()
	fmt.Fprintf(&b, "must-not-reply: %v %s\n", no, why)
	fmt.Fprintf(&b, "command-from: %s\n", in.CommandFrom)
	fmt.Fprintf(&b, "command: %q\n", in.Command)
	fmt.Fprintf(&b, "text: %q\n", in.Text)
	fmt.Fprintf(&b, "--- body\n%s\n--- plain\n%s\n", in.Body, in.Plain)
	return b.String()
}

func TestParseCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			in, err := Parse(bytes.NewReader(raw), &ParseOptions{Commands: testCommands})
			checkGolden(t, name+".golden", []byte(dump(in, err)))
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrMalformed},
		{"no from", "Subject: x\r\n\r\nbody\r\n", ErrMalformed},
		{"broken header", "From: a@b.c\r\nno colon here\r\n\r\nbody", ErrMalformed},
		{"broken multipart", "From: a@b.c\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nunterminated", ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.in), nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse: %v, want %v", err, tc.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse: %T is not a *ParseError", err)
			}
		})
	}
}

// endless is an io.Reader of a mail that never ends; it counts what was
// read.
type endless struct {
	header []byte
	n      int64
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		if int(e.n) < len(e.header) {
			p[i] = e.header[e.n]
		} else {
			const line = " abcdefghijklmnopqrstuvwxyz0123456789012345678901234567890123456789012345\r\n"
			p[i] = line[(e.n-int64(len(e.header)))%int64(len(line))]
		}
		e.n++
	}
	return len(p), nil
}

func TestParseTooLarge(t *testing.T) {
	for _, tc := range []struct{ name, header string }{
		{"body", "From: a@example.org\r\nSubject: register\r\nContent-Type: text/plain\r\n\r\n"},
		{"attachment", "From: a@example.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n"},
		{"header", "From: a@example.org\r\nX-Long: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &endless{header: []byte(tc.header)}
			_, err := Parse(r, &ParseOptions{MaxBytes: 64 << 10})
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Parse: %v, want ErrTooLarge", err)
			}
			if r.n > 64<<10+64<<10 {
				t.Errorf("read %d bytes for a 64 KiB limit", r.n)
			}
		})
	}
	// Exactly at the limit is fine.
	msg := "From: a@example.org\r\nSubject: register\r\n\r\nhello\r\n"
	if _, err := Parse(strings.NewReader(msg), &ParseOptions{MaxBytes: int64(len(msg))}); err != nil {
		t.Fatalf("a message of exactly MaxBytes: %v", err)
	}
	if _, err := Parse(strings.NewReader(msg), &ParseOptions{MaxBytes: int64(len(msg) - 1)}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a message one byte over MaxBytes: %v", err)
	}
}

func TestCleanSubject(t *testing.T) {
	for in, want := range map[string]string{
		"register":                            "register",
		"Re: register":                        "register",
		"RE: Re: re:register":                 "register",
		"Fwd: Re: [osid] confirm K7Q2-9XM4":   "confirm K7Q2-9XM4",
		"AW: WG: pledge 10 EUR for ci-macs":   "pledge 10 EUR for ci-macs",
		"Re[2]: cancel":                       "cancel",
		"[osid] [announce] Schedule":          "Schedule",
		"  Re :  propose session X":           "propose session X",
		"Reply: register":                     "Reply: register",
		"Fw: SV: VS: Antw: Odp: TR: help":     "help",
		"Résumé of the day":                   "Résumé of the day",
		"Re: propose talk \"Re: the future\"": "propose talk \"Re: the future\"",
	} {
		if got := CleanSubject(in); got != want {
			t.Errorf("CleanSubject(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStripQuotes(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "hello\nworld\n", "hello\nworld"},
		{"sig", "hi\n\n-- \nAlice\n", "hi"},
		{"sig without space", "hi\n--\nAlice", "hi"},
		{"bottom post", "On Mon, 3 Jun 2024, Bot <b@x> wrote:\n> confirm?\n\nyes, confirm\n", "yes, confirm"},
		{"inline", "> q1\na1\n> q2\na2", "a1\na2"},
		{"not an attribution", "On Monday I wrote:\nthe draft", "On Monday I wrote:\nthe draft"},
		{"german", "Ja.\n\nAm 03.06.2024 um 10:00 schrieb Bot <b@x>:\n> Frage", "Ja."},
		{"french", "Oui.\n\nLe lun. 3 juin 2024 à 10:00, Bot <b@x> a écrit :\n> Question", "Oui."},
		{"outlook", "ok\n\n-----Original Message-----\nFrom: x\nquoted", "ok"},
		{"outlook header block", "ok\n\nFrom: Bot <b@x>\nSent: Monday\nTo: me\nSubject: hi\n\nquoted", "ok"},
		{"mobile", "ok\n\nSent from my iPhone\n\n> quoted", "ok"},
		{"forwarded kept", "fyi\n\n---------- Forwarded message ---------\nFrom: x\nregister", "fyi\n\n---------- Forwarded message ---------\nFrom: x\nregister"},
		{"blank lines", "\n\na\n\n\n\nb\n\n", "a\n\nb"},
		{"crlf", "a\r\n> q\r\nb\r\n", "a\nb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := StripQuotes(tc.in); got != tc.want {
				t.Errorf("StripQuotes(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestHTMLToText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<p>a</p><p>b</p>", "a\n\nb"},
		{"a<br>b<br/>c", "a\nb\nc"},
		{"x &amp; y &lt;3 &#128075; &nbsp;z", "x & y <3 👋 z"},
		{"<script>evil()</script>ok<style>p{}</style>", "ok"},
		{"a < b and c > d", "a < b and c > d"},
		{"<a href='x>y'>link</a>", "link"},
		{"<b>unclosed", "unclosed"},
		{"text <b", "text"},
		{"<!-- comment <p>x</p> -->y", "y"},
		{"<!-- unterminated", ""},
		{"<ul><li>one<li>two</ul>", "- one\n- two"},
		{"keep<blockquote>quoted<blockquote>deeper</blockquote>still</blockquote>after", "keep\n\nafter"},
		{"&lt;script&gt;", "<script>"},
	} {
		if got := HTMLToText(tc.in); got != tc.want {
			t.Errorf("HTMLToText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMustNotReply(t *testing.T) {
	base := "From: %s\r\nSubject: register\r\n%s\r\nbody\r\n"
	for _, tc := range []struct {
		from, header string
		want         bool
	}{
		{"alice@example.org", "", false},
		{"alice@example.org", "Auto-Submitted: no\r\n", false},
		{"alice@example.org", "Auto-Submitted: auto-generated\r\n", true},
		{"alice@example.org", "Auto-Submitted: Auto-Replied (vacation)\r\n", true},
		{"alice@example.org", "Precedence: bulk\r\n", true},
		{"alice@example.org", "Precedence: junk\r\n", true},
		{"alice@example.org", "Precedence: first-class\r\n", false},
		{"alice@example.org", "List-Unsubscribe: <mailto:x@y>\r\n", true},
		{"alice@example.org", "List-Post: NO\r\n", true},
		{"alice@example.org", "X-Auto-Response-Suppress: OOF, AutoReply\r\n", true},
		{"alice@example.org", "X-Auto-Response-Suppress: DR\r\n", false},
		{"alice@example.org", "X-Autoreply: yes\r\n", true},
		{"alice@example.org", "X-Autorespond: yes\r\n", true},
		{"alice@example.org", "Return-Path: <>\r\n", true},
		{"alice@example.org", "Return-Path: <alice@example.org>\r\n", false},
		{"alice@example.org", "Sender: owner-osid@lists.example.org\r\n", false},
		{"alice@example.org", "Sender: MAILER-DAEMON@example.org\r\n", true},
		{"Mailer-Daemon@example.org", "", true},
		{"postmaster@example.org", "", true},
		{"no-reply@example.org", "", true},
		{"No_Reply+abc@example.org", "", true},
		{"donotreply@example.org", "", true},
		{"do-not-reply@example.org", "", true},
		{"notifications-noreply@example.org", "", true},
		{"noreen@example.org", "", false},
		{"alice@example.org", "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n", true},
	} {
		msg := fmt.Sprintf(base, tc.from, tc.header)
		if strings.Contains(tc.header, "multipart") {
			msg = fmt.Sprintf(base, tc.from, tc.header) + "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n"
			msg = strings.Replace(msg, "\r\nbody\r\n", "\r\n", 1)
		}
		in, err := Parse(strings.NewReader(msg), nil)
		if err != nil {
			t.Fatalf("%s %q: %v", tc.from, tc.header, err)
		}
		got, why := in.MustNotReply()
		if got != tc.want {
			t.Errorf("From %s, %q: MustNotReply = %v (%s), want %v", tc.from, tc.header, got, why, tc.want)
		}
		if got && why == "" {
			t.Errorf("From %s, %q: no reason given", tc.from, tc.header)
		}
	}
}

func TestDeriveCommand(t *testing.T) {
	for _, tc := range []struct {
		subject, body        string
		command, text, body2 string
		from                 CommandSource
	}{
		{"register", "", "register", "register", "", FromSubject},
		{"Re: !vote 7 3", "", "vote 7 3", "vote 7 3", "", FromSubject},
		{"propose session Title words", "An abstract.\n\nTwo paragraphs.", "propose session Title words",
			"propose session Title words -- An abstract.\n\nTwo paragraphs.", "An abstract.\n\nTwo paragraphs.", FromSubject},
		{"Hello", "\n  confirm K7Q2-9XM4\nthanks", "confirm K7Q2-9XM4", "confirm K7Q2-9XM4 -- thanks", "thanks", FromBody},
		{"", "pledge 10 EUR for ci-macs", "pledge 10 EUR for ci-macs", "pledge 10 EUR for ci-macs", "", FromBody},
		{"Question about the venue", "Is there parking?", "Question about the venue", "Question about the venue -- Is there parking?", "Is there parking?", NoCommand},
		{"", "", "", "", "", NoCommand},
	} {
		msg := "From: a@example.org\r\nSubject: " + tc.subject + "\r\n\r\n" + tc.body
		in, err := Parse(strings.NewReader(msg), &ParseOptions{Commands: testCommands})
		if err != nil {
			t.Fatal(err)
		}
		if in.Command != tc.command || in.Text != tc.text || in.Body != tc.body2 || in.CommandFrom != tc.from {
			t.Errorf("subject %q body %q: got command %q text %q body %q from %s; want %q %q %q %s",
				tc.subject, tc.body, in.Command, in.Text, in.Body, in.CommandFrom, tc.command, tc.text, tc.body2, tc.from)
		}
	}
}

func TestDefaultCommands(t *testing.T) {
	words := strings.Join(DefaultCommands(), " ")
	for _, w := range []string{"register", "confirm", "pledge", "propose", "vote", "help"} {
		if !strings.Contains(" "+words+" ", " "+w+" ") {
			t.Errorf("DefaultCommands lacks %q: %s", w, words)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := Parse(bytes.NewReader(b), &ParseOptions{MaxBytes: 64 << 10, Commands: testCommands})
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		for _, s := range []string{in.Subject, in.Body, in.Plain, in.Text, in.Command, in.From.Addr, in.From.Name} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8: %q", s)
			}
		}
		if strings.ContainsAny(in.Subject+in.Command+in.From.Name, "\r\n") {
			t.Fatalf("header value on more than one line: %q %q", in.Subject, in.Command)
		}
		if in.From.Addr == "" {
			t.Fatal("parsed without a From address")
		}
		in.MustNotReply()
		_, _ = io.Discard.Write([]byte(in.Text))
	})
}

func FuzzHTMLToText(f *testing.F) {
	for _, s := range []string{"<p>a</p>", "<blockquote><blockquote>x", "<!--", "a < b", "<a href='>'>x</a>", "&#x1F44B;&amp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := HTMLToText(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 from valid input: %q", out)
		}
	})
}

func FuzzStripQuotes(f *testing.F) {
	for _, s := range []string{"a\n> b\nOn x wrote:\n> c", "-- \nsig", "From: a\nSent: b\nSubject: c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := StripQuotes(s)
		if len(out) > len(s) {
			t.Fatalf("StripQuotes grew %q to %q", s, out)
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), ">") {
				t.Fatalf("quoted line kept: %q", l)
			}
		}
	})
}
