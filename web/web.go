// Package web serves an event's schedule over HTTP: calendar feeds
// (iCalendar, RFC 5545), the JSON, frab XML and text exports, and a few
// server-rendered pages (the schedule grid, the proposals with their votes,
// one page per session, the release history), plus /healthz and /metrics.
//
// # Caching
//
// Thousands of calendar apps poll the same feeds, so a request must cost
// next to nothing and a CDN must be able to sit in front. Every response
// carries a strong ETag (a hash of the exact bytes, before compression), a
// Last-Modified and a Cache-Control; conditional requests get 304 Not
// Modified (RFC 9110 §13.1.2, §13.1.3, §13.2.2). Rendered bytes, and their
// gzip form, are kept in memory keyed by the route and the versions of the
// data they were made from: the latest release version and amendment
// (read with one indexed query at most once a second per event) and, for
// pages, a hash of the proposals (read at most once a second too). A 304
// or a cached 200 thus usually runs no query at all. A personal feed
// checks its token and reads its proposal numbers (two indexed queries) at
// most once a second per token, so a revoked address stops within a
// second; up to 4096 personal feeds stay rendered.
//
// Last-Modified is when the latest release or amendment was made for
// feeds and exports. Pages also take the time the proposals were last
// seen to change (votes do not touch a proposal's updated_at) and, for
// the schedule, the last start or end of an item, since the page marks
// what is on now and next. It is never later than the clock's now (RFC
// 9110 §8.8.2.1).
//
// # Routes
//
// Per event slug: schedule.ics, talks.ics, sessions.ics, room/{room}.ics,
// feed/{token}.ics (personal), session/{n}.ics, schedule.json,
// schedule.xml (frab), schedule.txt, schedule.c3voc.json, and the pages /{slug}/,
// /{slug}/proposals, /{slug}/session/{n}, /{slug}/releases; the live pages
// /{slug}/board, /{slug}/wall, /{slug}/room/{room}/screen and their
// stream /{slug}/live (live.go). The site root lists the events.
package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

// Event is what the web needs of an event from the config.
type Event struct {
	Slug    string
	Name    string
	Venue   string
	Zone    *time.Location // nil means UTC
	Rooms   []schedule.GridRoom
	Grid    schedule.Grid // the slots, for the day grid
	Channel string        // the IRC channel, named on the pages
	// Filling and Full are the shares of a room's capacity its checked-in
	// voters make it "filling" and "full" on the board; 0 means 0.75 and
	// 1.
	Filling, Full float64
}

// Options tune a Server. The zero value (or nil) means defaults.
type Options struct {
	// BaseURL is the public URL of the site without a trailing slash
	// ("https://hallway.example.org"); feed links and the events' URLs
	// are made from it. Empty means links relative to the site root and
	// no webcal:// links.
	BaseURL string
	// Now is the clock, for what is on now and next and to keep
	// Last-Modified out of the future. Default time.Now.
	Now func() time.Time
	// Logger gets errors; default slog.Default().
	Logger *slog.Logger
	// PublicMetrics serves /metrics to every client; by default only to
	// clients on loopback that came through no proxy.
	PublicMetrics bool
}

// Server serves the feeds and pages of some events. Its methods are safe
// for concurrent use.
type Server struct {
	store    *store.Store
	events   []*eventState // in config order
	bySlug   map[string]*eventState
	baseURL  string
	basePath string // BaseURL's path, prefixed to links
	now      func() time.Time
	log      *slog.Logger
	metrics  *metrics
	// fresh is how long a read version is trusted before it is read
	// again; tests set it to 0.
	fresh time.Duration
	index slot // the site root's page
	mux   *http.ServeMux
	// fast routes the event-wide feeds and exports, the addresses
	// calendar apps poll, by file name without the ServeMux (whose path
	// cleaning is half the cost of a 304).
	fast map[string]*fastRoute
	// personalCounts are the personal feeds' metrics, which the front
	// counts too.
	personalCounts *routeCounts
	// badRequests counts the requests refused before routing.
	badRequests *routeCounts
	// publicMetrics: see Options.
	publicMetrics bool
	// reports gives the minutes, wrap-up and campaign pages (report.go).
	reports Reports
	// leadership, if set, is this instance's role (SetLeadership).
	leadership Leadership
	// stop ends the live streams when Serve returns.
	stop     chan struct{}
	stopOnce sync.Once
}

// patternPersonal is the route of the personal feeds.
const patternPersonal = "GET /{slug}/feed/{token}"

// fastRoute is one of the files of the fast path.
type fastRoute struct {
	pattern string
	counts  *routeCounts
	get     entryFunc
}

// defaultFresh is how stale a release version or proposals snapshot may
// be: a new release shows up within a second.
const defaultFresh = time.Second

// New returns a Server for events backed by s. It does no I/O.
func New(s *store.Store, events []Event, opts *Options) *Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	base := strings.TrimSuffix(o.BaseURL, "/")
	srv := &Server{
		store:   s,
		bySlug:  map[string]*eventState{},
		baseURL: base,
		now:     o.Now,
		log:     o.Logger.With("component", "web"),
		metrics: newMetrics(),
		fresh:   defaultFresh,
		fast:    map[string]*fastRoute{},
		stop:    make(chan struct{}),

		publicMetrics: o.PublicMetrics,
	}
	if u, err := url.Parse(base); err == nil {
		srv.basePath = strings.TrimSuffix(u.Path, "/")
	}
	for _, e := range events {
		st := newEventState(e, base)
		srv.events = append(srv.events, st)
		srv.bySlug[e.Slug] = st
	}
	srv.mux = srv.routes()
	return srv
}

// routes maps the URL patterns to handlers. The pattern is the route's
// name in the metrics.
func (srv *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	// "GET" patterns also take HEAD; other methods get 405.
	handle := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, srv.metrics.wrap(pattern, h))
	}
	handle("GET /{$}", srv.serveIndex)
	handle("GET /healthz", srv.serveHealth)
	handle("GET /metrics", srv.serveMetrics)
	handle("GET /{slug}", srv.redirectToSchedule)
	handle("GET /{slug}/schedule", srv.redirectToSchedule) // the bot's links
	handle("GET /{slug}/{$}", srv.eventHandler(srv.serveSchedulePage))
	handle("GET /{slug}/proposals", srv.eventHandler(srv.serveProposalsPage))
	handle("GET /{slug}/releases", srv.eventHandler(srv.serveReleasesPage))
	handle("GET /{slug}/session/{n}", srv.eventHandler(srv.serveSession))
	handle("GET /{slug}/room/{room}", srv.eventHandler(srv.serveRoomFeed))
	handle("GET /{slug}/room/{room}/screen", srv.eventHandler(srv.serveScreen))
	handle("GET /{slug}/board", srv.eventHandler(srv.serveBoard))
	handle("GET /{slug}/wall", srv.eventHandler(srv.serveWall))
	handle("GET /{slug}/live", srv.eventHandler(srv.serveLive))
	handle(patternPersonal, srv.eventHandler(srv.servePersonalFeed))
	srv.personalCounts = srv.metrics.route(patternPersonal)
	srv.badRequests = srv.metrics.route("malformed")
	srv.reportRoutes(handle)
	srv.myDataRoutes(handle)
	// The same routes as the fast path takes, for what it leaves to the
	// mux (an escaped path).
	for file, get := range map[string]entryFunc{
		"schedule.ics":  srv.feedEntry(feedAll),
		"talks.ics":     srv.feedEntry(feedTalks),
		"sessions.ics":  srv.feedEntry(feedSessions),
		"schedule.json": srv.exportEntry(exportJSON),
		"schedule.xml":  srv.exportEntry(exportFrab),
		"schedule.txt":  srv.exportEntry(exportText),
		// c3voc's schedule.json, for schedule apps and the voc tooling.
		"schedule.c3voc.json": srv.exportEntry(exportC3VOC),
	} {
		pattern := "GET /{slug}/" + file
		handle(pattern, srv.eventHandler(srv.serveEntry(get)))
		srv.fast[file] = &fastRoute{pattern: pattern, counts: srv.metrics.route(pattern), get: get}
	}
	mux.Handle("GET /", srv.metrics.wrap("other", http.HandlerFunc(srv.notFound)))
	return mux
}

// Handler returns the server's HTTP handler.
func (srv *Server) Handler() http.Handler { return http.HandlerFunc(srv.serveHTTP) }

// serveHTTP takes /{slug}/{file} of the fast routes itself and leaves
// everything else to the mux. A path it takes is one the mux would not
// clean or redirect: two plain segments, a known slug, a known file.
func (srv *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if msg := malformed(len(r.TransferEncoding) > 0 || r.Header.Get("Transfer-Encoding") != "", strings.IndexByte(r.URL.Path, 0) >= 0); msg != "" {
		srv.refuse(w, r, msg)
		return
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.RawPath == "" {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/"); ok {
			if slug, file, ok := strings.Cut(rest, "/"); ok {
				if fr, st := srv.fast[file], srv.bySlug[slug]; fr != nil && st != nil {
					r.Pattern = fr.pattern
					sw := &statusWriter{ResponseWriter: w}
					srv.serveEntry(fr.get)(sw, r, st)
					srv.metrics.count(fr.counts, sw.code)
					return
				}
			}
		}
	}
	srv.mux.ServeHTTP(w, r)
}

// malformed says why a request is refused before any route sees it, or "".
// Every route is a GET without a body, so a Transfer-Encoding is refused:
// with a Content-Length beside it, it is the shape of request smuggling
// (RFC 9112 §6.1: "ought to be handled as an error"), and neither net/http
// nor fasthttp tells the handler whether one came (both drop it). A NUL,
// raw or %00, is in no name of ours and would reach the store or a file
// name otherwise.
func malformed(transferEncoding, nul bool) string {
	switch {
	case transferEncoding:
		return "bad request: a request body (Transfer-Encoding) is not accepted here\n"
	case nul:
		return "bad request: NUL in the path\n"
	}
	return ""
}

// refuse answers a malformed request with 400 and closes the connection:
// what follows on it cannot be trusted to be a request of its own.
func (srv *Server) refuse(w http.ResponseWriter, r *http.Request, msg string) {
	w.Header().Set("Connection", "close")
	plain(w, r, http.StatusBadRequest, msg)
	srv.metrics.count(srv.badRequests, http.StatusBadRequest)
}

// eventHandler resolves the {slug} of the path to a configured event.
func (srv *Server) eventHandler(h func(http.ResponseWriter, *http.Request, *eventState)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st := srv.bySlug[r.PathValue("slug")]
		if st == nil {
			srv.notFound(w, r)
			return
		}
		h(w, r, st)
	}
}

func (srv *Server) redirectToSchedule(w http.ResponseWriter, r *http.Request) {
	st := srv.bySlug[r.PathValue("slug")]
	if st == nil {
		srv.notFound(w, r)
		return
	}
	http.Redirect(w, r, srv.basePath+"/"+url.PathEscape(st.ev.Slug)+"/", http.StatusMovedPermanently)
}

// serveHealth answers 200 "ok" when the database answers a query and its
// writes work; 503 with the reason when its last write failed (the disk is
// full) until one succeeds again (the check tries one).
func (srv *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := srv.store.CheckWrites(r.Context()); err != nil {
		plain(w, r, http.StatusServiceUnavailable, "database writes failing: "+err.Error()+"\n")
		return
	}
	err := srv.store.View(r.Context(), func(tx *store.Tx) error {
		_, err := tx.EventBySlug("")
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		srv.log.Error("health check", "err", err)
		plain(w, r, http.StatusServiceUnavailable, "database unavailable\n")
		return
	}
	plain(w, r, http.StatusOK, "ok"+srv.roleText()+"\n")
}

// Leadership is what the web says of the instances sharing the database:
// whether this one leads (runs IRC, mail and the clock), the lease's term
// and holder as last seen, and how often this instance took the lease.
type Leadership interface {
	Role() (leading bool, term int64, holder string, takeovers uint64)
}

// SetLeadership makes /healthz and /metrics tell this instance's role.
func (srv *Server) SetLeadership(l Leadership) { srv.leadership = l }

// roleText is the role for /healthz: ": leader, term 3" or ": standby,
// term 3 led by host:1234".
func (srv *Server) roleText() string {
	if srv.leadership == nil {
		return ""
	}
	leading, term, holder, _ := srv.leadership.Role()
	if leading {
		return fmt.Sprintf(": leader, term %d", term)
	}
	if holder == "" {
		return ": standby, no leader yet"
	}
	return fmt.Sprintf(": standby, term %d led by %s", term, holder)
}

// plain writes a short uncached text answer.
func plain(w http.ResponseWriter, r *http.Request, code int, text string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	// Set, so that a HEAD gets it too (RFC 9110 §9.3.2).
	h.Set("Content-Length", strconv.Itoa(len(text)))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		w.Write([]byte(text))
	}
}

func (srv *Server) notFound(w http.ResponseWriter, r *http.Request) {
	// Not-found answers may be cached briefly: a scanner hammering
	// random addresses then reaches the CDN, not us.
	w.Header().Set("Cache-Control", "public, max-age=60")
	plain(w, r, http.StatusNotFound, "not found\n")
}

// internalError tells the client little and the log everything.
func (srv *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return // the client went away
	}
	srv.log.Error("request failed", "path", r.URL.Path, "err", err)
	plain(w, r, http.StatusInternalServerError, "internal error\n")
}
