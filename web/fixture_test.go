package web

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
	"github.com/hallwayhq/hallway/store/storetest"
)

// quiet drops the server's log: the tests check what clients see.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var update = flag.Bool("update", false, "rewrite the golden files (and docs/schedule-page.png)")

const (
	slug    = "openinfra-day-2027"
	baseURL = "https://hallway.example.org"
)

// fixture is a store with one event, its proposals, votes, a personal
// feed token and two releases, and a Server over it with a fixed clock.
type fixture struct {
	t      *testing.T
	store  *store.Store
	srv    *Server
	ev     Event
	zone   *time.Location
	now    time.Time
	token  string // alice's personal feed
	people map[string]int64
	props  map[int64]store.Proposal
	evID   int64
	// front is the URL of the front serving srv, when the requests go
	// through it (viaBoth).
	front string
	// storeNow is the store's clock, in Unix nanoseconds.
	storeNow atomic.Int64
}

// at is a wall-clock time on the event's day.
func (f *fixture) at(hm string) time.Time {
	tm, err := time.ParseInLocation("2006-01-02 15:04", "2027-03-04 "+hm, f.zone)
	if err != nil {
		f.t.Fatal(err)
	}
	return tm
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	zone, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, zone: zone, people: map[string]int64{}, props: map[int64]store.Proposal{}}
	ctx := context.Background()
	f.store, err = store.Open(ctx, storetest.Source(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.store.Close() })
	// The store's clock is set by release while requests read it.
	f.storeNow.Store(time.Date(2027, 2, 20, 10, 0, 0, 0, time.UTC).UnixNano())
	f.store.Now = func() time.Time { return time.Unix(0, f.storeNow.Load()) }

	rooms := []schedule.GridRoom{{Name: "Ballroom A", Capacity: 120}, {Name: "Room 104", Capacity: 40}, {Name: "Room 106", Capacity: 30}}
	all := []string{"Ballroom A", "Room 104", "Room 106"}
	grid := schedule.Grid{Rooms: rooms}
	for _, s := range []struct {
		start string
		min   int
		kind  string
		rooms []string
		title string
	}{
		{"09:00", 40, "talk", all[:1], ""}, {"09:45", 40, "talk", all[:1], ""}, {"12:00", 60, "break", nil, "Lunch"},
		{"13:00", 50, "session", all, ""}, {"14:00", 50, "session", all, ""}, {"16:00", 45, "plenary", all[:1], "Closing plenary"},
	} {
		start := f.at(s.start)
		grid.Slots = append(grid.Slots, schedule.GridSlot{Start: start, End: start.Add(time.Duration(s.min) * time.Minute), Kind: s.kind, Rooms: s.rooms, Title: s.title})
	}
	f.ev = Event{Slug: slug, Name: "Open Source Infrastructure Day 2027", Venue: "Oregon Convention Center", Zone: zone,
		Rooms: rooms, Grid: grid, Channel: "#openinfra"}

	f.do(func(tx *store.Tx) error {
		ev, err := tx.EnsureEvent(f.ev.Slug, f.ev.Name)
		if err != nil {
			return err
		}
		f.evID = ev.ID
		for _, who := range []string{"alice", "bob", "carol", "dave", "erin", "frank"} {
			p, err := tx.PersonByIdentity(store.IRCAccount, who, map[string]string{"alice": "Alice Liddell", "bob": "Bob <b> Builder"}[who])
			if err != nil {
				return err
			}
			f.people[who] = p.ID
		}
		for _, p := range []struct {
			who, kind, title, abstract, status, reason string
		}{
			{"alice", store.Talk, "Keynote: zero to 2500", "How we went from zero to 2500 machines.\nSecond paragraph <script>alert(1)</script> & more.", store.Accepted, ""},
			{"bob", store.Talk, "CI at scale", "Builds, caches, queues.", store.Accepted, ""},
			{"carol", store.Talk, "Not accepted", "", store.Rejected, "out of scope"},
			{"alice", store.Session, "Session A: bare metal", "", "", ""},
			{"bob", store.Session, "Session B: \"quotes\" & <tags>", "", "", ""},
			{"carol", store.Session, "Session C", "", "", ""},
			{"dave", store.Session, "Session D", "", "", ""},
			{"erin", store.Session, "Session E", "", "", ""},
			{"frank", store.Session, "Session F", "", "", ""},
		} {
			pr, err := tx.AddProposal(store.Proposal{EventID: ev.ID, Kind: p.kind, Title: p.title, Abstract: p.abstract, AuthorID: f.people[p.who]})
			if err != nil {
				return err
			}
			if p.status != "" {
				pr.Status, pr.Reason = p.status, p.reason
				if err := tx.UpdateProposal(pr); err != nil {
					return err
				}
			}
			f.props[pr.Number] = pr
		}
		for who, nums := range map[string][]int64{"alice": {4, 6}, "bob": {4, 5, 7}, "carol": {4, 5}, "dave": {6, 7, 8}, "erin": {4, 9}} {
			for _, n := range nums {
				if _, err := tx.AddVote(ev.ID, f.props[n].ID, f.people[who]); err != nil {
					return err
				}
			}
		}
		f.token, err = tx.FeedToken(ev.ID, f.people["alice"])
		return err
	})

	item := func(n int64, room, start string, min int) schedule.Item {
		p := f.props[n]
		s := f.at(start)
		return schedule.Item{Number: n, Kind: p.Kind, Title: p.Title, Abstract: p.Abstract, Room: room, Start: s, End: s.Add(time.Duration(min) * time.Minute),
			Speakers: []string{map[int64]string{1: "Alice Liddell", 2: "Bob <b> Builder", 4: "Alice Liddell", 5: "Bob <b> Builder", 6: "carol", 7: "dave", 8: "erin", 9: "frank"}[n]}}
	}
	f.release(time.Date(2027, 3, 1, 17, 0, 0, 0, time.UTC), "", schedule.Plan{
		Items: []schedule.Item{
			item(1, "Ballroom A", "09:00", 40), item(2, "Ballroom A", "09:45", 40),
			item(4, "Ballroom A", "13:00", 50), item(5, "Room 104", "13:00", 50), item(6, "Room 106", "13:00", 50),
			item(7, "Ballroom A", "14:00", 50), item(8, "Room 104", "14:00", 50),
		},
		Left: []schedule.Left{{Number: 9, Kind: store.Session, Title: "Session F", Votes: 0, Reason: schedule.ReasonNoVotes}},
	})
	renamed := item(2, "Ballroom A", "09:45", 40)
	renamed.Title = "CI at scale, revisited"
	f.release(time.Date(2027, 3, 2, 9, 30, 0, 0, time.UTC), "Room 104 has no projector in the afternoon.", schedule.Plan{
		Items: []schedule.Item{
			item(1, "Ballroom A", "09:00", 40), renamed,
			item(4, "Ballroom A", "13:00", 50), item(6, "Room 106", "13:00", 50),
			item(7, "Ballroom A", "14:00", 50), item(9, "Room 104", "14:00", 50), item(5, "Room 106", "14:00", 50),
		},
		Conflicts: 1,
	})
	// During the first afternoon slot: 13:00 is on, 14:00 is next.
	f.now = f.at("13:20")
	f.srv = New(f.store, []Event{f.ev}, &Options{BaseURL: baseURL, Now: func() time.Time { return f.now }, Logger: quiet})
	f.srv.fresh = 0 // every request reads the versions again
	return f
}

func (f *fixture) do(fn func(tx *store.Tx) error) {
	f.t.Helper()
	if err := f.store.Do(context.Background(), fn); err != nil {
		f.t.Fatal(err)
	}
}

// release stores the plan as the event's next release, made at.
func (f *fixture) release(at time.Time, note string, plan schedule.Plan) {
	f.t.Helper()
	f.storeNow.Store(at.UnixNano())
	f.do(func(tx *store.Tx) error {
		v, err := tx.NextReleaseVersion(f.evID)
		if err != nil {
			return err
		}
		data, err := json.Marshal(&schedule.Release{Version: v, CreatedAt: tx.Now(), Note: note, Plan: plan})
		if err != nil {
			return err
		}
		return tx.AddRelease(f.evID, store.Release{Version: v, Note: note, Schedule: data}, f.people["alice"])
	})
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./web -update creates it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (go test ./web -update rewrites it)\n--- got\n%s", path, got)
	}
}
