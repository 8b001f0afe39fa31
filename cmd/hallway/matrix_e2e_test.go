package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/quotedprintable"
	netmail "net/mail"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/mail/mailtest"
	"github.com/hallwayhq/hallway/matrix/matrixtest"
	"github.com/hallwayhq/hallway/store/storetest"
)

// TestMatrixBesideIRC: one event in an IRC channel (the real InspIRCd with
// Anope) and a Matrix room (the real Dendrite). A Matrix user proposes a
// session in the room; an IRC person and the Matrix user each vote for it,
// and it has two votes, one per person; someone whose display name is the
// organizer's user ID is no organizer; the organizer, known by Matrix ID,
// closes voting from the room, announced in the IRC channel, and the IRC
// organizer opens it, announced in the room. Then the Matrix user takes
// notes in the room as on IRC: every meeting line carried out gets one
// reaction and chatter nothing, a chair is named by user ID (a display
// name names nobody), the impostor cannot #agreed, and the minutes, which
// show people by user ID, are on the web page and in the list's mail.
func TestMatrixBesideIRC(t *testing.T) {
	srv := matrixtest.Env(t)
	ircAddr := irctest.TestEnv(t)

	smtpAddr := irctest.RequireEnv(t, irctest.EnvSMTP)
	mailRoot, err := mailtest.MailRoot(irctest.RequireEnv(t, irctest.EnvDir))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	hw := srv.Register(t, matrixtest.Unique("hallway"), false)
	alice := srv.Register(t, matrixtest.Unique("alice"), false) // the organizer
	bob := srv.Register(t, matrixtest.Unique("bob"), false)
	mallory := srv.Register(t, matrixtest.Unique("mallory"), false)
	dave := srv.Register(t, matrixtest.Unique("dave"), false)
	room := alice.CreateRoom(t, matrixtest.RoomOptions{Name: "test day", Invite: []id.UserID{bob.ID, mallory.ID, dave.ID, hw.ID}})
	bob.Join(t, room)
	mallory.Join(t, room)
	dave.Join(t, room)
	mallory.SetDisplayName(t, string(alice.ID))
	bob.SetDisplayName(t, "Bobby Display")
	dave.SetDisplayName(t, "Dave Display")

	channel := "#" + uniqueNick("mx")
	carolNick := uniqueNick("carol") // an organizer on IRC
	list := matrixtest.Unique("list") + "@test.local"
	cfg := matrixConfigWith(t, ircAddr, srv, hw, channel, room, fmt.Sprintf(`[mail]
smtp = %q
smtp_security = "none"
from = "Test Day <bot@test.local>"
list = %q`, smtpAddr, list), string(alice.ID), carolNick)
	m, logs := runHallway(t, ctx, cfg)
	db := storetest.OpenDB(t, cfg.Store.Source())

	carol := ircPerson(t, ctx, ircAddr, carolNick)
	if err := carol.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}
	inChannel(t, &mailEnv{t: t, ctx: ctx}, carol, cfg.IRC.Nick, channel)
	matrixReady(t, m)
	waitMember(t, alice, room, hw.ID)

	// answer waits for the bot's reply to the message ask in the room.
	answer := func(u *matrixtest.User, ask id.EventID, want string) string {
		t.Helper()
		return matrixAnswer(t, u, room, hw.ID, ask, want)
	}

	said := answer(bob, bob.Send(t, room, `!propose session "Matrix and IRC together" -- one event, two networks`), "proposed #")
	number := regexp.MustCompile(`#(\d+)`).FindStringSubmatch(said)[1]

	if err := carol.Privmsg(channel, "!vote "+number); err != nil {
		t.Fatal(err)
	}
	fromBot(t, ctx, carol, cfg.IRC.Nick, "voted for #"+number)
	answer(bob, bob.Send(t, room, "!vote "+number), "voted for #"+number)
	var votes int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM vote JOIN proposal ON proposal.id = vote.proposal_id WHERE proposal.number = ?`, number).Scan(&votes); err != nil {
		t.Fatal(err)
	}
	var tokens int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM matrix_sync WHERE user_id = ? AND token <> ''`, string(hw.ID)).Scan(&tokens); err != nil || tokens != 1 {
		t.Errorf("the sync token is not in the store: %d rows (%v)", tokens, err)
	}
	if votes != 2 {
		t.Errorf("#%s has %d votes, want 2 (one from IRC, one from Matrix)", number, votes)
	}
	answer(bob, bob.Send(t, room, "!show "+number), "2 votes")

	// A display name is anyone's to take.
	answer(mallory, mallory.Send(t, room, "!close voting"), "!close is for the organizers of Test Day.")

	answer(alice, alice.Send(t, room, "!close voting"), "losed")
	fromBot(t, ctx, carol, cfg.IRC.Nick, "Voting is now closed")
	// An organizer on IRC opens it again: announced in the Matrix room.
	if err := carol.Privmsg(channel, "!open voting"); err != nil {
		t.Fatal(err)
	}
	fromBot(t, ctx, carol, cfg.IRC.Nick, "open")
	bob.WaitEvent(t, room, time.Minute, "the announcement", func(e *event.Event) bool {
		return e.Sender == hw.ID && e.Type == event.EventMessage && e.Content.AsMessage().Body == "Voting is now open for Test Day."
	})

	// The organizer's invite to another room is accepted; someone else's
	// is refused.
	side := alice.CreateRoom(t, matrixtest.RoomOptions{Name: "organizers", Invite: []id.UserID{hw.ID}})
	waitMember(t, alice, side, hw.ID)
	other := mallory.CreateRoom(t, matrixtest.RoomOptions{Name: "mallory's", Invite: []id.UserID{hw.ID}})
	mallory.WaitEvent(t, other, time.Minute, "the bot refusing the invite", func(e *event.Event) bool {
		return e.Type == event.StateMember && e.StateKey != nil && *e.StateKey == string(hw.ID) &&
			e.Content.AsMember().Membership == event.MembershipLeave
	})

	// A secret asked for in the room goes to a direct chat with the
	// person alone, opened by the bot; the room hears only that it did.
	answer(bob, bob.Send(t, room, "!feed"), "sent you a private message.")
	invite := bob.WaitInvite(t, time.Minute, room)
	bob.Join(t, invite)
	link := bob.WaitEvent(t, invite, time.Minute, "the feed link", func(e *event.Event) bool {
		return e.Sender == hw.ID && e.Type == event.EventMessage && strings.Contains(e.Content.AsMessage().Body, "your calendar for Test Day")
	})
	if members, err := bob.Client.JoinedMembers(ctx, invite); err != nil || len(members.Joined) != 2 {
		t.Errorf("the direct chat has %v (%v), want the bot and bob only", members, err)
	}
	secret := regexp.MustCompile(`webcal://\S+`).FindString(link.Content.AsMessage().Body)
	if secret == "" {
		t.Fatalf("no feed link in %q", link.Content.AsMessage().Body)
	}
	for _, e := range alice.Messages(t, room) {
		if e.Type == event.EventMessage && strings.Contains(e.Content.AsMessage().Body, secret) {
			t.Errorf("the feed link was said in the room: %q", e.Content.AsMessage().Body)
		}
	}

	matrixNotes(t, ctx, matrixMeeting{hw: hw, bob: bob, dave: dave, mallory: mallory, alice: alice, room: room,
		base: webBase(t, ctx, logs), db: db, listDir: filepath.Join(mailRoot, list, "Maildir")})
}

// matrixMeeting is who takes part in TestMatrixBesideIRC's notes, and
// where their minutes go.
type matrixMeeting struct {
	hw, bob, dave, mallory, alice *matrixtest.User
	room                          id.RoomID
	base                          string // the web server
	db                            *storetest.DB
	listDir                       string // the list's Maildir
}

// matrixNotes: bob takes notes in the Matrix room; see TestMatrixBesideIRC.
func matrixNotes(t *testing.T, ctx context.Context, mm matrixMeeting) {
	t.Helper()
	hw, bob, room := mm.hw, mm.bob, mm.room
	said := func(u *matrixtest.User, what, prefix string) string {
		t.Helper()
		e := u.WaitEvent(t, room, time.Minute, what, func(e *event.Event) bool {
			return e.Sender == hw.ID && e.Type == event.EventMessage && strings.HasPrefix(e.Content.AsMessage().Body, prefix)
		})
		return e.Content.AsMessage().Body
	}
	reacted := func(line id.EventID, what string) {
		t.Helper()
		bob.WaitEvent(t, room, time.Minute, "a reaction to "+what, func(e *event.Event) bool {
			if e.Sender != hw.ID || e.Type != event.EventReaction {
				return false
			}
			rel := e.Content.AsReaction().RelatesTo
			return rel.Type == event.RelAnnotation && rel.EventID == line && rel.Key == "✅"
		})
	}
	meeting := "Matrix and IRC together " + matrixtest.Unique("")
	lines := map[string]id.EventID{}
	lines["before"] = bob.Send(t, room, "#info said before any meeting")
	lines["start"] = bob.Send(t, room, "#startmeeting "+meeting)
	said(bob, "the meeting starting", "Meeting started")
	reacted(lines["start"], "#startmeeting")
	lines["topic"] = bob.Send(t, room, "#topic Bridges")
	lines["chatter"] = bob.Send(t, room, "the matrix.org bridge to Libera closed in 2023")
	lines["info"] = bob.Send(t, room, "#info one event, two networks, no bridge")
	// A display name names nobody; a user ID does.
	lines["chair by name"] = bob.Send(t, room, "#chair Dave Display")
	if chairs := said(bob, "the chairs", "Current chairs"); strings.Contains(chairs, string(mm.dave.ID)) {
		t.Errorf("a display name made a chair: %q", chairs)
	}
	lines["chair"] = bob.Send(t, room, "#chair "+string(mm.dave.ID))
	bob.WaitEvent(t, room, time.Minute, "dave made a chair", func(e *event.Event) bool {
		return e.Sender == hw.ID && e.Type == event.EventMessage && strings.HasPrefix(e.Content.AsMessage().Body, "Current chairs") &&
			strings.Contains(e.Content.AsMessage().Body, string(mm.dave.ID))
	})
	// Mallory's display name is the organizer's user ID: no chair.
	lines["spoof"] = mm.mallory.Send(t, room, "#agreed mallory runs the event")
	said(bob, "mallory refused", string(mm.mallory.ID)+": #agreed is for the chairs")
	lines["agreed"] = mm.dave.Send(t, room, "#agreed no bridge needed")
	lines["action"] = bob.Send(t, room, "#action "+string(mm.alice.ID)+": announce it on the list")
	lines["end"] = bob.Send(t, room, "#endmeeting")
	said(bob, "the meeting ending", "Meeting ended")
	for _, what := range []string{"topic", "info", "chair", "agreed", "action", "end"} {
		reacted(lines[what], what)
	}
	lines["after"] = bob.Send(t, room, "#info said after the meeting")
	// Messages are carried out in order: once this is answered, every
	// line before it was handled.
	help := bob.Send(t, room, "!help")
	bob.WaitEvent(t, room, time.Minute, "the answer to !help", func(e *event.Event) bool {
		return e.Sender == hw.ID && e.Type == event.EventMessage && e.Content.AsMessage().RelatesTo.GetReplyTo() == help
	})
	// Lines said where no notes are taken cost no transaction: they leave
	// no trace in the inbox, unlike the lines of the meeting.
	for what, line := range lines {
		var n int
		if err := mm.db.QueryRowContext(ctx, `SELECT count(*) FROM inbox WHERE channel = 'matrix' AND key = ?`, string(line)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 0, false: 1}[what == "before" || what == "after"]; n != want {
			t.Errorf("the %s line is %d times in the inbox, want %d", what, n, want)
		}
	}

	// One reaction to each meeting line carried out, none to the rest,
	// and no word about chatter.
	reactions := map[id.EventID]int{}
	for _, e := range bob.Messages(t, room) {
		if e.Sender != hw.ID {
			continue
		}
		switch e.Type {
		case event.EventReaction:
			reactions[e.Content.AsReaction().RelatesTo.EventID]++
		case event.EventMessage:
			if to := e.Content.AsMessage().RelatesTo.GetReplyTo(); to == lines["chatter"] {
				t.Errorf("the bot answered chatter: %q", e.Content.AsMessage().Body)
			}
		}
	}
	for what, line := range lines {
		want := 1
		if what == "chatter" || what == "chair by name" || what == "spoof" || what == "before" || what == "after" {
			want = 0
		}
		if reactions[line] != want {
			t.Errorf("%d reactions to the %s line, want %d", reactions[line], what, want)
		}
	}

	// The minutes, on the web and in the list's mail, name people by user ID.
	var id int64
	if err := mm.db.QueryRowContext(ctx, `SELECT id FROM meeting WHERE title = ?`, meeting).Scan(&id); err != nil {
		t.Fatalf("the meeting is not in the store: %v", err)
	}
	page := waitGet(t, ctx, fmt.Sprintf("%s/test-day/notes/%d", mm.base, id), "no bridge needed")
	mail := listMail(t, ctx, mm.listDir, "Minutes: "+meeting)
	for name, text := range map[string]string{"the web page": page, "the list's mail": mail} {
		for _, want := range []string{string(bob.ID), string(mm.dave.ID), "one event, two networks, no bridge", "no bridge needed",
			string(mm.alice.ID) + ": announce it on the list"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, text)
			}
		}
		if strings.Contains(text, "Bobby Display") {
			t.Errorf("%s names bob by display name:\n%s", name, text)
		}
	}
	// The page has the whole log, chatter too.
	if !strings.Contains(page, "the matrix.org bridge to Libera closed in 2023") {
		t.Errorf("the web page lacks the chatter:\n%s", page)
	}
}

// listMail waits for the mail to the list whose subject is subject, and
// returns its decoded body.
func listMail(t *testing.T, ctx context.Context, dir, subject string) string {
	t.Helper()
	for ctx.Err() == nil {
		got, err := mailtest.ReadMaildir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range got {
			msg, err := netmail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if msg.Header.Get("Subject") != subject {
				continue
			}
			var body io.Reader = msg.Body
			if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
				body = quotedprintable.NewReader(body)
			}
			b, err := io.ReadAll(body)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("no mail %q in %s", subject, dir)
	return ""
}

// waitMember waits until u sees user joined to room.
func waitMember(t *testing.T, u *matrixtest.User, room id.RoomID, user id.UserID) {
	t.Helper()
	u.WaitEvent(t, room, time.Minute, fmt.Sprintf("%s joining", user), func(e *event.Event) bool {
		return e.Type == event.StateMember && e.StateKey != nil && *e.StateKey == string(user) &&
			e.Content.AsMember().Membership == event.MembershipJoin
	})
}

// matrixConfig is the config of an event in an IRC channel and a Matrix
// room, the bot logged in to Matrix as hw.
func matrixConfig(t *testing.T, ircAddr string, srv *matrixtest.Server, hw *matrixtest.User, channel string, room id.RoomID, organizers ...string) *config.Config {
	t.Helper()
	return matrixConfigWith(t, ircAddr, srv, hw, channel, room, "", organizers...)
}

// matrixConfigWith is matrixConfig with more tables before the event's
// (a [mail] table).
func matrixConfigWith(t *testing.T, ircAddr string, srv *matrixtest.Server, hw *matrixtest.User, channel string, room id.RoomID, tables string, organizers ...string) *config.Config {
	t.Helper()
	host, port, _ := strings.Cut(ircAddr, ":")
	quoted := make([]string, len(organizers))
	for i, o := range organizers {
		quoted[i] = strconv.Quote(o)
	}
	return loadConfig(t, fmt.Sprintf(`
[store]
path = "hallway.db"
[web]
listen = "127.0.0.1:0"
[irc]
server = %q
port = %s
tls = false
nick = %q
[matrix]
homeserver = %q
user_id = %q
access_token_env = "HALLWAY_TEST_MATRIX_TOKEN"
%s
[[event]]
slug = "test-day"
name = "Test Day"
timezone = "Europe/Brussels"
channel = %q
channels = ["matrix:%s"]
organizers = [%s]
`, host, port, uniqueNick("hw"), srv.URL, hw.ID, tables, channel, room, strings.Join(quoted, ", ")),
		map[string]string{"HALLWAY_TEST_MATRIX_TOKEN": hw.Token})
}

// TestMatrixRestart: the sync position is kept in the store, so what was
// said in the room while hallway was down is carried out after it starts
// again (a first sync would take it for history), and what it had carried
// out before is not carried out again.
func TestMatrixRestart(t *testing.T) {
	srv := matrixtest.Env(t)
	ircAddr := irctest.TestEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hw := srv.Register(t, matrixtest.Unique("hallway"), false)
	alice := srv.Register(t, matrixtest.Unique("alice"), false)
	bob := srv.Register(t, matrixtest.Unique("bob"), false)
	room := alice.CreateRoom(t, matrixtest.RoomOptions{Name: "test day", Invite: []id.UserID{bob.ID, hw.ID}})
	bob.Join(t, room)
	cfg := matrixConfig(t, ircAddr, srv, hw, "#"+uniqueNick("mx"), room, string(alice.ID))

	isAnswer := func(ask id.EventID) func(*event.Event) bool {
		return func(e *event.Event) bool {
			return e.Sender == hw.ID && e.Type == event.EventMessage && e.Content.AsMessage().RelatesTo.GetReplyTo() == ask
		}
	}
	start := func() (stop func()) {
		logs := &syncBuffer{}
		m, err := Open(ctx, cfg, newLogger(logs, true), false)
		if err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan error, 1)
		go func() { done <- m.Run(runCtx) }()
		var once sync.Once
		stop = func() {
			once.Do(func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run: %v", err)
				}
				m.Close()
				if t.Failed() {
					t.Logf("hallway's log:\n%s", logs.String())
				}
			})
		}
		t.Cleanup(stop)
		matrixReady(t, m)
		return stop
	}

	stop := start()
	propose := bob.Send(t, room, `!propose session "Said before the restart"`)
	bob.WaitEvent(t, room, time.Minute, "the answer to the proposal", isAnswer(propose))
	stop()

	vote := bob.Send(t, room, "!vote 1")
	start()
	bob.WaitEvent(t, room, time.Minute, "the answer to the vote said while hallway was down", isAnswer(vote))
	// The bot's own help answer comes after both: everything before it
	// was handed once.
	help := bob.Send(t, room, "!help")
	bob.WaitEvent(t, room, time.Minute, "the answer to !help", isAnswer(help))
	answers := map[id.EventID]int{}
	for _, e := range bob.Messages(t, room) {
		if e.Sender == hw.ID && e.Type == event.EventMessage {
			answers[e.Content.AsMessage().RelatesTo.GetReplyTo()]++
		}
	}
	if answers[propose] != 1 || answers[vote] != 1 || answers[help] != 1 {
		t.Errorf("answers: %d to the proposal, %d to the vote, %d to !help; want one each", answers[propose], answers[vote], answers[help])
	}
}

// TestMatrixRoomByAlias: an event's Matrix room named by its alias in the
// config. A command said there comes with the room's ID; the bot knows it
// for the event's room all the same, so an announcement of the command is
// not said there a second time beside the answer (it was, when the alias
// was compared with the ID).
func TestMatrixRoomByAlias(t *testing.T) {
	srv := matrixtest.Env(t)
	ircAddr := irctest.TestEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hw := srv.Register(t, matrixtest.Unique("hallway"), false)
	alice := srv.Register(t, matrixtest.Unique("alice"), false) // the organizer
	local := matrixtest.Unique("day")
	room := alice.CreateRoom(t, matrixtest.RoomOptions{Name: "test day", Alias: local, Invite: []id.UserID{hw.ID}})
	alias := id.RoomID("#" + local + ":" + srv.ServerName)
	cfg := matrixConfig(t, ircAddr, srv, hw, "#"+uniqueNick("mx"), alias, string(alice.ID))
	m, _ := runHallway(t, ctx, cfg)
	db := storetest.OpenDB(t, cfg.Store.Source())
	matrixReady(t, m)
	waitMember(t, alice, room, hw.ID)
	isAnswer := func(ask id.EventID) func(*event.Event) bool {
		return func(e *event.Event) bool {
			return e.Sender == hw.ID && e.Type == event.EventMessage && e.Content.AsMessage().RelatesTo.GetReplyTo() == ask
		}
	}
	closing := alice.Send(t, room, "!close voting")
	alice.WaitEvent(t, room, time.Minute, "the answer to !close", isAnswer(closing))
	// The outbox sends a room's rows in order: the answer to a later
	// command comes after anything the first one queued.
	help := alice.Send(t, room, "!help")
	alice.WaitEvent(t, room, time.Minute, "the answer to !help", isAnswer(help))

	const line = "Voting is now closed for Test Day."
	var rows int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE channel = 'matrix' AND body = ?`, line).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	said := 0
	for _, e := range alice.Messages(t, room) {
		if e.Sender == hw.ID && e.Type == event.EventMessage && e.Content.AsMessage().Body == line {
			said++
		}
	}
	if rows != 1 || said != 1 {
		t.Errorf("%q: %d outbox rows for Matrix, said %d times in the room; want once (the answer)", line, rows, said)
	}
}

// matrixReady waits for hallway's Matrix client to have synced once.
func matrixReady(t *testing.T, m *Main) {
	t.Helper()
	select {
	case <-m.Matrix.Ready():
	case <-time.After(time.Minute):
		t.Fatal("the Matrix client did not sync within a minute")
	}
}

// matrixAnswer waits for the bot's (from) reply to the message ask in room
// and returns it; the test fails unless it says want.
func matrixAnswer(t *testing.T, u *matrixtest.User, room id.RoomID, from id.UserID, ask id.EventID, want string) string {
	t.Helper()
	e := u.WaitEvent(t, room, time.Minute, fmt.Sprintf("an answer to %s with %q", ask, want), func(e *event.Event) bool {
		return e.Sender == from && e.Type == event.EventMessage && e.Content.AsMessage().RelatesTo.GetReplyTo() == ask
	})
	body := e.Content.AsMessage().Body
	if !strings.Contains(body, want) {
		t.Fatalf("answer to %s: %q, want %q in it", ask, body, want)
	}
	return body
}
