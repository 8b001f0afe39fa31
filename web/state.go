package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

// eventState is what the server knows and keeps of one event: the
// releases it last read, the proposals it last read, and the rendered
// responses.
type eventState struct {
	ev   Event
	info schedule.EventInfo
	zone *time.Location

	relMu sync.Mutex // one reader of the releases at a time
	rel   atomic.Pointer[releaseView]

	propMu sync.Mutex // one reader of the proposals at a time
	props  atomic.Pointer[proposalView]

	feedSlots   [3]slot  // by feedKind
	exportSlots [4]slot  // by exportKind
	slots       sync.Map // other routes: key (string) → *slot
	personal    *lru     // token → *personalFeed
	live        live     // the live board's streams (live.go)
}

func newEventState(e Event, baseURL string) *eventState {
	zone := e.Zone
	if zone == nil {
		zone = time.UTC
	}
	rooms := e.Rooms
	if len(rooms) == 0 {
		rooms = e.Grid.Rooms
	}
	return &eventState{
		ev:   e,
		zone: zone,
		info: schedule.EventInfo{
			Slug: e.Slug, Name: e.Name, Venue: e.Venue,
			URL:  baseURL + "/" + e.Slug,
			Zone: zone, Rooms: rooms,
		},
		personal: newLRU(personalCacheSize),
	}
}

// releaseView is an event's release history as of one version.
type releaseView struct {
	checked time.Time // when the version was read (monotonic)
	eventID int64     // 0 while the event is not in the store yet
	version int       // the latest release's, 0 before the first
	amended int64     // the latest amendment's id, 0 for none
	// history holds every release with its amendments; current is the
	// latest as it stands now, without what amendments took out.
	history []*schedule.Release
	current *schedule.Release
	// bounds are the distinct starts and ends of the latest release's
	// items, sorted: what is on now and next changes only there.
	bounds []time.Time
	// numbers holds every proposal number ever released, for the
	// single-session feeds.
	numbers map[int64]bool
}

// latest is the newest release, or nil.
func (v *releaseView) latest() *schedule.Release {
	if len(v.history) == 0 {
		return nil
	}
	return v.history[len(v.history)-1]
}

// releasedAt is when the schedule last changed (the latest release or
// amendment), zero before the first release.
func (v *releaseView) releasedAt() time.Time {
	return schedule.History(v.history).Changed()
}

// key is the cache version of what is made from the schedule.
func (v *releaseView) key() version {
	return version{release: v.version, amend: v.amended}
}

// releases returns the event's release history, reading the latest version
// again when the one known is older than srv.fresh, and the whole history
// only when that version changed.
func (srv *Server) releases(ctx context.Context, st *eventState) (*releaseView, error) {
	return srv.releasesWithin(ctx, st, srv.fresh)
}

// releasesWithin is releases with a version at most maxAge old: the live
// board reads more often than pages.
func (srv *Server) releasesWithin(ctx context.Context, st *eventState, maxAge time.Duration) (*releaseView, error) {
	if v := st.rel.Load(); v != nil && time.Since(v.checked) < maxAge {
		return v, nil
	}
	st.relMu.Lock()
	defer st.relMu.Unlock()
	old := st.rel.Load()
	if old != nil && time.Since(old.checked) < maxAge {
		return old, nil // another request just read it
	}
	var v *releaseView
	err := srv.store.View(ctx, func(tx *store.Tx) error {
		var id int64
		if old != nil {
			id = old.eventID
		}
		if id == 0 {
			ev, err := tx.EventBySlug(st.ev.Slug)
			if errors.Is(err, store.ErrNotFound) {
				v = &releaseView{}
				return nil
			} else if err != nil {
				return err
			}
			id = ev.ID
		}
		latest, amended, err := tx.ScheduleRevision(id)
		if err != nil {
			return err
		}
		if old != nil && old.eventID == id && old.version == latest && old.amended == amended {
			c := *old
			v = &c
			return nil
		}
		v, err = loadReleases(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	v.checked = time.Now()
	st.rel.Store(v)
	return v, nil
}

// loadReleases reads and decodes every release of an event, with its
// amendments.
func loadReleases(tx *store.Tx, eventID int64) (*releaseView, error) {
	rows, err := tx.Releases(eventID)
	if err != nil {
		return nil, err
	}
	as, err := tx.Amendments(eventID, 0)
	if err != nil {
		return nil, err
	}
	v := &releaseView{eventID: eventID, numbers: map[int64]bool{}}
	for _, a := range as {
		v.amended = max(v.amended, a.ID)
	}
	for _, row := range rows {
		var r schedule.Release
		if err := json.Unmarshal(row.Schedule, &r); err != nil {
			return nil, fmt.Errorf("decode release %d: %w", row.Version, err)
		}
		r.Version = row.Version
		for _, a := range as {
			if a.Version == row.Version {
				r.Amendments = append(r.Amendments, schedule.Amendment{Number: a.Number, At: a.At, Out: a.Out, Reason: a.Reason})
			}
		}
		v.history = append(v.history, &r)
		for _, it := range r.Items {
			v.numbers[it.Number] = true
		}
		v.version = row.Version
	}
	if r := v.latest(); r != nil {
		v.current = r.Current()
		for _, it := range r.Items {
			v.bounds = append(v.bounds, it.Start, it.End)
		}
		slices.SortFunc(v.bounds, time.Time.Compare)
		v.bounds = slices.CompactFunc(v.bounds, time.Time.Equal)
	}
	return v, nil
}

// phase is the number of item starts and ends at or before t: the
// schedule page, which marks what is on now and next, is the same for
// every t of one phase.
func (v *releaseView) phase(t time.Time) int {
	i, found := slices.BinarySearchFunc(v.bounds, t, time.Time.Compare)
	if found {
		i++
	}
	return i
}

// phaseStart is when phase i began: Last-Modified of a page marking now
// and next.
func (v *releaseView) phaseStart(i int) time.Time {
	if i == 0 {
		return time.Time{}
	}
	return v.bounds[i-1]
}

// proposalView is an event's proposals with their votes and speakers, as
// last read.
type proposalView struct {
	checked  time.Time // when it was read (monotonic)
	list     []store.Proposal
	byNumber map[int64]*store.Proposal
	speakers map[int64][]store.Speaker
	// meetings are the notes taken, oldest first; notes those of each
	// session by number.
	meetings []store.Meeting
	notes    map[int64][]store.Meeting
	// hash identifies the content; changed is when it was first seen
	// (votes do not touch a proposal's updated_at, so this is the
	// honest Last-Modified).
	hash    uint64
	changed time.Time
	// marks are the organizers' room marks and present the checked-in
	// voters of each proposal, for the board; rooms hashes them.
	marks   []store.RoomMark
	present map[int64]int
	rooms   uint64
}

// proposals returns the event's proposals, read again when older than
// srv.fresh.
func (srv *Server) proposals(ctx context.Context, st *eventState, eventID int64) (*proposalView, error) {
	return srv.proposalsWithin(ctx, st, eventID, srv.fresh)
}

// proposalsWithin is proposals at most maxAge old.
func (srv *Server) proposalsWithin(ctx context.Context, st *eventState, eventID int64, maxAge time.Duration) (*proposalView, error) {
	if v := st.props.Load(); v != nil && time.Since(v.checked) < maxAge {
		return v, nil
	}
	st.propMu.Lock()
	defer st.propMu.Unlock()
	old := st.props.Load()
	if old != nil && time.Since(old.checked) < maxAge {
		return old, nil
	}
	v := &proposalView{byNumber: map[int64]*store.Proposal{}}
	if eventID != 0 {
		err := srv.store.View(ctx, func(tx *store.Tx) error {
			var err error
			if v.list, err = tx.Proposals(eventID, store.ProposalFilter{}); err != nil {
				return err
			}
			if v.speakers, err = tx.SpeakersByNumber(eventID); err != nil {
				return err
			}
			if v.meetings, err = tx.Meetings(eventID); err != nil {
				return err
			}
			if v.marks, err = tx.RoomMarks(eventID); err != nil {
				return err
			}
			v.present, err = tx.PresentVoters(eventID)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	for i := range v.list {
		v.byNumber[v.list[i].Number] = &v.list[i]
	}
	v.notes = map[int64][]store.Meeting{}
	for _, m := range v.meetings {
		if m.Number != 0 {
			v.notes[m.Number] = append(v.notes[m.Number], m)
		}
	}
	v.hash = v.contentHash()
	v.rooms = v.roomsHash()
	switch {
	case old != nil && old.hash == v.hash:
		v.changed = old.changed
	default:
		// First seen now: never earlier than what it is made of.
		v.changed = srv.now().UTC().Truncate(time.Second)
		for _, p := range v.list {
			if p.UpdatedAt.After(v.changed) {
				v.changed = p.UpdatedAt
			}
		}
	}
	v.checked = time.Now()
	st.props.Store(v)
	return v, nil
}

// contentHash hashes everything of the proposals a page shows.
func (v *proposalView) contentHash() uint64 {
	h := fnv.New64a()
	for _, p := range v.list {
		fmt.Fprintf(h, "%d\x00%s\x00%s\x00%s\x00%s\x00%s\x00%d\x00", p.Number, p.Kind, p.Title, p.Abstract, p.Status, p.Reason, p.Votes)
		for _, s := range v.speakers[p.Number] {
			fmt.Fprintf(h, "%d\x00%s\x00", s.PersonID, s.Name)
		}
		h.Write([]byte{1})
	}
	for _, m := range v.meetings {
		fmt.Fprintf(h, "%d\x00%d\x00%s\x00%s\x00%d\x00", m.ID, m.Number, m.Title, m.Channel, m.EndedAt.Unix())
	}
	return h.Sum64()
}

// roomsHash hashes the room marks and the checked-in voters: what of the
// board changes without the proposals changing.
func (v *proposalView) roomsHash() uint64 {
	h := fnv.New64a()
	for _, m := range v.marks {
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00", m.Room, m.State, m.At.UnixNano())
	}
	nums := slices.Sorted(maps.Keys(v.present))
	for _, n := range nums {
		fmt.Fprintf(h, "%d\x00%d\x00", n, v.present[n])
	}
	return h.Sum64()
}
