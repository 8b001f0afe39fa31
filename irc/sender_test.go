package irc

import (
	"io"
	"net"
	"strings"
	"testing"

	"github.com/hallwayhq/hallway/store"
)

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
