package main

// The live views end-to-end test: the real InspIRCd + Anope, hallway's
// IRC client, bot, clock and web server. A session withdrawn after a
// release is off !where, !now, !next, the pages and the feed before any
// new release; the organizer, and only the organizer, is told privately
// how to fill its slot; the next release cancels it once.

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/irc/irctest"
)

// liveConfig writes a config for an event in UTC with two rooms and two
// session slots: the first started 10 minutes before now, the second
// starts an hour after it.
func liveConfig(t *testing.T, ircAddr, botNick, org, channel string, now time.Time) *config.Config {
	t.Helper()
	s1 := now.UTC().Truncate(time.Minute).Add(-10 * time.Minute)
	s2 := s1.Add(70 * time.Minute)
	days, date := "", ""
	for _, s := range []struct {
		at  time.Time
		min int
	}{{s1, 60}, {s2, 50}} {
		if d := s.at.Format("2006-01-02"); d != date {
			if date != "" {
				days += "]\n"
			}
			date = d
			days += fmt.Sprintf("  [[event.day]]\n  date = %q\n  slots = [\n", d)
		}
		days += fmt.Sprintf(`    { start = %q, minutes = %d, kind = "session", rooms = ["Room 1", "Room 2"] },`+"\n", s.at.Format("15:04"), s.min)
	}
	days += "]\n"
	host, port, _ := strings.Cut(ircAddr, ":")
	text := fmt.Sprintf(`[store]
path = "hallway.db"
[web]
listen = "127.0.0.1:0"
base_url = "http://127.0.0.1:8080"
[irc]
server = %q
port = %s
tls = false
nick = %q
[[event]]
slug = "live-day"
name = "Live Day"
timezone = "UTC"
channel = %q
organizers = [%q]
  [[event.room]]
  name = "Room 1"
  capacity = 30
  [[event.room]]
  name = "Room 2"
  capacity = 30
%s`, host, port, botNick, channel, org, days)
	return loadConfig(t, text, nil)
}

// webBase waits until hallway's web server says where it listens.
func webBase(t *testing.T, ctx context.Context, logs *syncBuffer) string {
	t.Helper()
	for ctx.Err() == nil {
		if m := servingRe.FindStringSubmatch(logs.String()); m != nil {
			_, port, _ := net.SplitHostPort(m[1])
			return "http://127.0.0.1:" + port
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatal("hallway never served")
	return ""
}

// vevents maps each proposal number in a feed to its VEVENT's
// properties (unfolded), as "NAME" → value.
func vevents(feed string) map[string]map[string]string {
	out := map[string]map[string]string{}
	feed = strings.ReplaceAll(feed, "\r\n ", "")
	uid := regexp.MustCompile(`-(\d+)@`)
	for _, ev := range strings.Split(feed, "BEGIN:VEVENT")[1:] {
		ev, _, _ = strings.Cut(ev, "END:VEVENT")
		props := map[string]string{}
		for _, line := range strings.Split(ev, "\r\n") {
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			name, _, _ = strings.Cut(name, ";")
			props[name] = value
		}
		if m := uid.FindStringSubmatch(props["UID"]); m != nil {
			out[m[1]] = props
		}
	}
	return out
}

// ask sends a command privately and returns the bot's answer that has
// want; every notice it saw on the way is appended to seen.
func ask(t *testing.T, ctx context.Context, c *irctest.Client, botNick, text, want string, seen *[]string) string {
	t.Helper()
	if err := c.Privmsg(botNick, text); err != nil {
		t.Fatal(err)
	}
	m, err := c.Expect(ctx, func(m irctest.Message) bool {
		if m.Command != "PRIVMSG" && m.Command != "NOTICE" || !strings.EqualFold(m.Prefix.Nick, botNick) {
			return false
		}
		if strings.Contains(m.Last(), "is empty") {
			*seen = append(*seen, m.Param(0)+" "+m.Last())
		}
		return strings.Contains(m.Last(), want)
	})
	if err != nil {
		t.Fatalf("%s: waiting for %q after %q: %v", c.Nick(), want, text, err)
	}
	return m.Last()
}

func TestLiveWithdrawal(t *testing.T) {
	ircAddr := irctest.TestEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	org, att := uniqueNick("org"), uniqueNick("att")
	botNick, channel := uniqueNick("hw"), "#"+uniqueNick("live")
	cfg := liveConfig(t, ircAddr, botNick, org, channel, time.Now())
	_, logs := runHallway(t, ctx, cfg)
	base := webBase(t, ctx, logs) + "/live-day"

	o := ircPerson(t, ctx, ircAddr, org)
	a := ircPerson(t, ctx, ircAddr, att)
	for _, c := range []*irctest.Client{o, a} {
		if err := c.Join(ctx, channel); err != nil {
			t.Fatal(err)
		}
	}
	waitOnline(t, ctx, a, botNick)
	var orgSeen, attSeen []string
	titles := map[string]string{}
	// The attendee proposes #1 and #2, the organizer #3 and #4: a
	// speaker's two sessions go in the two slots.
	for i := 1; i <= 4; i++ {
		title := fmt.Sprintf("Live topic %c %s", 'A'+i-1, att)
		c, seen := a, &attSeen
		if i > 2 {
			c, seen = o, &orgSeen
		}
		ask(t, ctx, c, botNick, fmt.Sprintf("!propose %q", title), fmt.Sprintf("proposed #%d", i), seen)
		titles[fmt.Sprint(i)] = title
	}
	// Two voters with two sessions each: all four fit without conflicts.
	ask(t, ctx, a, botNick, "!vote 1 2", "voted", &attSeen)
	ask(t, ctx, o, botNick, "!vote 3 4", "voted", &orgSeen)
	ask(t, ctx, o, botNick, "!schedule release -- first", "version 1 released", &orgSeen)

	// The attendee's session that is next (the second slot): the one to
	// withdraw.
	next := ask(t, ctx, a, botNick, "!next", "next, ", &attSeen)
	m := regexp.MustCompile(`(Room \d): #([12]) `).FindStringSubmatch(next)
	if m == nil {
		t.Fatalf("!next: %q", next)
	}
	room, n := m[1], m[2]
	title := titles[n]
	feed0 := vevents(waitGet(t, ctx, base+"/schedule.ics", "BEGIN:VEVENT"))
	if len(feed0) != 4 || feed0[n]["STATUS"] != "CONFIRMED" || feed0[n]["SEQUENCE"] != "0" {
		t.Fatalf("feed after the release: %v", feed0)
	}
	if _, page := httpGet(t, base+"/"); !strings.Contains(page, title) {
		t.Fatalf("the schedule page does not show #%s %q", n, title)
	}

	// Withdrawn, and no new release.
	ask(t, ctx, a, botNick, "!withdraw "+n, "withdrew #"+n, &attSeen)
	withdrawn := time.Now()
	// The feed, before any new release (the web reads the store again
	// within a second).
	feed1 := vevents(waitGet(t, ctx, base+"/schedule.ics", "STATUS:CANCELLED"))
	t.Logf("the feed said CANCELLED %s after the answer to !withdraw came", time.Since(withdrawn).Round(time.Millisecond))
	where := ask(t, ctx, a, botNick, "!where "+n, "#"+n+" ", &attSeen)
	if !strings.Contains(where, "was withdrawn") || strings.Contains(where, room) {
		t.Errorf("!where %s after the withdrawal: %q", n, where)
	}
	if next := ask(t, ctx, a, botNick, "!next", "next", &attSeen); strings.Contains(next, "#"+n+" ") {
		t.Errorf("!next lists the withdrawn #%s: %q", n, next)
	}
	if now := ask(t, ctx, a, botNick, "!now", "now", &attSeen); !strings.HasPrefix(now, "now (until") || strings.Contains(now, "#"+n+" ") {
		t.Errorf("!now: %q", now)
	}
	// The organizer is told privately, once: the notice comes before the
	// answer to a later command of theirs.
	notice := ""
	told, err := o.Expect(ctx, func(msg irctest.Message) bool {
		if strings.EqualFold(msg.Prefix.Nick, botNick) && strings.Contains(msg.Last(), "is empty") {
			notice = msg.Param(0) + " " + msg.Last()
			return true
		}
		return false
	})
	if err != nil {
		t.Fatalf("the organizer was not told: %v", err)
	}
	if at, ok := told.Time(); ok {
		t.Logf("the organizer was told %s after the answer to !withdraw came", at.Sub(withdrawn).Round(time.Millisecond))
	}
	if !strings.EqualFold(strings.Fields(notice)[0], org) || !strings.Contains(notice, room+" is empty") ||
		!strings.Contains(notice, "!schedule preview, then !schedule release") {
		t.Errorf("notice to the organizer: %q", notice)
	}
	ask(t, ctx, o, botNick, "!where "+n, "#"+n+" ", &orgSeen)
	if len(orgSeen) != 0 {
		t.Errorf("the organizer was told again: %q", orgSeen)
	}
	if len(attSeen) != 0 {
		t.Errorf("the attendee saw the organizers' notice: %q", attSeen)
	}

	// The feed and the pages.
	for k, was := range feed0 {
		now := feed1[k]
		wantStatus, wantSeq := "CONFIRMED", "0"
		if k == n {
			wantStatus, wantSeq = "CANCELLED", "1"
		}
		if now["STATUS"] != wantStatus || now["SEQUENCE"] != wantSeq || now["DTSTART"] != was["DTSTART"] || now["LOCATION"] != was["LOCATION"] {
			t.Errorf("#%s in the feed: %s %s %s %s, want %s %s %s %s", k, now["STATUS"], now["SEQUENCE"], now["DTSTART"], now["LOCATION"],
				wantStatus, wantSeq, was["DTSTART"], was["LOCATION"])
		}
	}
	if _, page := httpGet(t, base+"/"); strings.Contains(page, title) {
		t.Errorf("the schedule page still shows the withdrawn #%s", n)
	}
	if _, page := httpGet(t, base+"/session/"+n); !strings.Contains(page, "<strong>cancelled</strong>: withdrawn after") {
		t.Errorf("the session page of #%s does not say it was withdrawn:\n%s", n, page)
	}

	// The next release cancels it once; its SEQUENCE does not move again.
	rel := ask(t, ctx, o, botNick, "!schedule release -- second", "version 2 released", &orgSeen)
	if !strings.Contains(rel, "(1 cancelled)") {
		t.Errorf("second release: %q", rel)
	}
	feed2 := vevents(waitGet(t, ctx, base+"/schedule.ics", "schedule version 2"))
	if got := feed2[n]; got["STATUS"] != "CANCELLED" || got["SEQUENCE"] != "1" {
		t.Errorf("#%s after the second release: %s SEQUENCE %s, want CANCELLED 1", n, got["STATUS"], got["SEQUENCE"])
	}
}

// waitGet GETs url until its body has want (the web server reads the
// store again at most once a second), and returns that body.
func waitGet(t *testing.T, ctx context.Context, url, want string) string {
	t.Helper()
	body := ""
	for ctx.Err() == nil {
		var code int
		if code, body = httpGet(t, url); code == 200 && strings.Contains(body, want) {
			return body
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("GET %s never had %q; last:\n%s", url, want, body)
	return ""
}
