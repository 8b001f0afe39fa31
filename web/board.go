package web

import (
	"cmp"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

// The live pages: a room's screen by its door, the all-rooms board and
// the unconference wall. Each is a layout around a fragment (its <main>);
// the fragment is what the live stream (live.go) sends when it changes,
// so a page and its updates are made by the same code.

// Room fill thresholds, as shares of a room's capacity: the checked-in
// voters of the session on now make it "filling", then "full", unless
// the event says (Event.Filling, Event.Full).
const (
	fillingShare = 0.75
	fullShare    = 1.0
)

// shares are the event's fill thresholds.
func (e Event) shares() (filling, full float64) {
	return cmp.Or(e.Filling, fillingShare), cmp.Or(e.Full, fullShare)
}

// Room states on the board.
const (
	stateFilling = "filling"
	stateFull    = store.RoomFull
	stateSpace   = store.RoomSpace
)

// liveTemplates renders the live pages: "live" is the layout; "screen",
// "board" and "wall" the fragments.
var liveTemplates = template.Must(template.New("live.html").Funcs(funcs).ParseFS(templateFiles,
	"templates/live.html", "templates/screen.html", "templates/board.html", "templates/wall.html", "templates/days.html"))

// livePage is what the live layout shows around a fragment.
type livePage struct {
	Title, Event, Zone string
	Home, Stream       string
	Content            template.HTML
}

// boardItem is a session as the board shows it.
type boardItem struct {
	Number               int64
	Title, URL, Speakers string
	Room                 string
	Start, End           timeView
	Left                 string // "25 min left", for what is on
	State                string // the room's state while it is on
}

// breakView is a break or plenary on now, or the next one.
type breakView struct {
	Title, Kind string
	Rooms       string
	Start, End  timeView
}

// roomView is one room at a moment.
type roomView struct {
	Name      string
	Now, Next *boardItem
	State     string // "", stateFilling, stateFull, stateSpace
	// ByOrganizer says the state is an organizer's word, not counted.
	ByOrganizer bool
	Capacity    int
	Present     int // checked-in voters of what is on
	// Elsewhere are the parallel sessions with space, when the room is full.
	Elsewhere []boardItem
	// Screen is the room's screen; Feed its calendar feed.
	Screen string
	Feed   link
}

// boardView is every room now and next.
type boardView struct {
	Zone      string
	Released  bool
	Break     *breakView // on now
	NextBreak *breakView
	Rooms     []roomView
}

// screenView is one room's screen.
type screenView struct {
	Zone     string
	Released bool
	Break    *breakView
	Room     roomView
	// QR codes: the session on now (or next) and the room's feed.
	SessionQR, FeedQR template.HTML
	SessionURL        string
	FeedURL           string
}

// wallView is the unconference wall: the proposals by votes while voting
// runs, the grid once the schedule is out.
type wallView struct {
	Channel  string
	Released bool
	Version  int
	Props    []wallItem
	Days     []dayView
}

type wallItem struct {
	Number               int64
	Title, URL, Speakers string
	Votes                int
	Status               string
}

// clockZone is a clock time with its zone, on the live pages.
const clockZone = "15:04 MST"

// boardAt lays out every room at now.
func (srv *Server) boardAt(st *eventState, rv *releaseView, pv *proposalView, now time.Time) boardView {
	b := boardView{Zone: st.zone.String()}
	rel := rv.current
	b.Released = rel != nil
	b.Break, b.NextBreak = st.breaks(now)
	marks := map[string]store.RoomMark{}
	for _, m := range pv.marks {
		marks[m.Room] = m
	}
	for _, room := range st.sortedRooms(rv) {
		r := roomView{Name: room, Capacity: st.capacity(room),
			Screen: srv.eventPath(st, "room/"+url.PathEscape(room)+"/screen"),
			Feed:   srv.feedLink(st, "Calendar of "+room, "room/"+url.PathEscape(room)+".ics")}
		if rel != nil {
			var prevEnd time.Time
			for _, it := range rel.Items {
				if it.Room != room {
					continue
				}
				switch {
				case !it.End.After(now):
					prevEnd = later(prevEnd, it.End)
				case !it.Start.After(now) && r.Now == nil:
					r.Now = srv.boardItem(st, it, now)
					r.Present = pv.present[it.Number]
					if m, ok := marks[room]; ok && !m.At.Before(prevEnd) && m.At.Before(it.End) {
						r.State, r.ByOrganizer = m.State, true
					}
				case it.Start.After(now) && (r.Next == nil || it.Start.Before(r.Next.Start.t)):
					r.Next = srv.boardItem(st, it, now)
				}
			}
		}
		if r.Now != nil && !r.ByOrganizer && r.Capacity > 0 {
			filling, full := st.ev.shares()
			switch share := float64(r.Present) / float64(r.Capacity); {
			case share >= full:
				r.State = stateFull
			case share >= filling:
				r.State = stateFilling
			}
		}
		if r.Now != nil {
			r.Now.State = r.State
		}
		b.Rooms = append(b.Rooms, r)
	}
	// A full room points to the parallel sessions with space, the
	// emptiest first.
	for i := range b.Rooms {
		if b.Rooms[i].State != stateFull {
			continue
		}
		var alt []roomView
		for _, o := range b.Rooms {
			if o.Name != b.Rooms[i].Name && o.Now != nil && o.State != stateFull {
				alt = append(alt, o)
			}
		}
		slices.SortStableFunc(alt, func(a, c roomView) int { return cmpFree(a, c) })
		for _, o := range alt {
			b.Rooms[i].Elsewhere = append(b.Rooms[i].Elsewhere, *o.Now)
		}
	}
	return b
}

// cmpFree orders rooms by free share, most free first; an organizer's
// "space" counts as empty.
func cmpFree(a, b roomView) int {
	free := func(r roomView) float64 {
		if r.State == stateSpace || r.Capacity == 0 {
			return 1
		}
		return 1 - float64(r.Present)/float64(r.Capacity)
	}
	switch fa, fb := free(a), free(b); {
	case fa > fb:
		return -1
	case fa < fb:
		return 1
	}
	return 0
}

func (srv *Server) boardItem(st *eventState, it schedule.Item, now time.Time) *boardItem {
	bi := &boardItem{Number: it.Number, Title: it.Title, URL: srv.sessionPath(st, it.Number), Room: it.Room,
		Speakers: strings.Join(it.Speakers, ", "),
		Start:    st.timeView(it.Start, clockZone), End: st.timeView(it.End, clockZone)}
	if !it.Start.After(now) && it.End.After(now) {
		bi.Left = minutesLeft(it.End.Sub(now))
	}
	return bi
}

// minutesLeft says a duration to the minute, rounded up: "1 h 5 min left".
func minutesLeft(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	if m < 60 {
		return fmt.Sprintf("%d min left", m)
	}
	if m%60 == 0 {
		return fmt.Sprintf("%d h left", m/60)
	}
	return fmt.Sprintf("%d h %d min left", m/60, m%60)
}

// breaks finds the break or plenary on at now and the next one, from the
// grid.
func (st *eventState) breaks(now time.Time) (on, next *breakView) {
	for _, s := range st.ev.Grid.Slots {
		if s.Kind != schedule.KindBreak && s.Kind != schedule.KindPlenary {
			continue
		}
		title := s.Title
		if title == "" {
			title = map[string]string{schedule.KindBreak: "Break", schedule.KindPlenary: "Plenary"}[s.Kind]
		}
		bv := &breakView{Title: title, Kind: s.Kind, Rooms: strings.Join(s.Rooms, ", "),
			Start: st.timeView(s.Start, clockZone), End: st.timeView(s.End, clockZone)}
		switch {
		case !s.Start.After(now) && s.End.After(now) && on == nil:
			on = bv
		case s.Start.After(now) && (next == nil || s.Start.Before(next.Start.t)):
			next = bv
		}
	}
	return on, next
}

// capacity is a room's seats from the config, 0 if unknown.
func (st *eventState) capacity(room string) int {
	for _, r := range st.info.Rooms {
		if r.Name == room {
			return r.Capacity
		}
	}
	return 0
}

func (srv *Server) screenAt(st *eventState, rv *releaseView, pv *proposalView, now time.Time, room string) screenView {
	b := srv.boardAt(st, rv, pv, now)
	s := screenView{Zone: b.Zone, Released: b.Released, Break: b.Break}
	for _, r := range b.Rooms {
		if r.Name == room {
			s.Room = r
		}
	}
	s.FeedURL = s.Room.Feed.HTTP
	s.FeedQR = qrSVG(s.FeedURL, "QR code of the calendar feed of "+room)
	if it := firstItem(s.Room.Now, s.Room.Next); it != nil {
		// it.URL is a site path: the QR code needs the whole address.
		s.SessionURL = strings.TrimSuffix(srv.baseURL, srv.basePath) + it.URL
		s.SessionQR = qrSVG(s.SessionURL, fmt.Sprintf("QR code of the page of #%d %s", it.Number, it.Title))
	}
	return s
}

// firstItem is the first of its arguments that is not nil.
func firstItem(items ...*boardItem) *boardItem {
	for _, it := range items {
		if it != nil {
			return it
		}
	}
	return nil
}

func (srv *Server) wallAt(st *eventState, rv *releaseView, pv *proposalView, now time.Time) wallView {
	w := wallView{Channel: st.ev.Channel}
	if rel := rv.current; rel != nil {
		p := srv.schedulePage(st, rv, now)
		w.Released, w.Version, w.Days = true, rel.Version, p.Days
		return w
	}
	for _, pr := range pv.list {
		if pr.Kind != store.Session || pr.Status == store.Withdrawn || pr.Status == store.Rejected {
			continue
		}
		wi := wallItem{Number: pr.Number, Title: pr.Title, URL: srv.sessionPath(st, pr.Number), Votes: pr.Votes, Status: pr.Status}
		var who []string
		for _, s := range pv.speakers[pr.Number] {
			who = append(who, s.Name)
		}
		wi.Speakers = strings.Join(who, ", ")
		w.Props = append(w.Props, wi)
	}
	slices.SortStableFunc(w.Props, func(a, b wallItem) int {
		if a.Votes != b.Votes {
			return b.Votes - a.Votes
		}
		return int(a.Number - b.Number)
	})
	return w
}

// --- serving

// liveKey is the cache version of a live view: the schedule, the
// proposals and rooms, and the minute (time left changes with it).
func liveKey(rv *releaseView, pv *proposalView, now time.Time, minute bool) version {
	k := rv.key()
	k.data = pv.hash ^ (pv.rooms * 0x9e3779b97f4a7c15)
	if minute {
		k.extra = now.Unix() / 60
	} else {
		k.extra = int64(rv.phase(now))
	}
	return k
}

// fragment renders view's <main> content at now, with its version.
func (srv *Server) fragment(st *eventState, view string, rv *releaseView, pv *proposalView, now time.Time) (version, func() ([]byte, error)) {
	var name string
	var data func() any
	var key version
	switch {
	case view == "board":
		name, key = "board", liveKey(rv, pv, now, true)
		data = func() any { return srv.boardAt(st, rv, pv, now) }
	case view == "wall":
		name, key = "wall", liveKey(rv, pv, now, false)
		if rv.current == nil {
			key.extra = 0
		}
		data = func() any { return srv.wallAt(st, rv, pv, now) }
	default:
		room, _ := strings.CutPrefix(view, "room/")
		name, key = "screen", liveKey(rv, pv, now, true)
		data = func() any { return srv.screenAt(st, rv, pv, now, room) }
	}
	return key, func() ([]byte, error) {
		var b strings.Builder
		if err := liveTemplates.ExecuteTemplate(&b, name, data()); err != nil {
			return nil, fmt.Errorf("render %s: %w", view, err)
		}
		return []byte(b.String()), nil
	}
}

// liveData reads what the live views are made of, at most maxAge old.
func (srv *Server) liveData(ctx context.Context, st *eventState, maxAge time.Duration) (*releaseView, *proposalView, error) {
	rv, err := srv.releasesWithin(ctx, st, maxAge)
	if err != nil {
		return nil, nil, err
	}
	pv, err := srv.proposalsWithin(ctx, st, rv.eventID, maxAge)
	if err != nil {
		return nil, nil, err
	}
	return rv, pv, nil
}

// serveLivePage answers one of the live pages: the layout around the
// view's current fragment, cached by the fragment's version.
func (srv *Server) serveLivePage(w http.ResponseWriter, r *http.Request, st *eventState, view, title string) {
	rv, pv, err := srv.liveData(r.Context(), st, srv.fresh)
	if err != nil {
		srv.internalError(w, r, err)
		return
	}
	now := srv.now()
	fr, err := srv.liveFrame(st, view, rv, pv, now)
	if err != nil {
		srv.internalError(w, r, err)
		return
	}
	srv.servePage(w, r, st.slot("live:"+view), fr.key, func() (*entry, error) {
		var b strings.Builder
		err := liveTemplates.ExecuteTemplate(&b, "live", livePage{
			Title: title + " · " + st.ev.Name, Event: st.ev.Name, Zone: st.zone.String(),
			Home:    srv.eventPath(st, ""),
			Stream:  srv.eventPath(st, "live?view="+url.QueryEscape(view)),
			Content: template.HTML(fr.content), // rendered by html/template
		})
		if err != nil {
			return nil, fmt.Errorf("render %s page: %w", view, err)
		}
		return srv.entry(fr.key, []byte(b.String()), typeHTML, cacheLive, later(rv.releasedAt(), pv.changed)), nil
	})
}

// cacheLive lets a shared cache keep a live page only briefly: screens
// without a script reload it every refreshSeconds.
const cacheLive = "public, max-age=5"

func (srv *Server) serveBoard(w http.ResponseWriter, r *http.Request, st *eventState) {
	srv.serveLivePage(w, r, st, "board", "Now and next")
}

func (srv *Server) serveWall(w http.ResponseWriter, r *http.Request, st *eventState) {
	srv.serveLivePage(w, r, st, "wall", "The wall")
}

func (srv *Server) serveScreen(w http.ResponseWriter, r *http.Request, st *eventState) {
	room := r.PathValue("room")
	rv, err := srv.releases(r.Context(), st)
	if err != nil {
		srv.internalError(w, r, err)
		return
	}
	if !st.hasRoom(room, rv) {
		srv.notFound(w, r)
		return
	}
	srv.serveLivePage(w, r, st, "room/"+room, room)
}
