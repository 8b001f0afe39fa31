package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/matrix/matrixtest"
	"github.com/hallwayhq/hallway/store/storetest"
)

// TestMatrixLinkIRC: one person, dave, on the real InspIRCd (logged in to
// Anope) and on the real Dendrite. He votes on IRC, asks there for a link
// code (given privately), says it from his Matrix ID in the room, and his
// IRC account is told of it; his vote from Matrix for the same proposal
// is then the one he had: the proposal has one vote, and dave is one
// person with both identities.
func TestMatrixLinkIRC(t *testing.T) {
	srv := matrixtest.Env(t)
	ircAddr := irctest.TestEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	hw := srv.Register(t, matrixtest.Unique("hallway"), false)
	alice := srv.Register(t, matrixtest.Unique("alice"), false) // the organizer
	daveMx := srv.Register(t, matrixtest.Unique("dave"), false)
	room := alice.CreateRoom(t, matrixtest.RoomOptions{Name: "link day", Invite: []id.UserID{daveMx.ID, hw.ID}})
	daveMx.Join(t, room)

	channel := "#" + uniqueNick("lk")
	cfg := matrixConfig(t, ircAddr, srv, hw, channel, room, string(alice.ID))
	m, _ := runHallway(t, ctx, cfg)
	db := storetest.OpenDB(t, cfg.Store.Source())

	daveNick := uniqueNick("dave")
	daveIRC := ircPerson(t, ctx, ircAddr, daveNick)
	if err := daveIRC.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}
	inChannel(t, &mailEnv{t: t, ctx: ctx}, daveIRC, cfg.IRC.Nick, channel)
	matrixReady(t, m)
	waitMember(t, alice, room, hw.ID)

	answer := func(u *matrixtest.User, ask id.EventID, want string) string {
		t.Helper()
		return matrixAnswer(t, u, room, hw.ID, ask, want)
	}
	said := answer(alice, alice.Send(t, room, `!propose session "One person, two networks"`), "proposed #")
	number := regexp.MustCompile(`#(\d+)`).FindStringSubmatch(said)[1]

	if err := daveIRC.Privmsg(channel, "!vote "+number); err != nil {
		t.Fatal(err)
	}
	fromBot(t, ctx, daveIRC, cfg.IRC.Nick, "voted for #"+number)

	// The code comes privately, to the account that asked.
	if err := daveIRC.Privmsg(cfg.IRC.Nick, "!link"); err != nil {
		t.Fatal(err)
	}
	given := fromBot(t, ctx, daveIRC, cfg.IRC.Nick, "from there")
	code := regexp.MustCompile(`link ([0-9A-Z]{4}-[0-9A-Z]{4}) from there`).FindStringSubmatch(given)
	if code == nil {
		t.Fatalf("no code in %q", given)
	}
	answer(daveMx, daveMx.Send(t, room, "!link "+code[1]), "linked: this Matrix user and the IRC account that asked for the code are one person now.")
	fromBot(t, ctx, daveIRC, cfg.IRC.Nick, fmt.Sprintf("Matrix user %s is now linked with your IRC account", daveMx.ID))

	answer(daveMx, daveMx.Send(t, room, "!vote "+number), "already had your vote: #"+number)
	answer(daveMx, daveMx.Send(t, room, "!show "+number), "1 vote")
	var votes, people int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM vote JOIN proposal ON proposal.id = vote.proposal_id WHERE proposal.number = ?`, number).Scan(&votes); err != nil {
		t.Fatal(err)
	}
	if votes != 1 {
		t.Errorf("#%s has %d votes, want 1: dave voted from IRC and from Matrix, as one person", number, votes)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(DISTINCT person_id) FROM identity WHERE (kind = 'irc' AND value = ?) OR (kind = 'matrix' AND value = ?)`,
		strings.ToLower(daveNick), string(daveMx.ID)).Scan(&people); err != nil {
		t.Fatal(err)
	}
	if people != 1 {
		t.Errorf("dave's IRC account and Matrix ID are %d people, want 1", people)
	}

	// Split, then linked the other way: the code, asked for in the room,
	// goes to a direct chat with dave alone; said on IRC, it links again.
	if err := daveIRC.Privmsg(cfg.IRC.Nick, "!unlink "+string(daveMx.ID)); err != nil {
		t.Fatal(err)
	}
	fromBot(t, ctx, daveIRC, cfg.IRC.Nick, "unlinked Matrix user "+string(daveMx.ID))
	answer(daveMx, daveMx.Send(t, room, "!votes"), "you have not voted yet")
	answer(daveMx, daveMx.Send(t, room, "!link"), "sent you a private message.")
	dm := daveMx.WaitInvite(t, time.Minute, room)
	daveMx.Join(t, dm)
	e := daveMx.WaitEvent(t, dm, time.Minute, "the link code", func(e *event.Event) bool {
		return e.Sender == hw.ID && e.Type == event.EventMessage && strings.Contains(e.Content.AsMessage().Body, "from there")
	})
	code = regexp.MustCompile(`link ([0-9A-Z]{4}-[0-9A-Z]{4}) from there`).FindStringSubmatch(e.Content.AsMessage().Body)
	if code == nil {
		t.Fatalf("no code in %q", e.Content.AsMessage().Body)
	}
	for _, e := range alice.Messages(t, room) {
		if e.Type == event.EventMessage && strings.Contains(e.Content.AsMessage().Body, code[1]) {
			t.Errorf("the link code was said in the room: %q", e.Content.AsMessage().Body)
		}
	}
	if err := daveIRC.Privmsg(cfg.IRC.Nick, "!link "+code[1]); err != nil {
		t.Fatal(err)
	}
	fromBot(t, ctx, daveIRC, cfg.IRC.Nick, "linked: this IRC account and the Matrix user that asked for the code are one person now.")
	answer(daveMx, daveMx.Send(t, room, "!vote "+number), "already had your vote: #"+number)
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM vote JOIN proposal ON proposal.id = vote.proposal_id WHERE proposal.number = ?`, number).Scan(&votes); err != nil || votes != 1 {
		t.Errorf("#%s has %d votes (%v) after linking again, want 1", number, votes, err)
	}
}
