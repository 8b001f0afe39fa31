// Command boardbench measures the live board (issue 16): N screens hold
// the unconference wall's Server-Sent Events stream open while a vote is
// committed every interval, and it reports the time from each vote's
// commit to its arrival on every screen (median, 99th percentile, worst),
// and the serving process's memory and CPU.
//
//	go run ./bench/boardbench -conns 500 -every 100ms -votes 300
//
// It runs two processes: itself as the driver (it fills a fresh database,
// opens the streams and commits the votes, as the bot would, to the same
// SQLite file) and itself with -serve as hallway's web server (the web
// package's front on loopback, as `hallway run` serves it). The figures
// of memory and CPU are the server's alone, read from /proc.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
	"github.com/hallwayhq/hallway/web"
)

const slug = "board-bench"

func main() {
	serve := flag.Bool("serve", false, "be the server: serve -db on -listen")
	db := flag.String("db", "", "with -serve: the database")
	listen := flag.String("listen", "127.0.0.1:0", "with -serve: where to listen")
	conns := flag.Int("conns", 500, "screens (SSE connections)")
	every := flag.Duration("every", 100*time.Millisecond, "time between two votes")
	votes := flag.Int("votes", 300, "votes to commit")
	proposals := flag.Int("proposals", 40, "session proposals on the wall")
	flag.Parse()
	var err error
	if *serve {
		err = runServer(*db, *listen)
	} else {
		err = runDriver(*conns, *every, *votes, *proposals)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "boardbench:", err)
		os.Exit(1)
	}
}

func event() web.Event {
	rooms := []schedule.GridRoom{{Name: "Room 1", Capacity: 60}, {Name: "Room 2", Capacity: 40}}
	return web.Event{Slug: slug, Name: "Board bench", Zone: time.UTC, Rooms: rooms, Grid: schedule.Grid{Rooms: rooms}, Channel: "#bench"}
}

// runServer serves the web package over db until SIGTERM.
func runServer(db, listen string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := store.Open(ctx, db)
	if err != nil {
		return err
	}
	defer s.Close()
	srv := web.New(s, []web.Event{event()}, &web.Options{
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Printf("ready addr=%s\n", ln.Addr())
	return srv.Serve(ctx, ln)
}

// fill makes the event, its proposals and the voters.
func fill(ctx context.Context, s *store.Store, proposals, voters int) (evID int64, props, people []int64, err error) {
	err = s.Do(ctx, func(tx *store.Tx) error {
		ev, err := tx.EnsureEvent(slug, "Board bench")
		if err != nil {
			return err
		}
		evID = ev.ID
		for i := range voters {
			p, err := tx.PersonByIdentity(store.IRCAccount, fmt.Sprintf("voter%d", i), fmt.Sprintf("Voter %d", i))
			if err != nil {
				return err
			}
			people = append(people, p.ID)
		}
		for i := range proposals {
			pr, err := tx.AddProposal(store.Proposal{EventID: ev.ID, Kind: store.Session,
				Title: fmt.Sprintf("Session %d: a title of the usual length for a session", i+1), AuthorID: people[i%len(people)]})
			if err != nil {
				return err
			}
			props = append(props, pr.ID)
		}
		return nil
	})
	return
}

var votesRe = regexp.MustCompile(`class="votes">(\d+)<`)

// screen is one SSE connection: when each total of votes first arrived.
type screen struct {
	mu      sync.Mutex
	arrived map[int]time.Time // total votes → first seen
	first   chan struct{}
	bytes   int64
}

func (sc *screen) read(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReaderSize(conn, 64<<10)
	var data strings.Builder
	once := sync.Once{}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		sc.bytes += int64(len(line))
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "data: "):
			data.WriteString(line[6:])
			data.WriteByte('\n')
		case line == "":
			if data.Len() == 0 {
				continue
			}
			now := time.Now()
			total := 0
			for _, m := range votesRe.FindAllStringSubmatch(data.String(), -1) {
				n, _ := strconv.Atoi(m[1])
				total += n
			}
			data.Reset()
			sc.mu.Lock()
			if _, ok := sc.arrived[total]; !ok {
				sc.arrived[total] = now
			}
			sc.mu.Unlock()
			once.Do(func() { close(sc.first) })
		}
	}
}

// procStats reads a process's resident memory (now and peak, KiB) and
// CPU time.
func procStats(pid int) (rss, hwm int64, cpu time.Duration, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "VmRSS:" {
			rss, _ = strconv.ParseInt(f[1], 10, 64)
		}
		if len(f) >= 2 && f[0] == "VmHWM:" {
			hwm, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return
	}
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	cpu = time.Duration(ut+st) * time.Second / 100 // USER_HZ
	return
}

func runDriver(conns int, every time.Duration, votes, proposals int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "boardbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "hallway.db")
	s, err := store.Open(ctx, db)
	if err != nil {
		return err
	}
	defer s.Close()
	evID, props, people, err := fill(ctx, s, proposals, votes)
	if err != nil {
		return err
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "-serve", "-db", db)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "ready addr=")
	if !ok {
		return fmt.Errorf("server said %q", line)
	}
	pid := cmd.Process.Pid
	rss0, _, _, err := procStats(pid)
	if err != nil {
		return err
	}

	// The screens.
	screens := make([]*screen, conns)
	openStart := time.Now()
	for i := range screens {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return fmt.Errorf("screen %d: %w", i, err)
		}
		fmt.Fprintf(conn, "GET /%s/live?view=wall HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", slug, addr)
		sc := &screen{arrived: map[int]time.Time{}, first: make(chan struct{})}
		screens[i] = sc
		go sc.read(conn)
	}
	for i, sc := range screens {
		select {
		case <-sc.first:
		case <-time.After(30 * time.Second):
			return fmt.Errorf("screen %d got no first frame", i)
		}
	}
	opened := time.Since(openStart)
	rss1, _, cpu1, err := procStats(pid)
	if err != nil {
		return err
	}
	_, _, self1, err := procStats(os.Getpid())
	if err != nil {
		return err
	}

	// The votes, each its own transaction, one every interval.
	commits := make([]time.Time, votes+1) // by the total after it
	tick := time.NewTicker(every)
	start := time.Now()
	for k := 1; k <= votes; k++ {
		<-tick.C
		err := s.Do(ctx, func(tx *store.Tx) error {
			_, err := tx.AddVote(evID, props[k%len(props)], people[k-1])
			return err
		})
		if err != nil {
			return err
		}
		commits[k] = time.Now()
	}
	tick.Stop()
	// Wait for the last vote on every screen (or 10 s).
	deadline := time.Now().Add(10 * time.Second)
	for _, sc := range screens {
		for {
			sc.mu.Lock()
			_, ok := sc.arrived[votes]
			sc.mu.Unlock()
			if ok || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond) // polling the readers' maps
		}
	}
	wall := time.Since(start)
	rss2, hwm, cpu2, err := procStats(pid)
	if err != nil {
		return err
	}
	_, _, self2, err := procStats(os.Getpid())
	if err != nil {
		return err
	}

	// Latency of vote k on a screen: the first frame with a total of at
	// least k, less k's commit.
	var lat []time.Duration
	missed := 0
	var bytes int64
	for _, sc := range screens {
		sc.mu.Lock()
		totals := make([]int, 0, len(sc.arrived))
		for t := range sc.arrived {
			totals = append(totals, t)
		}
		slices.Sort(totals)
		for k := 1; k <= votes; k++ {
			i, _ := slices.BinarySearch(totals, k)
			if i == len(totals) {
				missed++
				continue
			}
			// The earliest arrival of any total >= k.
			first := sc.arrived[totals[i]]
			for _, t := range totals[i:] {
				if sc.arrived[t].Before(first) {
					first = sc.arrived[t]
				}
			}
			lat = append(lat, first.Sub(commits[k]))
		}
		bytes += sc.bytes
		sc.mu.Unlock()
	}
	if len(lat) == 0 {
		return errors.New("no vote arrived")
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	fmt.Printf("screens=%d votes=%d every=%s proposals=%d\n", conns, votes, every, proposals)
	fmt.Printf("opened_in=%s\n", opened.Round(time.Millisecond))
	fmt.Printf("latency_median=%s latency_p99=%s latency_worst=%s arrivals=%d missed=%d\n",
		q(0.5).Round(time.Millisecond), q(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), len(lat), missed)
	fmt.Printf("server_rss_idle=%.1fMiB server_rss_streams=%.1fMiB server_rss_end=%.1fMiB server_rss_peak=%.1fMiB\n",
		float64(rss0)/1024, float64(rss1)/1024, float64(rss2)/1024, float64(hwm)/1024)
	fmt.Printf("server_cpu=%.1f%% of one core over %s (%s)\n", 100*(cpu2-cpu1).Seconds()/wall.Seconds(), wall.Round(time.Millisecond), cpu2-cpu1)
	// The driver's own CPU: past a thousand screens its parsing, not the
	// server, sets the latency on 2 cores.
	fmt.Printf("driver_cpu=%.1f%% of one core\n", 100*(self2-self1).Seconds()/wall.Seconds())
	fmt.Printf("bytes_to_screens=%.1fMiB\n", float64(bytes)/(1<<20))
	if missed > 0 {
		return fmt.Errorf("%d vote arrivals missed", missed)
	}
	return nil
}
