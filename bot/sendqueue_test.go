package bot

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hallwayhq/hallway/store"
)

func TestSplitLine(t *testing.T) {
	tests := []struct {
		in        string
		max       int
		head, rst string
	}{
		{"short", 10, "short", ""},
		{"hello world again", 12, "hello world", "again"},
		{"aaaaaaaaaaaaaaaa", 5, "aaaaa", "aaaaaaaaaaa"},
		{"ééééé", 5, "éé", "ééé"}, // é is two bytes: never cut inside a rune
		{"a ébc", 3, "a", "ébc"},
	}
	for _, tt := range tests {
		h, r := splitLine(tt.in, tt.max)
		if h != tt.head || r != tt.rst {
			t.Errorf("splitLine(%q, %d) = %q, %q; want %q, %q", tt.in, tt.max, h, r, tt.head, tt.rst)
		}
	}
}

func FuzzSplitLine(f *testing.F) {
	f.Add("hello world", 5)
	f.Add("ééééé ü", 3)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 4 || max > 1000 || !utf8.ValidString(s) {
			return
		}
		rest := s
		for i := 0; rest != "" && i < len(s)+1; i++ {
			var h string
			h, rest = splitLine(rest, max)
			if len(h) > max || !utf8.ValidString(h) {
				t.Fatalf("head %q: %d bytes (max %d), valid %v", h, len(h), max, utf8.ValidString(h))
			}
		}
	})
}

func TestPlanLineCoalesces(t *testing.T) {
	var msgs []store.Message
	for i, nick := range []string{"bob", "carol", "dave"} {
		msgs = append(msgs, store.Message{ID: int64(i + 1), Target: "#c", Addressee: nick, Body: nick + ": voted for #7 (3 of your 4 votes left).", Short: "#7 ✓ 3 left"})
	}
	msgs = append(msgs, store.Message{ID: 4, Target: "erin", Body: "private"})
	// Enough tokens: one message per line, as written.
	if l := planLine(msgs, 4, 400); l.text != msgs[0].Body || len(l.ids) != 1 {
		t.Errorf("no backlog: %+v", l)
	}
	// Backlog: the channel's acknowledgements share one line.
	l := planLine(msgs, 1, 400)
	if want := "bob: #7 ✓ 3 left · carol: #7 ✓ 3 left · dave: #7 ✓ 3 left"; l.text != want || len(l.ids) != 3 {
		t.Errorf("backlog: %+v, want %q", l, want)
	}
	// The budget bounds a coalesced line.
	l = planLine(msgs, 0, 45)
	if len(l.text) > 45 || len(l.ids) != 2 {
		t.Errorf("budget 45: %q (%d bytes), ids %v", l.text, len(l.text), l.ids)
	}
	// A long message goes in parts, the rest addressed again.
	long := store.Message{ID: 9, Target: "#c", Addressee: "bob", Body: "bob: " + strings.Repeat("word ", 30)}
	l = planLine([]store.Message{long}, 4, 60)
	if len(l.text) > 60 || !strings.HasPrefix(l.rest, "bob: word") {
		t.Errorf("long: %+v", l)
	}
}

func TestCommandText(t *testing.T) {
	tests := []struct {
		line    string
		private bool
		want    string
		ok      bool
	}{
		{"!vote 3", false, "vote 3", true},
		{"! vote 3", false, "", false},
		{"!", false, "", false},
		{"hallway: vote 3", false, "vote 3", true},
		{"Hallway, vote 3", false, "vote 3", true},
		{"hallway:", false, "", false},
		{"hallwayfan: hi", false, "", false},
		{"just chatting", false, "", false},
		{"vote 3", true, "vote 3", true},
		{"!vote 3", true, "vote 3", true},
	}
	for _, tt := range tests {
		got, ok := commandText(tt.line, "!", "hallway", tt.private)
		if got != tt.want || ok != tt.ok {
			t.Errorf("commandText(%q, private=%v) = %q, %v; want %q, %v", tt.line, tt.private, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFoldAccount(t *testing.T) {
	if got := FoldAccount("Pleia2[Away]\\~"); got != "pleia2{away}|^" {
		t.Errorf("FoldAccount = %q", got)
	}
}

func TestPlanLineTopic(t *testing.T) {
	msgs := []store.Message{
		{ID: 1, Target: "#c", Kind: store.TopicKind, Body: "Now: Ballroom A: #7 Macs"},
		{ID: 2, Target: "#c", Addressee: "bob", Body: "bob: voted", Short: "#7 ✓"},
	}
	l := planLine(msgs, 0, 400)
	if !l.topic || l.text != "Now: Ballroom A: #7 Macs" || len(l.ids) != 1 {
		t.Errorf("topic line: %+v", l)
	}
	// A topic is never coalesced into acknowledgements.
	l = planLine(append(msgs[1:], msgs[0]), 0, 400)
	if l.topic || strings.Contains(l.text, "Now:") {
		t.Errorf("coalesced line took the topic: %+v", l)
	}
}

func TestIsCTCPReply(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{"NOTICE bob :\x01VERSION girc\x01\r\n", true},
		{"@label=1 :me!u@h NOTICE bob :\x01PING 1\x01\r\n", true},
		{"notice bob :\x01ERRMSG unknown\x01\r\n", true},
		{"PRIVMSG bob :\x01ACTION waves\x01\r\n", false},
		{"NOTICE bob :hello\r\n", false},
		{"PRIVMSG #c :bob: \x01not at the start\r\n", false},
		{"PONG :x\r\n", false},
	}
	for _, tt := range tests {
		if got := isCTCPReply([]byte(tt.line)); got != tt.want {
			t.Errorf("isCTCPReply(%q) = %v, want %v", tt.line, got, tt.want)
		}
	}
}

// TestWireConnFilters: girc's CTCP replies never reach the socket, even
// when a line comes in pieces; everything else does, in order.
func TestWireConnFilters(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	w := &wireConn{Conn: a}
	got := make(chan string, 1)
	go func() {
		data, _ := io.ReadAll(b)
		got <- string(data)
	}()
	for _, p := range []string{"PRIVMSG #c :hi\r\n", "NOTICE bob :\x01VER", "SION girc\x01\r\nPONG :1\r\n", "NOTICE bob :plain\r\n"} {
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.writeRaw("NOTICE bob :\x01VERSION hallway\x01"); err != nil {
		t.Fatal(err)
	}
	a.Close()
	want := "PRIVMSG #c :hi\r\nPONG :1\r\nNOTICE bob :plain\r\nNOTICE bob :\x01VERSION hallway\x01\r\n"
	if s := <-got; s != want {
		t.Errorf("on the wire:\n%q\nwant\n%q", s, want)
	}
}

// TestPagerCountsWrappedLines: one long line is as many lines as IRC
// will carry, and the channel's limit holds.
func TestPagerCountsWrappedLines(t *testing.T) {
	p := newPager()
	req := Request{Transport: IRC, Nick: "bob", Account: "bob", Where: "#c"}
	r := p.page(req, Reply{Lines: []string{"#1 Long one", strings.Repeat("word ", 400)}, Short: "x"}, "!")
	if len(r.Lines) != channelLines || !strings.HasPrefix(r.Lines[channelLines-1], "(") || r.Short != "" {
		t.Fatalf("paged to %d lines: %q", len(r.Lines), r.Lines)
	}
	for _, l := range r.Lines {
		if len(l) > wrapWidth {
			t.Errorf("a line of %d bytes (wrap at %d)", len(l), wrapWidth)
		}
	}
	rest, _ := p.next(req)
	if len(rest) < 4 {
		t.Errorf("the rest is %d lines, want the remaining pieces", len(rest))
	}
}

// TestLimiterChargesLines: an answer's extra lines come out of the
// person's allowance.
func TestLimiterChargesLines(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLimiter(8, 2*time.Second)
	if wait, _ := l.allow("bob", now); wait != 0 {
		t.Fatal("first command limited")
	}
	if wait, _ := l.overdrawn("bob", now); wait != 0 {
		t.Fatal("overdrawn before any charge")
	}
	l.charge("bob", 8, now) // a nine-line answer
	if wait, first := l.overdrawn("bob", now); wait == 0 || !first {
		t.Fatalf("after nine lines: overdrawn wait %v, first %v; want a first refusal", wait, first)
	}
	if wait, first := l.allow("bob", now); wait == 0 || first {
		t.Fatalf("after nine lines: wait %v, first %v; want limited, told already", wait, first)
	}
	if wait, _ := l.allow("bob", now.Add(4*time.Second)); wait != 0 {
		t.Errorf("two intervals later: still limited %v", wait)
	}
}
