package main

// End-to-end tests of privacy and the code of conduct (issue 17), against
// the real InspIRCd + Anope, Dovecot and OpenSMTPD: reports reach the team
// and no one else, a person's data comes by mail and by a one-time link,
// !forget and hallway forget leave no trace of the address or account in
// any table, and the leader's clock purges what retention says.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/store"
)

// freeWeb points cfg's web server at a free port, its links too, so a
// link the bot gives can be opened.
func freeWeb(t *testing.T, cfg *config.Config) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Web.Listen = l.Addr().String()
	l.Close()
	cfg.Web.BaseURL = "http://" + cfg.Web.Listen
	return cfg.Web.BaseURL
}

// cell is one value of one row of one table, where a scan found a word.
type cell struct{ table, column, value string }

// scanFor reads every column of every row of every table (store.Tables)
// and returns the cells that hold one of words, case-insensitively.
func (e *mailEnv) scanFor(words ...string) []cell {
	e.t.Helper()
	var out []cell
	for _, table := range store.Tables {
		rows, err := e.db.QueryContext(e.ctx, `SELECT * FROM "`+table+`"`)
		if err != nil {
			e.t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				e.t.Fatal(err)
			}
			for i, v := range vals {
				s := strings.ToLower(fmt.Sprint(v))
				if b, ok := v.([]byte); ok {
					s = strings.ToLower(string(b))
				}
				for _, w := range words {
					if strings.Contains(s, strings.ToLower(w)) {
						out = append(out, cell{table, cols[i], fmt.Sprint(v)})
					}
				}
			}
		}
		rows.Close()
	}
	return out
}

// seen keeps every message the privacy tests' clients consumed, for
// checking afterwards what each of them was told.
var (
	seenMu sync.Mutex
	seen   = map[*irctest.Client][]irctest.Message{}
)

// privateFrom waits for a private message from the bot holding want.
func privateFrom(t *testing.T, e *mailEnv, c *irctest.Client, botNick, want string) (string, time.Time) {
	t.Helper()
	return said(t, e, c, botNick, want, false)
}

// said waits for the bot to say want, privately or (inChannel) in a
// channel, keeping every message it passes in seen.
func said(t *testing.T, e *mailEnv, c *irctest.Client, botNick, want string, inChannel bool) (string, time.Time) {
	t.Helper()
	m, err := c.Expect(e.ctx, func(m irctest.Message) bool {
		seenMu.Lock()
		seen[c] = append(seen[c], m)
		seenMu.Unlock()
		return m.Command == "PRIVMSG" && strings.EqualFold(m.Prefix.Nick, botNick) && strings.HasPrefix(m.Param(0), "#") == inChannel && strings.Contains(m.Last(), want)
	})
	if err != nil {
		t.Fatalf("waiting for %s to say %q privately: %v", botNick, want, err)
	}
	return m.Last(), time.Now()
}

// TestReportReachesTeamOnly: a report said in the channel is refused and
// not echoed; said privately, or mailed, it reaches the team member online
// by a private message and the team's address by mail at once, the
// reporter is acknowledged, and no one else (channel, log, other people)
// ever sees it. The team reads and closes it with !coc and hallway coc,
// and each look is in the audit log.
func TestReportReachesTeamOnly(t *testing.T) {
	t.Parallel() // its mailEnv is its own
	org, rep, other := uniqueNick("cot"), uniqueNick("rep"), uniqueNick("oth")
	var team string
	e := startMailEnv(t, 3*time.Minute, func(cfg *config.Config) {
		team = "team-" + cfg.Events[0].Channel[1:] + "@test.local"
		cfg.Events[0].CocURL = "https://test.local/conduct"
		cfg.Events[0].CocTeam = []string{org, team}
	})
	botNick, channel := e.cfg.IRC.Nick, e.cfg.Events[0].Channel
	orgC := ircPerson(t, e.ctx, e.ircAddr, org)
	repC := ircPerson(t, e.ctx, e.ircAddr, rep)
	othC := ircPerson(t, e.ctx, e.ircAddr, other)
	for _, c := range []*irctest.Client{orgC, repC, othC} {
		if err := c.Join(e.ctx, channel); err != nil {
			t.Fatal(err)
		}
	}
	inChannel(t, e, repC, botNick, channel)
	secret := "sq" + e.tag + " followed me after the keynote"

	repC.Privmsg(channel, "!coc")
	said(t, e, repC, botNick, "code of conduct: https://test.local/conduct", true)
	// In the channel: refused, pointed to a private message, nothing echoed.
	repC.Privmsg(channel, "!report "+secret)
	got, _ := said(t, e, repC, botNick, "please don't report here", true)
	if want := rep + ": please don't report here, where everyone reads it: send it to me in a private message (/msg " + botNick + " report WHAT HAPPENED), or mail it with Subject: report. Only the code-of-conduct team will read it."; got != want {
		t.Errorf("refusal in the channel:\n got %q\nwant %q", got, want)
	}
	// Privately: the team member online hears at once; the reporter is
	// acknowledged with what happens next.
	sent := time.Now()
	repC.Privmsg(botNick, "report "+secret)
	note, heard := privateFrom(t, e, orgC, botNick, "New code-of-conduct report #1")
	if !strings.Contains(note, secret) || !strings.Contains(note, "from "+strings.ToLower(rep)) {
		t.Errorf("the team's note: %q", note)
	}
	ack, acked := privateFrom(t, e, repC, botNick, "reached the code-of-conduct team")
	if !strings.HasPrefix(ack, "Thank you. Your report #1 reached the code-of-conduct team of Test Day just now") {
		t.Errorf("acknowledgement: %q", ack)
	}
	privateFrom(t, e, repC, botNick, "What happens next:")
	t.Logf("report to team member's private message: %s; acknowledged after %s", heard.Sub(sent).Round(time.Millisecond), acked.Sub(sent).Round(time.Millisecond))
	mailed := e.waitMail(team, func(m string) bool { return strings.Contains(m, "code-of-conduct report #1") })
	if !strings.Contains(flat(mailed), secret) {
		t.Errorf("the team's mail lacks the report:\n%s", mailed)
	}
	// By mail, from someone with no account.
	secret2 := "sm" + e.tag + " took photos of my badge"
	answer := e.ask("mal", "", "report", secret2)
	if !strings.Contains(flat(answer), "Your report #2 reached the code-of-conduct team of Test Day just now") {
		t.Errorf("answer to a report by mail:\n%s", answer)
	}
	privateFrom(t, e, orgC, botNick, secret2)
	e.waitMail(team, func(m string) bool { return strings.Contains(m, "code-of-conduct report #2") })

	// Others cannot read it back.
	othC.Privmsg(botNick, "coc list")
	privateFrom(t, e, othC, botNick, "is for the code-of-conduct team of Test Day")
	othC.Privmsg(channel, "!coc show 1")
	said(t, e, othC, botNick, "only in a private message", true)
	// The team can.
	orgC.Privmsg(botNick, "coc list")
	privateFrom(t, e, orgC, botNick, "Reports (2):")
	line, _ := privateFrom(t, e, orgC, botNick, "#1 [new]")
	if !strings.Contains(line, "sq"+e.tag) {
		t.Errorf("list: %q", line)
	}
	orgC.Privmsg(botNick, "coc ack 1")
	privateFrom(t, e, orgC, botNick, "Report #1 is now acknowledged.")
	var out, errs bytes.Buffer
	if code := run(e.ctx, []string{"coc", "close", "2", "-config", e.cfg.File, "-note", "handled at the desk"}, nil, &out, &errs); code != 0 || out.String() != "report #2 is now resolved\n" {
		t.Errorf("hallway coc close: exit %d, %q %q", code, out.String(), errs.String())
	}
	out.Reset()
	if code := run(e.ctx, []string{"coc", "show", "1", "-config", e.cfg.File}, nil, &out, &errs); code != 0 ||
		!strings.Contains(out.String(), secret) || !strings.Contains(out.String(), "acknowledged "+strings.ToLower(org)) {
		t.Errorf("hallway coc show: exit %d\n%s%s", code, out.String(), errs.String())
	}
	if n := e.count(`SELECT count(*) FROM coc_audit WHERE action IN ('listed', 'shown', 'acknowledged', 'resolved')`); n != 4 {
		t.Errorf("%d audit lines of the team's looks and changes, want 4", n)
	}
	// Nobody else heard it from the bot: not the channel, not the other
	// person, not the reporter (beyond the acknowledgements).
	for _, c := range []*irctest.Client{othC, repC} {
		msgs, err := c.Sync(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range append(seen[c], msgs...) {
			if strings.EqualFold(m.Prefix.Nick, botNick) && (strings.Contains(m.Raw, "sq"+e.tag) || strings.Contains(m.Raw, "sm"+e.tag)) {
				t.Errorf("%s heard the report from the bot: %s", c.Nick(), m.Raw)
			}
		}
	}
	if logs := e.logs.String(); strings.Contains(logs, "sq"+e.tag) || strings.Contains(logs, "sm"+e.tag) {
		t.Errorf("the log holds a report:\n%s", e.logs.String())
	}
	for _, who := range []string{e.addr("mal")} {
		for _, m := range e.mails(who) {
			if strings.Contains(m, "followed me") || strings.Contains(m, "took photos") {
				t.Errorf("mail to %s carries a report:\n%s", who, m)
			}
		}
	}
}

// TestMyDataAndForget: a person's data arrives by mail as JSON and by a
// one-time link; !forget, after its code, leaves no trace of their
// account or address in any table of the database, keeps their talk and
// vote without their name, and says so; hallway forget does the same for
// someone known only by address.
func TestMyDataAndForget(t *testing.T) {
	t.Parallel() // its mailEnv is its own
	zed, voter := uniqueNick("zed"), uniqueNick("vtr")
	var base string
	e := startMailEnv(t, 3*time.Minute, func(cfg *config.Config) { base = freeWeb(t, cfg) })
	botNick, channel := e.cfg.IRC.Nick, e.cfg.Events[0].Channel
	zedC := ircPerson(t, e.ctx, e.ircAddr, zed)
	vC := ircPerson(t, e.ctx, e.ircAddr, voter)
	for _, c := range []*irctest.Client{zedC, vC} {
		if err := c.Join(e.ctx, channel); err != nil {
			t.Fatal(err)
		}
	}
	inChannel(t, e, zedC, botNick, channel)
	addr := e.addr("zed")
	zedC.Privmsg(botNick, "register "+addr)
	code := codeRe.FindStringSubmatch(e.waitMail(addr, func(m string) bool { return strings.Contains(m, "To confirm your registration") }))
	if code == nil {
		t.Fatal("no code in the confirmation mail")
	}
	zedC.Privmsg(botNick, "confirm "+code[1])
	privateFrom(t, e, zedC, botNick, "you're registered")
	title := "Forgetting " + e.tag
	zedC.Privmsg(channel, `!propose talk "`+title+`"`)
	fromBot(t, e.ctx, zedC, botNick, "proposed #1")
	vC.Privmsg(channel, "!vote 1")
	fromBot(t, e.ctx, vC, botNick, "voted for #1")
	zedC.Privmsg(channel, "!vote 1")
	fromBot(t, e.ctx, zedC, botNick, "voted for #1")
	zedC.Privmsg(botNick, "pledge 20 USD for ci-macs")
	privateFrom(t, e, zedC, botNick, "Pledge #1")

	// Their data, by mail: every row of theirs, as JSON.
	zedC.Privmsg(channel, "!mydata")
	// Said in the channel: there, only a pointer; the answer comes
	// privately (in whichever order the two arrive).
	var pointer, private bool
	if _, err := zedC.Expect(e.ctx, func(m irctest.Message) bool {
		if m.Command == "PRIVMSG" && strings.EqualFold(m.Prefix.Nick, botNick) {
			switch {
			case m.Param(0) == channel && m.Last() == zed+": sent you a private message.":
				pointer = true
			case m.Param(0) == channel && strings.Contains(m.Last(), "keeps about you"):
				t.Errorf("said in the channel: %q", m.Last())
			case strings.HasPrefix(m.Last(), "I mailed everything hallway keeps about you (JSON) to your confirmed address z***@test.local"):
				private = true
			}
		}
		return pointer && private
	}); err != nil {
		t.Fatal(err)
	}
	m := e.waitMail(addr, func(m string) bool { return strings.Contains(m, "Subject: Your data at Test Day") })
	doc := decodeMyData(t, m)
	if doc.Format != "hallway-mydata/1" || len(doc.Tables["proposal"]) != 1 || len(doc.Tables["vote"]) != 1 ||
		len(doc.Tables["pledge"]) != 1 || len(doc.Tables["registration"]) != 1 || len(doc.Identities) != 2 {
		t.Errorf("the data mailed: %d identities, tables %v", len(doc.Identities), tableSizes(doc))
	}
	// By link: opening it shows a button (a chat client's preview spends
	// nothing); pressing it downloads the JSON, once.
	zedC.Privmsg(botNick, "mydata link")
	msg, _ := privateFrom(t, e, zedC, botNick, "/mydata/")
	link := regexp.MustCompile(`https?://\S+/mydata/[a-z2-7]+`).FindString(msg)
	if !strings.HasPrefix(link, base+"/test-day/mydata/") {
		t.Fatalf("link %q in %q", link, msg)
	}
	for range 2 {
		if code, body := httpDo(t, "GET", link); code != 200 || !strings.Contains(body, "Download my data") {
			t.Fatalf("GET %s: %d\n%s", link, code, body)
		}
	}
	code2, body := httpDo(t, "POST", link)
	var fromLink store.PersonData
	if code2 != 200 || json.Unmarshal([]byte(body), &fromLink) != nil || len(fromLink.Tables["proposal"]) != 1 {
		t.Fatalf("POST %s: %d\n%s", link, code2, body)
	}
	if code, _ := httpDo(t, "POST", link); code != 404 {
		t.Errorf("the link worked twice: %d", code)
	}

	// Forget, with its code.
	zedC.Privmsg(botNick, "forget")
	msg, _ = privateFrom(t, e, zedC, botNick, "forget confirm")
	fc := regexp.MustCompile(`forget confirm ([a-z2-7]{8})`).FindStringSubmatch(msg)
	if fc == nil {
		t.Fatalf("no code in %q", msg)
	}
	zedC.Privmsg(botNick, "forget confirm "+fc[1])
	privateFrom(t, e, zedC, botNick, "Done: hallway has forgotten you.")
	kept, _ := privateFrom(t, e, zedC, botNick, "Kept without your name:")
	for _, want := range []string{"1 vote (counted", "1 proposal (part of the event's programme, now given by a speaker who asked to be forgotten)", "1 pledge (counted in the campaigns' totals", "1 seat ("} {
		if !strings.Contains(kept, want) {
			t.Errorf("the answer lacks %q: %q", want, kept)
		}
	}
	// Once the answer went out, the clock's purge empties it, the last
	// row that named where it went.
	e.waitFor("the answer to be marked sent", func() bool {
		return e.count(`SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'forgotten:%' AND sent_at IS NULL`) == 0
	})
	if _, err := e.m.Bot.Retain(e.ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, c := range e.scanFor(zed, addr, "zed-"+e.tag) {
		t.Errorf("%s.%s still names them: %q", c.table, c.column, c.value)
	}
	vC.Privmsg(channel, "!show 1")
	if got := fromBot(t, e.ctx, vC, botNick, title); !strings.Contains(got, "talk by a speaker who asked to be forgotten, 2 votes") {
		t.Errorf("the talk after forgetting: %q", got)
	}

	// An organizer forgets someone known only by mail.
	ada := e.addr("ada")
	e.registerByMail("ada", "")
	// Her data, asked for by mail.
	if answer := e.ask("ada", "", "mydata", ""); !strings.Contains(flat(answer), "I mailed everything hallway keeps about you (JSON) to your confirmed address a***@test.local") {
		t.Errorf("answer to mydata by mail:\n%s", answer)
	}
	adaDoc := decodeMyData(t, e.waitMail(ada, func(m string) bool { return strings.Contains(m, "Subject: Your data at Test Day") }))
	if len(adaDoc.Tables["registration"]) != 1 || len(adaDoc.Identities) != 1 || adaDoc.Identities[0].Value != ada {
		t.Errorf("ada's data: %+v, tables %v", adaDoc.Identities, tableSizes(adaDoc))
	}
	var out, errs bytes.Buffer
	if code := run(e.ctx, []string{"forget", ada, "-config", e.cfg.File}, nil, &out, &errs); code != 0 || !strings.HasPrefix(out.String(), "would forget the person known as email "+ada) {
		t.Fatalf("hallway forget without -yes: exit %d: %q %q", code, out.String(), errs.String())
	}
	if len(e.scanFor(ada)) == 0 {
		t.Fatal("without -yes, ada was forgotten")
	}
	out.Reset()
	if code := run(e.ctx, []string{"forget", "-yes", "-config", e.cfg.File, ada}, nil, &out, &errs); code != 0 || out.String() != "forgot the person known as email "+ada+".\nnothing was kept.\n" {
		t.Errorf("hallway forget -yes: exit %d: %q %q", code, out.String(), errs.String())
	}
	e.waitFor("the last answers to ada to go out", func() bool {
		return e.count(`SELECT count(*) FROM outbox WHERE sent_at IS NULL AND channel = 'mail'`) == 0
	})
	for _, c := range e.scanFor(ada) {
		t.Errorf("%s.%s still names ada: %q", c.table, c.column, c.value)
	}
	if code := run(e.ctx, []string{"forget", "-yes", "-config", e.cfg.File, ada}, nil, &out, &errs); code != 1 || !strings.Contains(errs.String(), "nobody is known as") {
		t.Errorf("forgetting twice: exit %d, %q", code, errs.String())
	}
}

// decodeMyData finds the JSON document in a !mydata mail.
func decodeMyData(t *testing.T, raw string) store.PersonData {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var r io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	body := string(b)
	var d store.PersonData
	i := strings.Index(body, "{")
	if i < 0 {
		t.Fatalf("no JSON document in the mail:\n%s", raw)
	}
	if err := json.Unmarshal([]byte(body[i:]), &d); err != nil {
		t.Fatalf("the mail's JSON: %v\n%s", err, body)
	}
	return d
}

func tableSizes(d store.PersonData) map[string]int {
	out := map[string]int{}
	for k, v := range d.Tables {
		out[k] = len(v)
	}
	return out
}

func httpDo(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRetentionByLeaderClock: a database with an event that ended long
// ago, retention "1d": the leader's clock purges, soon after it starts,
// the addresses, kept mail, feed tokens and lines said outside the
// minutes; the minutes' lines and the mail to the list stay.
func TestRetentionByLeaderClock(t *testing.T) {
	e := startMailEnv(t, 2*time.Minute, func(cfg *config.Config) {
		ev := &cfg.Events[0]
		ev.Retention = 24 * time.Hour
		ev.Rooms = []config.Room{{Name: "Room A"}}
		day := time.Date(2020, 1, 9, 0, 0, 0, 0, ev.Location)
		ev.Days = []config.Day{{Date: day, Slots: []config.Slot{{Start: day.Add(10 * time.Hour), Minutes: 60, Kind: config.SlotTalk, Rooms: []string{"Room A"}}}}}
		// The database holds what the event left, before hallway starts.
		s, err := store.Open(t.Context(), cfg.Store.Source())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		err = s.Do(t.Context(), func(tx *store.Tx) error {
			row, err := tx.EnsureEvent(ev.Slug, ev.Name)
			if err != nil {
				return err
			}
			p, err := tx.PersonByIdentity(store.IRCAccount, "oldy", "oldy")
			if err != nil {
				return err
			}
			if err := tx.ConfirmEmail(p.ID, "oldy@test.local"); err != nil {
				return err
			}
			if err := tx.SaveRegistration(&store.Registration{EventID: row.ID, PersonID: p.ID, Email: "oldy@test.local", Status: store.Registered, Number: 1, Token: "tok-oldy"}); err != nil {
				return err
			}
			if _, err := tx.FeedToken(row.ID, p.ID); err != nil {
				return err
			}
			mt := &store.Meeting{EventID: row.ID, Series: "x", Title: "x", Channel: ev.Channel, StartedBy: p.ID, StartedAt: day, EndsAt: day.Add(time.Hour)}
			if err := tx.StartMeeting(mt); err != nil {
				return err
			}
			for _, text := range []string{"#agreed keep the minutes", "lunch was good"} {
				if err := tx.AddLine(mt.ID, store.Line{At: day, Nick: "oldy", Account: "oldy", Text: text}); err != nil {
					return err
				}
			}
			if err := tx.EndMeeting(mt.ID, day.Add(time.Hour)); err != nil {
				return err
			}
			if _, err := tx.MarkReceived(store.Received{Channel: store.Mail, Key: "old-1", Sender: "oldy@test.local", Outcome: "not understood", Raw: "From: oldy@test.local"}); err != nil {
				return err
			}
			return tx.Enqueue(store.Message{Channel: store.Mail, Target: "list@test.local", Body: "Subject: Test Day: wrap-up\r\n\r\nthanks", DedupeKey: "wrapup-old"})
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	e.waitFor("the leader's clock to purge", func() bool {
		return e.count(`SELECT count(*) FROM feed_token`) == 0 && e.count(`SELECT count(*) FROM identity WHERE kind = 'email'`) == 0
	})
	if c := e.scanFor("oldy@test.local"); len(c) > 0 {
		t.Errorf("an address stays after the retention: %v", c)
	}
	if n := e.count(`SELECT count(*) FROM meeting_line WHERE text = '#agreed keep the minutes'`); n != 1 {
		t.Errorf("the minutes lost their line: %d", n)
	}
	if n := e.count(`SELECT count(*) FROM meeting_line WHERE text = 'lunch was good'`); n != 0 {
		t.Errorf("a line outside the minutes stays: %d", n)
	}
	e.waitFor("the wrap-up to be sent", func() bool {
		return e.count(`SELECT count(*) FROM outbox WHERE dedupe_key = 'wrapup-old' AND sent_at IS NOT NULL AND target = 'list@test.local'`) == 1
	})
	if !strings.Contains(e.logs.String(), "retention purge") {
		t.Errorf("the purge was not logged")
	}
}
