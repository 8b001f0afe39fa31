package schedule

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// LogLine is one line said in a channel while its notes were taken.
type LogLine struct {
	At      time.Time
	Nick    string
	Account string // the speaker's services account; "" if not logged in
	Text    string
	// Resolved maps the nicks a #chair, #unchair or #action line named to
	// their accounts, as they were when it was said, so a replay decides
	// exactly as the live meeting did.
	Resolved map[string]string
}

// MeetingInfo is what the minutes say of the session they are for.
type MeetingInfo struct {
	Event    string // the event's name
	Title    string
	Number   int64 // the session's proposal number; 0 for a meeting without one
	Room     string
	Start    time.Time // the slot, if scheduled
	End      time.Time
	Speakers []string
	Votes    int
	Channel  string
	Zone     *time.Location
	URL      string // where the minutes are published
	// Organizers' accounts chair every meeting.
	Organizers []string
}

// Note kinds.
const (
	NoteInfo   = "info"
	NoteIdea   = "idea"
	NoteAgreed = "agreed"
	NoteHelp   = "help"
	NoteLink   = "link"
	NoteAction = "action"
)

// Note is one item of the minutes.
type Note struct {
	Kind   string
	Text   string
	Nick   string
	At     time.Time
	Line   int      // 1-based index into the log, for the anchor
	Owners []string // for actions: the accounts (or nicks) it is assigned to
}

// Topic groups the notes taken under one #topic.
type Topic struct {
	Title string
	Nick  string
	At    time.Time
	Line  int
	Notes []Note
}

// Minutes are what a replay of a meeting's log gives.
type Minutes struct {
	Info      MeetingInfo
	StartedBy string
	Started   time.Time
	Ended     time.Time // zero while the meeting runs
	Chairs    []string  // accounts, in the order they became chairs
	Topics    []Topic   // the first is untitled: notes before any #topic
	// CarriedOver are the actions still open from the previous meeting of
	// the series.
	CarriedOver []Note
	Log         []LogLine
	// Speakers counts lines by nick, in order of first line.
	Speakers []Speaking
}

// Speaking is how much one nick said.
type Speaking struct {
	Nick  string
	Lines int
}

// Actions returns every action of the meeting, in order.
func (m *Minutes) Actions() []Note {
	var out []Note
	for _, t := range m.Topics {
		for _, n := range t.Notes {
			if n.Kind == NoteAction {
				out = append(out, n)
			}
		}
	}
	return out
}

// OpenActions are the actions to carry over to the series' next meeting:
// this meeting's and those it carried over.
func (m *Minutes) OpenActions() []Note {
	return append(append([]Note(nil), m.CarriedOver...), m.Actions()...)
}

// Recorder takes a meeting's notes line by line. The same recorder runs
// live (the bot feeds it each line and says its Answer) and in a replay of
// the log, so regenerated minutes are the live ones exactly.
type Recorder struct {
	m    Minutes
	last []undoable
}

// undoable is something #undo can take back.
type undoable struct {
	what  string
	topic int // index of a topic added, or of the topic holding a note
	note  int // index of the note, or -1 for a topic
}

// NewRecorder starts the minutes of a meeting; carried are the open
// actions of the series' previous meeting.
func NewRecorder(info MeetingInfo, carried []Note) *Recorder {
	r := &Recorder{}
	r.m.Info = info
	r.m.CarriedOver = carried
	r.m.Topics = []Topic{{}}
	return r
}

// Minutes returns the minutes so far.
func (r *Recorder) Minutes() *Minutes { return &r.m }

// Answer is what the bot says in the channel for a line, if anything.
type Answer struct {
	Text string
	// Noted is set when the line was a meeting command that was carried
	// out (not one refused or missing its text): a transport that can
	// acknowledge a line without a word (a Matrix reaction) does.
	Noted bool
	// Ended is set by #endmeeting.
	Ended bool
}

var (
	commandRe = regexp.MustCompile(`^#([A-Za-z]+)(?:\s+(.*))?$`)
	urlRe     = regexp.MustCompile(`\b(?:https?|ftp)://[^\s<>"]+`)
)

// chairOnly are MeetBot's commands for chairs.
var chairOnly = map[string]bool{"topic": true, "agreed": true, "chair": true, "unchair": true, "undo": true, "endmeeting": true}

// IsCommand reports whether a line is a meeting command (#topic, …).
func IsCommand(text string) bool {
	m := commandRe.FindStringSubmatch(strings.TrimSpace(text))
	if m == nil {
		return false
	}
	switch strings.ToLower(m[1]) {
	case "startmeeting", "endmeeting", "topic", "info", "idea", "agreed", "action", "link", "help", "chair", "unchair", "undo", "actions":
		return true
	}
	return false
}

// SystemAccount is the account of lines hallway itself adds to a log (the
// #endmeeting when a session's slot is over): no IRC account has a "!".
const SystemAccount = "!hallway"

func (r *Recorder) isChair(account string) bool {
	return account != "" && (account == SystemAccount || slices.Contains(r.m.Chairs, account) || slices.Contains(r.m.Info.Organizers, account))
}

// Add records one line and returns what to say about it.
func (r *Recorder) Add(l LogLine) Answer {
	r.m.Log = append(r.m.Log, l)
	n := len(r.m.Log)
	if l.Account != SystemAccount {
		// hallway closing the notes at the slot's end is no attendee.
		r.count(l.Nick)
	}
	text := strings.TrimSpace(l.Text)
	m := commandRe.FindStringSubmatch(text)
	if m == nil || !IsCommand(text) {
		for _, u := range urlRe.FindAllString(text, -1) {
			r.note(Note{Kind: NoteLink, Text: u, Nick: l.Nick, At: l.At, Line: n})
		}
		return Answer{}
	}
	cmd, arg := strings.ToLower(m[1]), strings.TrimSpace(m[2])
	if cmd == "startmeeting" {
		if n == 1 {
			r.m.StartedBy, r.m.Started = l.Nick, l.At
			if l.Account != "" {
				r.m.Chairs = append(r.m.Chairs, l.Account)
			}
			return Answer{Text: fmt.Sprintf("Meeting started %s %s. Notes for %s. Chairs: %s. Useful commands: #topic #info #idea #agreed #action #link #help #undo #endmeeting",
				l.At.In(r.zone()).Format("Mon Jan 2 15:04:05 2006"), r.zone(), r.m.Info.Title, r.chairList()), Noted: true}
		}
		return Answer{Text: "notes are already being taken here; #endmeeting first."}
	}
	if chairOnly[cmd] && !r.isChair(l.Account) {
		why := ""
		if l.Account == "" {
			why = " (and you are not logged in to services)"
		}
		return Answer{Text: fmt.Sprintf("%s: #%s is for the chairs (%s)%s.", l.Nick, cmd, r.chairList(), why)}
	}
	switch cmd {
	case "topic":
		if arg == "" {
			return Answer{Text: "#topic needs a title: #topic What we decide today"}
		}
		r.m.Topics = append(r.m.Topics, Topic{Title: arg, Nick: l.Nick, At: l.At, Line: n})
		r.last = append(r.last, undoable{what: "topic " + arg, topic: len(r.m.Topics) - 1, note: -1})
	case "info", "idea", "agreed", "help", "link":
		if arg == "" {
			return Answer{Text: fmt.Sprintf("#%s needs some text: #%s what to note", cmd, cmd)}
		}
		r.note(Note{Kind: cmd, Text: arg, Nick: l.Nick, At: l.At, Line: n})
	case "action":
		if arg == "" {
			return Answer{Text: "#action needs some text: #action alice: write the spec"}
		}
		r.note(Note{Kind: NoteAction, Text: arg, Nick: l.Nick, At: l.At, Line: n, Owners: owners(arg, l.Resolved)})
	case "chair", "unchair":
		before := len(r.m.Chairs)
		for _, nick := range Names(arg) {
			acct := l.Resolved[strings.ToLower(nick)]
			if acct == "" {
				continue // no account behind that nick: no chair by nick
			}
			if cmd == "chair" && !slices.Contains(r.m.Chairs, acct) {
				r.m.Chairs = append(r.m.Chairs, acct)
			}
			if cmd == "unchair" && acct != r.firstChair() {
				r.m.Chairs = slices.DeleteFunc(r.m.Chairs, func(c string) bool { return c == acct })
			}
		}
		// Noted only if someone was (un)chaired: a name with nobody
		// behind it changes nothing, and the list says so.
		return Answer{Text: "Current chairs: " + r.chairList(), Noted: len(r.m.Chairs) != before}
	case "undo":
		if len(r.last) == 0 {
			return Answer{Text: "there is nothing to undo."}
		}
		u := r.last[len(r.last)-1]
		r.last = r.last[:len(r.last)-1]
		if u.note < 0 {
			t := r.m.Topics[u.topic]
			r.m.Topics = slices.Delete(r.m.Topics, u.topic, u.topic+1)
			r.m.Topics[u.topic-1].Notes = append(r.m.Topics[u.topic-1].Notes, t.Notes...)
		} else {
			r.m.Topics[u.topic].Notes = slices.Delete(r.m.Topics[u.topic].Notes, u.note, u.note+1)
		}
		return Answer{Text: "Removed from the minutes: " + u.what, Noted: true}
	case "actions":
		open := r.m.OpenActions()
		if len(open) == 0 {
			return Answer{Text: "no open actions."}
		}
		parts := make([]string, len(open))
		for i, a := range open {
			parts[i] = fmt.Sprintf("%d. %s", i+1, a.Text)
		}
		return Answer{Text: "Open actions: " + strings.Join(parts, " · ")}
	case "endmeeting":
		r.m.Ended = l.At
		msg := fmt.Sprintf("Meeting ended %s.", l.At.In(r.zone()).Format("Mon Jan 2 15:04:05 2006"))
		if r.m.Info.URL != "" {
			msg += " Minutes: " + r.m.Info.URL
		}
		return Answer{Text: msg, Noted: true, Ended: true}
	}
	return Answer{Noted: true}
}

func (r *Recorder) zone() *time.Location {
	if r.m.Info.Zone == nil {
		return time.UTC
	}
	return r.m.Info.Zone
}

func (r *Recorder) firstChair() string {
	if len(r.m.Chairs) == 0 {
		return ""
	}
	return r.m.Chairs[0]
}

func (r *Recorder) chairList() string {
	chairs := append([]string(nil), r.m.Chairs...)
	for _, o := range r.m.Info.Organizers {
		if !slices.Contains(chairs, o) {
			chairs = append(chairs, o)
		}
	}
	if len(chairs) == 0 {
		return "none"
	}
	return strings.Join(chairs, ", ")
}

func (r *Recorder) note(n Note) {
	t := len(r.m.Topics) - 1
	r.m.Topics[t].Notes = append(r.m.Topics[t].Notes, n)
	what := n.Kind + " " + n.Text
	r.last = append(r.last, undoable{what: what, topic: t, note: len(r.m.Topics[t].Notes) - 1})
}

func (r *Recorder) count(nick string) {
	for i := range r.m.Speakers {
		if r.m.Speakers[i].Nick == nick {
			r.m.Speakers[i].Lines++
			return
		}
	}
	r.m.Speakers = append(r.m.Speakers, Speaking{Nick: nick, Lines: 1})
}

// owners are the accounts an action is assigned to: the nicks it names
// ("alice: write the spec", "bob and carol to test") that had an account
// when it was said, in the order named; unknown nicks stay as written
// only when they lead the action ("dave: …").
func owners(text string, resolved map[string]string) []string {
	var out []string
	for _, w := range Names(text) {
		if acct := resolved[strings.ToLower(w)]; acct != "" && !slices.Contains(out, acct) {
			out = append(out, acct)
		}
	}
	if len(out) == 0 {
		if lead, _, ok := strings.Cut(text, ":"); ok && !strings.ContainsAny(strings.TrimSpace(lead), " \t") && lead != "" {
			out = append(out, strings.TrimSpace(lead))
		}
	}
	return out
}

// Names are the words of a #chair, #unchair or #action line that may name
// people: split at spaces, commas and colons ("alice: write the spec"),
// except a Matrix user ID ("@alice:example.org", "@alice:example.org:"),
// whose colon is its own.
func Names(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == ',' }) {
		if local, server, ok := strings.Cut(w, ":"); ok && len(local) > 1 && local[0] == '@' && strings.TrimRight(server, ":") != "" {
			out = append(out, strings.TrimRight(w, ":"))
			continue
		}
		out = append(out, strings.FieldsFunc(w, func(r rune) bool { return r == ':' })...)
	}
	return out
}

// Replay regenerates minutes from a log.
func Replay(info MeetingInfo, carried []Note, log []LogLine) *Minutes {
	r := NewRecorder(info, carried)
	for _, l := range log {
		r.Add(l)
	}
	return r.Minutes()
}
