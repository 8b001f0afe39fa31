package bot

import (
	"context"
	"strings"
	"testing"

	"github.com/hallwayhq/hallway/store"
	"github.com/hallwayhq/hallway/store/storetest"
)

// matrixReplier writes a Matrix answer as one row to the room, or to the
// person for a private one, as the Matrix transport does (its own tests
// check its rows).
type matrixReplier struct{}

func (matrixReplier) Reaches(kind IdentityKind) bool { return kind == MatrixUser }

func (matrixReplier) Reply(tx *store.Tx, req Request, r Reply) error {
	if r.Ack != "" && req.Where != "" && len(req.Keys) > 0 {
		if err := tx.Enqueue(store.Message{Channel: store.Matrix, Kind: store.ReactionKind, Target: req.Where, Body: r.Ack, ReplyTo: req.Keys[0]}); err != nil {
			return err
		}
	}
	if len(r.Lines) == 0 {
		return nil
	}
	target := req.Where
	if r.Private || target == "" {
		target = req.Who.Value
	}
	return tx.Enqueue(store.Message{Channel: store.Matrix, Target: target, Body: strings.Join(r.Lines, "\n")})
}

// TestReportFromMatrix: a report made in a direct chat on Matrix is kept
// for the team, a team member known by Matrix ID is told privately at
// once and may list the reports, and someone else on Matrix may not.
func TestReportFromMatrix(t *testing.T) {
	s, err := store.Open(context.Background(), storetest.Source(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	ev := &Event{Slug: "ev", Name: "Ev", Channel: "#ev", Organizers: []Identity{IRCIdentity("alice")},
		CocTeam: []string{"@team:example.org"}}
	b := newTestBot(s, []*Event{ev}, &Options{RequireAccount: true})
	b.SetReplier(Matrix, matrixReplier{})
	if err := b.Init(ctx); err != nil {
		t.Fatal(err)
	}
	say := func(who, text string) []store.Message {
		t.Helper()
		before, _ := s.Pending(ctx, store.Matrix, 0, 1000)
		if err := b.Handle(ctx, Request{Transport: Matrix, Who: MatrixIdentity(who), Can: ChatCapabilities, Nick: who, Text: text}); err != nil {
			t.Fatal(err)
		}
		after, _ := s.Pending(ctx, store.Matrix, 0, 1000)
		return after[len(before):]
	}
	got := say("@victim:example.org", "report someone shouted at me in room 2")
	var toTeam, toReporter bool
	for _, m := range got {
		switch {
		case m.Target == "@team:example.org" && strings.Contains(m.Body, "shouted at me"):
			toTeam = true
		case m.Target == "@victim:example.org" && strings.Contains(m.Body, "reached the code-of-conduct team"):
			toReporter = true
		}
	}
	if !toTeam || !toReporter {
		t.Fatalf("team told %v, reporter answered %v: %+v", toTeam, toReporter, got)
	}
	if got := say("@team:example.org", "coc list"); len(got) != 1 || !strings.Contains(got[0].Body, "#1") || !strings.Contains(got[0].Body, "matrix") {
		t.Errorf("the team's list: %+v", got)
	}
	if got := say("@mallory:example.org", "coc list"); len(got) != 1 || strings.Contains(got[0].Body, "shouted") || !strings.Contains(got[0].Body, "is for the code-of-conduct team") {
		t.Errorf("someone else's list: %+v", got)
	}
}
