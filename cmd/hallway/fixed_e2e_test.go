package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/irc/irctest"
)

// TestBreaksInEveryOutput: an organizer releases a schedule over the real
// InspIRCd for a day with a lunch break (every room) and a closing
// plenary (one room); the lunch and the plenary are then in every output:
// the iCal feeds as python-icalendar reads them (whole event, each room),
// the JSON, frab XML, text and c3voc exports the web serves, `hallway
// export`, and the announcement the real OpenSMTPD delivers to the list's
// Dovecot mailbox. A second release keeps their UIDs and SEQUENCE.
func TestBreaksInEveryOutput(t *testing.T) {
	imapAddr := irctest.RequireEnv(t, irctest.EnvIMAP)
	smtpAddr := irctest.RequireEnv(t, irctest.EnvSMTP)
	ircAddr := irctest.TestEnv(t)
	py := pythonICalendar(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	tag := uniqueNick("f")
	botNick, org := "hw"+tag, uniqueNick("org")
	name := "Breaks Day " + tag
	host, port, _ := strings.Cut(ircAddr, ":")
	cfgPath := filepath.Join(t.TempDir(), "hallway.toml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(`[store]
path = "hallway.db"
[web]
listen = "127.0.0.1:0"
base_url = "http://127.0.0.1:8080"
[irc]
server = %q
port = %s
tls = false
nick = %q
[mail]
smtp = %q
smtp_security = "none"
from = "Breaks Day <bot@test.local>"
list = "list@test.local"
[[event]]
slug = "breaks-day"
name = %q
timezone = "Europe/Brussels"
channel = "#%s"
organizers = [%q]
  [[event.room]]
  name = "Hall"
  capacity = 100
  [[event.room]]
  name = "Room 2"
  capacity = 20
  [[event.day]]
  date = "2027-03-04"
  slots = [
    { start = "11:00", minutes = 50, kind = "session", rooms = ["Hall", "Room 2"] },
    { start = "12:00", minutes = 60, kind = "break", title = "Lunch" },
    { start = "13:00", minutes = 45, kind = "plenary", title = "Closing plenary", rooms = ["Hall"] },
  ]
`, host, port, botNick, smtpAddr, name, tag, org)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	onTestStore(t, cfg)
	if err := cfg.ResolveSecrets(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	list := openInbox(t, imapAddr, "list@test.local", "listpass")
	_, logs := runHallway(t, ctx, cfg)
	base := ""
	for base == "" {
		if m := servingRe.FindStringSubmatch(logs.String()); m != nil {
			_, port, _ := net.SplitHostPort(m[1])
			base = "http://127.0.0.1:" + port + "/breaks-day/"
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("hallway never served")
		case <-time.After(20 * time.Millisecond):
		}
	}

	c := ircPerson(t, ctx, ircAddr, org)
	waitOnline(t, ctx, c, botNick)
	c.Privmsg(botNick, `!propose "Packaging BoF"`)
	fromBot(t, ctx, c, botNick, "#1")
	c.Privmsg(botNick, "!vote 1")
	fromBot(t, ctx, c, botNick, "#1")
	c.Privmsg(botNick, "!schedule release")
	fromBot(t, ctx, c, botNick, "version 1 released")

	const (
		lunchUID   = "breaks-day-break-20270304T1100Z@127.0.0.1"
		closingUID = "breaks-day-plenary-20270304T1200Z-hall@127.0.0.1"
	)
	get := func(file string) string {
		t.Helper()
		code, body := httpGet(t, base+file)
		if code != 200 {
			t.Fatalf("GET %s: %d %s", file, code, body)
		}
		return body
	}
	// The feeds, read by python-icalendar: UID, SUMMARY, STATUS,
	// SEQUENCE, DTSTART and LOCATION of each VEVENT.
	events := func(file string) map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(readICS(t, py, get(file))), "\n") {
			if line == "" {
				continue // no events
			}
			uid, rest, _ := strings.Cut(line, " ")
			out[uid] = rest
		}
		return out
	}
	const lunch = "Lunch|CONFIRMED|0|2027-03-04T12:00:00+01:00|" // no room named, no venue: no LOCATION
	const closing = "Closing plenary|CONFIRMED|0|2027-03-04T13:00:00+01:00|Hall"
	for file, want := range map[string]map[string]string{
		"schedule.ics":      {lunchUID: lunch, closingUID: closing},
		"room/Hall.ics":     {lunchUID: lunch, closingUID: closing},
		"room/Room%202.ics": {lunchUID: lunch},
		"sessions.ics":      {},
		"session/1.ics":     {},
	} {
		got := events(file)
		for uid, w := range want {
			if got[uid] != w {
				t.Errorf("%s: %s is %q, want %q", file, uid, got[uid], w)
			}
		}
		for uid, g := range got {
			if _, ok := want[uid]; !ok && !strings.HasPrefix(uid, "breaks-day-1@") {
				t.Errorf("%s: unexpected %s %q", file, uid, g)
			}
		}
	}

	// The exports.
	var doc struct {
		Fixed []struct {
			UID, Kind, Title string
			Rooms            []string
		} `json:"fixed"`
	}
	if err := json.Unmarshal([]byte(get("schedule.json")), &doc); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(doc.Fixed) != fmt.Sprint([]struct {
		UID, Kind, Title string
		Rooms            []string
	}{{lunchUID, "break", "Lunch", []string{"Hall", "Room 2"}}, {closingUID, "plenary", "Closing plenary", []string{"Hall"}}}) {
		t.Errorf("schedule.json fixed: %+v", doc.Fixed)
	}
	if x := get("schedule.xml"); strings.Count(x, "<type>break</type>") != 2 || strings.Count(x, "<type>plenary</type>") != 1 {
		t.Errorf("schedule.xml: not 2 breaks and 1 plenary:\n%s", x)
	}
	if txt := get("schedule.txt"); !strings.Contains(txt, "12:00-13:00  all rooms  break        Lunch") ||
		!strings.Contains(txt, "13:00-13:45  Hall       plenary      Closing plenary") {
		t.Errorf("schedule.txt:\n%s", txt)
	}
	c3 := get("schedule.c3voc.json")
	if strings.Count(c3, `"type": "break"`) != 2 || !strings.Contains(c3, `"acronym": "breaks_day"`) {
		t.Errorf("schedule.c3voc.json:\n%s", c3)
	}
	// hallway export writes the bytes the web serves.
	for format, file := range map[string]string{"c3voc": "schedule.c3voc.json", "text": "schedule.txt", "frab": "schedule.xml"} {
		var stdout, stderr bytes.Buffer
		if code := run(ctx, []string{"export", "-config", cfgPath, "-format", format}, nil, &stdout, &stderr); code != 0 {
			t.Fatalf("export -format %s: exit %d: %s", format, code, stderr.String())
		}
		if stdout.String() != get(file) {
			t.Errorf("export -format %s differs from %s", format, file)
		}
	}

	// The announcement on the list.
	mail := list.wait(ctx, func(raw string) bool { return strings.Contains(raw, "Subject: "+name+": schedule version 1") })
	if !strings.Contains(mail, "12:00-13:00  all rooms    Lunch (break)") || !strings.Contains(mail, "13:00-13:45  Hall         Closing plenary (plenary)") {
		t.Errorf("announcement:\n%s", mail)
	}

	// Another release: same UIDs, nothing changed, same SEQUENCE.
	c.Privmsg(botNick, "!schedule release")
	fromBot(t, ctx, c, botNick, "version 2 released")
	for _, file := range []string{"schedule.ics", "room/Hall.ics"} {
		got := events(file)
		if got[lunchUID] != lunch || got[closingUID] != closing {
			t.Errorf("%s after version 2: lunch %q, closing %q", file, got[lunchUID], got[closingUID])
		}
	}
}

// pythonICalendar is Debian's python3 when it has icalendar; the test is
// skipped otherwise, or fails when HALLWAY_REQUIRE_TESTENV=1.
func pythonICalendar(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import icalendar").CombinedOutput(); err != nil {
		msg := "python3-icalendar is missing (scripts/testenv.sh install): " + strings.TrimSpace(string(out))
		if os.Getenv("HALLWAY_REQUIRE_TESTENV") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return py
}

// readICS has python-icalendar read a feed: one line per VEVENT,
// "UID SUMMARY|STATUS|SEQUENCE|DTSTART|LOCATION".
func readICS(t *testing.T, py, feed string) string {
	t.Helper()
	const script = `
import sys, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
for ev in cal.walk("VEVENT"):
    print(str(ev["UID"]), "|".join([str(ev["SUMMARY"]), str(ev["STATUS"]), str(ev["SEQUENCE"]),
        ev["DTSTART"].dt.isoformat(), str(ev.get("LOCATION", ""))]))
`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = strings.NewReader(feed)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python-icalendar: %v\n%s\n%s", err, stderr.String(), feed)
	}
	return string(out)
}
