package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/hallwayhq/hallway/bot"
)

// IntakeOptions configure reading commands from an IMAP mailbox.
type IntakeOptions struct {
	Addr     string // host:port
	Security string // "none" (loopback only), "starttls" or "tls"
	Username string
	Password string
	// Mailbox is read for new mail; handled mail moves to Processed, mail
	// that failed too often to Quarantine.
	Mailbox    string
	Processed  string
	Quarantine string
	// Poll is how often the mailbox is checked again besides IDLE; IDLE
	// is also renewed this often (RFC 2177 asks for under 29 minutes).
	Poll time.Duration
	// MaxBytes is the largest mail fetched whole; a larger one is handed
	// on with its headers only.
	MaxBytes int64
	TLS      *tls.Config
	Logger   *slog.Logger
}

// Delivery is one mail taken from the mailbox.
type Delivery struct {
	// Key is "imap:UIDVALIDITY:UID": the mail's identity in this mailbox.
	Key string
	Raw []byte
	// TooLarge is set when Raw holds the headers only.
	TooLarge bool
	Size     int64
}

// Deliverer carries out a mail. Deliver returns nil once the mail's effect
// and the record that it was processed are committed; the intake then
// moves the mail out of the mailbox. An error leaves the mail to be tried
// again, after the intake told Failed.
type Deliverer interface {
	Deliver(ctx context.Context, d Delivery) error
	// Failed records that delivering d failed with cause. setAside is
	// true once the mail failed too often: it is then recorded as set
	// aside (for "hallway export mail"), and the intake moves it to the
	// quarantine mailbox. An error means the failure could not be
	// recorded (the store is down): the mail stays where it is.
	Failed(ctx context.Context, d Delivery, cause error) (setAside bool, err error)
}

// Intake reads mail from an IMAP mailbox with IDLE, falling back to
// polling, reconnecting with backoff.
type Intake struct {
	opts IntakeOptions
	to   Deliverer
	log  *slog.Logger
}

// NewIntake returns an intake delivering to d. It does no I/O.
func NewIntake(opts *IntakeOptions, d Deliverer) *Intake {
	o := *opts
	if o.Mailbox == "" {
		o.Mailbox = "INBOX"
	}
	if o.Processed == "" {
		o.Processed = "Processed"
	}
	if o.Quarantine == "" {
		o.Quarantine = "Quarantine"
	}
	if o.Poll == 0 {
		o.Poll = time.Minute
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Intake{opts: o, to: d, log: o.Logger.With("component", "imap")}
}

// Run reads mail until ctx is done.
func (in *Intake) Run(ctx context.Context) error {
	backoff := time.Second
	for ctx.Err() == nil {
		start := time.Now()
		err := in.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > time.Minute {
			backoff = time.Second
		}
		wait := backoff/2 + rand.N(backoff)
		in.log.Warn("IMAP session ended; reconnecting", "err", err, "in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		backoff = min(2*backoff, 5*time.Minute)
	}
	return nil
}

func (in *Intake) dial(opts *imapclient.Options) (*imapclient.Client, error) {
	switch in.opts.Security {
	case "tls", "":
		return imapclient.DialTLS(in.opts.Addr, opts)
	case "starttls":
		return imapclient.DialStartTLS(in.opts.Addr, opts)
	case "none":
		if !loopback(in.opts.Addr) {
			return nil, fmt.Errorf("imap %s: security none is only allowed to a loopback address; use starttls or tls", in.opts.Addr)
		}
		return imapclient.DialInsecure(in.opts.Addr, opts)
	}
	return nil, fmt.Errorf("imap security %q: use none, starttls or tls", in.opts.Security)
}

// loopback reports whether host:port names this machine.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// session is one connection: take what is there, then wait for more.
func (in *Intake) session(ctx context.Context) error {
	wake := make(chan struct{}, 1)
	opts := &imapclient.Options{
		TLSConfig: in.opts.TLS,
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(data *imapclient.UnilateralDataMailbox) {
				if data.NumMessages != nil {
					select {
					case wake <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	c, err := in.dial(opts)
	if err != nil {
		return err
	}
	// go-imap takes no context: closing the connection cancels.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()
	if err := c.Login(in.opts.Username, in.opts.Password).Wait(); err != nil {
		return fmt.Errorf("imap login as %s: %w", in.opts.Username, err)
	}
	// The mailboxes may exist already: ignore that error and let the
	// first MOVE report a real problem.
	c.Create(in.opts.Processed, nil).Wait()
	c.Create(in.opts.Quarantine, nil).Wait()
	sel, err := c.Select(in.opts.Mailbox, nil).Wait()
	if err != nil {
		return fmt.Errorf("imap select %s: %w", in.opts.Mailbox, err)
	}
	in.log.Info("reading mail", "mailbox", in.opts.Mailbox, "messages", sel.NumMessages)
	s := &intakeSession{c: c, validity: sel.UIDValidity, retry: map[imap.UID]retry{}}
	for {
		if err := in.drain(ctx, s); err != nil {
			return err
		}
		if err := in.idle(ctx, c, wake, s.nextRetry()); err != nil {
			return err
		}
	}
}

// intakeSession is the state of one IMAP connection.
type intakeSession struct {
	c        *imapclient.Client
	validity uint32
	// retry holds mail whose delivery failed and when to try it again:
	// the mail behind it goes on meanwhile.
	retry map[imap.UID]retry
}

// retry is a mail whose delivery failed n times in this session, to be
// tried again at at.
type retry struct {
	at time.Time
	n  int
}

// due drops the mail waiting for a retry from uids.
func (s *intakeSession) due(uids []imap.UID, now time.Time) []imap.UID {
	out := uids[:0:0]
	for _, uid := range uids {
		if r, ok := s.retry[uid]; !ok || !now.Before(r.at) {
			out = append(out, uid)
		}
	}
	return out
}

// nextRetry is when the first mail waiting for a retry is due; zero if
// none is.
func (s *intakeSession) nextRetry() time.Time {
	var next time.Time
	for _, r := range s.retry {
		if next.IsZero() || r.at.Before(next) {
			next = r.at
		}
	}
	return next
}

// retryDelays are the waits before a failed mail is tried again, by the
// number of failures so far; after the last the Deliverer sets it aside.
var retryDelays = []time.Duration{2 * time.Second, 8 * time.Second, 30 * time.Second}

// idle waits for new mail (IDLE, or a plain wait if the server has none)
// until the poll interval passes, or until retryAt if that is sooner.
func (in *Intake) idle(ctx context.Context, c *imapclient.Client, wake chan struct{}, retryAt time.Time) error {
	wait := in.opts.Poll
	if !retryAt.IsZero() {
		wait = max(min(wait, time.Until(retryAt)), 0)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	if !c.Caps().Has(imap.CapIdle) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return nil
		}
	}
	cmd, err := c.Idle()
	if err != nil {
		return fmt.Errorf("imap idle: %w", err)
	}
	select {
	case <-ctx.Done():
	case <-wake:
	case <-timer.C:
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("imap idle: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("imap idle: %w", err)
	}
	return ctx.Err()
}

// batch is how many mails are fetched with one command.
const batch = 100

// drain delivers every mail in the mailbox, oldest first, moving them
// away once delivered; mail waiting for a retry is left for later.
func (in *Intake) drain(ctx context.Context, s *intakeSession) error {
	for ctx.Err() == nil {
		found, err := s.c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
		if err != nil {
			return fmt.Errorf("imap search: %w", err)
		}
		uids := s.due(found.AllUIDs(), time.Now())
		if len(uids) == 0 {
			return nil
		}
		for len(uids) > 0 && ctx.Err() == nil {
			n := min(batch, len(uids))
			if err := in.take(ctx, s, uids[:n]); err != nil {
				return err
			}
			uids = uids[n:]
		}
	}
	return ctx.Err()
}

var (
	wholeBody  = &imap.FetchItemBodySection{Peek: true}
	headerOnly = &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
)

// take delivers a batch of mails, each in its own transaction, and moves
// the delivered ones to the processed mailbox. A crash between the two
// leaves delivered mail in the mailbox; delivering it again finds its key
// already recorded and does nothing but move it. A mail whose delivery
// fails is tried again later, and moved to the quarantine mailbox once
// the Deliverer sets it aside; the mail behind it goes on at once.
func (in *Intake) take(ctx context.Context, s *intakeSession, uids []imap.UID) error {
	c := s.c
	sizes, err := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return fmt.Errorf("imap fetch sizes: %w", err)
	}
	var small, large []imap.UID
	size := map[imap.UID]int64{}
	for _, m := range sizes {
		size[m.UID] = m.RFC822Size
		if m.RFC822Size > in.opts.MaxBytes {
			large = append(large, m.UID)
		} else {
			small = append(small, m.UID)
		}
	}
	var done, aside []imap.UID
	moved := func() error {
		if err := in.move(c, aside, in.opts.Quarantine); err != nil {
			return err
		}
		return in.move(c, done, in.opts.Processed)
	}
	for _, part := range []struct {
		uids    []imap.UID
		section *imap.FetchItemBodySection
	}{{small, wholeBody}, {large, headerOnly}} {
		if len(part.uids) == 0 {
			continue
		}
		msgs, err := c.Fetch(imap.UIDSetNum(part.uids...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{part.section}}).Collect()
		if err != nil {
			return fmt.Errorf("imap fetch: %w", err)
		}
		for _, m := range msgs {
			d := Delivery{
				Key:      fmt.Sprintf("imap:%d:%d", s.validity, m.UID),
				Raw:      m.FindBodySection(part.section),
				Size:     size[m.UID],
				TooLarge: part.section == headerOnly,
			}
			err := in.to.Deliver(ctx, d)
			if err == nil {
				done = append(done, m.UID)
				delete(s.retry, m.UID)
				continue
			}
			if ctx.Err() != nil {
				moved()
				return ctx.Err()
			}
			setAside, ferr := in.to.Failed(ctx, d, err)
			if ferr != nil {
				// The store cannot even count the failure: stop taking
				// mail until it can (the session restarts with backoff).
				moved()
				return fmt.Errorf("deliver %s: %w", d.Key, ferr)
			}
			if setAside {
				in.log.Warn("mail set aside", "key", d.Key, "mailbox", in.opts.Quarantine, "err", logged(err))
				aside = append(aside, m.UID)
				delete(s.retry, m.UID)
				continue
			}
			n := s.retry[m.UID].n
			wait := retryDelays[min(n, len(retryDelays)-1)]
			s.retry[m.UID] = retry{at: time.Now().Add(wait), n: n + 1}
			in.log.Warn("mail failed; going on with the next, this one again later", "key", d.Key, "retry_in", wait, "err", logged(err))
		}
	}
	return moved()
}

// logged is what the log gets of a delivery error: nothing more when the
// bot logged it already.
func logged(err error) error {
	var ce *bot.CommandError
	if errors.As(err, &ce) {
		return errors.New("logged by the bot above")
	}
	return err
}

// move moves mail to another mailbox.
func (in *Intake) move(c *imapclient.Client, uids []imap.UID, mailbox string) error {
	if len(uids) == 0 {
		return nil
	}
	if _, err := c.Move(imap.UIDSetNum(uids...), mailbox).Wait(); err != nil {
		return fmt.Errorf("imap move to %s: %w", mailbox, err)
	}
	return nil
}
