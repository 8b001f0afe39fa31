// Command webserve is the server side of bench/web.sh: it fills a fresh
// database (or the one -store names) with a FOSDEM-sized event (800 sessions in 35 rooms over two
// days, three releases), times the renderers, writes the bytes of
// /{slug}/schedule.ics to a file for nginx to serve, and serves the web
// package until interrupted.
//
//	webserve -listen 127.0.0.1:18080 -out /tmp/x/schedule.ics
//
// It prints "key=value" lines: etag, bytes, gzip_bytes and render times.
//
// With -bare it serves the bytes of a file instead, with the headers
// hallway sends, from the least a net/http handler can do (compare the
// ETag, write): the floor of Go's HTTP server on the machine, to tell
// its cost from ours.
//
//	webserve -bare -listen 127.0.0.1:18082 -in /tmp/x/schedule.ics
package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
	"github.com/hallwayhq/hallway/web"
)

const slug = "fosdem-2027"

func main() {
	listen := flag.String("listen", "127.0.0.1:18080", "address to serve on")
	out := flag.String("out", "", "write the bytes of schedule.ics here")
	sessions := flag.Int("sessions", 800, "sessions in the schedule")
	rooms := flag.Int("rooms", 35, "rooms")
	releases := flag.Int("releases", 3, "releases (each moves, renames and cancels a few sessions)")
	runs := flag.Int("runs", 20, "renders timed per renderer")
	bare := flag.Bool("bare", false, "serve the file -in with a bare net/http handler")
	in := flag.String("in", "", "with -bare: the file to serve")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address")
	source := flag.String("store", "", "database to use (a path or postgres://…; default a fresh SQLite file)")
	base := flag.String("base", "", "the site's public URL (default http:// and -listen): instances behind one name serve the same bytes")
	seed := flag.Bool("seed", true, "fill the database with the event; false: another instance did")
	flag.Parse()
	if *pprofAddr != "" {
		go http.ListenAndServe(*pprofAddr, nil) // DefaultServeMux has pprof
	}
	if *bare {
		if err := runBare(*listen, *in); err != nil {
			fmt.Fprintln(os.Stderr, "webserve:", err)
			os.Exit(1)
		}
		return
	}
	if *base == "" {
		*base = "http://" + *listen
	}
	if err := run(*listen, *base, *out, *source, *seed, *sessions, *rooms, *releases, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "webserve:", err)
		os.Exit(1)
	}
}

func run(listen, base, out, source string, seed bool, nSessions, nRooms, nReleases, runs int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "webserve")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if source == "" {
		source = filepath.Join(dir, "hallway.db")
	}
	s, err := store.Open(ctx, source)
	if err != nil {
		return err
	}
	defer s.Close()

	zone, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		return err
	}
	ev, history := generate(zone, nSessions, nRooms, nReleases)
	if seed {
		if err := store_(ctx, s, ev, history); err != nil {
			return err
		}
	}

	info := schedule.EventInfo{Slug: ev.Slug, Name: ev.Name, Venue: ev.Venue, URL: base + "/" + ev.Slug, Zone: zone, Rooms: ev.Rooms}
	h := schedule.History(history)
	for _, r := range []struct {
		name string
		fn   func() []byte
	}{
		{"ics", func() []byte { return schedule.ICS(info, h, schedule.Selection{}) }},
		{"ics_room", func() []byte {
			return schedule.ICS(info, h, schedule.Selection{Title: ev.Rooms[0].Name, Room: ev.Rooms[0].Name})
		}},
		{"json", func() []byte { return schedule.JSON(info, h) }},
		{"frab", func() []byte { return schedule.Frab(info, h) }},
		{"text", func() []byte { return schedule.Text(info, h) }},
	} {
		var times []time.Duration
		var size int
		for range runs {
			start := time.Now()
			size = len(r.fn())
			times = append(times, time.Since(start))
		}
		slices.Sort(times)
		fmt.Printf("render_%s_bytes=%d\nrender_%s_min=%s\nrender_%s_median=%s\n", r.name, size, r.name, times[0], r.name, times[len(times)/2])
	}

	srv := web.New(s, []web.Event{ev}, &web.Options{
		BaseURL: base,
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()

	// The first request renders and gzips; the bytes served go to nginx.
	start := time.Now()
	resp, err := http.Get("http://" + listen + "/" + slug + "/schedule.ics")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	fmt.Printf("first_request=%s\n", time.Since(start))
	req, _ := http.NewRequest("GET", "http://"+listen+"/"+slug+"/schedule.ics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	zresp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		return err
	}
	zbody, _ := io.ReadAll(zresp.Body)
	zresp.Body.Close()
	fmt.Printf("etag=%s\nbytes=%d\ngzip_bytes=%d\n", resp.Header.Get("Etag"), len(body), len(zbody))
	if out != "" {
		if err := os.WriteFile(out, body, 0o644); err != nil {
			return err
		}
	}
	fmt.Println("ready=1")
	return <-done
}

// runBare serves one file's bytes at every path, as plainly as net/http
// allows, with the headers hallway sends.
func runBare(listen, in string) error {
	body, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	hdr := map[string][]string{
		"Etag": {etag}, "Cache-Control": {"public, max-age=300"}, "Vary": {"Accept-Encoding"},
		"Last-Modified": {"Tue, 26 Jan 2027 18:00:00 GMT"},
	}
	length := []string{strconv.Itoa(len(body))}
	h := func(w http.ResponseWriter, r *http.Request) {
		wh := w.Header()
		for k, v := range hdr {
			wh[k] = v
		}
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		wh["Content-Type"] = []string{"text/calendar; charset=utf-8"}
		wh["Content-Length"] = length
		w.Write(body)
	}
	fmt.Printf("etag=%s\nready=1\n", etag)
	return http.ListenAndServe(listen, http.HandlerFunc(h))
}

// store_ puts the event and its releases in the database.
func store_(ctx context.Context, s *store.Store, ev web.Event, history []*schedule.Release) error {
	for _, r := range history {
		at := r.CreatedAt
		s.Now = func() time.Time { return at }
		err := s.Do(ctx, func(tx *store.Tx) error {
			e, err := tx.EnsureEvent(ev.Slug, ev.Name)
			if err != nil {
				return err
			}
			p, err := tx.PersonByIdentity(store.IRCAccount, "organizer", "Organizer")
			if err != nil {
				return err
			}
			data, err := json.Marshal(r)
			if err != nil {
				return err
			}
			return tx.AddRelease(e.ID, store.Release{Version: r.Version, Note: r.Note, Schedule: data}, p.ID)
		})
		if err != nil {
			return err
		}
	}
	s.Now = time.Now
	return nil
}

var (
	topics = []string{"Rust", "Kernel", "Embedded", "Databases", "Containers", "Go", "Python", "Security", "Networking",
		"Graphics", "Mozilla", "Legal", "Community", "HPC", "Decentralised Internet", "Open Hardware", "RISC-V", "Testing",
		"Monitoring", "JavaScript", "BSD", "Distributions", "Package Management", "Science", "Geospatial", "Music",
		"Accessibility", "Translations", "Energy", "Identity", "Web Performance", "LLVM", "Nix", "Collabora", "Sovereign Cloud"}
	words = []string{"reproducible", "builds", "at", "scale", "a", "journey", "into", "zero-copy", "I/O", "for", "the", "rest",
		"of", "us", "lessons", "learned", "from", "ten", "years", "porting", "to", "bare metal", "without", "tears", "scheduling",
		"caches", "supply chain", "verification", "memory safety", "in", "practice", "community", "governance", "observability"}
	names = []string{"Ada Lovelace", "Grace Hopper", "Linus Åberg", "Zoë Moreau", "Mateus Araújo", "Jürgen Weiß", "Chidi Okafor",
		"Priya Raman", "Søren Kierkegaard", "Ólafur Arnalds", "Nguyễn Văn An", "María José García", "Kenji Tanaka", "Anaïs Dubois"}
)

// generate makes a FOSDEM-like event: rooms open 09:00–19:00 on two days,
// 30- and 50-minute slots, the sessions spread over every room, then
// releases that move, rename and cancel a few.
func generate(zone *time.Location, nSessions, nRooms, nReleases int) (web.Event, []*schedule.Release) {
	rng := rand.New(rand.NewPCG(2027, 2))
	ev := web.Event{Slug: slug, Name: "FOSDEM 2027", Venue: "ULB Solbosch, Brussels", Zone: zone, Channel: "#fosdem"}
	for i := range nRooms {
		ev.Rooms = append(ev.Rooms, schedule.GridRoom{Name: fmt.Sprintf("%s.%d (%s)", []string{"H", "K", "UA", "UB", "AW", "J"}[i%6], 1000+i*37, topics[i%len(topics)]), Capacity: 50 + rng.IntN(800)})
	}
	ev.Grid.Rooms = ev.Rooms
	all := make([]string, len(ev.Rooms))
	for i, r := range ev.Rooms {
		all[i] = r.Name
	}
	var slots []schedule.GridSlot
	for day := range 2 {
		t := time.Date(2027, 2, 6+day, 9, 0, 0, 0, zone)
		end := time.Date(2027, 2, 6+day, 19, 0, 0, 0, zone)
		for t.Before(end) {
			length := 30 * time.Minute
			if len(slots)%3 == 0 {
				length = 50 * time.Minute
			}
			slots = append(slots, schedule.GridSlot{Start: t, End: t.Add(length), Kind: schedule.KindTalk, Rooms: all})
			t = t.Add(length + 5*time.Minute)
		}
	}
	ev.Grid.Slots = slots

	var items []schedule.Item
	for n := 1; n <= nSessions; n++ {
		cell := n - 1
		room, slot := cell%nRooms, (cell/nRooms)%len(slots)
		title := topics[room%len(topics)] + ": "
		for range 4 + rng.IntN(6) {
			title += words[rng.IntN(len(words))] + " "
		}
		abstract := strings.Repeat("This talk walks through "+strings.TrimSpace(title)+", with demos and the numbers behind them. ", 2+rng.IntN(4))
		speakers := []string{names[rng.IntN(len(names))]}
		if rng.IntN(4) == 0 {
			speakers = append(speakers, names[rng.IntN(len(names))])
		}
		kind := schedule.KindTalk
		if n%5 == 0 {
			kind = schedule.KindSession
		}
		items = append(items, schedule.Item{Number: int64(n), Kind: kind, Title: strings.TrimSpace(title), Abstract: abstract,
			Speakers: speakers, Votes: rng.IntN(300), Room: ev.Rooms[room].Name, Start: slots[slot].Start, End: slots[slot].End})
	}
	var history []*schedule.Release
	created := time.Date(2027, 1, 20, 18, 0, 0, 0, time.UTC)
	for v := 1; v <= nReleases; v++ {
		if v > 1 {
			items = slices.Clone(items)
			for range 20 { // moves: swap two sessions' places
				i, j := rng.IntN(len(items)), rng.IntN(len(items))
				items[i].Room, items[j].Room = items[j].Room, items[i].Room
				items[i].Start, items[j].Start = items[j].Start, items[i].Start
				items[i].End, items[j].End = items[j].End, items[i].End
			}
			for range 10 {
				i := rng.IntN(len(items))
				items[i].Title += " (updated)"
			}
			for range 5 {
				i := rng.IntN(len(items))
				items = slices.Delete(items, i, i+1)
			}
			slices.SortFunc(items, func(a, b schedule.Item) int {
				if c := a.Start.Compare(b.Start); c != 0 {
					return c
				}
				return strings.Compare(a.Room, b.Room)
			})
		}
		history = append(history, &schedule.Release{Version: v, CreatedAt: created.Add(time.Duration(v-1) * 72 * time.Hour),
			Note: fmt.Sprintf("release %d", v), Plan: schedule.Plan{Items: items}})
	}
	return ev, history
}
