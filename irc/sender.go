package irc

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lrstanley/girc"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/store"
)

// outbox is what the sender needs of the store.
type outbox interface {
	Pending(ctx context.Context, channel string, after int64, limit int) ([]store.Message, error)
	ClaimOutbox(ctx context.Context, ids ...int64) ([]int64, error)
	MarkSent(ctx context.Context, ids ...int64) error
	MarkDropped(ctx context.Context, id int64, reason string) error
	// Do runs fn in a write transaction: a refused line queued again, the
	// rest of a long one.
	Do(ctx context.Context, fn func(tx *store.Tx) error) error
}

// wire is what the sender needs of the IRC connection.
type wire interface {
	// current returns the registered connection, or nil and a channel
	// closed when there is one.
	current() (*girc.Client, <-chan struct{})
	// writeRaw writes a line past girc's CTCP filter (our CTCP answers).
	writeRaw(line string) error
}

// sender drains the IRC outbox at the configured rate: a token bucket of
// burst lines refilled at rate lines per second, which every line the bot
// itself sends goes through (replies, CTCP answers, JOIN, NICK, WHO).
//
// Lines are served round-robin by flow (a target, and in a channel the
// person addressed), so one person's long answers cannot hold back another
// person's acknowledgement. When more lines wait than tokens are at hand,
// short acknowledgements to one channel are coalesced into one line ("bob:
// #7 ✓ 3 left · carol: #2 ✓ 2 left") so a vote storm is answered in
// seconds, not minutes.
//
// A line waits (stays in the outbox) while the bot is not in its channel,
// and a private line bound to an account waits until a nick logged in to
// that account can take it. With echo-message, a line the server refuses
// (404) is queued again.
type sender struct {
	box   outbox
	conn  wire
	burst float64
	rate  float64
	log   *slog.Logger
	// privateWait is how long a private line waits for its account's
	// nick before it is dropped.
	privateWait time.Duration
	// whoFresh is how long the server's answer about a nick's account is
	// trusted: the nick could change hands any time after.
	whoFresh time.Duration
	wakeCh   chan struct{}

	tokens float64
	last   time.Time
	// sentHook, if set, sees every line as it goes out (tests).
	sentHook func(target, line string)
	// hook is Options.TestHook.
	hook func(point string)
	// unmarked are lines sent whose outbox rows could not be marked (the
	// disk is full): their rows are skipped, not sent again, and marking
	// is retried.
	unmarked []plannedLine

	mu       sync.Mutex
	control  []string     // our own commands, and answers said at once, sent before any reply
	ctcp     []ctcpAnswer // CTCP answers waiting
	ctcpLim  *allowance   // CTCP answers per asker
	served   map[string]uint64
	round    uint64
	inflight map[string][]flight // by folded target: sent, not echoed yet
	requeue  []flight            // refused by the server: queue again
	blocked  map[string]block    // folded channel: wait after a refusal
	who      map[string]whoSeen  // folded nick: its account, by WHOX
	promised int                 // tokens kept for the lines account lookups are for
	nickOf   map[string]string   // account: the nick it last spoke from
}

// ctcpAnswer is a CTCP reply waiting for a token.
type ctcpAnswer struct {
	to, line string
}

// flight is a line sent to a target whose echo has not come back yet.
type flight struct {
	target, text, account string
	at                    time.Time
}

type block struct {
	until time.Time
	wait  time.Duration
}

type whoSeen struct {
	account string
	at      time.Time
	pending bool // asked, no answer yet
}

const (
	// pendingWindow is how many outbox rows the sender looks at when
	// planning a line.
	pendingWindow = 500
	// ctcpQueue bounds the CTCP answers waiting; more are dropped.
	ctcpQueue = 4
	// After an answer about a nick's account that did not fit, the nick
	// is asked about again only after whoRetry.
	whoRetry = 30 * time.Second
	// whoToken marks our WHOX queries (girc's own use "1").
	whoToken = "717"
	// flightTTL forgets sent lines whose echo never came.
	flightTTL = 2 * time.Minute
)

func newSender(box outbox, conn wire, burst int, rate float64, log *slog.Logger) *sender {
	// The line goes right after the answer, with a token kept for it; a
	// bucket of one token waits a whole interval.
	fresh := 2 * time.Second
	if burst < 2 {
		fresh = max(fresh, time.Duration(1.5/rate*float64(time.Second)))
	}
	return &sender{box: box, conn: conn, burst: float64(burst), rate: rate, log: log,
		privateWait: 10 * time.Minute, whoFresh: fresh,
		wakeCh: make(chan struct{}, 1), tokens: float64(burst),
		// Two answers per asker, then one a minute: enough for a person
		// checking the bot, nothing for a flood.
		ctcpLim:  newAllowance(2, time.Minute),
		served:   map[string]uint64{},
		inflight: map[string][]flight{},
		blocked:  map[string]block{},
		who:      map[string]whoSeen{},
		nickOf:   map[string]string{},
	}
}

// wake tells the sender the outbox has something new.
func (s *sender) wake() {
	select {
	case s.wakeCh <- struct{}{}:
	default:
	}
}

// command queues one of the bot's own IRC commands; it goes out before
// any reply, paced like them.
func (s *sender) command(line string) {
	s.mu.Lock()
	s.control = append(s.control, line)
	s.mu.Unlock()
	s.wake()
}

// maxSaidNow bounds the answers waiting to be said without the outbox.
const maxSaidNow = 64

// sayNow says text to target ahead of the outbox, without storing it: for
// the apology when the outbox itself cannot be written. Past maxSaidNow
// waiting lines, and when the connection ends, it is lost.
func (s *sender) sayNow(target, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.control) >= maxSaidNow {
		return
	}
	head, _ := bot.SplitLine(ircLine(text), 400)
	s.control = append(s.control, "PRIVMSG "+target+" :"+head)
	s.wakeLocked()
}

// reset forgets what belonged to a connection that ended.
func (s *sender) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.control, s.ctcp = nil, nil
	for k := range s.inflight {
		delete(s.inflight, k)
	}
	clear(s.blocked)
	clear(s.who)
}

// ctcpQuery answers a CTCP query from nick, unless that nick asked too
// often or too many answers wait already: those are dropped, not delayed.
func (s *sender) ctcpQuery(nick, command, text string) {
	var answer string
	switch command {
	case girc.CTCP_VERSION:
		answer = "hallway"
	case girc.CTCP_PING:
		if len(text) > 64 {
			return
		}
		answer = text
	case girc.CTCP_TIME:
		answer = time.Now().UTC().Format(time.RFC1123)
	case girc.CTCP_CLIENTINFO:
		answer = "ACTION CLIENTINFO PING TIME VERSION"
	default:
		return
	}
	if !s.ctcpLim.allow(girc.ToRFC1459(nick), time.Now()) {
		return
	}
	line := "NOTICE " + nick + " :" + girc.EncodeCTCPRaw(command, answer)
	s.mu.Lock()
	if len(s.ctcp) < ctcpQueue {
		s.ctcp = append(s.ctcp, ctcpAnswer{to: nick, line: line})
	}
	s.mu.Unlock()
	s.wake()
}

// sawAccount notes the nick an account spoke from, where a private line
// for that account may go.
func (s *sender) sawAccount(account, nick string) {
	if account == "" {
		return
	}
	s.mu.Lock()
	if len(s.nickOf) > 10000 {
		clear(s.nickOf)
	}
	s.nickOf[account] = nick
	s.mu.Unlock()
}

// whoReply records a WHOX answer (account "" for none); end marks the end
// of the answers about nick.
func (s *sender) whoReply(nick, account string, end bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := girc.ToRFC1459(nick)
	w, ok := s.who[k]
	if end {
		if ok && w.pending {
			// no 354: not online
			s.who[k] = whoSeen{at: time.Now()}
		}
	} else {
		if account == "0" || account == "*" {
			account = ""
		}
		s.who[k] = whoSeen{account: bot.FoldAccount(account), at: time.Now()}
	}
	s.wakeLocked()
}

func (s *sender) wakeLocked() {
	select {
	case s.wakeCh <- struct{}{}:
	default:
	}
}

// echoed is the server's echo of a line we sent to target: it arrived.
func (s *sender) echoed(target, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := girc.ToRFC1459(target)
	fl := s.inflight[k]
	for i, f := range fl {
		if f.text == text {
			s.inflight[k] = fl[i+1:]
			return
		}
	}
}

// refused is the server refusing the oldest line in flight to target (404
// cannot send to channel, 401 no such nick): it is queued again, and lines
// to that channel wait a while.
func (s *sender) refused(target string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := girc.ToRFC1459(target)
	if fl := s.inflight[k]; len(fl) > 0 {
		s.requeue = append(s.requeue, fl[0])
		s.inflight[k] = fl[1:]
	}
	if girc.IsValidChannel(target) {
		b := s.blocked[k]
		b.wait = min(max(2*b.wait, 2*time.Second), time.Minute)
		b.until = time.Now().Add(b.wait)
		s.blocked[k] = b
	}
}

// unblock lets lines to a channel go again at once (we joined it, or its
// modes changed).
func (s *sender) unblock(channel string) {
	s.mu.Lock()
	delete(s.blocked, girc.ToRFC1459(channel))
	s.wakeLocked()
	s.mu.Unlock()
}

func (s *sender) run(ctx context.Context) {
	s.last = time.Now()
	poll := time.NewTicker(time.Second) // other processes may queue lines too
	defer poll.Stop()
	idle := func() {
		select {
		case <-ctx.Done():
		case <-s.wakeCh:
		case <-poll.C:
		}
	}
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
		if !client.IsConnected() {
			sleepCtx(ctx, 100*time.Millisecond)
			continue
		}
		s.requeueRefused(ctx)
		s.retryMarks(ctx)
		s.refill(time.Now())
		if s.tokens < 1 {
			sleepCtx(ctx, time.Duration((1-s.tokens)/s.rate*float64(time.Second)))
			continue
		}
		if line, ok := s.nextControl(); ok {
			if err := client.Cmd.SendRaw(line); err != nil {
				s.log.Warn("sending an IRC command", "err", err)
			}
			s.tokens--
			continue
		}
		msgs, err := s.box.Pending(ctx, store.IRC, 0, pendingWindow)
		if err != nil {
			s.log.Error("reading the IRC outbox", "err", err)
			sleepCtx(ctx, time.Second)
			continue
		}
		msgs = s.withoutUnmarked(msgs)
		line, ok := s.plan(ctx, client, msgs)
		if !ok {
			idle()
			continue
		}
		if len(line.ids) > 0 {
			if s.hook != nil {
				s.hook("claim:" + strings.ToLower(line.target))
			}
			if !s.claim(ctx, line.ids) {
				continue
			}
		}
		if line.ctcp == "" {
			// The last guard: no text of ours or of anyone's leaves as
			// a control (NUL, CTCP, a line break).
			line.text = ircLine(line.text)
		}
		switch {
		case line.ctcp != "":
			if err := s.conn.writeRaw(line.ctcp); err != nil {
				s.log.Warn("answering a CTCP query", "err", err)
			}
		case line.topic:
			client.Cmd.Topic(line.target, line.text)
		default:
			client.Cmd.Message(line.target, line.text)
			if client.HasCapability("echo-message") {
				s.mu.Lock()
				k := girc.ToRFC1459(line.target)
				s.inflight[k] = append(s.inflight[k], flight{target: line.target, text: line.text, account: line.account, at: time.Now()})
				s.mu.Unlock()
			}
		}
		s.tokens--
		if s.sentHook != nil && line.ctcp == "" {
			s.sentHook(line.target, line.text)
		}
		if len(line.ids) > 0 {
			if err := s.markDone(ctx, line); err != nil {
				s.log.Error("marking IRC lines sent", "err", err)
				s.unmarked = append(s.unmarked, line)
			}
		}
	}
}

// claim claims a line's outbox rows just before it is sent: under a
// leader's context the store refuses a deposed leader's term, so that an
// instance that lost the lease sends nothing new. A row marked sent
// meanwhile (by the instance that took over) leaves the line unsent; the
// next plan sees the outbox afresh.
func (s *sender) claim(ctx context.Context, ids []int64) bool {
	claimed, err := s.box.ClaimOutbox(ctx, ids...)
	switch {
	case errors.Is(err, store.ErrDeposed):
		s.log.Warn("not sending: this instance is no longer the leader", "err", err)
		sleepCtx(ctx, time.Second)
		return false
	case err != nil:
		s.log.Error("claiming IRC lines", "err", err)
		sleepCtx(ctx, time.Second)
		return false
	}
	return len(claimed) == len(ids)
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

func (s *sender) nextControl() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.control) == 0 {
		return "", false
	}
	line := s.control[0]
	s.control = s.control[1:]
	return line, true
}

// requeueRefused puts the lines the server refused back in the outbox.
func (s *sender) requeueRefused(ctx context.Context) {
	s.mu.Lock()
	lines := s.requeue
	s.requeue = nil
	now := time.Now()
	for k, fl := range s.inflight {
		for len(fl) > 0 && now.Sub(fl[0].at) > flightTTL {
			fl = fl[1:]
		}
		if len(fl) == 0 {
			delete(s.inflight, k)
		} else {
			s.inflight[k] = fl
		}
	}
	s.mu.Unlock()
	if len(lines) == 0 {
		return
	}
	err := s.box.Do(ctx, func(tx *store.Tx) error {
		for _, f := range lines {
			if err := tx.Enqueue(store.Message{Channel: store.IRC, Target: f.target, Account: f.account, Body: f.text}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.log.Error("queueing refused IRC lines again", "err", err)
		return
	}
	s.log.Info("the server refused lines; they wait until the bot can send there", "lines", len(lines), "target", lines[0].target)
}

// plan picks the next line: the least recently served flow's oldest line
// that can go now. It returns false when nothing can.
func (s *sender) plan(ctx context.Context, client *girc.Client, msgs []store.Message) (plannedLine, bool) {
	now := time.Now()
	s.mu.Lock()
	var (
		best      = -1
		bestKey   string
		bestRound uint64
		bestTo    string
		seen      = map[string]bool{}
		sendable  = make([]store.Message, 0, len(msgs))
		drop      []store.Message
	)
	s.promised = s.lookupsOutstanding(now)
	for i := range msgs {
		m := msgs[i]
		to, ok, dead := s.route(client, m, now)
		if dead {
			drop = append(drop, m)
			continue
		}
		if !ok {
			continue
		}
		m.Target = to
		sendable = append(sendable, m)
		key := flowKey(m)
		if seen[key] {
			continue
		}
		seen[key] = true
		if r := s.served[key]; best < 0 || r < bestRound {
			best, bestKey, bestRound, bestTo = len(sendable)-1, key, r, to
		}
	}
	var ctcp *ctcpAnswer
	if len(s.ctcp) > 0 && (best < 0 || s.served["\x01ctcp"] <= bestRound) {
		ctcp = &s.ctcp[0]
		s.ctcp = s.ctcp[1:]
		s.round++
		s.served["\x01ctcp"] = s.round
	}
	s.mu.Unlock()
	for _, m := range drop {
		s.log.Warn("dropping a private IRC line: no nick logged in to its account took it", "target", m.Target, "account", m.Account, "waited", s.privateWait)
		if err := s.box.MarkDropped(ctx, m.ID, "no nick logged in to "+m.Account+" within "+s.privateWait.String()); err != nil {
			s.log.Error("dropping an IRC line", "err", err)
		}
	}
	if ctcp != nil {
		return plannedLine{target: ctcp.to, ctcp: ctcp.line}, true
	}
	if best < 0 {
		return plannedLine{}, false
	}
	// The chosen line first, then the rest, for coalescing.
	order := make([]store.Message, 0, len(sendable))
	order = append(order, sendable[best])
	order = append(order, sendable[:best]...)
	order = append(order, sendable[best+1:]...)
	l := planLine(order, s.tokens, lineBudget(client, bestTo))
	l.account = order[0].Account
	s.mu.Lock()
	s.round++
	s.served[bestKey] = s.round
	byID := map[int64]store.Message{}
	for _, m := range order {
		byID[m.ID] = m
	}
	for _, id := range l.ids[1:] {
		s.served[flowKey(byID[id])] = s.round
	}
	if len(s.served) > 10000 {
		clear(s.served)
	}
	s.mu.Unlock()
	return l, true
}

// flowKey is what lines are served round-robin by: the target and, in a
// channel, the person addressed.
func flowKey(m store.Message) string {
	return girc.ToRFC1459(m.Target) + "\x00" + girc.ToRFC1459(m.Addressee)
}

// route says where a message can go now (to), whether it can go now (ok),
// and whether it never will (dead: a private line whose account has had
// no nick for privateWait). It runs with s.mu held.
func (s *sender) route(client *girc.Client, m store.Message, now time.Time) (to string, ok, dead bool) {
	if girc.IsValidChannel(m.Target) {
		if !client.IsInChannel(m.Target) {
			return "", false, false
		}
		if b, ok := s.blocked[girc.ToRFC1459(m.Target)]; ok && now.Before(b.until) {
			return "", false, false
		}
		return m.Target, true, false
	}
	if m.Account == "" {
		return m.Target, true, false
	}
	// A private line goes to a nick logged in to its account: the nick it
	// was for, else the nick the account last spoke from.
	candidates := []string{m.Target}
	if n, ok := s.nickOf[m.Account]; ok && !strings.EqualFold(n, m.Target) {
		candidates = append(candidates, n)
	}
	unknown := false
	for _, n := range candidates {
		account, known := s.accountOf(client, n, m.Account, now)
		if !known {
			unknown = true
			continue
		}
		if account == m.Account {
			return n, true, false
		}
	}
	if !unknown && now.Sub(m.CreatedAt) > s.privateWait {
		return "", false, true
	}
	return "", false, false
}

// accountOf is the account nick is logged in to now ("" for none) and
// whether that is known: from girc's tracking of the channels we share
// (kept current by account-notify and extended-join), else by asking the
// server (WHOX, or WHOIS where there is no WHOX), whose answer is trusted
// for whoFresh. s.mu is held.
func (s *sender) accountOf(client *girc.Client, nick, want string, now time.Time) (string, bool) {
	if u := client.LookupUser(nick); u != nil {
		a := u.Extras.Account
		if a == "*" || a == "0" {
			a = ""
		}
		return bot.FoldAccount(a), true
	}
	k := girc.ToRFC1459(nick)
	w, ok := s.who[k]
	if ok && !w.pending && now.Sub(w.at) < s.whoFresh {
		if w.account == want {
			// An answer serves one line: the next asks again.
			s.who[k] = whoSeen{account: w.account, at: w.at.Add(-s.whoFresh)}
		}
		return w.account, true
	}
	switch {
	case ok && w.pending && now.Sub(w.at) < whoRetry:
		return "", false // asked already
	case ok && !w.pending && w.account != want && now.Sub(w.at) < whoRetry:
		return "", false // not them a moment ago: no need to ask at once
	case s.tokens-float64(s.promised+len(s.control)) < min(2, s.burst):
		// Ask when the line can follow the answer at once: the question
		// and the line each take a token, and the lookups already asked
		// keep one each for their lines. Asking about everyone at once
		// spent the tokens on questions whose answers went stale before
		// their lines could go (one line in six seconds).
		return "", false
	}
	s.who[k] = whoSeen{pending: true, at: now}
	s.promised++
	if _, whox := client.GetServerOption("WHOX"); whox {
		s.control = append(s.control, "WHO "+nick+" %tna,"+whoToken)
	} else {
		s.control = append(s.control, "WHOIS "+nick)
	}
	s.wakeLocked()
	return "", false
}

// lookupsOutstanding counts the account lookups whose lines have not
// gone yet: asked and not answered, or answered and not used. s.mu is held.
func (s *sender) lookupsOutstanding(now time.Time) int {
	n := 0
	for _, w := range s.who {
		if (w.pending && now.Sub(w.at) < whoRetry) || (!w.pending && now.Sub(w.at) < s.whoFresh) {
			n++
		}
	}
	return n
}

// markDone marks the messages a line finished as sent, or, for a long
// message sent in parts, stores what is left of it. A line that went out
// is marked even while shutting down: unmarked, it would go out again
// after the restart.
func (s *sender) markDone(ctx context.Context, l plannedLine) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if l.rest != "" {
		return s.box.Do(ctx, func(tx *store.Tx) error {
			return tx.SetOutboxBody(l.ids[0], l.rest)
		})
	}
	return s.box.MarkSent(ctx, l.ids...)
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
	target  string
	text    string
	ids     []int64
	rest    string // what is left of a message too long for one line
	topic   bool   // set the channel's topic instead
	account string // the account a private line is bound to
	ctcp    string // a raw CTCP answer instead of an outbox line
}

// planLine plans the line for msgs[0]: normally that message as it is.
// When more lines wait than tokens are at hand, its target gets one line
// that coalesces every waiting acknowledgement to it that has a short form.
func planLine(msgs []store.Message, tokens float64, budget int) plannedLine {
	first := msgs[0]
	if first.Kind == store.TopicKind {
		head, _ := bot.SplitLine(first.Body, budget)
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
	head, rest := bot.SplitLine(first.Body, budget)
	l := plannedLine{target: first.Target, text: head, ids: []int64{first.ID}}
	if rest != "" {
		if first.Addressee != "" {
			rest = first.Addressee + ": " + rest
		}
		l.rest = rest
	}
	return l
}
