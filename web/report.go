package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

// Reports are the pages made from the bot's records rather than from the
// releases: a session's minutes, the event's wrap-up, a campaign's
// progress. cmd wires the bot to it; without it those pages are 404.
type Reports interface {
	Minutes(ctx context.Context, event string, id int64) (*schedule.Minutes, error)
	Summary(ctx context.Context, event string) (*schedule.EventSummary, error)
	Campaign(ctx context.Context, event, slug string) (*Campaign, error)
}

// Campaign is a pledge drive as its page shows it: only the names the
// pledgers chose ("anonymous" hides them).
type Campaign struct {
	Slug, Title string
	Progress    string
	Percent     int // towards the goal, at most 100; -1 without a goal
	Closes      time.Time
	Pledges     []PublicPledge
}

// PublicPledge is one line of a campaign's public list.
type PublicPledge struct{ Name, What, Status string }

// SetReports gives the server the bot's records for the minutes, wrap-up
// and campaign pages.
func (srv *Server) SetReports(r Reports) { srv.reports = r }

// reportPages are the templates of the report pages, in the site's layout.
var reportPages = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, name := range []string{"wrapup", "campaign", "notes"} {
		m[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html"))
	}
	return m
}()

// reportRoutes adds the report pages to the mux.
func (srv *Server) reportRoutes(handle func(pattern string, h http.HandlerFunc)) {
	handle("GET /{slug}/notes", srv.eventHandler(srv.serveNotes))
	handle("GET /{slug}/notes/{id}", srv.eventHandler(srv.serveMinutes))
	handle("GET /{slug}/wrapup", srv.eventHandler(srv.serveWrapup))
	handle("GET /{slug}/campaign/{campaign}", srv.eventHandler(srv.serveCampaign))
}

// serveReport answers with a rendered report page: small, rarely asked
// for, so rendered each time, with the same validators as every page.
func (srv *Server) serveReport(w http.ResponseWriter, r *http.Request, body []byte, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		srv.notFound(w, r)
	case err != nil:
		srv.internalError(w, r, err)
	default:
		srv.serve(w, r, srv.entry(version{}, body, "text/html; charset=utf-8", "public, max-age=60", time.Time{}))
	}
}

func (srv *Server) serveMinutes(w http.ResponseWriter, r *http.Request, st *eventState) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 || srv.reports == nil {
		srv.notFound(w, r)
		return
	}
	m, err := srv.reports.Minutes(r.Context(), st.ev.Slug, id)
	if err != nil {
		srv.serveReport(w, r, nil, err)
		return
	}
	srv.serveReport(w, r, []byte(m.HTML()), nil)
}

// serveNotes is the index of every run of notes of the event: the rooms
// take notes at once, each in its own channel.
func (srv *Server) serveNotes(w http.ResponseWriter, r *http.Request, st *eventState) {
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
	type note struct {
		Heading, Session string
		Link             noteLink
	}
	var body struct{ Notes []note }
	for _, m := range pv.meetings {
		n := note{Heading: m.Title, Link: srv.noteLink(st, m)}
		if m.Number != 0 {
			n.Heading = fmt.Sprintf("#%d %s", m.Number, m.Title)
			n.Session = srv.sessionPath(st, m.Number)
		}
		body.Notes = append(body.Notes, n)
	}
	out, err := renderReport("notes", page{Title: "Notes · " + st.ev.Name, Ev: srv.eventLinks(st), Body: body})
	srv.serveReport(w, r, out, err)
}

func (srv *Server) serveWrapup(w http.ResponseWriter, r *http.Request, st *eventState) {
	if srv.reports == nil {
		srv.notFound(w, r)
		return
	}
	s, err := srv.reports.Summary(r.Context(), st.ev.Slug)
	if err != nil {
		srv.serveReport(w, r, nil, err)
		return
	}
	body := wrapupBody{S: s, WalkIns: s.CheckedIn - s.RegisteredIn}
	for _, it := range s.NoNotes {
		body.NoNotes = append(body.NoNotes, wrapupSession{URL: srv.eventPath(st, fmt.Sprintf("session/%d", it.Number)),
			Heading: fmt.Sprintf("#%d %s", it.Number, it.Title), Where: it.Room + ", " + st.timeView(it.Start, "Mon 15:04").Text})
	}
	groups := map[string][]string{}
	var names []string
	for i, m := range s.Sessions {
		v := wrapupSession{URL: srv.eventPath(st, fmt.Sprintf("notes/%d", i+1)), Heading: m.Info.Title, Topics: len(m.Topics) - 1,
			Actions: len(m.Actions()), Speakers: len(m.Speakers)}
		if m.Info.URL != "" {
			v.URL = m.Info.URL
		}
		if m.Info.Number != 0 {
			v.Heading = fmt.Sprintf("#%d %s", m.Info.Number, m.Info.Title)
		}
		if m.Info.Room != "" {
			v.Where = m.Info.Room + ", " + st.timeView(m.Info.Start, "Mon 15:04").Text
		}
		for _, t := range m.Topics {
			for _, n := range t.Notes {
				if n.Kind == schedule.NoteAgreed {
					v.Agreed = append(v.Agreed, n.Text)
				}
			}
		}
		for _, a := range m.Actions() {
			owners := a.Owners
			if len(owners) == 0 {
				owners = []string{"unassigned"}
			}
			for _, o := range owners {
				if _, ok := groups[o]; !ok {
					names = append(names, o)
				}
				groups[o] = append(groups[o], a.Text)
			}
		}
		body.Sessions = append(body.Sessions, v)
	}
	for _, n := range names {
		body.Owners = append(body.Owners, wrapupOwner{Name: n, Actions: groups[n]})
	}
	out, err := renderReport("wrapup", page{Title: "Wrap-up · " + st.ev.Name, Ev: srv.eventLinks(st), Body: body})
	srv.serveReport(w, r, out, err)
}

func (srv *Server) serveCampaign(w http.ResponseWriter, r *http.Request, st *eventState) {
	if srv.reports == nil {
		srv.notFound(w, r)
		return
	}
	c, err := srv.reports.Campaign(r.Context(), st.ev.Slug, r.PathValue("campaign"))
	if err != nil {
		srv.serveReport(w, r, nil, err)
		return
	}
	body := struct {
		C      *Campaign
		Closes timeView
		Closed bool
	}{C: c, Closes: st.timeView(c.Closes, "Mon 2 Jan 2006"), Closed: !c.Closes.IsZero() && !srv.now().Before(c.Closes)}
	out, err := renderReport("campaign", page{Title: c.Title + " · " + st.ev.Name, Ev: srv.eventLinks(st), Body: body})
	srv.serveReport(w, r, out, err)
}

func renderReport(name string, p page) ([]byte, error) {
	var b bytes.Buffer
	if err := reportPages[name].ExecuteTemplate(&b, "layout", p); err != nil {
		return nil, fmt.Errorf("render %s page: %w", name, err)
	}
	return b.Bytes(), nil
}

// wrapupBody is what the wrap-up page shows.
type wrapupBody struct {
	S        *schedule.EventSummary
	WalkIns  int
	Sessions []wrapupSession
	NoNotes  []wrapupSession // sessions that took no notes
	Owners   []wrapupOwner
}

// wrapupSession is a session of the wrap-up: its notes, or where it was.
type wrapupSession struct {
	URL, Heading, Where       string
	Topics, Actions, Speakers int
	Agreed                    []string
}

// wrapupOwner is a person with open actions.
type wrapupOwner struct {
	Name    string
	Actions []string
}
