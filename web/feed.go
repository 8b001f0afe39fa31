package web

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

// feedKind is one of the event-wide calendar feeds.
type feedKind int

const (
	feedAll feedKind = iota
	feedTalks
	feedSessions
)

// selection is what a feed kind takes from the schedule.
func (k feedKind) selection() schedule.Selection {
	switch k {
	case feedTalks:
		return schedule.Selection{Title: "talks", Kind: store.Talk}
	case feedSessions:
		return schedule.Selection{Title: "sessions", Kind: store.Session}
	}
	return schedule.Selection{}
}

// entryFunc finds (rendering if need be) the cached answer of a route of
// an event: the routes both the net/http handler and the fast front
// (fast.go) serve.
type entryFunc func(ctx context.Context, route string, st *eventState) (*entry, error)

// feedEntry gives an event-wide calendar feed (RFC 5545).
func (srv *Server) feedEntry(k feedKind) entryFunc {
	sel := k.selection()
	return func(ctx context.Context, route string, st *eventState) (*entry, error) {
		return srv.calendarEntry(ctx, route, st, &st.feedSlots[k], sel)
	}
}

// calendarEntry gives the feed of a selection, cached in its slot by
// release version.
func (srv *Server) calendarEntry(ctx context.Context, route string, st *eventState, s *slot, sel schedule.Selection) (*entry, error) {
	rv, err := srv.releases(ctx, st)
	if err != nil {
		return nil, err
	}
	return srv.cached(s, route, rv.key(), func() (*entry, error) {
		body := schedule.ICS(st.info, schedule.History(rv.history), sel)
		return srv.entry(version{}, body, typeCalendar, cacheFeed, rv.releasedAt()), nil
	})
}

// serveCalendar serves the feed of a selection.
func (srv *Server) serveCalendar(w http.ResponseWriter, r *http.Request, st *eventState, s *slot, sel schedule.Selection) {
	e, err := srv.calendarEntry(r.Context(), r.Pattern, st, s, sel)
	if err != nil {
		srv.internalError(w, r, err)
		return
	}
	srv.serve(w, r, e)
}

// serveEntry serves the answer get gives.
func (srv *Server) serveEntry(get entryFunc) func(http.ResponseWriter, *http.Request, *eventState) {
	return func(w http.ResponseWriter, r *http.Request, st *eventState) {
		e, err := get(r.Context(), r.Pattern, st)
		if err != nil {
			srv.internalError(w, r, err)
			return
		}
		srv.serve(w, r, e)
	}
}

// serveRoomFeed serves /{slug}/room/{room}.ics: the room name is a path
// segment, escaped (so "Room 104" is Room%20104.ics).
func (srv *Server) serveRoomFeed(w http.ResponseWriter, r *http.Request, st *eventState) {
	room, ok := strings.CutSuffix(r.PathValue("room"), ".ics")
	if !ok {
		srv.notFound(w, r)
		return
	}
	rv, err := srv.releases(r.Context(), st)
	if err != nil {
		srv.internalError(w, r, err)
		return
	}
	// Only rooms that exist get a cache slot.
	if !st.hasRoom(room, rv) {
		srv.notFound(w, r)
		return
	}
	srv.serveCalendar(w, r, st, st.slot("room:"+room), schedule.Selection{Title: room, Room: room})
}

// hasRoom reports whether a room is in the config or in the latest release.
func (st *eventState) hasRoom(room string, rv *releaseView) bool {
	for _, gr := range st.info.Rooms {
		if gr.Name == room {
			return true
		}
	}
	if l := rv.latest(); l != nil {
		for _, it := range l.Items {
			if it.Room == room {
				return true
			}
		}
	}
	return false
}

// serveSessionFeed serves /{slug}/session/{n}.ics: one session, for
// "add to my calendar".
func (srv *Server) serveSessionFeed(w http.ResponseWriter, r *http.Request, st *eventState, n int64) {
	rv, err := srv.releases(r.Context(), st)
	if err != nil {
		srv.internalError(w, r, err)
		return
	}
	if !rv.numbers[n] {
		srv.notFound(w, r)
		return
	}
	title := "#" + strconv.FormatInt(n, 10)
	if l := rv.latest(); l != nil {
		if it, ok := l.Find(n); ok {
			title += " " + it.Title
		}
	}
	srv.serveCalendar(w, r, st, st.slot("session.ics:"+strconv.FormatInt(n, 10)), schedule.Selection{Title: title, Numbers: map[int64]bool{n: true}, NoFixed: true})
}

// personalFeed is a person's rendered feed and what it was made from.
type personalFeed struct {
	checked time.Time // when the token and numbers were read (monotonic)
	eventID int64
	numbers uint64 // hash of the proposal numbers in it
	e       *entry
}

// feedGone is the answer for a token that is unknown or was revoked.
const feedGone = "This calendar address is unknown or was revoked.\nAsk the bot for a new one with !feed.\n"

// errFeedGone is personalEntry's answer for a token that is unknown or
// was revoked.
var errFeedGone = errors.New("personal feed token unknown or revoked")

// servePersonalFeed serves /{slug}/feed/{token}.ics.
func (srv *Server) servePersonalFeed(w http.ResponseWriter, r *http.Request, st *eventState) {
	token, ok := strings.CutSuffix(r.PathValue("token"), ".ics")
	if !ok || token == "" {
		srv.notFound(w, r)
		return
	}
	e, err := srv.personalEntry(r.Context(), r.Pattern, st, token)
	if errors.Is(err, errFeedGone) {
		w.Header().Set("Cache-Control", "private, max-age=60")
		plain(w, r, http.StatusNotFound, feedGone)
		return
	} else if err != nil {
		srv.internalError(w, r, err)
		return
	}
	srv.serve(w, r, e)
}

// personalEntry gives a personal feed: the sessions a person voted for,
// speaks in or pinned. Who owns a token and what it holds is read again
// at most every srv.fresh.
func (srv *Server) personalEntry(ctx context.Context, route string, st *eventState, token string) (*entry, error) {
	rv, err := srv.releases(ctx, st)
	if err != nil {
		return nil, err
	}
	key := rv.key()
	pf := st.personal.get(token)
	if pf != nil && pf.e.key.release == rv.version && pf.e.key.amend == rv.amended && time.Since(pf.checked) < srv.fresh {
		return pf.e, nil
	}
	var eventID, personID int64
	var numbers []int64
	err = srv.store.View(ctx, func(tx *store.Tx) error {
		var err error
		eventID, personID, err = tx.FeedOwner(token)
		if err != nil {
			return err
		}
		if eventID != rv.eventID {
			return store.ErrNotFound // a token of another event
		}
		numbers, err = tx.PersonalNumbers(eventID, personID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		st.personal.remove(token)
		return nil, errFeedGone
	} else if err != nil {
		return nil, err
	}
	h := fnv.New64a()
	for _, n := range numbers {
		fmt.Fprintf(h, "%d,", n)
	}
	key.extra = int64(h.Sum64())
	next := &personalFeed{checked: time.Now(), eventID: eventID, numbers: h.Sum64()}
	if pf != nil && pf.e.key == key {
		next.e = pf.e
	} else {
		start := time.Now()
		sel := schedule.Selection{Title: "my sessions", Numbers: map[int64]bool{}}
		for _, n := range numbers {
			sel.Numbers[n] = true
		}
		body := schedule.ICS(st.info, schedule.History(rv.history), sel)
		next.e = srv.entry(key, body, typeCalendar, cachePersonal, rv.releasedAt())
		srv.metrics.rendered(route, time.Since(start))
	}
	// The token's string may be a view of a request's bytes (front.go).
	st.personal.put(strings.Clone(token), next)
	return next.e, nil
}

// exportKind is one of the whole-schedule exports.
type exportKind int

const (
	exportJSON exportKind = iota
	exportFrab
	exportText
	exportC3VOC
)

// exportEntry gives the JSON, frab XML, text or c3voc JSON export of the
// schedule.
func (srv *Server) exportEntry(k exportKind) entryFunc {
	type export struct {
		ctype  string
		render func(schedule.EventInfo, schedule.History) []byte
	}
	x := []export{
		exportJSON:  {typeJSON, schedule.JSON},
		exportFrab:  {typeXML, schedule.Frab},
		exportText:  {typeText, schedule.Text},
		exportC3VOC: {typeJSON, schedule.C3VOC},
	}[k]
	return func(ctx context.Context, route string, st *eventState) (*entry, error) {
		rv, err := srv.releases(ctx, st)
		if err != nil {
			return nil, err
		}
		return srv.cached(&st.exportSlots[k], route, rv.key(), func() (*entry, error) {
			body := x.render(st.info, schedule.History(rv.history))
			return srv.entry(version{}, body, x.ctype, cacheFeed, rv.releasedAt()), nil
		})
	}
}

// sortedRooms lists the rooms of the config, then any others the latest
// release uses, for the feed links.
func (st *eventState) sortedRooms(rv *releaseView) []string {
	var rooms []string
	for _, gr := range st.info.Rooms {
		rooms = append(rooms, gr.Name)
	}
	if l := rv.latest(); l != nil {
		for _, it := range l.Items {
			if !slices.Contains(rooms, it.Room) {
				rooms = append(rooms, it.Room)
			}
		}
	}
	return rooms
}
