package matrix

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/store"
	"github.com/hallwayhq/hallway/store/storetest"
)

// TestReplierRows: what outbox rows an answer makes, in a room and in a
// direct chat; a private answer never goes to the room.
func TestReplierRows(t *testing.T) {
	const alice, room = "@alice:example.org", "!room:example.org"
	inRoom := Message{EventID: "$ask", RoomID: room, Sender: alice, Command: "feed", Thread: "$root"}
	direct := inRoom
	direct.Direct = true
	type row struct{ target, addressee, body, replyTo, thread string }
	tests := []struct {
		name  string
		m     Message
		reply bot.Reply
		want  []row
	}{
		{"in a room", inRoom, bot.Reply{Lines: []string{"voted for #3", "2 left"}},
			[]row{{room, alice, "voted for #3\n2 left", "$ask", "$root"}}},
		{"public", inRoom, bot.Reply{Lines: []string{"Voting is now open."}, Public: true},
			[]row{{room, "", "Voting is now open.", "", ""}}},
		{"private in a room", inRoom, bot.Reply{Lines: []string{"your link"}, Private: true},
			[]row{{room, alice, "sent you a private message.", "$ask", "$root"}, {alice, "", "your link", "", ""}}},
		{"direct chat", direct, bot.Reply{Lines: []string{"your link"}, Private: true},
			[]row{{alice, "", "your link", "", ""}}},
		{"acknowledged", inRoom, bot.Reply{Ack: "✅"},
			[]row{{room, "", "✅", "$ask", ""}}},
		{"acknowledged in a direct chat", direct, bot.Reply{Ack: "✅"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, storetest.Source(t))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			req := Request(tt.m)
			if req.Who != bot.MatrixIdentity(alice) || req.Keys[0] != "$ask" || req.Transport != bot.Matrix {
				t.Errorf("request = %+v", req)
			}
			if (req.Where == "") != tt.m.Direct {
				t.Errorf("Where = %q for a message direct=%v", req.Where, tt.m.Direct)
			}
			if err := s.Do(ctx, func(tx *store.Tx) error { return Replier{}.Reply(tx, req, tt.reply) }); err != nil {
				t.Fatal(err)
			}
			msgs, err := s.Pending(ctx, store.Matrix, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			for _, m := range msgs {
				got = append(got, row{m.Target, m.Addressee, m.Body, m.ReplyTo, m.Thread})
			}
			if len(got) != len(tt.want) {
				t.Fatalf("rows %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("row %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
	if !(Replier{}).Reaches(bot.MatrixUser) || (Replier{}).Reaches(bot.IRCAccount) {
		t.Error("Replier reaches Matrix users only")
	}
}

// TestReplierKey: an answer with a key (the answer to !forget, emptied
// once sent) carries it, so it is sent once and can be found again.
func TestReplierKey(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, storetest.Source(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := Message{EventID: "$ask", RoomID: "!room:example.org", Sender: "@alice:example.org", Command: "forget", Direct: true}
	for range 2 {
		if err := s.Do(ctx, func(tx *store.Tx) error {
			return Replier{}.Reply(tx, Request(m), bot.Reply{Lines: []string{"forgotten"}, Private: true, Key: "forgotten:7:1"})
		}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := s.Pending(ctx, store.Matrix, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].DedupeKey != "forgotten:7:1:0" {
		t.Errorf("rows %+v, want one keyed forgotten:7:1:0", msgs)
	}
}

// TestLine: a message as a line of notes is said as written, keyed apart
// from the command it may also be, and names people by user ID only.
func TestLine(t *testing.T) {
	m := Message{EventID: "$e", RoomID: "!room:example.org", Sender: "@bob:example.org", Body: "!notes stop", Command: "notes stop"}
	l := Line(m)
	if !l.Raw || l.Text != "!notes stop" || l.Keys[0] != "$e:line" || l.Where != m.RoomID || l.Who != bot.MatrixIdentity(m.Sender) {
		t.Errorf("Line = %+v", l)
	}
	m.Command, m.Body = "", "#chair @carol:example.org"
	if l := Line(m); l.Keys[0] != "$e" {
		t.Errorf("a line that is no command keyed %v, want its event ID", l.Keys)
	}
	for name, want := range map[string]bot.Identity{
		"@carol:example.org": bot.MatrixIdentity("@carol:example.org"),
		"Carol":              {},
		"carol:example.org":  {},
		"@carol":             {},
	} {
		if got := l.Resolve(name); got != want {
			t.Errorf("Resolve(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestHandleMessagesNotes: in one sync's batch, the lines of a room from
// its #startmeeting to its #endmeeting go to the notes (each acknowledged
// with a reaction); the lines before and after cost nothing, not even an
// inbox row.
func TestHandleMessagesNotes(t *testing.T) {
	ctx := context.Background()
	src := storetest.Source(t)
	s, err := store.Open(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const room, alice = "!notes:example.org", "@alice:example.org"
	ev := &bot.Event{Slug: "day", Name: "Day", Channel: "#day", ChatRooms: []bot.ChatRoom{{Transport: bot.Matrix, Name: room}},
		Organizers: []bot.Identity{bot.MatrixIdentity(alice)}}
	b := bot.New(s, []*bot.Event{ev}, &bot.Options{Prefix: "!", RequireAccount: true})
	b.SetReplier(bot.Matrix, Replier{})
	if err := b.Init(ctx); err != nil {
		t.Fatal(err)
	}
	var batch []Message
	for i, body := range []string{"before the meeting", "#startmeeting Sprint planning", "#info first line", "#endmeeting", "after the meeting"} {
		batch = append(batch, Message{EventID: fmt.Sprintf("$e%d", i), RoomID: room, Sender: alice, Body: body})
	}
	if err := (BotHandler{Bot: b}).HandleMessages(ctx, batch); err != nil {
		t.Fatal(err)
	}
	db := storetest.OpenDB(t, src)
	seen := map[string]bool{}
	for _, m := range batch {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM inbox WHERE key = ?`, m.EventID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		seen[m.Body] = n == 1
	}
	want := map[string]bool{"before the meeting": false, "#startmeeting Sprint planning": true, "#info first line": true, "#endmeeting": true, "after the meeting": false}
	if !maps.Equal(seen, want) {
		t.Errorf("lines in the inbox %v, want %v", seen, want)
	}
	if b.TakingNotes(bot.Matrix, room) {
		t.Error("notes still taken after #endmeeting")
	}
	msgs, err := s.Pending(ctx, store.Matrix, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	reactions := 0
	for _, m := range msgs {
		if m.Kind == store.ReactionKind {
			reactions++
		}
	}
	if reactions != 3 {
		t.Errorf("%d reactions, want 3 (start, info, end)", reactions)
	}
}
