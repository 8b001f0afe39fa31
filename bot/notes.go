package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

// meetings holds the recorders of the meetings running now, by room
// (roomKey). The database has every line; the recorders are what the
// replay of those lines gives, kept so a line costs no replay.
type meetings struct {
	mu   sync.Mutex
	live map[string]*liveMeeting
}

type liveMeeting struct {
	row store.Meeting
	ev  *Event
	rec *schedule.Recorder
}

// Recording reports whether notes are being taken in an IRC channel, so
// the IRC transport hands over every line said there.
func (b *Bot) Recording(channel string) bool { return b.TakingNotes(IRC, channel) }

// TakingNotes reports whether notes are being taken in a room of a chat
// transport (an IRC channel, a Matrix room ID), so the transport hands
// over every line said there, and only there.
func (b *Bot) TakingNotes(transport, where string) bool {
	b.meetings.mu.Lock()
	defer b.meetings.mu.Unlock()
	_, ok := b.meetings.live[roomKey(meetingRoom(transport, where))]
	return ok
}

// meetingRoom is how a meeting's row names the room it is taken in: an IRC
// channel as it is ("#openinfra", as before other transports), another
// transport's room as the config writes it ("matrix:!abc:example.org").
func meetingRoom(transport, where string) string {
	return ChatRoom{Transport: transport, Name: where}.String()
}

// roomKey keys a running meeting by its row's room: IRC channels are
// case-insensitive, Matrix room IDs are not.
func roomKey(room string) string {
	if r, err := ParseChatRoom(room); err == nil && r.Transport != IRC {
		return room
	}
	return strings.ToLower(room)
}

// chatRoom is the room a meeting row names (an IRC channel if it names
// none that parses: rows from before other transports).
func chatRoom(room string) ChatRoom {
	if r, err := ParseChatRoom(room); err == nil {
		return r
	}
	return ChatRoom{Transport: IRC, Name: room}
}

// loadMeetings rebuilds the recorders of the running meetings from their
// logs, at start.
func (b *Bot) loadMeetings(tx *store.Tx) error {
	rows, err := tx.Meetings(0)
	if err != nil {
		return err
	}
	live := map[string]*liveMeeting{}
	for _, row := range rows {
		ev := b.eventByID(row.EventID)
		if ev == nil {
			continue
		}
		m, err := b.replayMeeting(tx, ev, row)
		if err != nil {
			return err
		}
		live[roomKey(row.Channel)] = m
	}
	b.meetings.mu.Lock()
	b.meetings.live = live
	b.meetings.mu.Unlock()
	return nil
}

func (b *Bot) eventByID(id int64) *Event {
	for _, e := range b.events {
		if e.id == id {
			return e
		}
	}
	return nil
}

// meetingInfo is what the minutes say of a meeting's session, from the
// latest release.
func (c *call) meetingInfo(row store.Meeting) schedule.MeetingInfo {
	info := schedule.MeetingInfo{Event: c.ev.Name, Title: row.Title, Number: row.Number, Channel: row.Channel,
		Zone: c.ev.zone(), Organizers: chairs(c.ev.Organizers)}
	if c.ev.URL != "" {
		info.URL = fmt.Sprintf("%s/notes/%d", c.ev.URL, row.ID)
	}
	if row.Number != 0 {
		if r, err := c.released(); err == nil {
			if it, ok := r.Find(row.Number); ok {
				info.Room, info.Start, info.End, info.Speakers, info.Votes = it.Room, it.Start, it.End, it.Speakers, it.Votes
			}
		}
		if p, err := c.tx.ProposalWithVotes(c.ev.id, row.Number); err == nil && info.Votes == 0 {
			info.Votes = p.Votes
		}
	}
	return info
}

// chairs are the organizers who can chair a meeting in a chat room: the
// values of their chat identities, as a line's Account holds them.
func chairs(organizers []Identity) []string {
	var out []string
	for _, o := range organizers {
		if o.Kind != Address {
			out = append(out, o.Value)
		}
	}
	return out
}

// replayMeeting rebuilds a meeting's recorder from its log.
func (b *Bot) replayMeeting(tx *store.Tx, ev *Event, row store.Meeting) (*liveMeeting, error) {
	c := &call{tx: tx, bot: b, ev: ev}
	carried, err := c.carriedActions(row)
	if err != nil {
		return nil, err
	}
	rec := schedule.NewRecorder(c.meetingInfo(row), carried)
	lines, err := tx.Lines(row.ID)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		rec.Add(logLine(l))
	}
	return &liveMeeting{row: row, ev: ev, rec: rec}, nil
}

// Minutes replays a meeting of an event into its minutes.
func (b *Bot) Minutes(ctx context.Context, event string, id int64) (*schedule.Minutes, error) {
	var m *schedule.Minutes
	err := b.store.View(ctx, func(tx *store.Tx) error {
		row, err := tx.Meeting(id)
		if err != nil {
			return err
		}
		ev := b.eventByID(row.EventID)
		if ev == nil || ev.Slug != event {
			return store.ErrNotFound
		}
		live, err := b.replayMeeting(tx, ev, row)
		if err != nil {
			return err
		}
		m = live.rec.Minutes()
		return nil
	})
	return m, err
}

func logLine(l store.Line) schedule.LogLine {
	out := schedule.LogLine{At: l.At, Nick: l.Nick, Account: l.Account, Text: l.Text}
	if l.Resolved != "" {
		json.Unmarshal([]byte(l.Resolved), &out.Resolved)
	}
	return out
}

// carriedActions are the open actions of the series' previous meeting.
func (c *call) carriedActions(row store.Meeting) ([]schedule.Note, error) {
	prev, err := c.tx.PreviousInSeries(row)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	m, err := c.bot.replayMeeting(c.tx, c.ev, prev)
	if err != nil {
		return nil, err
	}
	return m.rec.Minutes().OpenActions(), nil
}

var notesSpec = &Spec{
	Name:     "notes",
	Usage:    "start [N] | stop",
	Help:     "Take notes of session N (or of what is on now) in this channel, MeetBot style: #topic #info #idea #agreed #action #link #undo #endmeeting.",
	Examples: []string{"notes start 7", "notes stop"},
	Person:   true,
	Counts:   "notes",
	Run:      runNotes,
}

func runNotes(c *call) (Reply, error) {
	if c.req.Where == "" {
		return Reply{}, userErr("notes are taken in a channel: say this in the session's channel.")
	}
	switch c.args.keyword(0) {
	case "start":
		var number int64
		if len(c.args.Words) > 1 {
			p, err := c.proposalArg2(c.args.Words[1])
			if err != nil {
				return Reply{}, err
			}
			number = p
		}
		return c.startMeeting(number, "")
	case "stop", "end":
		return c.lineAsCommand("#endmeeting")
	}
	return Reply{}, c.usageErr("Say start or stop.")
}

// proposalArg2 checks a proposal number given after a keyword.
func (c *call) proposalArg2(word string) (int64, error) {
	n, ok := parseNumber(word)
	if !ok {
		return 0, c.usageErr(fmt.Sprintf("%q is not a proposal number.", word))
	}
	if _, err := c.proposal(n); err != nil {
		return 0, err
	}
	return n, nil
}

// startMeeting opens notes in the request's channel: for session number
// (0: what is on now in the schedule, or a free meeting named name).
func (c *call) startMeeting(number int64, name string) (Reply, error) {
	room := meetingRoom(c.req.Transport, c.req.Where)
	key := roomKey(room)
	c.bot.meetings.mu.Lock()
	_, running := c.bot.meetings.live[key]
	c.bot.meetings.mu.Unlock()
	if running {
		return Reply{}, userErr("notes are already being taken here; #endmeeting first.")
	}
	row := store.Meeting{EventID: c.ev.id, Channel: room, StartedBy: c.person.ID}
	rel, err := c.released()
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Reply{}, err
	}
	if number == 0 && name == "" && rel != nil {
		now, _ := rel.Current().At(c.tx.Now())
		// In a room's channel, what is on in that room.
		if room := c.ev.roomOfChannel(c.req.Where); room != "" {
			now = slices.DeleteFunc(now, func(it schedule.Item) bool { return it.Room != room })
		}
		if len(now) == 1 {
			number = now[0].Number
		}
	}
	switch {
	case number != 0:
		p, err := c.proposal(number)
		if err != nil {
			return Reply{}, err
		}
		row.Number, row.Title, row.Series = number, p.Title, "session-"+strconv.FormatInt(number, 10)
		if rel != nil {
			if it, ok := rel.Find(number); ok && it.End.After(c.tx.Now()) {
				row.EndsAt = it.End
			}
		}
	case name != "":
		row.Title, row.Series = name, "meeting-"+strings.ToLower(name)
	default:
		return Reply{}, userErr(fmt.Sprintf("say which session: %snotes start N, or #startmeeting a name.", c.prefix()))
	}
	if err := c.tx.StartMeeting(&row); err != nil {
		return Reply{}, err
	}
	live, err := c.bot.replayMeeting(c.tx, c.ev, row)
	if err != nil {
		return Reply{}, err
	}
	c.bot.meetings.mu.Lock()
	c.bot.meetings.live[key] = live
	c.bot.meetings.mu.Unlock()
	// If the transaction fails, the recorder must go too.
	c.onRollback(func() {
		c.bot.meetings.mu.Lock()
		delete(c.bot.meetings.live, key)
		c.bot.meetings.mu.Unlock()
	})
	return c.recordLine(live, "#startmeeting "+row.Title)
}

// lineAsCommand records a meeting command the bot was asked for with a
// bot command (!notes stop) as if it had been said.
func (c *call) lineAsCommand(text string) (Reply, error) {
	c.bot.meetings.mu.Lock()
	live, ok := c.bot.meetings.live[roomKey(meetingRoom(c.req.Transport, c.req.Where))]
	c.bot.meetings.mu.Unlock()
	if !ok {
		return Reply{}, userErr("no notes are being taken here.")
	}
	return c.recordLine(live, text)
}

// handleLine is a line said in a channel that is no bot command: logged if
// notes are being taken there, and carried out if it is a meeting command.
func (b *Bot) handleLine(c *call) (Reply, error) {
	// Said, not typed to the bot: kept cleaned, without a word about it.
	text := strings.TrimSpace(cleanLine(c.req.Text))
	if c.confidentialLine(text) {
		return Reply{}, nil
	}
	b.meetings.mu.Lock()
	live, ok := b.meetings.live[roomKey(meetingRoom(c.req.Transport, c.req.Where))]
	b.meetings.mu.Unlock()
	if !ok {
		word, rest, _ := strings.Cut(text, " ")
		if strings.EqualFold(word, "#startmeeting") {
			c.spec = notesSpec
			if err := c.identify(); err != nil {
				return Reply{}, err
			}
			return c.startMeeting(0, strings.TrimSpace(rest))
		}
		return Reply{}, nil
	}
	return c.recordLine(live, text)
}

// recordLine adds a line to a running meeting: to the log, then to its
// recorder, whose answer is said in the channel.
func (c *call) recordLine(live *liveMeeting, text string) (Reply, error) {
	line := store.Line{At: c.req.At, Nick: c.req.Nick, Account: c.req.Who.Value, Text: text}
	if line.At.IsZero() {
		line.At = c.tx.Now()
	}
	if resolved := c.resolveNicks(text); len(resolved) > 0 {
		data, err := json.Marshal(resolved)
		if err != nil {
			return Reply{}, err
		}
		line.Resolved = string(data)
	}
	if err := c.tx.AddLine(live.row.ID, line); err != nil {
		return Reply{}, err
	}
	// The recorder changes in memory; a rolled-back transaction would leave
	// it ahead of the log, so it is rebuilt from the log then.
	c.onRollback(func() { c.bot.reloadMeeting(live) })
	ans := live.rec.Add(logLine(line))
	if ans.Ended {
		if err := c.bot.endMeeting(c.tx, live, line.At); err != nil {
			return Reply{}, err
		}
	}
	var reply Reply
	if ans.Noted {
		reply.Ack = noted
	}
	if ans.Text == "" {
		return reply, nil
	}
	// Meeting answers go to the room as MeetBot's do, not to a person.
	room := chatRoom(live.row.Channel)
	if err := c.tx.Enqueue(store.Message{Channel: room.Transport, Target: room.Name, Body: ans.Text}); err != nil {
		return Reply{}, err
	}
	return reply, nil
}

// noted acknowledges a meeting line that was carried out, where the
// transport can without a word (a Matrix reaction, as maubot-meetings
// does); IRC's MeetBot stays silent.
const noted = "✅"

// resolveNicks maps the names a #chair, #unchair or #action line says to
// the identities behind them now: a nick's services account, a Matrix
// user ID.
func (c *call) resolveNicks(text string) map[string]string {
	word, rest, _ := strings.Cut(strings.TrimSpace(text), " ")
	switch strings.ToLower(word) {
	case "#chair", "#unchair", "#action":
	default:
		return nil
	}
	if c.req.Resolve == nil {
		return nil
	}
	out := map[string]string{}
	for _, w := range schedule.Names(rest) {
		if id := c.req.Resolve(w); !id.IsZero() {
			out[strings.ToLower(w)] = id.Value
		}
	}
	return out
}

// reloadMeeting rebuilds a recorder from the committed log.
func (b *Bot) reloadMeeting(live *liveMeeting) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := b.store.View(ctx, func(tx *store.Tx) error {
		row, err := tx.Meeting(live.row.ID)
		if errors.Is(err, store.ErrNotFound) {
			b.meetings.mu.Lock()
			delete(b.meetings.live, roomKey(live.row.Channel))
			b.meetings.mu.Unlock()
			return nil
		} else if err != nil {
			return err
		}
		fresh, err := b.replayMeeting(tx, live.ev, row)
		if err != nil {
			return err
		}
		b.meetings.mu.Lock()
		if row.EndedAt.IsZero() {
			b.meetings.live[roomKey(row.Channel)] = fresh
		} else {
			delete(b.meetings.live, roomKey(row.Channel))
		}
		b.meetings.mu.Unlock()
		return nil
	})
	if err != nil {
		b.log.Error("reloading a meeting after a failed line", "err", err)
	}
}

// endMeeting closes a meeting and posts its minutes to the list.
func (b *Bot) endMeeting(tx *store.Tx, live *liveMeeting, at time.Time) error {
	if err := tx.EndMeeting(live.row.ID, at); err != nil {
		return err
	}
	b.meetings.mu.Lock()
	delete(b.meetings.live, roomKey(live.row.Channel))
	b.meetings.mu.Unlock()
	if b.announcer == nil {
		return nil
	}
	m := live.rec.Minutes()
	subject := "Minutes: " + live.row.Title
	if live.row.Number != 0 {
		subject = fmt.Sprintf("Minutes: #%d %s", live.row.Number, live.row.Title)
	}
	_, err := b.announcer.Announce(tx, live.ev.Slug, fmt.Sprintf("minutes-%d", live.row.ID), subject, m.Text())
	return err
}

// CloseMeetings ends the meetings whose session slot is over. The clock
// calls it.
func (b *Bot) CloseMeetings(ctx context.Context, now time.Time) (int, error) {
	b.meetings.mu.Lock()
	var due []*liveMeeting
	for _, m := range b.meetings.live {
		if !m.row.EndsAt.IsZero() && !now.Before(m.row.EndsAt) {
			due = append(due, m)
		}
	}
	b.meetings.mu.Unlock()
	for _, m := range due {
		err := b.store.Do(ctx, func(tx *store.Tx) error {
			if err := tx.FenceLeader(); err != nil {
				return err
			}
			room := chatRoom(m.row.Channel)
			c := &call{ctx: ctx, tx: tx, bot: b, ev: m.ev, req: Request{Transport: room.Transport, Where: room.Name, Nick: b.opts.Nick,
				Who: Identity{Kind: IRCAccount, Value: schedule.SystemAccount}, Can: ChatCapabilities, At: m.row.EndsAt}}
			_, err := c.recordLine(m, "#endmeeting")
			return err
		})
		if err != nil {
			return 0, err
		}
	}
	return len(due), nil
}

// AddMailNote puts a mail into a meeting's notes: someone answered the
// minutes' thread on the list. It lands in the log as an #info from the
// sender, so the minutes and the wrap-up regenerated from the log show it.
// keys make it happen once.
func (b *Bot) AddMailNote(ctx context.Context, meetingID int64, from, text string, keys []string) error {
	text = strings.Join(strings.Fields(cleanLine(text)), " ")
	from = strings.TrimSpace(cleanLine(from))
	if r := []rune(text); len(r) > 1000 {
		text = string(r[:1000]) + "…"
	}
	if text == "" {
		return nil
	}
	return b.store.Do(ctx, func(tx *store.Tx) error {
		for _, key := range keys {
			first, err := tx.MarkReceived(store.Received{Channel: store.Mail, Key: key, Sender: from, Outcome: fmt.Sprintf("note for meeting %d", meetingID)})
			if err != nil || !first {
				return err
			}
		}
		row, err := tx.Meeting(meetingID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		line := store.Line{At: tx.Now(), Nick: from + " (by mail)", Text: "#info " + text}
		if err := tx.AddLine(row.ID, line); err != nil {
			return err
		}
		b.meetings.mu.Lock()
		live, ok := b.meetings.live[roomKey(row.Channel)]
		b.meetings.mu.Unlock()
		if ok && live.row.ID == row.ID {
			live.rec.Add(logLine(line))
		}
		return nil
	})
}
