package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

// pages holds one template set per page, each the layout plus the page's
// "content".
var pages = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, name := range []string{"index", "schedule", "proposals", "session", "releases"} {
		m[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/days.html", "templates/"+name+".html"))
	}
	return m
}()

// funcs are the templates' functions: {{plural .Votes "vote"}}.
var funcs = template.FuncMap{"plural": schedule.Plural}

// page is what the layout shows around a page's content.
type page struct {
	Title   string // of the document
	Ev      *eventLinks
	Current string // the navigation entry of this page
	Body    any
}

// eventLinks are the event's name and the addresses of its pages.
type eventLinks struct {
	Name, Venue, Channel string
	Zone                 string // every time on the pages is in it
	Home, Proposals      string
	Releases, Feeds      string
}

// render executes a page's template.
func render(name string, p page) ([]byte, error) {
	var b bytes.Buffer
	if err := pages[name].ExecuteTemplate(&b, "layout", p); err != nil {
		return nil, fmt.Errorf("render %s page: %w", name, err)
	}
	return b.Bytes(), nil
}

// timeView is a time as a page shows it: text in the event's zone and
// the machine-readable form for <time datetime>.
type timeView struct {
	ISO, Text string
	t         time.Time
}

func (st *eventState) timeView(t time.Time, layout string) timeView {
	t = t.In(st.zone)
	return timeView{ISO: t.Format(time.RFC3339), Text: t.Format(layout), t: t}
}

// Time layouts of the pages.
const (
	layoutClock = "15:04"
	layoutWhen  = "Mon 2 Jan 15:04"
	layoutDay   = "Monday 2 January 2006"
)

// link is a feed's address: webcal:// for calendar apps (empty without a
// base URL) and the plain one.
type link struct {
	Label  string
	Webcal template.URL
	HTTP   string
}

// eventPath is the site path of one of the event's pages or files.
func (srv *Server) eventPath(st *eventState, rest string) string {
	return srv.basePath + "/" + url.PathEscape(st.ev.Slug) + "/" + rest
}

// feedLink makes the links to one of the event's feeds.
func (srv *Server) feedLink(st *eventState, label, rest string) link {
	l := link{Label: label, HTTP: srv.eventPath(st, rest)}
	if srv.baseURL != "" {
		l.HTTP = srv.baseURL + "/" + url.PathEscape(st.ev.Slug) + "/" + rest
		if _, after, ok := strings.Cut(l.HTTP, "://"); ok {
			// The address is ours, from the config, escaped above.
			l.Webcal = template.URL("webcal://" + after)
		}
	}
	return l
}

func (srv *Server) eventLinks(st *eventState) *eventLinks {
	return &eventLinks{
		Name: st.ev.Name, Venue: st.ev.Venue, Channel: st.ev.Channel, Zone: st.zone.String(),
		Home:      srv.eventPath(st, ""),
		Proposals: srv.eventPath(st, "proposals"),
		Releases:  srv.eventPath(st, "releases"),
		Feeds:     srv.eventPath(st, "#feeds"),
	}
}

func (srv *Server) sessionPath(st *eventState, n int64) string {
	return srv.eventPath(st, "session/"+strconv.FormatInt(n, 10))
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// servePage answers with a cached page, rendering it when its version
// changed.
func (srv *Server) servePage(w http.ResponseWriter, r *http.Request, s *slot, key version, render func() (*entry, error)) {
	e, err := srv.cached(s, r.Pattern, key, render)
	if err != nil {
		srv.internalError(w, r, err)
		return
	}
	srv.serve(w, r, e)
}

// --- the site root

type indexPage struct{ Events []indexEvent }

type indexEvent struct {
	Name, Venue, URL string
	From, To         timeView
}

func (srv *Server) serveIndex(w http.ResponseWriter, r *http.Request) {
	srv.servePage(w, r, &srv.index, version{}, func() (*entry, error) {
		var p indexPage
		for _, st := range srv.events {
			ie := indexEvent{Name: st.ev.Name, Venue: st.ev.Venue, URL: srv.eventPath(st, "")}
			if sl := st.ev.Grid.Slots; len(sl) > 0 {
				ie.From = st.timeView(sl[0].Start, "Mon 2 Jan 2006")
				ie.To = st.timeView(sl[len(sl)-1].End, "Mon 2 Jan 2006")
				if ie.To.Text == ie.From.Text {
					ie.To = timeView{}
				}
			}
			p.Events = append(p.Events, ie)
		}
		body, err := render("index", page{Title: "Events", Body: p})
		if err != nil {
			return nil, err
		}
		return srv.entry(version{}, body, typeHTML, cachePage, time.Time{}), nil
	})
}

// --- the schedule

type schedulePage struct {
	Released   bool
	Version    int
	ReleasedAt timeView
	Note       string
	Zone       string
	Now, Next  []itemView
	NextAt     timeView
	Days       []dayView
	Left       []leftView
	Feeds      feedLinks
}

type itemView struct {
	Number     int64
	Title, URL string
	Kind, Room string
	Speakers   string
	Start, End timeView
	Now, Next  bool
}

type dayView struct {
	ID, Label string
	Rooms     []string
	Rows      []rowView
}

type rowView struct {
	Start, End timeView
	Now, Next  bool
	Full       string // a break or plenary across all rooms
	FullKind   string // "break" or "plenary", when Full is its title
	Cells      []cellView
}

type cellView struct {
	Item   *itemView
	Closed bool // the room is not open in this slot
}

type leftView struct {
	Number     int64
	Title, URL string
	Votes      int
	Reason     string
}

type feedLinks struct {
	All, Talks, Sessions link
	Rooms                []link
	JSON, XML, Text      string
	C3VOC                string // c3voc's schedule.json
}

func (srv *Server) serveSchedulePage(w http.ResponseWriter, r *http.Request, st *eventState) {
	rv, err := srv.releases(r.Context(), st)
	if err != nil {
		srv.internalError(w, r, err)
		return
	}
	now := srv.now()
	phase := rv.phase(now)
	key := rv.key()
	key.extra = int64(phase)
	srv.servePage(w, r, st.slot("page:schedule"), key, func() (*entry, error) {
		body, err := render("schedule", page{
			Title:   st.ev.Name + ": schedule",
			Ev:      srv.eventLinks(st),
			Current: "schedule",
			Body:    srv.schedulePage(st, rv, now),
		})
		if err != nil {
			return nil, err
		}
		return srv.entry(key, body, typeHTML, cachePage, later(rv.releasedAt(), rv.phaseStart(phase))), nil
	})
}

func (srv *Server) feedLinks(st *eventState, rv *releaseView) feedLinks {
	f := feedLinks{
		All:      srv.feedLink(st, "Whole event", "schedule.ics"),
		Talks:    srv.feedLink(st, "Talks", "talks.ics"),
		Sessions: srv.feedLink(st, "Unconference sessions", "sessions.ics"),
		JSON:     srv.eventPath(st, "schedule.json"),
		XML:      srv.eventPath(st, "schedule.xml"),
		Text:     srv.eventPath(st, "schedule.txt"),
		C3VOC:    srv.eventPath(st, "schedule.c3voc.json"),
	}
	for _, room := range st.sortedRooms(rv) {
		f.Rooms = append(f.Rooms, srv.feedLink(st, room, "room/"+url.PathEscape(room)+".ics"))
	}
	return f
}

func (srv *Server) itemView(st *eventState, it schedule.Item) *itemView {
	return &itemView{
		Number: it.Number, Title: it.Title, URL: srv.sessionPath(st, it.Number),
		Kind: it.Kind, Room: it.Room, Speakers: strings.Join(it.Speakers, ", "),
		Start: st.timeView(it.Start, layoutClock), End: st.timeView(it.End, layoutClock),
	}
}

// schedulePage lays the latest release out as one grid per day: a row per
// slot, a column per room.
func (srv *Server) schedulePage(st *eventState, rv *releaseView, now time.Time) schedulePage {
	p := schedulePage{Zone: st.zone.String(), Feeds: srv.feedLinks(st, rv)}
	rel := rv.current // what was taken out since is not on
	if rel == nil {
		return p
	}
	p.Released, p.Version, p.Note = true, rel.Version, rel.Note
	p.ReleasedAt = st.timeView(rel.CreatedAt, layoutWhen)
	nowItems, nextItems := rel.At(now)
	isNow, isNext := map[int64]bool{}, map[int64]bool{}
	for _, it := range nowItems {
		isNow[it.Number] = true
		p.Now = append(p.Now, *srv.itemView(st, it))
	}
	for _, it := range nextItems {
		isNext[it.Number] = true
		p.Next = append(p.Next, *srv.itemView(st, it))
	}
	if len(nextItems) > 0 {
		p.NextAt = st.timeView(nextItems[0].Start, layoutWhen)
	}
	for _, l := range rel.Left {
		p.Left = append(p.Left, leftView{Number: l.Number, Title: l.Title, URL: srv.sessionPath(st, l.Number), Votes: l.Votes, Reason: l.Reason})
	}

	// Rows: every slot of the grid, and any start the grid does not have.
	type row struct {
		start, end time.Time
		slot       *schedule.GridSlot
		items      map[string]*itemView // by room
	}
	rows := map[int64]*row{}
	rowAt := func(start, end time.Time) *row {
		k := start.Unix()
		if rows[k] == nil {
			rows[k] = &row{start: start, end: end, items: map[string]*itemView{}}
		}
		return rows[k]
	}
	for i := range st.ev.Grid.Slots {
		s := &st.ev.Grid.Slots[i]
		rowAt(s.Start, s.End).slot = s
	}
	for _, it := range rel.Items {
		rw := rowAt(it.Start, it.End)
		rw.end = later(rw.end, it.End)
		iv := srv.itemView(st, it)
		iv.Now, iv.Next = isNow[it.Number], isNext[it.Number]
		rw.items[it.Room] = iv
	}
	sorted := make([]*row, 0, len(rows))
	for _, rw := range rows {
		sorted = append(sorted, rw)
	}
	slices.SortFunc(sorted, func(a, b *row) int { return a.start.Compare(b.start) })

	allRooms := st.sortedRooms(rv)
	for len(sorted) > 0 {
		// One day: the rows starting on the same date in the event's zone.
		y, m, d := sorted[0].start.In(st.zone).Date()
		n := 1
		for n < len(sorted) {
			y2, m2, d2 := sorted[n].start.In(st.zone).Date()
			if y2 != y || m2 != m || d2 != d {
				break
			}
			n++
		}
		dayRows := sorted[:n]
		sorted = sorted[n:]
		used := map[string]bool{}
		for _, rw := range dayRows {
			for room := range rw.items {
				used[room] = true
			}
			if rw.slot != nil && rw.slot.Kind != schedule.KindBreak && rw.slot.Kind != schedule.KindPlenary {
				for _, room := range rw.slot.Rooms {
					used[room] = true
				}
			}
		}
		day := dayView{
			ID:    "day-" + dayRows[0].start.In(st.zone).Format("2006-01-02"),
			Label: dayRows[0].start.In(st.zone).Format(layoutDay),
		}
		for _, room := range allRooms {
			if used[room] {
				day.Rooms = append(day.Rooms, room)
			}
		}
		for _, rw := range dayRows {
			out := rowView{Start: st.timeView(rw.start, layoutClock), End: st.timeView(rw.end, layoutClock)}
			if len(rw.items) == 0 && rw.slot != nil && (rw.slot.Kind == schedule.KindBreak || rw.slot.Kind == schedule.KindPlenary) {
				out.Full = rw.slot.Title
				if out.Full != "" {
					out.FullKind = rw.slot.Kind
				}
				if out.Full == "" {
					out.Full = map[string]string{schedule.KindBreak: "Break", schedule.KindPlenary: "Plenary"}[rw.slot.Kind]
				}
				day.Rows = append(day.Rows, out)
				continue
			}
			for _, room := range day.Rooms {
				c := cellView{Item: rw.items[room]}
				if c.Item == nil && rw.slot != nil && !slices.Contains(rw.slot.Rooms, room) {
					c.Closed = true
				}
				if c.Item != nil {
					out.Now = out.Now || c.Item.Now
					out.Next = out.Next || c.Item.Next
				}
				out.Cells = append(out.Cells, c)
			}
			day.Rows = append(day.Rows, out)
		}
		p.Days = append(p.Days, day)
	}
	return p
}

// --- the proposals

type proposalsPage struct {
	Rows            []proposalRow
	Talks, Sessions int
}

type proposalRow struct {
	Number       int64
	Title, URL   string
	Kind, Status string
	Votes        int
	When         timeView
	Room         string
}

func (srv *Server) serveProposalsPage(w http.ResponseWriter, r *http.Request, st *eventState) {
	rv, err := srv.releases(r.Context(), st)
	if err != nil {
		srv.internalError(w, r, err)
		return
	}
	pv, err := srv.proposals(r.Context(), st, rv.eventID)
	if err != nil {
		srv.internalError(w, r, err)
		return
	}
	key := rv.key()
	key.data = pv.hash
	srv.servePage(w, r, st.slot("page:proposals"), key, func() (*entry, error) {
		var p proposalsPage
		rel := rv.current
		for _, pr := range pv.list {
			row := proposalRow{Number: pr.Number, Title: pr.Title, URL: srv.sessionPath(st, pr.Number),
				Kind: pr.Kind, Status: pr.Status, Votes: pr.Votes}
			if rel != nil {
				if it, ok := rel.Find(pr.Number); ok {
					row.When, row.Room = st.timeView(it.Start, layoutWhen), it.Room
				}
			}
			if pr.Kind == store.Talk {
				p.Talks++
			} else {
				p.Sessions++
			}
			p.Rows = append(p.Rows, row)
		}
		body, err := render("proposals", page{Title: st.ev.Name + ": proposals", Ev: srv.eventLinks(st), Current: "proposals", Body: p})
		if err != nil {
			return nil, err
		}
		return srv.entry(key, body, typeHTML, cachePage, later(rv.releasedAt(), pv.changed)), nil
	})
}

// --- one session

type sessionPage struct {
	Number              int64
	Title, Kind, Status string
	Reason, Abstract    string
	Votes               int
	Speakers            []string
	Item                *itemView
	Day                 string
	NotPlaced           string // why the latest release left it out
	TakenOut            int    // the version that took it out of the schedule
	// TakenOutNow says why it is out of the latest release since it was
	// made ("withdrawn", "rejected"), "" when it is not.
	TakenOutNow    string
	OutOf          int // the version it was taken out of
	Feed, RoomFeed link
	Notes          []noteLink
}

// noteLink points to the minutes of a run of notes.
type noteLink struct {
	URL, Channel string
	Started      timeView
	Running      bool
}

func (srv *Server) noteLink(st *eventState, m store.Meeting) noteLink {
	return noteLink{URL: srv.eventPath(st, fmt.Sprintf("notes/%d", m.ID)), Channel: m.Channel,
		Started: st.timeView(m.StartedAt, "Mon 2 Jan 15:04"), Running: m.EndedAt.IsZero()}
}

// serveSession serves /{slug}/session/{n} and, with ".ics", its feed.
func (srv *Server) serveSession(w http.ResponseWriter, r *http.Request, st *eventState) {
	arg := r.PathValue("n")
	num, ics := strings.CutSuffix(arg, ".ics")
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != num {
		srv.notFound(w, r)
		return
	}
	if ics {
		srv.serveSessionFeed(w, r, st, n)
		return
	}
	rv, err := srv.releases(r.Context(), st)
	if err != nil {
		srv.internalError(w, r, err)
		return
	}
	pv, err := srv.proposals(r.Context(), st, rv.eventID)
	if err != nil {
		srv.internalError(w, r, err)
		return
	}
	pr := pv.byNumber[n]
	if pr == nil {
		srv.notFound(w, r)
		return
	}
	key := rv.key()
	key.data = pv.hash
	srv.servePage(w, r, st.slot("page:session:"+num), key, func() (*entry, error) {
		p := sessionPage{Number: pr.Number, Title: pr.Title, Kind: pr.Kind, Status: pr.Status,
			Abstract: pr.Abstract, Votes: pr.Votes}
		if pr.Status == store.Rejected {
			p.Reason = pr.Reason
		}
		for _, s := range pv.speakers[n] {
			p.Speakers = append(p.Speakers, s.Name)
		}
		if rel := rv.current; rel != nil {
			if a, out := rv.latest().TakenOut(n); out {
				p.TakenOutNow, p.OutOf = a.Reason, rel.Version
			}
			if it, ok := rel.Find(n); ok {
				p.Item = srv.itemView(st, it)
				p.Day = it.Start.In(st.zone).Format(layoutDay)
				p.RoomFeed = srv.feedLink(st, "Everything in "+it.Room, "room/"+url.PathEscape(it.Room)+".ics")
			}
			for _, l := range rel.Left {
				if l.Number == n {
					p.NotPlaced = l.Reason
				}
			}
			if p.Item == nil && p.TakenOutNow == "" && rv.numbers[n] {
				p.TakenOut = takenOutIn(rv.history, n)
			}
		}
		if rv.numbers[n] {
			p.Feed = srv.feedLink(st, "This session", "session/"+num+".ics")
		}
		for _, m := range pv.notes[n] {
			p.Notes = append(p.Notes, srv.noteLink(st, m))
		}
		title := fmt.Sprintf("#%d %s", pr.Number, pr.Title)
		body, err := render("session", page{Title: title + " · " + st.ev.Name, Ev: srv.eventLinks(st), Body: p})
		if err != nil {
			return nil, err
		}
		return srv.entry(key, body, typeHTML, cachePage, later(rv.releasedAt(), pv.changed)), nil
	})
}

// takenOutIn is the version after the last one that scheduled n.
func takenOutIn(h []*schedule.Release, n int64) int {
	for i := len(h) - 1; i >= 0; i-- {
		if _, ok := h[i].Find(n); ok {
			if i+1 < len(h) {
				return h[i+1].Version
			}
			return 0
		}
	}
	return 0
}

// --- the release history

type releasesPage struct{ Releases []releaseEntry }

type releaseEntry struct {
	Version int
	At      timeView
	Note    string
	Summary string
	First   bool
	Changes []changeView
	// Since are the amendments made while it was the latest release.
	Since []changeView
}

type changeView struct {
	Kind       string
	Number     int64
	Title, URL string
	Text       string
}

func (srv *Server) serveReleasesPage(w http.ResponseWriter, r *http.Request, st *eventState) {
	rv, err := srv.releases(r.Context(), st)
	if err != nil {
		srv.internalError(w, r, err)
		return
	}
	key := rv.key()
	srv.servePage(w, r, st.slot("page:releases"), key, func() (*entry, error) {
		var p releasesPage
		for i := len(rv.history) - 1; i >= 0; i-- {
			rel := rv.history[i]
			re := releaseEntry{Version: rel.Version, At: st.timeView(rel.CreatedAt, layoutWhen), Note: rel.Note, First: i == 0,
				Summary: fmt.Sprintf("%d placed, %d not; %s, %s", len(rel.Items), len(rel.Left),
					plural(rel.Conflicts, "attendee conflict"), plural(rel.Overflow, "seat")+" short")}
			if i > 0 {
				for _, c := range schedule.Diff(rv.history[i-1], rel) {
					re.Changes = append(re.Changes, srv.changeView(st, c))
				}
			}
			for _, a := range rel.Amendments {
				re.Since = append(re.Since, srv.amendmentView(st, rel, a))
			}
			p.Releases = append(p.Releases, re)
		}
		body, err := render("releases", page{Title: st.ev.Name + ": releases", Ev: srv.eventLinks(st), Current: "releases", Body: p})
		if err != nil {
			return nil, err
		}
		return srv.entry(key, body, typeHTML, cachePage, rv.releasedAt()), nil
	})
}

func plural(n int, noun string) string { return schedule.Plural(n, noun) }

// changeView says one change of a release in words.
func (srv *Server) changeView(st *eventState, c schedule.Change) changeView {
	where := func(it schedule.Item) string {
		return it.Start.In(st.zone).Format(layoutWhen) + ", " + it.Room
	}
	v := changeView{Kind: c.Kind, Number: c.Item.Number, Title: c.Item.Title, URL: srv.sessionPath(st, c.Item.Number)}
	switch c.Kind {
	case schedule.ChangeNew:
		v.Text = where(c.Item)
	case schedule.ChangeMoved:
		v.Text = "from " + where(*c.Was) + " to " + where(c.Item)
	case schedule.ChangeRenamed:
		var was []string
		if c.Was.Title != c.Item.Title {
			was = append(was, "was “"+c.Was.Title+"”")
		}
		if !slices.Equal(c.Was.Speakers, c.Item.Speakers) {
			was = append(was, "speakers now "+strings.Join(c.Item.Speakers, ", "))
		}
		v.Text = strings.Join(was, "; ")
	case schedule.ChangeCancelled:
		v.Text = "was " + where(c.Item)
	}
	return v
}

// amendmentView says one amendment of a release in words: "withdrawn Thu
// 4 Mar 12:00; was Thu 4 Mar 14:00, Ballroom A".
func (srv *Server) amendmentView(st *eventState, rel *schedule.Release, a schedule.Amendment) changeView {
	v := changeView{Kind: "back", Number: a.Number, URL: srv.sessionPath(st, a.Number),
		Text: a.Reason + " " + st.timeView(a.At, layoutWhen).Text}
	where := "; "
	if a.Out {
		v.Kind, where = schedule.ChangeCancelled, "; was "
	}
	if it, ok := rel.Find(a.Number); ok {
		v.Title = it.Title
		v.Text += where + it.Start.In(st.zone).Format(layoutWhen) + ", " + it.Room
	}
	return v
}
