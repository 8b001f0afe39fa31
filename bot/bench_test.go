package bot

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/store"
	"github.com/hallwayhq/hallway/store/storetest"
)

// BenchmarkVote measures one vote command end to end: split, spec lookup,
// identity, rules, the SQLite transaction with the vote and its queued
// reply. Each person casts their votes one command at a time, as in a
// channel.
func BenchmarkVote(b *testing.B) { benchmarkVote(b, 1) }

// BenchmarkVoteBatched is the same with commands handed over in batches of
// 64, as the IRC transport does when lines queue up during a vote storm.
func BenchmarkVoteBatched(b *testing.B) { benchmarkVote(b, 64) }

func benchmarkVote(b *testing.B, batch int) {
	s, err := store.Open(context.Background(), storetest.Source(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ev := &Event{Slug: "bench", Name: "Bench", Channel: "#bench", VotesPerPerson: 8}
	bot := newTestBot(s, []*Event{ev}, &Options{RequireAccount: true, RateBurst: 1 << 30})
	ctx := context.Background()
	if err := bot.Init(ctx); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		if err := bot.Handle(ctx, Request{Transport: IRC, Can: ChatCapabilities, Who: IRCIdentity("alice"), Nick: "alice", Where: "#bench", Text: `propose "Session"`}); err != nil {
			b.Fatal(err)
		}
	}
	reqs := make([]Request, b.N)
	for i := range reqs {
		who := fmt.Sprintf("voter%d", i/8)
		reqs[i] = Request{Transport: IRC, Can: ChatCapabilities, Who: IRCIdentity(who), Nick: who, Where: "#bench", Text: fmt.Sprintf("vote %d", (i*7)%40+1)}
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < len(reqs); i += batch {
		if err := bot.HandleBatch(ctx, reqs[i:min(i+batch, len(reqs))]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "votes/s")
}
