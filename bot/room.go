package bot

import (
	"fmt"
	"strings"

	"github.com/hallwayhq/hallway/store"
)

// Matrix names the Matrix transport, as IRC and Mail name theirs.
const Matrix = store.Matrix

// ChatRoom is a room an event talks in, on a chat transport: an IRC
// channel, a Matrix room.
type ChatRoom struct {
	Transport string // IRC, Matrix
	Name      string // "#openinfra"; "!abc:example.org" or "#openinfra:example.org"
}

// String is the room as the config writes it: "#openinfra" for IRC,
// "matrix:!abc:example.org" for another transport.
func (r ChatRoom) String() string {
	if r.Transport == IRC {
		return r.Name
	}
	return r.Transport + ":" + r.Name
}

// same tells whether r is where a line was said (transport, room).
func (r ChatRoom) same(transport, where string) bool {
	if r.Transport != transport || where == "" {
		return false
	}
	if r.Transport == IRC {
		return foldChannel(r.Name) == foldChannel(where)
	}
	return r.Name == where
}

// ParseChatRoom reads a room as the config writes it: "#x" or "&x" (or
// "irc:#x") is an IRC channel; "matrix:!id:server" a Matrix room by ID,
// "matrix:#alias:server" one by alias. The error says how to write it.
func ParseChatRoom(s string) (ChatRoom, error) {
	const how = `write an IRC channel ("#openinfra" or "irc:#openinfra") or a Matrix room ("matrix:!roomid:example.org" or "matrix:#alias:example.org")`
	if s == "" || strings.ContainsFunc(s, isSpaceOrControl) || strings.Contains(s, ",") {
		return ChatRoom{}, fmt.Errorf("%q is not a room: %s, without spaces or commas", s, how)
	}
	transport, name, qualified := strings.Cut(s, ":")
	if !qualified || strings.HasPrefix(s, "#") || strings.HasPrefix(s, "&") {
		transport, name = IRC, s
	}
	switch transport {
	case IRC:
		if len(name) < 2 || (name[0] != '#' && name[0] != '&') {
			return ChatRoom{}, fmt.Errorf("%q is not an IRC channel: %s", s, how)
		}
	case Matrix:
		id, server, ok := strings.Cut(name, ":")
		if !ok || len(id) < 2 || (id[0] != '!' && id[0] != '#') || server == "" {
			return ChatRoom{}, fmt.Errorf("%q is not a Matrix room: %s", s, how)
		}
	default:
		return ChatRoom{}, fmt.Errorf("%q is on no transport hallway knows (%q): %s", s, transport, how)
	}
	return ChatRoom{Transport: transport, Name: name}, nil
}

// sayToEvent queues line, said to nobody in particular, in every room of
// ev (one outbox row per room, on the room's transport), except the room
// a command was said in (exceptTransport, exceptWhere), where its answer
// says it already. A key makes each row once: in the event's channel the
// row keeps key as it is (as before events had other rooms), in every
// other room it gets key@room. It returns how many rows it queued.
func sayToEvent(tx *store.Tx, ev *Event, line, key, exceptTransport, exceptWhere string) (int, error) {
	n := 0
	for _, r := range ev.rooms() {
		if r.same(exceptTransport, exceptWhere) {
			continue
		}
		m := store.Message{Channel: r.Transport, Target: r.Name, Body: line}
		if key == "" {
			if err := tx.Enqueue(m); err != nil {
				return n, err
			}
			n++
			continue
		}
		m.DedupeKey = key
		if !r.same(IRC, ev.Channel) {
			m.DedupeKey += "@" + r.String()
		}
		fresh, err := tx.EnqueueOnce(m)
		if err != nil {
			return n, err
		}
		if fresh {
			n++
		}
	}
	return n, nil
}

// rooms are the event's rooms: its channel, then the others.
func (e *Event) rooms() []ChatRoom {
	if e.Channel == "" {
		return e.ChatRooms
	}
	out := []ChatRoom{{Transport: IRC, Name: e.Channel}}
	for _, r := range e.ChatRooms {
		if !r.same(IRC, e.Channel) {
			out = append(out, r)
		}
	}
	return out
}
