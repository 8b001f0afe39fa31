package bot

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/lrstanley/girc"

	"github.com/hallwayhq/hallway/store"
)

// sender drains the IRC outbox at the configured rate: a token bucket of
// burst lines refilled at rate lines per second. When more lines wait than
// tokens are at hand, short acknowledgements to one channel are coalesced
// into one line ("bob: #7 ✓ 3 left · carol: #2 ✓ 2 left") so a vote storm
// is answered in seconds, not minutes.
type sender struct {
	store *store.Store
	conn  interface {
		current() (*girc.Client, <-chan struct{})
	}
	burst  float64
	rate   float64
	log    *slog.Logger
	wakeCh chan struct{}

	tokens float64
	last   time.Time
	// unmarked are lines sent whose outbox rows could not be marked (the
	// disk is full): their rows are skipped, not sent again, and marking
	// is retried.
	unmarked []plannedLine
	// urgent are lines to send before the outbox, kept only in memory:
	// answers that could not be queued because the outbox cannot be
	// written.
	mu     sync.Mutex
	urgent []plannedLine
	// sentHook, if set, sees every line as it goes out (tests).
	sentHook func(target, line string)
}

func newSender(s *store.Store, conn interface {
	current() (*girc.Client, <-chan struct{})
}, burst int, rate float64, log *slog.Logger) *sender {
	return &sender{store: s, conn: conn, burst: float64(burst), rate: rate, log: log,
		wakeCh: make(chan struct{}, 1), tokens: float64(burst)}
}

// wake tells the sender the outbox has something new.
func (s *sender) wake() {
	select {
	case s.wakeCh <- struct{}{}:
	default:
	}
}

// pendingWindow is how many outbox rows the sender looks at when planning
// a line.
const pendingWindow = 500

func (s *sender) run(ctx context.Context) {
	s.last = time.Now()
	poll := time.NewTicker(time.Second) // other processes may queue lines too
	defer poll.Stop()
	for ctx.Err() == nil {
		client, ready := s.conn.current()
		if client == nil {
			select {
			case <-ctx.Done():
				return
			case <-ready:
			}
			continue
		}
		s.retryMarks(ctx)
		if s.sendUrgent(ctx, client) {
			continue
		}
		msgs, err := s.store.Pending(ctx, store.IRC, 0, pendingWindow)
		if err != nil {
			s.log.Error("reading the IRC outbox", "err", err)
			sleepCtx(ctx, time.Second)
			continue
		}
		msgs = s.withoutUnmarked(msgs)
		if len(msgs) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-s.wakeCh:
			case <-poll.C:
			}
			continue
		}
		s.refill(time.Now())
		if s.tokens < 1 {
			sleepCtx(ctx, time.Duration((1-s.tokens)/s.rate*float64(time.Second)))
			continue
		}
		line := planLine(msgs, s.tokens, lineBudget(client, msgs[0].Target))
		if !client.IsConnected() {
			sleepCtx(ctx, 100*time.Millisecond)
			continue
		}
		line.text = ircLine(line.text)
		if line.topic {
			client.Cmd.Topic(line.target, line.text)
		} else {
			client.Cmd.Message(line.target, line.text)
		}
		s.tokens--
		if s.sentHook != nil {
			s.sentHook(line.target, line.text)
		}
		if err := s.markDone(ctx, line); err != nil {
			s.log.Error("marking IRC lines sent", "err", err)
			s.unmarked = append(s.unmarked, line)
		}
	}
}

// maxUrgent bounds the lines kept in memory to send at once.
const maxUrgent = 64

// sayNow sends a line to target ahead of the outbox, without storing it:
// for the apology when the outbox itself cannot be written. Past
// maxUrgent waiting lines, it is dropped.
func (s *sender) sayNow(target, text string) {
	s.mu.Lock()
	if len(s.urgent) < maxUrgent {
		s.urgent = append(s.urgent, plannedLine{target: target, text: text})
	}
	s.mu.Unlock()
	s.wake()
}

// sendUrgent sends the oldest urgent line if there is one, within the
// token bucket, and reports whether it took the turn.
func (s *sender) sendUrgent(ctx context.Context, client *girc.Client) bool {
	s.mu.Lock()
	if len(s.urgent) == 0 {
		s.mu.Unlock()
		return false
	}
	l := s.urgent[0]
	s.mu.Unlock()
	s.refill(time.Now())
	if s.tokens < 1 {
		sleepCtx(ctx, time.Duration((1-s.tokens)/s.rate*float64(time.Second)))
		return true
	}
	if !client.IsConnected() {
		sleepCtx(ctx, 100*time.Millisecond)
		return true
	}
	head, _ := splitLine(l.text, lineBudget(client, l.target))
	client.Cmd.Message(l.target, head)
	s.tokens--
	if s.sentHook != nil {
		s.sentHook(l.target, head)
	}
	s.mu.Lock()
	s.urgent = s.urgent[1:]
	s.mu.Unlock()
	return true
}

// retryMarks marks the rows of lines sent whose marking failed.
func (s *sender) retryMarks(ctx context.Context) {
	for len(s.unmarked) > 0 {
		if err := s.markDone(ctx, s.unmarked[0]); err != nil {
			return // still failing: the next turn tries again
		}
		s.unmarked = s.unmarked[1:]
	}
}

// withoutUnmarked drops the rows of lines already sent and not marked.
func (s *sender) withoutUnmarked(msgs []store.Message) []store.Message {
	if len(s.unmarked) == 0 {
		return msgs
	}
	return slices.DeleteFunc(msgs, func(m store.Message) bool {
		for _, l := range s.unmarked {
			if slices.Contains(l.ids, m.ID) {
				return true
			}
		}
		return false
	})
}

// markDone marks the messages a line finished as sent, or, for a long
// message sent in parts, stores what is left of it.
func (s *sender) markDone(ctx context.Context, l plannedLine) error {
	if l.rest != "" {
		return s.store.Do(ctx, func(tx *store.Tx) error {
			return tx.SetOutboxBody(l.ids[0], l.rest)
		})
	}
	return s.store.MarkSent(ctx, l.ids...)
}

func (s *sender) refill(now time.Time) {
	s.tokens = min(s.burst, s.tokens+now.Sub(s.last).Seconds()*s.rate)
	s.last = now
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// lineBudget is how many bytes of text fit in one PRIVMSG to target: 512
// bytes less CRLF and the ":nick!user@host PRIVMSG target :" the server
// puts in front when relaying it.
func lineBudget(cl *girc.Client, target string) int {
	host := cl.GetHost()
	if host == "" {
		host = strings.Repeat("h", 63)
	}
	prefix := len(":"+cl.GetNick()+"!~"+cl.GetIdent()+"@"+host+" PRIVMSG "+target+" :") + 2
	return max(512-prefix, 64)
}

// plannedLine is the next line to send and the outbox rows it covers.
type plannedLine struct {
	target string
	text   string
	ids    []int64
	rest   string // what is left of a message too long for one line
	topic  bool   // set the channel's topic instead
}

// planLine picks the next line. Normally that is the oldest message as it
// is. When more lines wait than tokens are at hand, the oldest message's
// target gets one line that coalesces every waiting acknowledgement to it
// that has a short form.
func planLine(msgs []store.Message, tokens float64, budget int) plannedLine {
	first := msgs[0]
	if first.Kind == store.TopicKind {
		head, _ := splitLine(first.Body, budget)
		return plannedLine{target: first.Target, text: head, ids: []int64{first.ID}, topic: true}
	}
	backlog := 0
	for _, m := range msgs {
		if m.Target == first.Target {
			backlog++
		}
	}
	if backlog > int(tokens) && first.Short != "" && first.Addressee != "" {
		l := plannedLine{target: first.Target}
		for _, m := range msgs {
			if m.Target != first.Target || m.Short == "" || m.Addressee == "" || m.Kind != "" {
				continue
			}
			part := m.Addressee + ": " + m.Short
			sep := ""
			if l.text != "" {
				sep = " · "
			}
			if len(l.text)+len(sep)+len(part) > budget {
				break
			}
			l.text += sep + part
			l.ids = append(l.ids, m.ID)
		}
		if len(l.ids) > 0 {
			return l
		}
	}
	head, rest := splitLine(first.Body, budget)
	l := plannedLine{target: first.Target, text: head, ids: []int64{first.ID}}
	if rest != "" {
		if first.Addressee != "" {
			rest = first.Addressee + ": " + rest
		}
		l.rest = rest
	}
	return l
}

// splitLine cuts s to at most max bytes on a UTF-8 boundary, at a space if
// there is one in the last third, and returns the rest.
func splitLine(s string, max int) (head, rest string) {
	if len(s) <= max {
		return s, ""
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if sp := strings.LastIndexByte(s[:cut], ' '); sp > max*2/3 {
		cut = sp
	}
	return strings.TrimRight(s[:cut], " "), strings.TrimLeft(s[cut:], " ")
}
