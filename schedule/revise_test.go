package schedule

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// revisionGrid is a day of 6 session slots in 3 rooms, with 15 sessions
// and 60 ballots.
func revisionGrid() (Grid, []Proposal, []Ballot) {
	day := time.Date(2027, 3, 4, 9, 0, 0, 0, time.UTC)
	g := Grid{Rooms: []GridRoom{{Name: "A", Capacity: 30}, {Name: "B", Capacity: 20}, {Name: "C", Capacity: 10}}}
	for i := range 6 {
		st := day.Add(time.Duration(i) * time.Hour)
		g.Slots = append(g.Slots, GridSlot{Start: st, End: st.Add(50 * time.Minute), Kind: KindSession, Rooms: []string{"A", "B", "C"}})
	}
	r := rand.New(rand.NewPCG(4, 2))
	var props []Proposal
	for n := range 15 {
		props = append(props, Proposal{Number: int64(n + 1), Kind: KindSession, Title: fmt.Sprint("S", n+1), Speakers: []string{fmt.Sprint("p", n+1)}})
	}
	var ballots []Ballot
	for range 60 {
		var b Ballot
		for _, k := range r.Perm(15)[:4] {
			b = append(b, int64(k+1))
			props[k].Votes++
		}
		ballots = append(ballots, b)
	}
	return g, props, ballots
}

// TestRevisePlanKeepsTheDay: one more ballot moves at most a few items
// (a fresh plan moves many); an item that starts before Frozen stays even
// when moves cost nothing; a withdrawn item frees its cell without
// reshuffling the rest.
func TestRevisePlanKeepsTheDay(t *testing.T) {
	ctx := context.Background()
	g, props, ballots := revisionGrid()
	opt := &SolveOptions{Seed: 1, MaxIterations: 100000}
	first, err := MakePlan(ctx, g, props, ballots, opt)
	if err != nil {
		t.Fatal(err)
	}
	moved := func(a, b *Plan) (n int) {
		at := map[int64]Item{}
		for _, it := range a.Items {
			at[it.Number] = it
		}
		for _, it := range b.Items {
			if w, ok := at[it.Number]; ok && (!w.Start.Equal(it.Start) || w.Room != it.Room) {
				n++
			}
		}
		return n
	}
	more := append(append([]Ballot(nil), ballots...), Ballot{1, 2, 3, 4})
	props2 := append([]Proposal(nil), props...)
	for _, n := range more[len(more)-1] {
		props2[n-1].Votes++
	}
	rev, err := RevisePlan(ctx, g, props2, more, &Revision{Items: first.Items}, &SolveOptions{Seed: 2, MaxIterations: 100000})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := MakePlan(ctx, g, props2, more, &SolveOptions{Seed: 2, MaxIterations: 100000})
	if err != nil {
		t.Fatal(err)
	}
	if n := moved(first, rev); n > 3 {
		t.Errorf("one more ballot: the revision moved %d items", n)
	}
	t.Logf("one more ballot: revision moved %d items, a fresh plan %d; conflicts+overflow %d vs %d",
		moved(first, rev), moved(first, fresh), rev.Conflicts+rev.Overflow, fresh.Conflicts+fresh.Overflow)

	// Frozen: with other ballots altogether and moves cheap, later items
	// move but what starts before 11:00 stays.
	frozen := g.Slots[2].Start
	r := rand.New(rand.NewPCG(9, 9))
	other := make([]Proposal, len(props))
	for i, p := range props {
		p.Votes = 0
		other[i] = p
	}
	var otherBallots []Ballot
	for range 60 {
		var b Ballot
		for _, k := range r.Perm(15)[:5] {
			b = append(b, int64(k+1))
			other[k].Votes++
		}
		otherBallots = append(otherBallots, b)
	}
	free, err := RevisePlan(ctx, g, other, otherBallots, &Revision{Items: first.Items, RetimeWeight: 1, Frozen: frozen}, opt)
	if err != nil {
		t.Fatal(err)
	}
	at := map[int64]Item{}
	for _, it := range free.Items {
		at[it.Number] = it
	}
	later := 0
	for _, it := range first.Items {
		now := at[it.Number]
		changed := now.Room != it.Room || !now.Start.Equal(it.Start)
		if it.Start.Before(frozen) && changed {
			t.Errorf("#%d started before the freeze at %s and moved to %s %s", it.Number, it.Start.Format("15:04"), now.Room, now.Start.Format("15:04"))
		}
		if !it.Start.Before(frozen) && changed {
			later++
		}
	}
	if later == 0 {
		t.Errorf("nothing after the freeze moved either: the test shows nothing")
	}

	// A withdrawal: the others stay.
	gone := first.Items[0].Number
	var rest []Proposal
	for _, p := range props {
		if p.Number != gone {
			rest = append(rest, p)
		}
	}
	after, err := RevisePlan(ctx, g, rest, ballots, &Revision{Items: first.Items}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if n := moved(first, after); n > 2 {
		t.Errorf("a withdrawal moved %d other items", n)
	}
}

// TestLeftReasonIsTrue: a session left out while a room was free is not
// said to be below the cut; one left out of a full grid is.
func TestLeftReasonIsTrue(t *testing.T) {
	day := time.Date(2027, 3, 4, 9, 0, 0, 0, time.UTC)
	g := Grid{Rooms: []GridRoom{{Name: "A", Capacity: 30}, {Name: "B", Capacity: 30}}}
	for i := range 2 {
		st := day.Add(time.Duration(i) * time.Hour)
		g.Slots = append(g.Slots, GridSlot{Start: st, End: st.Add(50 * time.Minute), Kind: KindSession, Rooms: []string{"A", "B"}})
	}
	// Three sessions of one speaker in two slots: one cannot run, though
	// a room is free at both times.
	props := []Proposal{
		{Number: 1, Kind: KindSession, Title: "one", Speakers: []string{"ann"}, Votes: 3},
		{Number: 2, Kind: KindSession, Title: "two", Speakers: []string{"ann"}, Votes: 2},
		{Number: 3, Kind: KindSession, Title: "three", Speakers: []string{"ann"}, Votes: 1},
	}
	ballots := []Ballot{{1, 2, 3}, {1, 2}, {1}}
	plan, err := MakePlan(context.Background(), g, props, ballots, &SolveOptions{Seed: 1, MaxIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Left) != 1 || plan.Left[0].Number != 3 || plan.Left[0].Reason != ReasonSpeakers+" (Thu 09:00, Thu 10:00)" {
		t.Errorf("left: %+v", plan.Left)
	}
	// Five sessions of five speakers in four cells: the cut.
	props = nil
	for n := range 5 {
		props = append(props, Proposal{Number: int64(n + 1), Kind: KindSession, Title: fmt.Sprint(n), Speakers: []string{fmt.Sprint("p", n)}, Votes: 5 - n})
	}
	plan, err = MakePlan(context.Background(), g, props, []Ballot{{1, 2, 3, 4, 5}}, &SolveOptions{Seed: 1, MaxIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Left) != 1 || plan.Left[0].Number != 5 || plan.Left[0].Reason != ReasonBelow {
		t.Errorf("left: %+v", plan.Left)
	}
}
