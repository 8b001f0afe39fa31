package main

import (
	"context"
	"fmt"
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
	"github.com/hallwayhq/hallway/matrix/matrixtest"
	"github.com/hallwayhq/hallway/store/storetest"
)

// TestMatrixBesideIRC: one event in an IRC channel (the real InspIRCd with
// Anope) and a Matrix room (the real Dendrite). A Matrix user proposes a
// session in the room; an IRC person and the Matrix user each vote for it,
// and it has two votes, one per person; someone whose display name is the
// organizer's user ID is no organizer; the organizer, known by Matrix ID,
// closes and opens voting from the room, and the opening is announced in
// the IRC channel and answered in the room.
func TestMatrixBesideIRC(t *testing.T) {
	srv := matrixtest.Env(t)
	ircAddr := irctest.TestEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	hw := srv.Register(t, matrixtest.Unique("hallway"), false)
	alice := srv.Register(t, matrixtest.Unique("alice"), false) // the organizer
	bob := srv.Register(t, matrixtest.Unique("bob"), false)
	mallory := srv.Register(t, matrixtest.Unique("mallory"), false)
	room := alice.CreateRoom(t, matrixtest.RoomOptions{Name: "test day", Invite: []id.UserID{bob.ID, mallory.ID, hw.ID}})
	bob.Join(t, room)
	mallory.Join(t, room)
	mallory.SetDisplayName(t, string(alice.ID))

	channel := "#" + uniqueNick("mx")
	carolNick := uniqueNick("carol") // an organizer on IRC
	cfg := matrixConfig(t, ircAddr, srv, hw, channel, room, string(alice.ID), carolNick)
	m, _ := runHallway(t, ctx, cfg)
	db := storetest.OpenDB(t, cfg.Store.Source())

	carol := ircPerson(t, ctx, ircAddr, carolNick)
	if err := carol.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}
	inChannel(t, &mailEnv{t: t, ctx: ctx}, carol, cfg.IRC.Nick, channel)
	select {
	case <-m.Matrix.Ready():
	case <-time.After(time.Minute):
		t.Fatal("the Matrix client did not sync within a minute")
	}
	waitMember(t, alice, room, hw.ID)

	// answer waits for the bot's reply to the message ask in the room.
	answer := func(u *matrixtest.User, ask id.EventID, want string) string {
		t.Helper()
		e := u.WaitEvent(t, room, time.Minute, fmt.Sprintf("an answer to %s with %q", ask, want), func(e *event.Event) bool {
			return e.Sender == hw.ID && e.Type == event.EventMessage && e.Content.AsMessage().RelatesTo.GetReplyTo() == ask
		})
		body := e.Content.AsMessage().Body
		if !strings.Contains(body, want) {
			t.Fatalf("answer to %s: %q, want %q in it", ask, body, want)
		}
		return body
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
[[event]]
slug = "test-day"
name = "Test Day"
timezone = "Europe/Brussels"
channel = %q
channels = ["matrix:%s"]
organizers = [%s]
`, host, port, uniqueNick("hw"), srv.URL, hw.ID, channel, room, strings.Join(quoted, ", ")),
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
		select {
		case <-m.Matrix.Ready():
		case <-time.After(time.Minute):
			t.Fatal("the Matrix client did not sync within a minute")
		}
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
	select {
	case <-m.Matrix.Ready():
	case <-time.After(time.Minute):
		t.Fatal("the Matrix client did not sync within a minute")
	}
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
