package bot

import (
	"context"
	"testing"

	"github.com/hallwayhq/hallway/store"
	"github.com/hallwayhq/hallway/store/storetest"
)

// TestVoteShortForms: the short forms of vote answers, which the IRC
// sender joins into one line when many wait, name the proposal in every
// case, an unvote of a proposal not voted for too.
func TestVoteShortForms(t *testing.T) {
	s, err := store.Open(context.Background(), storetest.Source(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	b := newTestBot(s, []*Event{{Slug: "ev", Name: "Ev", Channel: "#ev", VotesPerPerson: 4}}, &Options{RequireAccount: true})
	if err := b.Init(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ line, short string }{
		{`propose "One"`, ""},
		{`propose "Two"`, ""},
		{"vote 1", "#1 ✓ 3 left"},
		{"vote 1", "#1 ✓ 3 left"},
		{"unvote 2", "#2 not voted, 3 left"},
		{"unvote 1", "unvoted #1, 4 left"},
		{"unvote 1 2", "#1 #2 not voted, 4 left"},
	} {
		before, _ := s.Pending(ctx, store.IRC, 0, 1000)
		if err := b.Handle(ctx, Request{Transport: IRC, Can: ChatCapabilities, Who: IRCIdentity("alice"), Nick: "alice", Where: "#ev", Text: c.line}); err != nil {
			t.Fatal(err)
		}
		after, _ := s.Pending(ctx, store.IRC, 0, 1000)
		if len(after) != len(before)+1 {
			t.Fatalf("%s: %d answers, want 1", c.line, len(after)-len(before))
		}
		if got := after[len(after)-1]; c.short != "" && got.Short != c.short {
			t.Errorf("%s: short %q, want %q (long: %q)", c.line, got.Short, c.short, got.Body)
		}
	}
}
