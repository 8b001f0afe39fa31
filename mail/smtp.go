package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/hallwayhq/hallway/store"
)

// Connection security for SenderOptions.Security.
const (
	// SecurityNone is plain SMTP: allowed only to a loopback host.
	SecurityNone = "none"
	// SecuritySTARTTLS upgrades with STARTTLS (RFC 3207) and refuses a
	// server that does not offer it.
	SecuritySTARTTLS = "starttls"
	// SecurityTLS is implicit TLS from the first byte (RFC 8314, port 465).
	SecurityTLS = "tls"
)

// SenderOptions configure a Sender. Zero fields take the defaults given.
type SenderOptions struct {
	// Addr is the submission server's host:port.
	Addr string
	// Security is SecurityNone, SecuritySTARTTLS (the default) or
	// SecurityTLS.
	Security string
	// TLSConfig, if set, is used for TLS; its ServerName defaults to
	// Addr's host.
	TLSConfig *tls.Config
	// Username and Password, if Username is set, log in with AUTH PLAIN
	// (RFC 4616), which the connection's security rules keep off an
	// unencrypted link to another host.
	Username, Password string
	// From is the envelope sender (MAIL FROM), where bounces go.
	From string
	// HelloName is the name given in EHLO; default "localhost".
	HelloName string

	// RatePerAddress is how many mails one address gets per RatePeriod;
	// more wait their turn in the outbox. Default 10; negative means no
	// limit.
	RatePerAddress int
	// RatePeriod is the rate limit's window; default one hour.
	RatePeriod time.Duration

	// RetryBase and RetryMax bound the exponential backoff after a
	// temporary failure: about RetryBase after the first attempt, doubling
	// up to RetryMax, with jitter. Defaults one minute and four hours.
	RetryBase, RetryMax time.Duration
	// GiveUpAfter is how old a message may get while it keeps failing
	// temporarily before it is given up, as an MTA's queue lifetime.
	// Default three days.
	GiveUpAfter time.Duration

	// PollInterval is how often the outbox is looked at without a Wake;
	// default 30 s. Batch is how many messages are read at a time;
	// default 50. Timeout bounds connecting and each SMTP command;
	// default one minute.
	PollInterval time.Duration
	Batch        int
	Timeout      time.Duration

	// Connections is how many SMTP connections send at once; default
	// DefaultConnections. Mail to one address always goes over the same
	// one, in outbox order. A server that limits connections per client
	// needs this at or below its limit.
	Connections int

	// Journal is the path of the sent-mail journal (see sentLog), kept
	// beside the database. Empty means none: a crash between the
	// server's 250 and the store marking the mail sent then sends that
	// mail again more often.
	Journal string

	// Undelivered, if set, is called for each message given up, after it
	// is marked so: a refused recipient (5xx) or one still failing after
	// GiveUpAfter.
	Undelivered func(ctx context.Context, m store.Message, cause error)

	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger gets the sender's log, under component=mail; default none.
	Logger *slog.Logger
}

// outbox is what the Sender needs of the store.
type outbox interface {
	Pending(ctx context.Context, channel string, after int64, limit int) ([]store.Message, error)
	ClaimOutbox(ctx context.Context, ids ...int64) ([]int64, error)
	MarkSent(ctx context.Context, ids ...int64) error
	MarkFailed(ctx context.Context, id int64, cause error, retryAt time.Time) error
}

// giveUpAt is the retry time of a message given up: the outbox never sees
// it as due again. Its last error starts with "gave up: ".
var giveUpAt = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Sender drains the mail outbox through SMTP. Each outbox message's Body is
// a whole RFC 5322 message (see Compose), its Target the envelope
// recipient.
//
// # Failures
//
// A 4xx reply or a network error during a message is temporary: the
// message is retried with exponential backoff and jitter (MarkFailed with
// a retry time) until it is older than GiveUpAfter. A 5xx reply is
// permanent: the message is given up at once. A message given up is
// marked failed with an error starting "gave up: " and a retry time in the
// year 9999, so it stays in the outbox for organizers to see but is never
// due again.
//
// Failing to connect, to start TLS or to log in is not a message's fault:
// no message is marked, the Sender logs it and tries again later with
// backoff.
//
// # Connections
//
// Mail goes out over up to Connections connections at once, each a lane
// of its own: a message's lane is chosen by its recipient address, so
// every message is handed to exactly one lane, one address's mail leaves
// in outbox order, and its rate window lives in one goroutine. A lane
// marks each message sent on its own right after the server's 250. A
// lane's connection serves many messages, and a fresh one is dialled
// after maxPerConnection; every connection is closed when the outbox is
// empty. After a delivered message the next MAIL FROM follows directly,
// as RFC 5321 section 3.3 allows. After a refused one the connection is
// replaced rather than cleared with RSET: go-smtp v0.25's Reset repeats
// EHLO before the next command, which OpenSMTPD answers with "503 Invalid
// command: Already identified". A connection that dropped while idle is
// redialled and the message tried again once at once.
//
// # Rate limit
//
// An address gets at most RatePerAddress mails per RatePeriod. A mail over
// the limit is deferred (MarkFailed with the time a slot frees up, which
// counts as an attempt), never dropped. The window is kept in memory, so
// a restart forgets it.
type Sender struct {
	box    outbox
	opts   SenderOptions
	tls    *tls.Config
	log    *slog.Logger
	wakeCh chan struct{}
	jitter func() float64 // in [0, 1); safe for concurrent use
	lanes  []*lane

	// journal is open while Run runs with a Journal; markFailed says a
	// mail in it may not be marked sent in the store, so the next fold
	// marks what it holds before emptying it.
	journal    *sentLog
	markFailed atomic.Bool
}

// lane is one of the Sender's connections with the addresses it serves
// (see laneOf). It belongs to the Run goroutine, and during a drain to
// the lane's own goroutine.
type lane struct {
	client *smtp.Client
	stop   func() bool // undoes the context.AfterFunc closing the connection
	sent   int         // messages sent over client
	rate   *rateLimiter
}

// DefaultConnections is how many SMTP connections a Sender uses at once
// unless told otherwise.
const DefaultConnections = 4

// maxPerConnection is how many messages go over one SMTP connection
// before a fresh one: servers cap a session (OpenSMTPD refuses the 101st
// with 452), and a refusal there is no fault of the message.
const maxPerConnection = 50

// NewSender checks opts and returns a Sender for box (a *store.Store). It
// does no I/O. Security "none" to a host that is not loopback is refused,
// as is a login without a password.
func NewSender(box outbox, opts *SenderOptions) (*Sender, error) {
	var o SenderOptions
	if opts != nil {
		o = *opts
	}
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("mail: SMTP address %q: %w", o.Addr, err)
	}
	switch o.Security {
	case "":
		o.Security = SecuritySTARTTLS
	case SecurityNone:
		if !isLoopback(host) {
			return nil, fmt.Errorf("mail: SMTP security %q to %s refused: unencrypted SMTP is only allowed to a loopback host (use %q or %q)",
				SecurityNone, host, SecuritySTARTTLS, SecurityTLS)
		}
	case SecuritySTARTTLS, SecurityTLS:
	default:
		return nil, fmt.Errorf("mail: SMTP security %q: want %q, %q or %q", o.Security, SecurityNone, SecuritySTARTTLS, SecurityTLS)
	}
	if o.Username != "" && o.Password == "" {
		return nil, errors.New("mail: SMTP username set without a password")
	}
	if _, err := validAddress(o.From); err != nil {
		return nil, fmt.Errorf("mail: envelope sender: %w", err)
	}
	if o.HelloName == "" {
		o.HelloName = "localhost"
	}
	if o.RatePerAddress == 0 {
		o.RatePerAddress = 10
	}
	o.RatePeriod = orDefault(o.RatePeriod, time.Hour)
	o.RetryBase = orDefault(o.RetryBase, time.Minute)
	o.RetryMax = orDefault(o.RetryMax, 4*time.Hour)
	o.GiveUpAfter = orDefault(o.GiveUpAfter, 72*time.Hour)
	o.PollInterval = orDefault(o.PollInterval, 30*time.Second)
	o.Timeout = orDefault(o.Timeout, time.Minute)
	if o.Batch <= 0 {
		o.Batch = 50
	}
	if o.Connections <= 0 {
		o.Connections = DefaultConnections
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := &tls.Config{}
	if o.TLSConfig != nil {
		cfg = o.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	lanes := make([]*lane, o.Connections)
	for i := range lanes {
		lanes[i] = &lane{rate: newRateLimiter(o.RatePerAddress, o.RatePeriod)}
	}
	return &Sender{
		box:    box,
		opts:   o,
		tls:    cfg,
		log:    log.With("component", "mail"),
		wakeCh: make(chan struct{}, 1),
		jitter: rand.Float64,
		lanes:  lanes,
	}, nil
}

// laneOf is the lane for mail to target: the same for every spelling
// case of an address.
func (s *Sender) laneOf(target string) *lane {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(target)))
	return s.lanes[h.Sum32()%uint32(len(s.lanes))]
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validAddress checks an envelope address: addr-spec only, no line breaks.
func validAddress(a string) (string, error) {
	if a == "" || strings.ContainsAny(a, "\r\n<> \t") || !strings.Contains(a, "@") {
		return "", fmt.Errorf("invalid address %q", a)
	}
	return a, nil
}

// Wake tells the Sender the outbox has new mail. It never blocks.
func (s *Sender) Wake() {
	select {
	case s.wakeCh <- struct{}{}:
	default:
	}
}

// Run sends outbox mail until ctx is done, then returns nil. Only one Run
// may be going at a time.
func (s *Sender) Run(ctx context.Context) error {
	defer s.hangUp()
	if s.opts.Journal != "" {
		if err := s.openJournal(ctx); err != nil {
			return err
		}
		defer func() {
			s.journal.Close()
			s.journal = nil
		}()
	}
	failures := 0 // connection failures in a row
	for {
		wait := s.opts.PollInterval
		if err := s.drain(ctx); err != nil && ctx.Err() == nil {
			failures++
			wait = retryDelay(failures-1, s.opts.RetryBase/4, s.opts.RetryMax, s.jitter())
			s.log.Error("cannot reach the SMTP server", "addr", s.opts.Addr, "retry_in", wait, "err", err)
		} else {
			failures = 0
		}
		// The lanes are idle: every mail in the journal is marked sent
		// in the store, unless a mark failed; then the marks are tried
		// again from the journal.
		if s.journal != nil {
			if err := s.foldJournal(ctx); err != nil {
				s.log.Error("folding the sent-mail journal", "err", err)
			}
		}
		s.hangUp()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.wakeCh:
			if failures > 0 {
				// Keep the backoff: a wake-up does not fix the server.
				select {
				case <-ctx.Done():
					t.Stop()
					return nil
				case <-t.C:
				}
			}
		case <-t.C:
		}
		t.Stop()
	}
}

// openJournal opens the sent-mail journal and folds it: mail the server
// took before the last process died, maybe before the store heard of it,
// is marked sent before anything is sent.
func (s *Sender) openJournal(ctx context.Context) error {
	j, err := openSentLog(s.opts.Journal)
	if err != nil {
		return err
	}
	s.journal = j
	s.markFailed.Store(true) // what the file holds is not marked yet
	if err := s.foldJournal(ctx); err != nil {
		j.Close()
		s.journal = nil
		return err
	}
	return nil
}

// foldJournal empties the journal, first marking sent in the store what
// it holds if a mark may be missing there. No lane may be sending.
func (s *Sender) foldJournal(ctx context.Context) error {
	if s.markFailed.Load() {
		ids, err := s.journal.ids()
		if err != nil {
			return fmt.Errorf("reading the sent-mail journal %s: %w", s.opts.Journal, err)
		}
		if len(ids) > 0 {
			if err := s.box.MarkSent(ctx, ids...); err != nil {
				return fmt.Errorf("marking sent the mail in the journal %s: %w", s.opts.Journal, err)
			}
			s.log.Info("mail the SMTP server took marked sent from the journal", "count", len(ids))
		}
		s.markFailed.Store(false)
	}
	if err := s.journal.reset(); err != nil {
		return fmt.Errorf("emptying the sent-mail journal: %w", err)
	}
	return nil
}

// connError is a failure to connect, start TLS or log in.
type connError struct{ err error }

func (e *connError) Error() string { return e.err.Error() }
func (e *connError) Unwrap() error { return e.err }

// drain sends every message due now, once each, over the lanes. It reads
// the outbox in id order, past the last message handed out, and gives
// each message to its lane's goroutine, so no message goes to two lanes;
// it returns once every lane is idle and the outbox has nothing more due.
// It returns a *connError if the server cannot be reached (the messages
// not yet tried stay due); message failures are handled per message.
func (s *Sender) drain(ctx context.Context) error {
	var (
		lanes    sync.WaitGroup        // the lanes' goroutines
		inFlight sync.WaitGroup        // messages handed to a lane and not done
		abort    = make(chan struct{}) // closed at the first connection failure
		once     sync.Once
		connErr  error
	)
	aborted := func() bool {
		select {
		case <-abort:
			return true
		default:
			return false
		}
	}
	queues := make(map[*lane]chan store.Message, len(s.lanes))
	for _, l := range s.lanes {
		q := make(chan store.Message, s.opts.Batch)
		queues[l] = q
		lanes.Add(1)
		go func() {
			defer lanes.Done()
			n := 0
			for m := range q {
				// After a connection failure the rest stay due.
				if !aborted() && ctx.Err() == nil {
					if err := s.handle(ctx, l, m); err != nil {
						once.Do(func() { connErr = err; close(abort) })
					}
				}
				inFlight.Done()
				if n++; n%s.opts.Batch == 0 {
					l.rate.sweep(s.opts.Now())
				}
			}
			l.rate.sweep(s.opts.Now())
		}()
	}
	var after int64
	handedOut := 0 // since the outbox was last found empty
read:
	for ctx.Err() == nil && !aborted() {
		msgs, err := s.box.Pending(ctx, store.Mail, after, s.opts.Batch)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("reading the mail outbox", "err", err)
			}
			break
		}
		if len(msgs) > 0 {
			// Past what is read, claimed or not: a row not claimed
			// was sent meanwhile.
			last := msgs[len(msgs)-1].ID
			if msgs, err = s.claim(ctx, msgs); err != nil {
				break
			}
			if len(msgs) == 0 {
				after = last
				continue
			}
		}
		if len(msgs) == 0 {
			if handedOut == 0 {
				break
			}
			// Let the lanes finish, then look again: mail queued
			// meanwhile goes out over the connections still open.
			inFlight.Wait()
			handedOut = 0
			continue
		}
		for _, m := range msgs {
			after = m.ID
			inFlight.Add(1)
			select {
			case queues[s.laneOf(m.Target)] <- m:
				handedOut++
			case <-abort:
				inFlight.Done()
				break read
			case <-ctx.Done():
				inFlight.Done()
				break read
			}
		}
	}
	for _, q := range queues {
		close(q)
	}
	lanes.Wait()
	return connErr
}

// claim claims msgs for sending and returns those claimed. Under a
// leader's context the store refuses a deposed leader's term: then
// nothing is sent, and the error returned ends the drain.
func (s *Sender) claim(ctx context.Context, msgs []store.Message) ([]store.Message, error) {
	if len(msgs) == 0 {
		return msgs, nil
	}
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	claimed, err := s.box.ClaimOutbox(ctx, ids...)
	if err != nil {
		if errors.Is(err, store.ErrDeposed) {
			s.log.Warn("not sending mail: this instance is no longer the leader", "err", err)
		} else if ctx.Err() == nil {
			s.log.Error("claiming mail to send", "err", err)
		}
		return nil, err
	}
	if len(claimed) == len(msgs) {
		return msgs, nil
	}
	out := msgs[:0]
	for _, m := range msgs {
		if slices.Contains(claimed, m.ID) {
			out = append(out, m)
		}
	}
	return out, nil
}

// handle sends one message over lane l and records the outcome. It
// returns only connection errors.
func (s *Sender) handle(ctx context.Context, l *lane, m store.Message) error {
	now := s.opts.Now()
	rcpt, err := validAddress(m.Target)
	if err != nil {
		return s.giveUp(ctx, m, err)
	}
	key := strings.ToLower(rcpt)
	if ok, next := l.rate.allow(key, now); !ok {
		s.log.Info("mail deferred by the rate limit", "id", m.ID, "to", rcpt, "until", next)
		s.mark(ctx, m.ID, &RateLimitError{Addr: rcpt, Until: next}, next)
		return nil
	}
	err = s.deliver(ctx, l, rcpt, m.Body)
	var ce *connError
	switch {
	case err == nil:
		// First the journal, a few microseconds after the 250; the
		// store's transaction may wait for the write lock.
		if s.journal != nil {
			if err := s.journal.record(m.ID); err != nil {
				s.log.Error("writing the sent-mail journal", "id", m.ID, "err", err)
			}
		}
		l.rate.record(key, now)
		if err := s.box.MarkSent(ctx, m.ID); err != nil {
			s.markFailed.Store(true)
			s.log.Error("marking mail sent", "id", m.ID, "err", err)
		}
		s.log.Info("mail sent", "id", m.ID, "to", rcpt)
		return nil
	case errors.As(err, &ce):
		return err
	case ctx.Err() != nil:
		return nil // cancelled mid-send: the message stays due
	case IsPermanent(err):
		return s.giveUp(ctx, m, err)
	case now.Sub(m.CreatedAt) > s.opts.GiveUpAfter:
		return s.giveUp(ctx, m, fmt.Errorf("still failing after %v: %w", s.opts.GiveUpAfter, err))
	}
	retry := now.Add(retryDelay(m.Attempts, s.opts.RetryBase, s.opts.RetryMax, s.jitter()))
	s.log.Warn("mail failed, will retry", "id", m.ID, "to", rcpt, "attempt", m.Attempts+1, "retry_at", retry, "err", err)
	s.mark(ctx, m.ID, err, retry)
	return nil
}

func (s *Sender) giveUp(ctx context.Context, m store.Message, err error) error {
	s.log.Warn("mail given up", "id", m.ID, "to", m.Target, "err", err)
	s.mark(ctx, m.ID, fmt.Errorf("gave up: %w", err), giveUpAt)
	if s.opts.Undelivered != nil {
		s.opts.Undelivered(ctx, m, err)
	}
	return nil
}

func (s *Sender) mark(ctx context.Context, id int64, cause error, retryAt time.Time) {
	if err := s.box.MarkFailed(ctx, id, cause, retryAt); err != nil {
		s.log.Error("marking mail failed", "id", id, "err", err)
	}
}

// RateLimitError is the cause recorded for a mail deferred by the
// per-address rate limit.
type RateLimitError struct {
	Addr  string
	Until time.Time
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("rate limit for %s: deferred until %s", e.Addr, e.Until.UTC().Format(time.RFC3339))
}

// IsPermanent tells whether a send error will not go away by itself: an
// SMTP 5xx reply (RFC 5321 section 4.2.1), except 503 "bad sequence of
// commands", which is the session's fault, not the message's.
func IsPermanent(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se) && se.Code >= 500 && se.Code < 600 && se.Code != 503
}

// deliver sends one message over lane l's connection, or a new one. A
// reused connection that turns out dead, or out of step (421, 503), is
// replaced and the message tried once more.
func (s *Sender) deliver(ctx context.Context, l *lane, rcpt, body string) error {
	if l.client != nil && l.sent >= maxPerConnection {
		l.hangUp()
	}
	for try := 0; ; try++ {
		fresh := l.client == nil
		if fresh {
			if err := s.connect(ctx, l); err != nil {
				return &connError{err}
			}
		}
		err := l.client.SendMail(s.opts.From, []string{rcpt}, strings.NewReader(body))
		if err == nil {
			l.sent++
			return nil
		}
		// The transaction may be left half open. go-smtp's Reset (RSET)
		// makes the next command repeat EHLO, which OpenSMTPD refuses
		// ("503 Already identified"), so start afresh instead.
		l.hangUp()
		var se *smtp.SMTPError
		// On a reused connection a 4xx may be the session's limit, not
		// the message's: one more try on a fresh connection tells.
		if errors.As(err, &se) && se.Code != 421 && se.Code != 503 && !(se.Code/100 == 4 && !fresh) {
			return err // the server's answer to this message
		}
		if fresh || try > 0 {
			return err
		}
		s.log.Debug("SMTP connection dropped, reconnecting", "err", err)
	}
}

// connect dials the server for lane l, secures the connection as
// configured, says EHLO and logs in.
func (s *Sender) connect(ctx context.Context, l *lane) error {
	cctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	d := &net.Dialer{}
	conn, err := d.DialContext(cctx, "tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("dial %s: %w", s.opts.Addr, err)
	}
	// go-smtp takes no context: closing the connection cancels it.
	stopConnect := context.AfterFunc(cctx, func() { conn.Close() })
	defer stopConnect()

	var c *smtp.Client
	switch s.opts.Security {
	case SecurityTLS:
		tc := tls.Client(conn, s.tls)
		if err := tc.HandshakeContext(cctx); err != nil {
			conn.Close()
			return fmt.Errorf("TLS with %s: %w", s.opts.Addr, err)
		}
		c = smtp.NewClient(tc)
	case SecuritySTARTTLS:
		c, err = smtp.NewClientStartTLS(conn, s.tls)
		if err != nil {
			conn.Close()
			return fmt.Errorf("STARTTLS with %s: %w", s.opts.Addr, err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout = s.opts.Timeout
	c.SubmissionTimeout = 2 * s.opts.Timeout
	if err := c.Hello(s.opts.HelloName); err != nil {
		c.Close()
		return fmt.Errorf("EHLO to %s: %w", s.opts.Addr, err)
	}
	if s.opts.Username != "" {
		if ok := c.SupportsAuth(sasl.Plain); !ok {
			c.Close()
			return fmt.Errorf("SMTP server %s does not offer AUTH PLAIN", s.opts.Addr)
		}
		if err := c.Auth(sasl.NewPlainClient("", s.opts.Username, s.opts.Password)); err != nil {
			c.Close()
			return fmt.Errorf("SMTP login to %s as %s: %w", s.opts.Addr, s.opts.Username, err)
		}
	}
	if !stopConnect() {
		c.Close()
		return fmt.Errorf("connect to %s: %w", s.opts.Addr, cctx.Err())
	}
	l.client = c
	l.stop = context.AfterFunc(ctx, func() { c.Close() })
	return nil
}

// hangUp ends every lane's connection.
func (s *Sender) hangUp() {
	for _, l := range s.lanes {
		l.hangUp()
	}
}

// hangUp ends the lane's connection, politely if it still works.
func (l *lane) hangUp() {
	if l.client == nil {
		return
	}
	l.stop()
	_ = l.client.Quit() // closes the connection, also when QUIT fails
	_ = l.client.Close()
	l.client, l.stop, l.sent = nil, nil, 0
}
