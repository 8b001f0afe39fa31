package web

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/store"
)

// vevent returns the VEVENT of proposal n in a feed, unfolded.
func vevent(t *testing.T, feed string, n int) string {
	t.Helper()
	feed = strings.ReplaceAll(feed, "\r\n ", "")
	for _, ev := range strings.Split(feed, "BEGIN:VEVENT")[1:] {
		if regexp.MustCompile(`(?m)^UID:` + slug + `-` + strconv.Itoa(n) + `@`).MatchString(ev) {
			ev, _, _ = strings.Cut(ev, "END:VEVENT")
			return ev
		}
	}
	t.Fatalf("no VEVENT of #%d in\n%s", n, feed)
	return ""
}

// prop returns a line property of a VEVENT.
func prop(ev, name string) string {
	m := regexp.MustCompile(`(?m)^` + name + `[;:]([^\r\n]*)`).FindStringSubmatch(ev)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestAmendedLive: a released session withdrawn after the latest release
// is off the pages and cancelled in the feeds at the next request, with no
// new release; the other events of the feed keep their SEQUENCE.
func TestAmendedLive(t *testing.T) { viaBoth(t, testAmendedLive) }

func testAmendedLive(t *testing.T, f *fixture) {
	feed := "/" + slug + "/schedule.ics"
	before := f.get("GET", feed)
	page := f.get("GET", "/"+slug+"/")
	title := f.props[7].Title
	if !strings.Contains(page.Body.String(), title) {
		t.Fatalf("the page does not show #7 %q before", title)
	}
	withdrawnAt := time.Date(2027, 3, 4, 20, 0, 0, 0, time.UTC) // 12:00 in Pasadena
	f.storeNow.Store(withdrawnAt.UnixNano())
	f.do(func(tx *store.Tx) error {
		p := f.props[7]
		p.Status = store.Withdrawn
		if err := tx.UpdateProposal(p); err != nil {
			return err
		}
		return tx.AddAmendment(store.Amendment{EventID: f.evID, Version: 2, Number: 7, Out: true, Reason: store.Withdrawn})
	})

	after := f.get("GET", feed, "If-None-Match", before.Header().Get("Etag"))
	if after.Code != 200 {
		t.Fatalf("feed after the withdrawal: status %d", after.Code)
	}
	if got, want := after.Header().Get("Last-Modified"), withdrawnAt.Format(http.TimeFormat); got != want {
		t.Errorf("Last-Modified %q, want %q", got, want)
	}
	for _, n := range []int{1, 2, 4, 5, 6, 7, 8, 9} {
		was, now := vevent(t, before.Body.String(), n), vevent(t, after.Body.String(), n)
		wantStatus, wantSeq := prop(was, "STATUS"), prop(was, "SEQUENCE")
		if n == 7 {
			wantStatus = "CANCELLED"
			seq, _ := strconv.Atoi(wantSeq)
			wantSeq = strconv.Itoa(seq + 1)
			if got := prop(now, "LAST-MODIFIED"); got != "20270304T200000Z" {
				t.Errorf("#7 LAST-MODIFIED %s", got)
			}
		}
		if prop(now, "STATUS") != wantStatus || prop(now, "SEQUENCE") != wantSeq || prop(now, "DTSTART") != prop(was, "DTSTART") {
			t.Errorf("#%d: STATUS %s SEQUENCE %s, want %s %s", n, prop(now, "STATUS"), prop(now, "SEQUENCE"), wantStatus, wantSeq)
		}
	}

	page = f.get("GET", "/"+slug+"/")
	if page.Code != 200 || strings.Contains(page.Body.String(), title) {
		t.Errorf("the schedule page still shows #7 %q (status %d)", title, page.Code)
	}
	checkGolden(t, "schedule-amended.html", page.Body.Bytes())
	session := f.get("GET", "/"+slug+"/session/7")
	checkGolden(t, "session-7-amended.html", session.Body.Bytes())
	if !strings.Contains(session.Body.String(), "<strong>cancelled</strong>: withdrawn after") {
		t.Errorf("session page of #7:\n%s", session.Body.String())
	}
	checkGolden(t, "releases-amended.html", f.get("GET", "/"+slug+"/releases").Body.Bytes())
	js := f.get("GET", "/"+slug+"/schedule.json").Body.String()
	if !regexp.MustCompile(`"number": 7,[^}]*"cancelled_in": 0`).MatchString(js) {
		t.Errorf("JSON does not list #7 as cancelled since the release:\n%s", js)
	}
}
