// Package bot is hallway's command language and its handlers, shared by
// every transport. The transports (package irc, package mail) turn what
// people send into Requests for HandleBatch and install a Replier that turns
// a Reply into outbox rows; bot imports none of them.
//
// # Commands
//
// A command line ("vote 7 3", "propose session \"Title\" -- abstract") is
// split by [Split], looked up in the table of [Spec]s, checked against the
// person's identity and role, and carried out in one store transaction
// together with its reply, which goes to the outbox. Help text and the
// README's command reference come from the same specs.
//
// # Identity
//
// A person is an Identity a network vouches for (an IRC services account,
// a Matrix user ID) or a confirmed mail address, never a nick or a display
// name. Organizers are the identities the config names, of any kind.
// Handlers ask what the transport can do (Capabilities), never which one it
// is.
package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hallwayhq/hallway/store"
)

// Transports a request can come from.
const (
	IRC  = store.IRC
	Mail = store.Mail
)

// Request is one command someone sent.
type Request struct {
	// Transport names the replier that answers (IRC, Mail, ...). Handlers
	// never look at it: they ask Who and Can.
	Transport string
	// Keys identify the message so it is carried out once: an IRC msgid;
	// for a mail its IMAP UIDVALIDITY/UID and its Message-ID. If any of them
	// was seen before, the message is not carried out again. Empty if the
	// transport has none.
	Keys []string
	// Who is the sender as the transport vouches for them: an IRC
	// services account, a Matrix user ID, or the address a mail came from
	// (which counts as the person only once confirmed). Zero if nobody
	// vouches (an IRC nick not logged in).
	Who Identity
	// Can is what the transport can do with the answer.
	Can Capabilities
	// RefersTo are the messages this one replies to (a mail's In-Reply-To
	// and References), to recognise replies to confirmation mails.
	RefersTo []string
	// Mail is the transport's own record of the message, for threading
	// the reply; the bot does not look inside.
	Mail any
	// Original is the message as it came (a mail's text, as much as is
	// kept), stored with the answer when its command fails, for the
	// organizers. Nil where the transport keeps nothing.
	Original []byte
	// Raw marks a line said in a channel that is not addressed to the bot:
	// it matters only where notes are being taken (or to #startmeeting).
	Raw bool
	// At is when the line was said (IRC server-time); zero means now.
	At time.Time
	// Resolve returns who a name said in the room is now: on IRC the
	// services account of a nick there, on Matrix the user ID itself
	// (never a display name, which anyone can take); zero if nobody. Nil
	// where the transport cannot tell.
	Resolve func(name string) Identity
	// Nick is the sender's nick, for addressing replies only.
	Nick string
	// Name is the sender's display name from a mail's From, for greetings.
	Name string
	// Where is the room the line was said in (an IRC channel); "" for a
	// private message or a mail.
	Where string
	// Text is the command line without the prefix.
	Text string
	// Event is the event's slug if the transport knows it.
	Event string
}

// Replier delivers a command's answer for one transport: it turns reply
// lines into outbox messages in the command's transaction.
type Replier interface {
	Reply(tx *store.Tx, req Request, r Reply) error
}

// Reply is what a command answers.
type Reply struct {
	Lines []string
	// Short is a compact acknowledgement ("#7 #3 ✓, 2 left") used when many
	// replies to one channel are coalesced into one line.
	Short string
	// Private answers go only to the person (a secret link), even when
	// the command was said in a channel.
	Private bool
	// Public marks an announcement for everyone in the channel it was said
	// in (a release): said there without addressee.
	Public bool
	// Link is the page that has the whole list: in a channel, a long
	// answer ends with it instead of a "more" only the asker could use.
	Link string
	// Failure marks the apology for a command that failed inside. It
	// never takes the place of the command's real answer: a transport
	// that tries the command again (mail) may leave it out.
	Failure bool
	// Key, if set, is the dedupe key of the answer's outbox rows (a chat
	// transport numbers it per row, "KEY:0", "KEY:1"): the answer goes out
	// once and can be found again (the answer to !forget is emptied once
	// sent).
	Key string
	// Ack acknowledges the line answered without a word, where the
	// transport can (a Matrix reaction with this key, e.g. "✅"); the
	// others leave it out.
	Ack string
}

func textReply(format string, args ...any) Reply {
	return Reply{Lines: []string{fmt.Sprintf(format, args...)}}
}

// Options configure a Bot. Nil means defaults.
type Options struct {
	// Prefix starts a command on IRC ("!").
	Prefix string
	// RequireAccount refuses commands that change anything from people not
	// logged in to services. When false (networks without services), such
	// people are known by nick, which anyone can take.
	RequireAccount bool
	// Rate limits commands per person; zero values mean defaults.
	RateBurst    int
	RateInterval time.Duration
	Logger       *slog.Logger
	Now          func() time.Time
	// SolveTime bounds the scheduler's search for a preview or a release.
	SolveTime time.Duration
	// SolveIterations, if set, bounds the search by moves instead, which
	// makes a release a function of its input alone.
	SolveIterations int64
	// Nick is the bot's IRC nick, for mails that point to IRC.
	Nick string
	// KeepMailTo are the addresses (the mailing list) whose mail the
	// retention purge keeps: the wrap-up stays.
	KeepMailTo []string
	// TestHook, if set, is called at named points of the work, for tests
	// that must crash the process at a precise moment: "release", when a
	// release is about to be made (its command, or the attempt after a
	// restart, committed). Nil in production. (The IRC sender's points
	// are irc.Options.TestHook's.)
	TestHook func(point string)
}

// Announcer posts an announcement to an event's mailing list, queued in
// the transaction that caused it. A post with a key already posted for the
// event is not posted again ("" means no such key); posted says whether
// this one was.
type Announcer interface {
	Announce(tx *store.Tx, event, key, subject, body string) (posted bool, err error)
}

// Bot carries out commands.
type Bot struct {
	store     *store.Store
	events    []*Event
	opts      Options
	log       *slog.Logger
	now       func() time.Time
	repliers  map[string]Replier
	pager     *pager
	limiter   *limiter
	announcer Announcer
	mailer    Mailer
	wakers    []func()
	meetings  meetings
	invited   channels // guarded by meetings.mu
	retention retention
	roomIDs   roomIDs
}

// OnQueued adds a function called after a command queued messages, so
// the senders look at the outbox at once instead of at their next poll.
func (b *Bot) OnQueued(wake func()) { b.wakers = append(b.wakers, wake) }

func (b *Bot) wake() {
	for _, w := range b.wakers {
		w()
	}
}

// SetAnnouncer sets where announcements to the mailing list go; without
// one they are only said on IRC.
func (b *Bot) SetAnnouncer(a Announcer) { b.announcer = a }

// New returns a bot for these events. It does no I/O: call Init before use.
func New(s *store.Store, events []*Event, opts *Options) *Bot {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Prefix == "" {
		o.Prefix = "!"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RateBurst == 0 {
		o.RateBurst = 8
	}
	if o.RateInterval == 0 {
		o.RateInterval = 2 * time.Second
	}
	if o.SolveTime == 0 {
		o.SolveTime = 5 * time.Second
	}
	if o.Nick == "" {
		o.Nick = "hallway"
	}
	b := &Bot{
		store:    s,
		events:   events,
		opts:     o,
		log:      o.Logger.With("component", "bot"),
		now:      o.Now,
		repliers: map[string]Replier{},
		pager:    newPager(),
		limiter:  newLimiter(o.RateBurst, o.RateInterval),
	}
	for _, e := range events {
		e.roomIDs = &b.roomIDs
	}
	return b
}

// Init records the events in the store and picks up the notes being
// taken when the bot stopped.
func (b *Bot) Init(ctx context.Context) error {
	return b.store.Do(ctx, func(tx *store.Tx) error {
		for _, e := range b.events {
			row, err := tx.EnsureEvent(e.Slug, e.Name)
			if err != nil {
				return err
			}
			e.id = row.ID
		}
		if err := b.loadChannels(tx); err != nil {
			return err
		}
		return b.loadMeetings(tx)
	})
}

// SetReplier installs the replier for a transport.
func (b *Bot) SetReplier(transport string, r Replier) { b.repliers[transport] = r }

// ChatReplier is a Replier of a chat transport that can say something
// privately to people of a kind of identity (IRC to IRC accounts), to
// tell organizers things nobody asked for.
type ChatReplier interface {
	Replier
	Reaches(kind IdentityKind) bool
}

// chatFor is the chat transport that reaches people of kind, if one is
// installed.
func (b *Bot) chatFor(kind IdentityKind) (string, Replier) {
	names := slices.Sorted(maps.Keys(b.repliers))
	for _, t := range names {
		if cr, ok := b.repliers[t].(ChatReplier); ok && cr.Reaches(kind) {
			return t, cr
		}
	}
	return "", nil
}

// Prefix is what starts a command in a chat room ("!").
func (b *Bot) Prefix() string { return b.opts.Prefix }

// Events returns the bot's events.
func (b *Bot) Events() []*Event { return b.events }

// eventFor picks the event a request is about: the one named, the one whose
// room (or a venue room's channel) it was said in, or the first.
func (b *Bot) eventFor(req Request) *Event {
	for _, e := range b.events {
		if req.Event != "" && e.Slug == req.Event {
			return e
		}
	}
	if req.Where != "" {
		for _, e := range b.events {
			for _, r := range e.rooms() {
				if e.isRoom(r, req.Transport, req.Where) {
					return e
				}
			}
		}
		if e := b.eventOfChannel(req.Where); e != nil {
			return e
		}
	}
	return b.events[0]
}

// call is one command being carried out.
type call struct {
	ctx    context.Context
	tx     *store.Tx
	bot    *Bot
	req    Request
	ev     *Event
	args   Args
	spec   *Spec
	person store.Person // zero unless the spec needs a person
	// organizer is true for the event's organizers.
	organizer bool
	// limited is how long the person must wait, if rate limited.
	limited time.Duration
	// later is slow work (the scheduler) to run after the transaction
	// commits; its reply is queued then.
	later func(ctx context.Context) (Reply, error)
	// rollbacks undo in-memory changes if the command's writes are undone.
	rollbacks []func()
	// alone is set when the command has its transaction to itself.
	alone bool
}

// failedAlone rolls back the transaction of a command that was alone in
// it and failed with a mistake the person can fix.
type failedAlone struct{ err *Error }

func (f *failedAlone) Error() string { return f.err.Msg }

// onRollback registers fn to run if what the command wrote is undone.
func (c *call) onRollback(fn func()) { c.rollbacks = append(c.rollbacks, fn) }

func (c *call) rolledBack() {
	for i := len(c.rollbacks) - 1; i >= 0; i-- {
		c.rollbacks[i]()
	}
	c.rollbacks = nil
}

// prefix is how commands are written in this transport's replies.
func (c *call) prefix() string {
	if !c.req.Can.Chat {
		return ""
	}
	return c.bot.opts.Prefix
}

// Handle carries out one command line and queues its reply. Errors the
// person can fix are replies, not errors; an error returned here is internal
// and has already been answered with "internal error" where possible.
func (b *Bot) Handle(ctx context.Context, req Request) error {
	return b.HandleBatch(ctx, []Request{req})
}

// HandleBatch carries out several command lines in one transaction, each
// in its own savepoint, in order: under load the IRC transport hands over
// whatever has queued up, so one commit serves many commands. If the
// batch fails as a whole, each command is retried alone, so one bad
// command cannot take the others down.
func (b *Bot) HandleBatch(ctx context.Context, reqs []Request) error {
	calls := make([]*call, 0, len(reqs))
	for _, req := range reqs {
		if _, ok := b.repliers[req.Transport]; !ok {
			return fmt.Errorf("no replier for transport %q", req.Transport)
		}
		req.Name = cleanLine(req.Name) // a mail's display name, said back in greetings
		c := &call{ctx: ctx, bot: b, req: req, ev: b.eventFor(req)}
		// An address organizes only once confirmed (run checks it).
		c.organizer = req.Who.Kind != Address && c.ev.isOrganizer(req.Who)
		if req.Raw {
			// What people say in a channel is not a command to limit.
			calls = append(calls, c)
			continue
		}
		if wait, first := b.limiter.allow(c.who(), b.now()); wait > 0 {
			if !first {
				continue // told once already; stay quiet
			}
			c.limited = wait
		}
		calls = append(calls, c)
	}
	if len(calls) == 0 {
		return nil
	}
	calls[0].alone = len(calls) == 1
	err := b.store.Do(ctx, func(tx *store.Tx) error {
		if err := readAhead(tx, calls); err != nil {
			return err
		}
		for _, c := range calls {
			if err := b.carryOut(tx, c); err != nil {
				return err
			}
		}
		return nil
	})
	var failed *failedAlone
	if errors.As(err, &failed) {
		// The command's writes are undone; record it and its answer.
		c := calls[0]
		err = b.store.Do(ctx, func(tx *store.Tx) error {
			c.tx = tx
			for _, key := range c.req.Keys {
				if _, err := tx.MarkReceived(store.Received{Channel: c.req.Transport, Key: key, Sender: c.who()}); err != nil {
					return err
				}
			}
			if err := c.keepFailed(tx, failed.err); err != nil {
				return err
			}
			return b.reply(tx, c, Reply{Lines: failed.err.lines()})
		})
	}
	if err == nil {
		b.wake()
		b.runLater(ctx, calls)
		return nil
	}
	for _, c := range calls {
		c.rolledBack()
	}
	if len(calls) == 1 {
		return b.internalError(ctx, calls[0], err)
	}
	var first error
	for _, c := range calls {
		err := b.store.Do(ctx, func(tx *store.Tx) error { return b.carryOut(tx, c) })
		if err != nil {
			first = cmp.Or(first, b.internalError(ctx, c, err))
			continue
		}
		b.runLater(ctx, []*call{c})
	}
	return first
}

// readAhead reads for a batch, in one go per event, what nearly every
// command asks for: the people its commands come from, their votes, the
// phases, the proposals the commands name. On PostgreSQL each read is a
// round trip; these go as one, with the transaction's BEGIN.
func readAhead(tx *store.Tx, calls []*call) error {
	byEvent := map[int64]*store.Ahead{}
	var order []int64
	for _, c := range calls {
		if c.ev == nil || c.req.Raw {
			continue
		}
		a := byEvent[c.ev.id]
		if a == nil {
			a = &store.Ahead{Event: c.ev.id, Phases: phaseNames}
			byEvent[c.ev.id] = a
			order = append(order, c.ev.id)
		}
		if c.req.Who.Kind == IRCAccount && !slices.Contains(a.Accounts, c.req.Who.Value) {
			a.Accounts = append(a.Accounts, c.req.Who.Value)
		}
		a.Numbers = appendNumbers(a.Numbers, c.req.Text)
		a.Keys = append(a.Keys, c.req.Keys...)
	}
	for _, ev := range order {
		if err := tx.ReadAhead(*byEvent[ev]); err != nil {
			return err
		}
	}
	return nil
}

// appendNumbers adds to numbers the proposal numbers a command line may
// name ("vote 3 #5"), the first few; a wrong guess costs nothing but a
// row read.
func appendNumbers(numbers []int64, line string) []int64 {
	for i, word := range strings.Fields(line) {
		if i > 16 {
			break
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimRight(word, ",.;"), "#"), 10, 64)
		if err == nil && n > 0 && !slices.Contains(numbers, n) {
			numbers = append(numbers, n)
		}
	}
	return numbers
}

// runLater does the slow part of commands that have one, each replying
// when done.
func (b *Bot) runLater(ctx context.Context, calls []*call) {
	for _, c := range calls {
		if c.later == nil {
			continue
		}
		reply, err := c.later(ctx)
		var uerr *Error
		if errors.As(err, &uerr) {
			reply, err = Reply{Lines: uerr.lines()}, nil
		}
		if err != nil {
			b.internalError(ctx, c, err)
			continue
		}
		if len(reply.Lines) == 0 {
			continue // answered in its own transaction
		}
		if err := b.store.Do(ctx, func(tx *store.Tx) error {
			return b.reply(tx, c, reply)
		}); err != nil {
			b.log.Error("reply failed", "err", err)
		}
		b.wake()
	}
}

// who keys the rate limit: the identity, else the nick.
func (c *call) who() string {
	switch {
	case c.req.Who.Kind == IRCAccount:
		return c.req.Who.Value
	case !c.req.Who.IsZero():
		return c.req.Who.String()
	}
	return "nick:" + strings.ToLower(c.req.Nick)
}

// keepFailed records, with the message received, the answer to a
// command that failed and the message as it came, where the transport
// keeps it (a mail): what organizers look through for bad mail.
func (c *call) keepFailed(tx *store.Tx, uerr *Error) error {
	if c.req.Original == nil || len(c.req.Keys) == 0 {
		return nil
	}
	return tx.NoteOutcome(c.req.Keys[0], "failed: "+uerr.Msg, string(c.req.Original))
}

// carryOut runs one command in tx and queues its reply.
func (b *Bot) carryOut(tx *store.Tx, c *call) error {
	c.tx = tx
	rep := b.repliers[c.req.Transport]
	if c.limited == 0 && !c.req.Raw {
		// Answers charged since this command was let in (earlier ones of
		// the same person in this batch) may have used up the allowance.
		if wait, first := b.limiter.overdrawn(c.who(), b.now()); wait > 0 {
			if !first {
				return nil
			}
			c.limited = wait
		}
	}
	if c.limited > 0 {
		return rep.Reply(tx, c.req, textReply("slow down: too many commands. Try again in %d s.", int(c.limited.Seconds()+0.999)))
	}
	for _, key := range c.req.Keys {
		first, err := tx.MarkReceived(store.Received{Channel: c.req.Transport, Key: key, Sender: c.who()})
		if err != nil {
			return err
		}
		if !first {
			// The keys recorded before this one stay: that copy of the
			// message is processed too, without repeating the effect.
			b.log.Debug("duplicate message ignored", "key", key)
			return nil
		}
	}
	var reply Reply
	do := func() error {
		var err error
		if c.req.Raw {
			reply, err = b.handleLine(c)
		} else {
			reply, err = b.run(c)
		}
		return err
	}
	var err error
	if c.alone {
		// Alone in its transaction, a command needs no savepoint: if it
		// fails, the whole transaction rolls back and answerAlone records
		// the answer in a fresh one. Two statements fewer on every vote.
		err = do()
		var uerr *Error
		if errors.As(err, &uerr) {
			c.rolledBack()
			return &failedAlone{uerr}
		}
	} else {
		err = tx.Savepoint(do)
	}
	if err != nil {
		c.rolledBack()
	}
	var uerr *Error
	if errors.As(err, &uerr) {
		reply = Reply{Lines: uerr.lines()}
		if err := c.keepFailed(tx, uerr); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if len(reply.Lines) == 0 && reply.Ack == "" {
		return nil // the answer comes after the slow part
	}
	return b.reply(tx, c, reply)
}

// reply pages r and queues it, charging the person's rate limit by the
// IRC lines it takes: one person's long answers are their allowance, not
// everyone's.
func (b *Bot) reply(tx *store.Tx, c *call, r Reply) error {
	r = b.pager.page(c.req, r, c.prefix())
	// Organizers, trusted by the config, are not charged: `!accept 3 7
	// 8` answers a line for each number, and the door checks in a queue.
	if c.req.Can.Chat && !c.req.Raw && !c.organizer {
		extra := len(r.Lines) - 1
		if r.Private && c.req.Where != "" {
			extra++ // "sent you a private message"
		}
		b.limiter.charge(c.who(), extra, b.now())
	}
	return b.repliers[c.req.Transport].Reply(tx, c.req, r)
}

// internalError logs a failed command, tells the person, and returns
// the error as a *CommandError: logged once, here.
func (b *Bot) internalError(ctx context.Context, c *call, err error) error {
	b.log.Error("command failed", "err", err, "text", confidentialText(c.req.Text), "who", c.req.Who.String(), "nick", c.req.Nick)
	apology := textReply("internal error, sorry: it is logged for the organizers. Please try again later.")
	if errors.Is(err, store.ErrUnwritable) {
		apology = textReply("hallway can't save right now, try again in a few minutes.")
	}
	apology.Failure = true
	rep := b.repliers[c.req.Transport]
	if rerr := b.store.Do(ctx, func(tx *store.Tx) error {
		return rep.Reply(tx, c.req, apology)
	}); rerr != nil {
		// The outbox cannot take it either: say it at once where the
		// transport can (IRC); a mail stays in the mailbox to be
		// carried out when the disk frees up.
		if now, ok := rep.(nowReplier); ok && errors.Is(rerr, store.ErrUnwritable) && !c.req.Raw {
			now.ReplyNow(c.req, apology)
			return &CommandError{Err: err}
		}
		b.log.Error("reply failed", "err", rerr)
	}
	return &CommandError{Err: err}
}

// nowReplier is a Replier that can also answer at once, without the
// outbox: for the apology when the outbox cannot be written. Such an
// answer is not kept, and is lost if the transport is down.
type nowReplier interface {
	ReplyNow(req Request, r Reply)
}

// run parses and carries out a command inside the transaction.
func (b *Bot) run(c *call) (Reply, error) {
	if r, ok, err := c.runConfidential(); ok {
		return r, err
	}
	args, err := Split(c.req.Text)
	if err != nil {
		return Reply{}, err
	}
	note, err := checkArgs(&args, !c.req.Can.Chat)
	if err != nil {
		return Reply{}, err
	}
	if len(args.Words) == 0 {
		return Reply{}, userErr(fmt.Sprintf("say %shelp for the commands.", c.prefix()))
	}
	name := strings.ToLower(args.Words[0])
	spec := lookup(name)
	if spec == nil {
		msg := fmt.Sprintf("there is no command %q.", args.Words[0])
		if s := suggest(name); s != "" {
			msg += fmt.Sprintf(" Did you mean %s%s?", c.prefix(), s)
		}
		return Reply{}, userErr(msg + fmt.Sprintf(" Say %shelp for the list.", c.prefix()))
	}
	c.spec = spec
	args.shift(1)
	c.args = args
	// A reply to a confirmation mail confirms, whatever its subject says.
	// "not me" to it refuses it; either way the code is the mail's.
	if (spec == registerSpec || spec == confirmSpec || spec == notMeSpec) && len(args.Words) == 0 {
		for _, ref := range c.req.RefersTo {
			if m := confirmRefRe.FindStringSubmatch(ref); m != nil {
				if spec == registerSpec {
					spec = confirmSpec
				}
				c.spec, c.args = spec, Args{Words: []string{strings.ToUpper(m[1])}, Quoted: []bool{false}}
				break
			}
		}
	}
	if !c.organizer && c.req.Who.Kind == Address && c.ev.isOrganizer(c.req.Who) {
		id, err := c.tx.IdentityOf(store.Email, c.req.Who.Value)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return Reply{}, err
		}
		c.organizer = !id.ConfirmedAt.IsZero()
	}
	if spec.Organizer && !c.organizer {
		if c.req.Who.IsZero() && c.req.Can.Chat {
			return Reply{}, userErr(fmt.Sprintf("%s%s is for organizers, and you are not logged in to services: identify with NickServ first.", c.prefix(), spec.Name))
		}
		return Reply{}, userErr(fmt.Sprintf("%s%s is for the organizers of %s.", c.prefix(), spec.Name, c.ev.Name))
	}
	if spec.Person || spec.Organizer {
		if err := c.identify(); err != nil {
			return Reply{}, err
		}
	}
	reply, err := spec.Run(c)
	if err == nil && note != "" && len(reply.Lines) > 0 {
		reply.Lines[0] += " " + note
	}
	return reply, err
}

// identify finds (or creates) the person behind the request.
func (c *call) identify() error {
	var kind store.IdentityKind
	var value, name string
	switch {
	case c.req.Who.Kind == Address:
		id, err := c.tx.IdentityOf(store.Email, c.req.Who.Value)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if id.ConfirmedAt.IsZero() && !c.spec.Unconfirmed {
			return userErr(fmt.Sprintf("your address is not confirmed yet. Send \"register\" and reply to the confirmation mail first: %s count only for confirmed addresses.", c.spec.countsWhat()))
		}
		// The name in the mail's From is the name the person gave.
		kind, value, name = store.Email, c.req.Who.Value, c.req.Name
	case !c.req.Who.IsZero():
		kind, value, name = c.req.Who.Kind, c.req.Who.Value, c.req.Who.Value
	case !c.bot.opts.RequireAccount && c.req.Nick != "":
		// Networks without services: the nick is all there is.
		kind, value, name = store.IRCAccount, "nick:"+FoldAccount(c.req.Nick), c.req.Nick
	default:
		return userErr(fmt.Sprintf("please log in to services (NickServ) first: %s count per account, not per nick.", c.spec.countsWhat()))
	}
	p, err := c.tx.PersonByIdentity(kind, value, name)
	if err != nil {
		return err
	}
	if kind == store.Email && p.DisplayName == "" && name != "" {
		if err := c.tx.NameIfNone(p.ID, name); err != nil {
			return err
		}
		p.DisplayName = name
	}
	c.person = p
	return nil
}
