package bot

import (
	"context"
	"strings"
	"testing"

	"github.com/hallwayhq/hallway/store"
)

func TestParseChatRoom(t *testing.T) {
	tests := []struct {
		in   string
		want ChatRoom
		err  string
	}{
		{"#openinfra", ChatRoom{IRC, "#openinfra"}, ""},
		{"&local", ChatRoom{IRC, "&local"}, ""},
		{"irc:#openinfra", ChatRoom{IRC, "#openinfra"}, ""},
		{"matrix:!abc:example.org", ChatRoom{Matrix, "!abc:example.org"}, ""},
		{"matrix:#openinfra:example.org", ChatRoom{Matrix, "#openinfra:example.org"}, ""},
		{"openinfra", ChatRoom{}, "not an IRC channel"},
		{"irc:openinfra", ChatRoom{}, "not an IRC channel"},
		{"matrix:!abc", ChatRoom{}, "not a Matrix room"},
		{"matrix:abc:example.org", ChatRoom{}, "not a Matrix room"},
		{"xmpp:room@conference.example.org", ChatRoom{}, "no transport hallway knows"},
		{"#two words", ChatRoom{}, "without spaces"},
		{"#a,#b", ChatRoom{}, "without spaces or commas"},
	}
	for _, tt := range tests {
		got, err := ParseChatRoom(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseChatRoom(%q) = %v, %v; want an error saying %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseChatRoom(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// TestAnnouncedInEveryRoom: an announcement goes to every room of the
// event, one outbox row per room on its transport, but not to the room
// the command was said in, where the answer says it.
func TestAnnouncedInEveryRoom(t *testing.T) {
	f := newFixture(t)
	f.ev.ChatRooms = []ChatRoom{{IRC, "#openinfra-hallway"}, {Matrix, "!room:example.org"}, {IRC, "#OpenInfra"}}
	if got := f.say("pleia2", "pleia2", "close voting"); !strings.HasSuffix(got, "\npleia2: Voting is now closed for Open Source Infrastructure Day 2027.") {
		t.Fatalf("answer: %q", got)
	}
	want := map[string]string{"irc #openinfra-hallway": "Voting is now closed for Open Source Infrastructure Day 2027.",
		"matrix !room:example.org": "Voting is now closed for Open Source Infrastructure Day 2027."}
	got := map[string]string{}
	for _, channel := range []string{store.IRC, store.Matrix} {
		msgs, err := f.store.Pending(context.Background(), channel, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Target != "#openinfra" {
				got[channel+" "+m.Target] = m.Body
			}
		}
	}
	if len(got) != len(want) || got["irc #openinfra-hallway"] != want["irc #openinfra-hallway"] || got["matrix !room:example.org"] != want["matrix !room:example.org"] {
		t.Errorf("announced in\n%v\nwant\n%v", got, want)
	}
}
