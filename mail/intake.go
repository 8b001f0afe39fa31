package mail

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// IntakeOptions configure reading commands from an IMAP mailbox.
type IntakeOptions struct {
	Addr     string // host:port
	Security string // "none" (loopback only), "starttls" or "tls"
	Username string
	Password string
	// Mailbox is read for new mail; handled mail moves to Processed.
	Mailbox   string
	Processed string
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

// Deliverer carries out a mail. It returns nil once the mail's effect and
// the record that it was processed are committed; the intake then moves
// the mail out of the mailbox. An error leaves the mail to be tried again.
type Deliverer interface {
	Deliver(ctx context.Context, d Delivery) error
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
	// The processed mailbox may exist already: ignore that error and let
	// the first MOVE report a real problem.
	c.Create(in.opts.Processed, nil).Wait()
	sel, err := c.Select(in.opts.Mailbox, nil).Wait()
	if err != nil {
		return fmt.Errorf("imap select %s: %w", in.opts.Mailbox, err)
	}
	in.log.Info("reading mail", "mailbox", in.opts.Mailbox, "messages", sel.NumMessages)
	for {
		if err := in.drain(ctx, c, sel.UIDValidity); err != nil {
			return err
		}
		if err := in.idle(ctx, c, wake); err != nil {
			return err
		}
	}
}

// idle waits for new mail (IDLE, or a plain wait if the server has none)
// until the poll interval passes.
func (in *Intake) idle(ctx context.Context, c *imapclient.Client, wake chan struct{}) error {
	timer := time.NewTimer(in.opts.Poll)
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
// away once delivered.
func (in *Intake) drain(ctx context.Context, c *imapclient.Client, validity uint32) error {
	for ctx.Err() == nil {
		found, err := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
		if err != nil {
			return fmt.Errorf("imap search: %w", err)
		}
		uids := found.AllUIDs()
		if len(uids) == 0 {
			return nil
		}
		for len(uids) > 0 && ctx.Err() == nil {
			n := min(batch, len(uids))
			if err := in.take(ctx, c, validity, uids[:n]); err != nil {
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
// already recorded and does nothing but move it.
func (in *Intake) take(ctx context.Context, c *imapclient.Client, validity uint32, uids []imap.UID) error {
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
	var done []imap.UID
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
				Key:      fmt.Sprintf("imap:%d:%d", validity, m.UID),
				Raw:      m.FindBodySection(part.section),
				Size:     size[m.UID],
				TooLarge: part.section == headerOnly,
			}
			if err := in.to.Deliver(ctx, d); err != nil {
				in.moveDone(c, done)
				return fmt.Errorf("deliver %s: %w", d.Key, err)
			}
			done = append(done, m.UID)
		}
	}
	return in.moveDone(c, done)
}

// moveDone moves delivered mail to the processed mailbox.
func (in *Intake) moveDone(c *imapclient.Client, uids []imap.UID) error {
	if len(uids) == 0 {
		return nil
	}
	if _, err := c.Move(imap.UIDSetNum(uids...), in.opts.Processed).Wait(); err != nil {
		return fmt.Errorf("imap move to %s: %w", in.opts.Processed, err)
	}
	return nil
}
