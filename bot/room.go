package bot

import (
	"cmp"
	"fmt"
	"strings"
	"sync"

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

// isRoom tells whether r, one of e's rooms, is where a line was said: by
// its name in the config or, for a room named by alias, by its ID (lines
// said there come with the ID).
func (e *Event) isRoom(r ChatRoom, transport, where string) bool {
	if r.same(transport, where) {
		return true
	}
	id := e.roomIDs.get(r)
	return id != "" && r.Transport == transport && id == where
}

// target is where rows for r, one of e's rooms, go: its ID once known,
// so that rows for one room have one target (one queue, one pace)
// however it is named.
func (e *Event) target(r ChatRoom) string { return cmp.Or(e.roomIDs.get(r), r.Name) }

// roomIDs are the IDs of rooms named otherwise in the config (Matrix
// aliases), by ChatRoom.String(), as the transports learn them.
type roomIDs struct {
	mu  sync.RWMutex
	ids map[string]string
}

func (m *roomIDs) get(r ChatRoom) string {
	if m == nil {
		return ""
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.ids[r.String()]
}

// SetRoomID tells the bot that the room the config names name on
// transport (a Matrix alias) is the room id: commands said there come
// with the ID, and are known to come from the event's room.
func (b *Bot) SetRoomID(transport, name, id string) {
	if id == name || id == "" {
		return
	}
	b.roomIDs.mu.Lock()
	defer b.roomIDs.mu.Unlock()
	if b.roomIDs.ids == nil {
		b.roomIDs.ids = map[string]string{}
	}
	b.roomIDs.ids[ChatRoom{Transport: transport, Name: name}.String()] = id
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
		if ev.isRoom(r, exceptTransport, exceptWhere) {
			continue
		}
		m := store.Message{Channel: r.Transport, Target: ev.target(r), Body: line}
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
