package web

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/store"
)

// unconfSlug is an event of the fixture's store with proposals and no
// release: the wall of votes.
const unconfSlug = "unconf-2027"

// withUnconf adds the unconference event to f's store and serves both
// events from a new server.
func (f *fixture) withUnconf() {
	f.t.Helper()
	f.do(func(tx *store.Tx) error {
		ev, err := tx.EnsureEvent(unconfSlug, "Unconference 2027")
		if err != nil {
			return err
		}
		var ids []int64
		for _, p := range []struct{ who, title string }{{"alice", "Wall A: packaging"}, {"bob", "Wall B: <mirrors> & caches"}, {"carol", "Wall C: CI"}} {
			pr, err := tx.AddProposal(store.Proposal{EventID: ev.ID, Kind: store.Session, Title: p.title, AuthorID: f.people[p.who]})
			if err != nil {
				return err
			}
			ids = append(ids, pr.ID)
		}
		for who, i := range map[string]int{"alice": 1, "bob": 1, "carol": 2} {
			if _, err := tx.AddVote(ev.ID, ids[i], f.people[who]); err != nil {
				return err
			}
		}
		return nil
	})
	un := Event{Slug: unconfSlug, Name: "Unconference 2027", Zone: f.zone, Channel: "#unconf", Rooms: f.ev.Rooms}
	f.srv = New(f.store, []Event{f.ev, un}, &Options{BaseURL: baseURL, Now: func() time.Time { return f.now }, Logger: quiet})
	f.srv.fresh = 0
}

// TestLivePages renders the board, a room's screen and the wall (before
// and after a release) as golden files: at 13:20 the organizers marked
// Ballroom A full, so its screen and the board point to Room 106.
func TestLivePages(t *testing.T) { viaBothUnconf(t, testLivePages) }

// viaBothUnconf is viaBoth with the unconference event.
func viaBothUnconf(t *testing.T, test func(*testing.T, *fixture)) {
	for _, front := range []bool{false, true} {
		t.Run(map[bool]string{false: "handler", true: "front"}[front], func(t *testing.T) {
			f := newFixture(t)
			f.withUnconf()
			if front {
				f.front = f.serveFront()
			}
			test(t, f)
		})
	}
}

func testLivePages(t *testing.T, f *fixture) {
	f.storeNow.Store(f.at("13:10").UnixNano())
	f.do(func(tx *store.Tx) error { return tx.MarkRoom(f.evID, "Ballroom A", store.RoomFull, f.people["alice"]) })
	for _, tc := range []struct{ path, golden string }{
		{"/" + slug + "/board", "board.html"},
		{"/" + slug + "/room/Ballroom%20A/screen", "screen-ballroom.html"},
		{"/" + slug + "/room/Room%20106/screen", "screen-106.html"},
		{"/" + slug + "/wall", "wall-released.html"},
		{"/" + unconfSlug + "/wall", "wall.html"},
	} {
		w := f.get("GET", tc.path)
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", tc.path, w.Code, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != typeHTML {
			t.Errorf("%s: Content-Type %q", tc.path, ct)
		}
		checkGolden(t, tc.golden, w.Body.Bytes())
	}
	for _, path := range []string{"/" + slug + "/room/Room%20999/screen", "/nope/board", "/" + slug + "/live?view=room/Room%20999", "/" + slug + "/live?view=x"} {
		if w := f.get("GET", path); w.Code != 404 {
			t.Errorf("%s: %d, want 404", path, w.Code)
		}
	}
}

// TestRoomStates: the room's state from the checked-in voters of what is
// on (75 % of the capacity filling, 100 % full) unless an organizer said
// otherwise during the session; a full room lists the others on now, the
// emptiest first.
func TestRoomStates(t *testing.T) {
	f := newFixture(t)
	rv, err := f.srv.releases(context.Background(), f.srv.bySlug[slug])
	if err != nil {
		t.Fatal(err)
	}
	st := f.srv.bySlug[slug]
	// At 13:20: #4 in Ballroom A (120 seats), #6 in Room 106 (30).
	for _, tc := range []struct {
		name      string
		present   map[int64]int
		marks     []store.RoomMark
		want      map[string]string
		elsewhere string
	}{
		{"empty", nil, nil, map[string]string{"Ballroom A": "", "Room 106": ""}, ""},
		{"filling at 75%", map[int64]int{6: 23}, nil, map[string]string{"Room 106": ""}, ""},
		{"filling", map[int64]int{6: 22, 4: 90}, nil, map[string]string{"Room 106": "", "Ballroom A": stateFilling}, ""},
		{"full by check-ins", map[int64]int{6: 30, 4: 10}, nil, map[string]string{"Room 106": stateFull, "Ballroom A": ""}, "Ballroom A"},
		{"organizer full", nil, []store.RoomMark{{Room: "Ballroom A", State: store.RoomFull, At: f.at("13:05")}}, map[string]string{"Ballroom A": stateFull}, "Room 106"},
		{"organizer space beats check-ins", map[int64]int{6: 40}, []store.RoomMark{{Room: "Room 106", State: store.RoomSpace, At: f.at("13:15")}}, map[string]string{"Room 106": stateSpace}, ""},
		{"a mark of the morning is over", map[int64]int{}, []store.RoomMark{{Room: "Ballroom A", State: store.RoomFull, At: f.at("09:30")}}, map[string]string{"Ballroom A": ""}, ""},
		{"both full: nowhere", map[int64]int{6: 30, 4: 120}, nil, map[string]string{"Room 106": stateFull, "Ballroom A": stateFull}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pv := &proposalView{present: tc.present, marks: tc.marks}
			if tc.name == "filling at 75%" {
				pv.present = map[int64]int{6: 22} // 22/30 < 75 %
				b := f.srv.boardAt(st, rv, pv, f.now)
				if got := roomState(b, "Room 106"); got != "" {
					t.Errorf("22 of 30: %q", got)
				}
				pv.present = map[int64]int{6: 23}
				tc.want = map[string]string{"Room 106": stateFilling}
			}
			b := f.srv.boardAt(st, rv, pv, f.now)
			for room, want := range tc.want {
				if got := roomState(b, room); got != want {
					t.Errorf("%s: %q, want %q", room, got, want)
				}
			}
			var alt []string
			for _, r := range b.Rooms {
				for _, e := range r.Elsewhere {
					alt = append(alt, e.Room)
				}
			}
			if strings.Join(alt, ",") != tc.elsewhere {
				t.Errorf("elsewhere %q, want %q", alt, tc.elsewhere)
			}
		})
	}
}

func roomState(b boardView, room string) string {
	for _, r := range b.Rooms {
		if r.Name == room {
			return r.State
		}
	}
	return "no room " + room
}

// TestBreaks: the board says the break on now and the next one.
func TestBreaks(t *testing.T) {
	f := newFixture(t)
	st := f.srv.bySlug[slug]
	on, next := st.breaks(f.at("12:30"))
	if on == nil || on.Title != "Lunch" || on.End.Text != "13:00 PST" || next == nil || next.Title != "Closing plenary" || next.Start.Text != "16:00 PST" {
		t.Errorf("at 12:30: %+v, %+v", on, next)
	}
	if on, next := st.breaks(f.at("16:50")); on != nil || next != nil {
		t.Errorf("after the day: %+v, %+v", on, next)
	}
}

// TestLiveStream: a screen on the stream of the wall gets the wall at
// once, then a vote committed in the store within a second or so, then
// a new proposal; through the net/http handler and the front.
func TestLiveStream(t *testing.T) { viaBothUnconf(t, testLiveStream) }

func testLiveStream(t *testing.T, f *fixture) {
	base := f.url()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/"+unconfSlug+"/live?view=wall", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	events := make(chan string, 16)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(nil, 1<<20)
		var data []string
		kind := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if kind == "update" {
					events <- strings.Join(data, "\n")
				}
				data, kind = nil, ""
			case strings.HasPrefix(line, "event: "):
				kind = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				data = append(data, line[len("data: "):])
			}
		}
	}()
	next := func(want string) string {
		t.Helper()
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatalf("the stream ended waiting for %q", want)
				}
				if strings.Contains(ev, want) {
					return ev
				}
			case <-ctx.Done():
				t.Fatalf("no update with %q", want)
			}
		}
	}
	first := next(`<li id="p2"><span class="votes">2</span>`)
	if !strings.Contains(first, "Wall B: &lt;mirrors&gt; &amp; caches") || strings.Index(first, `id="p2"`) > strings.Index(first, `id="p3"`) {
		t.Errorf("first frame:\n%s", first)
	}
	if m := fetch(t, "GET", base+"/metrics"); !strings.Contains(m.body, "\nhallway_live_streams 1\n") {
		t.Errorf("metrics with one stream open:\n%s", m.body)
	}
	var evID int64
	f.do(func(tx *store.Tx) error {
		ev, err := tx.EventBySlug(unconfSlug)
		if err != nil {
			return err
		}
		evID = ev.ID
		p, err := tx.Proposal(ev.ID, 3)
		if err != nil {
			return err
		}
		for _, who := range []string{"dave", "erin", "frank"} {
			if _, err := tx.AddVote(ev.ID, p.ID, f.people[who]); err != nil {
				return err
			}
		}
		return nil
	})
	committed := time.Now()
	up := next(`<li id="p3"><span class="votes">4</span>`)
	t.Logf("the votes were on the stream %v after their commit", time.Since(committed).Round(time.Millisecond))
	if strings.Index(up, `id="p3"`) > strings.Index(up, `id="p2"`) {
		t.Errorf("#3 with 4 votes is not first:\n%s", up)
	}
	f.do(func(tx *store.Tx) error {
		_, err := tx.AddProposal(store.Proposal{EventID: evID, Kind: store.Session, Title: "Wall D: new", AuthorID: f.people["dave"]})
		return err
	})
	next("Wall D: new")

	// A screen that goes away frees its stream.
	cancel()
	for deadline := time.Now().Add(5 * time.Second); ; {
		m := fetch(t, "GET", base+"/metrics")
		if strings.Contains(m.body, "\nhallway_live_streams 0\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stream is still counted 5 s after its screen left:\n%s", m.body)
		}
		time.Sleep(20 * time.Millisecond) // polling the gauge
	}
}

// TestRoomStatesOwnThresholds: an event's own thresholds (the config's
// board_filling, board_full) decide instead of 75 % and 100 %.
func TestRoomStatesOwnThresholds(t *testing.T) {
	f := newFixture(t)
	st := f.srv.bySlug[slug]
	rv, err := f.srv.releases(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	// At 13:20, #6 is on in Room 106 (30 seats): 15 checked in.
	pv := &proposalView{present: map[int64]int{6: 15}}
	for _, tc := range []struct {
		filling, full float64
		want          string
	}{
		{0, 0, ""},             // 50 %: under the default 75 %
		{0.5, 0, stateFilling}, // filling from half
		{0.4, 0.5, stateFull},  // full from half
		{0.6, 0.9, ""},         // neither
	} {
		st.ev.Filling, st.ev.Full = tc.filling, tc.full
		if got := roomState(f.srv.boardAt(st, rv, pv, f.now), "Room 106"); got != tc.want {
			t.Errorf("filling %v, full %v: %q, want %q", tc.filling, tc.full, got, tc.want)
		}
	}
}
