package schedule

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// subscriberTools returns the paths of vdirsyncer and khal; when one is
// missing the test is skipped, or fails when both HALLWAY_REQUIRE_TESTENV=1
// and HALLWAY_TEST_FULL=1 (scripts/testenv.sh --full install installs
// them).
func subscriberTools(t *testing.T) (vdirsyncer, khal string) {
	t.Helper()
	var missing []string
	vdirsyncer, err := exec.LookPath("vdirsyncer")
	if err != nil {
		missing = append(missing, "vdirsyncer")
	}
	khal, err = exec.LookPath("khal")
	if err != nil {
		missing = append(missing, "khal")
	}
	if len(missing) == 0 {
		return vdirsyncer, khal
	}
	msg := strings.Join(missing, " and ") + " not installed (scripts/testenv.sh --full install)"
	if os.Getenv("HALLWAY_REQUIRE_TESTENV") == "1" && os.Getenv("HALLWAY_TEST_FULL") == "1" {
		t.Fatal(msg + "; HALLWAY_REQUIRE_TESTENV=1 and HALLWAY_TEST_FULL=1 forbid skipping")
	}
	t.Skip(msg)
	return "", ""
}

// A real subscriber: vdirsyncer subscribes to the feed over HTTP and
// khal shows it in the event's zone. After the next release, the moved
// session has moved (across the change to daylight saving time) and the
// cancelled one is marked cancelled, not shown as happening.
func TestSubscriberVdirsyncerKhal(t *testing.T) {
	vdirsyncer, khal := subscriberTools(t)
	ev, h := laEvent(t)

	var feed atomic.Pointer[[]byte]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/openinfra-day-2027.ics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
		w.Write(*feed.Load())
	}))
	defer srv.Close()

	dir := t.TempDir()
	cal := filepath.Join(dir, "calendar")
	for _, d := range []string{cal, filepath.Join(dir, "status"), filepath.Join(dir, "home")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	vdirConf := filepath.Join(dir, "vdirsyncer.conf")
	writeFile(t, vdirConf, fmt.Sprintf(`[general]
status_path = "%s/status/"

[pair hallway]
a = "hallway_feed"
b = "hallway_local"
collections = null
conflict_resolution = "a wins"

[storage hallway_feed]
type = "http"
url = "%s/openinfra-day-2027.ics"

[storage hallway_local]
type = "filesystem"
path = "%s/"
fileext = ".ics"
`, dir, srv.URL, cal))
	khalConf := filepath.Join(dir, "khal.conf")
	writeFile(t, khalConf, fmt.Sprintf(`[calendars]
[[hallway]]
path = %s/
type = calendar

[locale]
local_timezone = %[2]s
default_timezone = %[2]s
timeformat = %%H:%%M
dateformat = %%Y-%%m-%%d
longdateformat = %%Y-%%m-%%d
datetimeformat = %%Y-%%m-%%d %%H:%%M
longdatetimeformat = %%Y-%%m-%%d %%H:%%M

[sqlite]
path = %s/khal.db
`, cal, ev.Zone.String(), dir))

	run := func(name string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		home := filepath.Join(dir, "home")
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_DATA_HOME="+home,
			"XDG_CACHE_HOME="+home, "TZ="+ev.Zone.String(), "LC_ALL=C.UTF-8")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// listing is khal's view, one line per event by title:
	// "[CANCELLED ]start|end|location".
	listing := func() map[string]string {
		t.Helper()
		out := run(khal, "-c", khalConf, "list", "--format", "{cancelled}{start}|{end}|{location}|{title}",
			"--day-format", "", "2027-03-01", "2027-03-31")
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			i := strings.LastIndexByte(line, '|')
			if i < 0 {
				t.Fatalf("khal list: unexpected line %q in\n%s", line, out)
			}
			title := line[i+1:]
			if _, dup := got[title]; dup {
				t.Errorf("khal lists %q twice:\n%s", title, out)
			}
			got[title] = line[:i]
		}
		return got
	}
	// vdirsyncer's http storage (0.19) replaces each UID with a hash of the
	// item's content, so a changed item arrives as a new one and the old
	// copy is deleted: count the copies, so none is left behind.
	uids := func() []string {
		t.Helper()
		files, err := filepath.Glob(filepath.Join(cal, "*.ics"))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(string(b), "\r\n") {
				if strings.HasPrefix(l, "UID:") {
					out = append(out, strings.TrimPrefix(l, "UID:"))
				}
			}
		}
		slices.Sort(out)
		return out
	}
	check := func(got, want map[string]string) {
		t.Helper()
		for title, w := range want {
			if got[title] != w {
				t.Errorf("khal: %q is %q, want %q", title, got[title], w)
			}
		}
		for title := range got {
			if _, ok := want[title]; !ok {
				t.Errorf("khal shows %q (%s), not in the schedule", title, got[title])
			}
		}
	}
	const venue = ", Moscone West, San Francisco"

	// Release 1.
	f1 := ICS(ev, h[:1], Selection{})
	feed.Store(&f1)
	run(vdirsyncer, "-c", vdirConf, "discover")
	run(vdirsyncer, "-c", vdirConf, "sync")
	check(listing(), map[string]string{
		"Keynote: Open Infra, Today": "2027-03-13 09:00|2027-03-13 09:45|Ballroom A" + venue,
		"Kubernetes at the edge":     "2027-03-13 10:00|2027-03-13 10:45|Ballroom A" + venue,
		"Packaging BoF":              "2027-03-13 14:00|2027-03-13 14:50|Room 201; Annex" + venue,
		"Docs sprint":                "2027-03-14 10:00|2027-03-14 10:50|Room 201; Annex" + venue,
		"Zero-downtime upgrades":     "2027-03-14 11:00|2027-03-14 11:45|Ballroom A" + venue,
		"Hallway & coffee <chat>":    "2027-03-14 13:00|2027-03-14 13:50|Hallway \"Track\"" + venue,
		// Breaks and plenaries are in the calendar too.
		"Lunch":           "2027-03-13 12:00|2027-03-13 13:00|" + venue[2:],
		"Break":           "2027-03-14 11:00|2027-03-14 11:15|Room 201; Annex" + venue,
		"Closing plenary": "2027-03-14 16:00|2027-03-14 16:45|Ballroom A" + venue,
	})
	if got := uids(); len(got) != 9 || len(slices.Compact(got)) != 9 {
		t.Errorf("%d distinct UIDs synced, want 9: %v", len(got), got)
	}

	// Release 2: #2 moved from Saturday 10:00 PST to Sunday 09:00 PDT,
	// #3 renamed, #6 cancelled, #7 new.
	f2 := ICS(ev, h[:2], Selection{})
	feed.Store(&f2)
	run(vdirsyncer, "-c", vdirConf, "sync")
	check(listing(), map[string]string{
		"Keynote: Open Infra, Today": "2027-03-13 09:00|2027-03-13 09:45|Ballroom A" + venue,
		"Kubernetes at the edge":     "2027-03-14 09:00|2027-03-14 09:45|Ballroom A" + venue,
		"Packaging & distro BoF":     "2027-03-13 14:00|2027-03-13 14:50|Room 201; Annex" + venue,
		"Docs sprint":                "2027-03-14 10:00|2027-03-14 10:50|Room 201; Annex" + venue,
		"Zero-downtime upgrades":     "2027-03-14 11:00|2027-03-14 11:45|Ballroom A" + venue,
		"Hallway & coffee <chat>":    "CANCELLED 2027-03-14 13:00|2027-03-14 13:50|Hallway \"Track\"" + venue,
		"Observability 101":          "2027-03-15 09:00|2027-03-15 09:50|Room 201; Annex" + venue,
		// The coffee break is gone, the closing plenary ends later.
		"Lunch":           "2027-03-13 12:00|2027-03-13 13:00|" + venue[2:],
		"Break":           "CANCELLED 2027-03-14 11:00|2027-03-14 11:15|Room 201; Annex" + venue,
		"Closing plenary": "2027-03-14 16:00|2027-03-14 17:00|Ballroom A" + venue,
	})
	if got := uids(); len(got) != 10 || len(slices.Compact(got)) != 10 {
		t.Errorf("%d distinct UIDs synced after release 2, want 10: %v", len(got), got)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
