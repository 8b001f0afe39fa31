package bot

import (
	"strings"
	"testing"
	"time"
)

func TestFoldAccount(t *testing.T) {
	if got := FoldAccount("Pleia2[Away]\\~"); got != "pleia2{away}|^" {
		t.Errorf("FoldAccount = %q", got)
	}
}

// TestPagerCountsWrappedLines: one long line is as many lines as IRC
// will carry, and the channel's limit holds.
func TestPagerCountsWrappedLines(t *testing.T) {
	p := newPager()
	req := Request{Transport: IRC, Can: ChatCapabilities, Nick: "bob", Who: IRCIdentity("bob"), Where: "#c"}
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
