package schedule

import (
	"fmt"
	"math/rand/v2"
)

// genConfig shapes a random test problem.
type genConfig struct {
	sessions, rooms, slots, voters, votes int
	// Fractions of the features the product needs beyond the benchmark.
	pinFrac, closedFrac, unavailFrac, sharedSpeakerFrac float64
}

// genProblem draws a random, valid problem: topic-clustered votes with a
// skewed popularity, speakers holding several sessions, unavailable slots,
// rooms closed in some slots and a few pinned sessions. It may hold more
// sessions than cells, so that some must stay unplaced.
func genProblem(seed uint64, c genConfig) *Problem {
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	p := &Problem{Name: fmt.Sprintf("gen-%d", seed), ConflictWeight: 1 + r.IntN(2), OverflowWeight: 1 + r.IntN(2)}
	for i := range c.rooms {
		p.Rooms = append(p.Rooms, Room{ID: fmt.Sprintf("R%d", i), Capacity: 5 + r.IntN(40)})
	}
	for t := range c.slots {
		sl := Slot{ID: fmt.Sprintf("T%d", t), Day: 1 + t/8}
		for room := range c.rooms {
			if r.Float64() < c.closedFrac {
				sl.Closed = append(sl.Closed, room)
			}
		}
		p.Slots = append(p.Slots, sl)
	}
	var speakers []string
	topics := max(1, c.sessions/5)
	topic := make([]int, c.sessions)
	for i := range c.sessions {
		topic[i] = r.IntN(topics)
		var sp string
		if len(speakers) > 0 && r.Float64() < c.sharedSpeakerFrac {
			sp = speakers[r.IntN(len(speakers))]
		} else {
			sp = fmt.Sprintf("P%d", len(speakers))
			speakers = append(speakers, sp)
		}
		s := Session{ID: fmt.Sprintf("S%d", i), Speakers: []string{sp}}
		if r.Float64() < 0.1 {
			s.Speakers = append(s.Speakers, fmt.Sprintf("Q%d", r.IntN(3)))
		}
		if r.Float64() < c.unavailFrac {
			start := r.IntN(c.slots)
			for t := start; t < min(c.slots, start+1+r.IntN(c.slots/2+1)); t++ {
				s.Unavailable = append(s.Unavailable, t)
			}
		}
		p.Sessions = append(p.Sessions, s)
	}
	// Pins on distinct open cells, avoiding unavailability and speaker clashes.
	used := map[[2]int]bool{}
	busy := map[string]bool{}
	for i := range p.Sessions {
		if r.Float64() >= c.pinFrac {
			continue
		}
		room, t := r.IntN(c.rooms), r.IntN(c.slots)
		ok := p.roomOpen(room, t) && !used[[2]int{room, t}]
		for _, u := range p.Sessions[i].Unavailable {
			ok = ok && u != t
		}
		for _, sp := range p.Sessions[i].Speakers {
			ok = ok && !busy[fmt.Sprint(sp, t)]
		}
		if !ok {
			continue
		}
		used[[2]int{room, t}] = true
		for _, sp := range p.Sessions[i].Speakers {
			busy[fmt.Sprint(sp, t)] = true
		}
		p.Sessions[i].Pin = &Pin{Room: room, Slot: t}
	}
	// Votes: mostly within a favourite topic, skewed towards low indices.
	for v := range c.voters {
		fav := r.IntN(topics)
		seen := map[int]bool{}
		var votes []int
		for tries := 0; len(votes) < min(c.votes, c.sessions) && tries < 100; tries++ {
			s := int(float64(c.sessions) * r.Float64() * r.Float64())
			if r.Float64() < 0.6 {
				for k := 0; k < 5 && topic[s] != fav; k++ {
					s = r.IntN(c.sessions)
				}
			}
			if !seen[s] {
				seen[s] = true
				votes = append(votes, s)
			}
		}
		p.Voters = append(p.Voters, Voter{ID: fmt.Sprintf("V%d", v), Votes: votes})
	}
	return p
}

// randomConfig draws a small problem shape, sometimes over-full.
func randomConfig(r *rand.Rand) genConfig {
	rooms, slots := 1+r.IntN(5), 1+r.IntN(8)
	return genConfig{
		sessions: 1 + r.IntN(rooms*slots+6),
		rooms:    rooms, slots: slots,
		voters: r.IntN(80), votes: 1 + r.IntN(6),
		pinFrac: 0.1 * r.Float64(), closedFrac: 0.3 * r.Float64(),
		unavailFrac: 0.4 * r.Float64(), sharedSpeakerFrac: 0.4 * r.Float64(),
	}
}
