package bot

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/hallwayhq/hallway/store"
)

// OutMail is a mail the bot sends to one person.
type OutMail struct {
	To      string
	Subject string
	Body    string
	// IDPrefix starts the Message-ID's local part, so that a reply can be
	// recognised by its In-Reply-To or References ("confirm-K7Q2-9XM4").
	IDPrefix string
	// DedupeKey makes queueing it twice a no-op.
	DedupeKey string
	// Reply is the incoming mail this answers (Request.Mail), if any: the
	// mail then threads under it.
	Reply any
}

// Mailer queues mail to people, in the transaction that caused it.
type Mailer interface {
	Mail(tx *store.Tx, m OutMail) error
}

// SetMailer sets how the bot sends mail; without one, commands that need
// mail say it is not set up.
func (b *Bot) SetMailer(m Mailer) { b.mailer = m }

var registerSpec = &Spec{
	Name:        "register",
	Usage:       "[ADDRESS]",
	Help:        "Register for the event; we confirm your address by mail first. Also takes a seat offered to you from the waitlist.",
	Examples:    []string{"register jane@example.org"},
	Person:      true,
	Unconfirmed: true,
	Counts:      "registrations",
	Run:         withHint(runRegister, registerHint),
}

var confirmSpec = &Spec{
	Name:        "confirm",
	Usage:       "CODE",
	Help:        "Confirm your address with the code from the confirmation mail.",
	Examples:    []string{"confirm K7Q2-9XM4"},
	Person:      true,
	Unconfirmed: true,
	Counts:      "registrations",
	Run:         runConfirm,
}

var notMeSpec = &Spec{
	Name:        "notme",
	Usage:       "CODE",
	Help:        "Refuse a confirmation mail you did not ask for: the request is cancelled and no more confirmation mails go to your address. By mail, reply \"not me\" to it.",
	Examples:    []string{"notme K7Q2-9XM4"},
	Person:      true,
	Unconfirmed: true,
	Counts:      "registrations",
	Run:         runNotMe,
}

// Limits on confirmation mails, so nobody can use hallway to flood an
// address: one address gets one while it is pending, and another only
// after confirmGap, at most confirmsPerAddress a day; one person asks for
// at most confirmsPerPerson a day.
const (
	confirmGap         = time.Hour
	confirmsPerAddress = 3
	confirmsPerPerson  = 5
)

var cancelSpec = &Spec{
	Name:     "cancel",
	Help:     "Cancel your registration; your seat goes to the next on the waitlist.",
	Examples: []string{"cancel"},
	Person:   true,
	Counts:   "registrations",
	Run:      runCancel,
}

var registrationsSpec = &Spec{
	Name:     "registrations",
	Help:     "How many people are registered, waiting, and still to confirm.",
	Examples: []string{"registrations"},
	Run:      runRegistrations,
}

// tokenAlphabet is Crockford's base 32: no I, L, O or U to misread.
const tokenAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newToken returns a confirmation code like K7Q2-9XM4 (40 bits).
func newToken() string {
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = tokenAlphabet[int(b[i])%len(tokenAlphabet)]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

var tokenRe = regexp.MustCompile(`(?i)\b([0-9A-Z]{4})-?([0-9A-Z]{4})\b`)

// normalizeToken reads a code as people type it: any case, with or without
// the dash, O for 0 and I or L for 1.
func normalizeToken(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	s = strings.NewReplacer("O", "0", "I", "1", "L", "1").Replace(s)
	m := tokenRe.FindStringSubmatch(s)
	if m == nil || len(m[0]) != len(s) {
		return "", false
	}
	return m[1] + "-" + m[2], true
}

// confirmRefRe finds a confirmation mail's Message-ID in a reply's
// In-Reply-To or References.
var confirmRefRe = regexp.MustCompile(`(?i)confirm-([0-9A-Z]{4}-[0-9A-Z]{4})`)

// maskEmail shows an address without giving it away: j***@example.org.
func maskEmail(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return "***"
	}
	return local[:1] + "***@" + domain
}

// parseEmail checks and lower-cases an address someone typed.
func parseEmail(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || !strings.Contains(a.Address, "@") || strings.ContainsAny(a.Address, " <>") {
		return "", userErr(fmt.Sprintf("%q is not an email address; write it as jane@example.org.", s))
	}
	return strings.ToLower(a.Address), nil
}

func runRegister(c *call) (Reply, error) {
	if err := c.requirePhase("registration"); err != nil {
		return Reply{}, err
	}
	reg, err := c.tx.Registration(c.ev.id, c.person.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Reply{}, err
	}
	exists := err == nil
	if exists {
		switch reg.Status {
		case store.Registered:
			return textReply("you are already registered. To cancel, say %scancel.", c.prefix()), nil
		case store.Waitlisted:
			pos, err := c.tx.WaitlistPosition(reg)
			if err != nil {
				return Reply{}, err
			}
			return textReply("you are on the waitlist, #%d; we mail you when a seat frees up.", pos), nil
		case store.Offered:
			return c.seat(&reg)
		}
	}
	// The address to confirm: the one given, else (by mail) the sender.
	addr := ""
	if c.req.Who.Kind == Address {
		addr = c.req.Who.Value
	}
	if len(c.args.Words) > 0 {
		if addr, err = parseEmail(c.args.Words[0]); err != nil {
			return Reply{}, err
		}
	}
	if addr == "" {
		if confirmed, err := c.tx.ConfirmedEmail(c.person.ID); err == nil {
			addr = confirmed
		} else {
			return Reply{}, c.usageErr("Say the address to send the confirmation to.")
		}
	}
	if !exists {
		reg = store.Registration{EventID: c.ev.id, PersonID: c.person.ID}
	}
	// Asking again resends the same code, so every mail sent stays good,
	// unless the address changed.
	if !exists || reg.Status != store.Pending || reg.Email != addr {
		reg.Token = newToken()
	}
	reg.Email, reg.Status = addr, store.Pending
	// An address already confirmed needs no new round trip.
	if id, err := c.tx.IdentityOf(store.Email, addr); err == nil && id.PersonID == c.person.ID && !id.ConfirmedAt.IsZero() {
		return c.seat(&reg)
	}
	if c.bot.mailer == nil {
		return Reply{}, userErr("registration by mail is not set up for this event; ask the organizers.")
	}
	if err := c.mayMailConfirmation(addr); err != nil {
		return Reply{}, err
	}
	reg.Bounce = ""
	if err := c.tx.SaveRegistration(&reg); err != nil {
		return Reply{}, err
	}
	account, nick := c.ircRequester()
	if err := c.tx.AddConfirmationMail(store.ConfirmationMail{EventID: c.ev.id, Email: addr, PersonID: c.person.ID,
		Account: account, Nick: nick, Token: reg.Token}); err != nil {
		return Reply{}, err
	}
	body := fmt.Sprintf("%s\n\nTo confirm your registration for %s, reply to this mail with \"confirm\" on the first line (or say \"%sconfirm %s\" to %s on IRC, from the account that asked).\n\nIf you did not ask for this, reply \"not me\": the request is cancelled and no more confirmation mails come to this address. Nothing happens without your reply.\n",
		c.greeting(), c.ev.Name, c.bot.opts.Prefix, reg.Token, c.bot.opts.Nick)
	if err := c.bot.mailer.Mail(c.tx, OutMail{To: addr, Subject: "Confirm your registration for " + c.ev.Name, Body: body,
		IDPrefix: "confirm-" + reg.Token, DedupeKey: c.dedupeKey("confirm:" + reg.Token), Reply: c.req.Mail}); err != nil {
		return Reply{}, err
	}
	if c.req.Who.Kind == Address {
		return Reply{}, nil // the confirmation mail is the answer
	}
	return textReply("a confirmation mail is on its way to %s: reply to it, or say %sconfirm CODE here with the code it gives. If it bounces, I tell you here.", maskEmail(addr), c.prefix()), nil
}

// mayMailConfirmation refuses a confirmation mail to addr that would be
// one too many: to an address whose owner refused them, to an address
// with one on its way, or past a day's limits.
func (c *call) mayMailConfirmation(addr string) error {
	refused, err := c.tx.MailRefused(addr)
	if err != nil {
		return err
	}
	if !refused.IsZero() {
		if c.req.Who != AddressIdentity(addr) {
			return userErr(fmt.Sprintf("the owner of %s asked for no more confirmation mails from us. If the address is yours, send \"register\" by mail from it.", maskEmail(addr)))
		}
		// The address itself asks again: it wants mail after all.
		if err := c.tx.AllowMail(addr); err != nil {
			return err
		}
	}
	now := c.tx.Now()
	day := now.Add(-24 * time.Hour)
	if last, err := c.tx.LastConfirmationMail(c.ev.id, addr, now.Add(-confirmGap)); err == nil {
		if reg, err := c.tx.RegistrationByToken(last.Token); err == nil && reg.Status == store.Pending && reg.Bounce == "" {
			return userErr(fmt.Sprintf("a confirmation mail is already on its way to %s, sent at %s: reply to it, or say %sconfirm CODE with its code. Another can be sent after %s.",
				maskEmail(addr), c.clock(last.SentAt), c.bot.opts.Prefix, c.clock(last.SentAt.Add(confirmGap))))
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if n, err := c.tx.ConfirmationMailsTo(c.ev.id, addr, day); err != nil {
		return err
	} else if len(n) >= confirmsPerAddress {
		return userErr(fmt.Sprintf("%s got %d confirmation mails in the last 24 hours, the most I send to one address; another can be sent after %s.",
			maskEmail(addr), len(n), c.clock(n[0].Add(24*time.Hour))))
	}
	if n, err := c.tx.ConfirmationMailsBy(c.person.ID, day); err != nil {
		return err
	} else if len(n) >= confirmsPerPerson {
		return userErr(fmt.Sprintf("you asked for %d confirmation mails in the last 24 hours, the most I send for one person; try again after %s.",
			len(n), c.clock(n[0].Add(24*time.Hour))))
	}
	return nil
}

// clock writes a time for people (see readableTime).
func (c *call) clock(t time.Time) string { return c.when(t) }

func runConfirm(c *call) (Reply, error) {
	if len(c.args.Words) != 1 {
		return Reply{}, c.usageErr("Give the code from the mail.")
	}
	token, ok := normalizeToken(c.args.Words[0])
	if !ok {
		return Reply{}, c.usageErr(fmt.Sprintf("%q is not a confirmation code (they look like K7Q2-9XM4).", c.args.Words[0]))
	}
	reg, err := c.tx.RegistrationByToken(token)
	if errors.Is(err, store.ErrNotFound) {
		// A code mailed by link ADDRESS, answered "confirm".
		if lc, err := c.tx.LinkCodeByCode(token); err == nil && lc.Email != "" {
			return c.linkAddress(lc)
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return Reply{}, err
		}
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && reg.EventID != c.ev.id) {
		return Reply{}, userErr(fmt.Sprintf("no registration waits for the code %s: check the mail, or say %sregister again.", token, c.prefix()))
	} else if err != nil {
		return Reply{}, err
	}
	switch {
	case c.req.Who.Kind == Address && c.req.Who != AddressIdentity(reg.Email):
		return Reply{}, userErr("confirm from the address the confirmation mail went to.")
	case c.req.Who.Kind != Address && reg.PersonID != c.person.ID:
		// The code proves the address only to the account that asked
		// for it: anyone else holding it (a squatter on the bot's nick,
		// a forwarded mail) must not link the address to themselves.
		return Reply{}, userErr(fmt.Sprintf("the code %s was asked for from another account: to link an address to yours, say %sregister ADDRESS from it and use the code of that mail.", token, c.prefix()))
	}
	if reg.Status != store.Pending {
		return textReply("that code was already used: you are %s.", statusWord(reg)), nil
	}
	// The code proves the address is this person's: one person with
	// whoever wrote from it, or asked for it, before (the event's rules
	// kept, as a link keeps them).
	owner, err := c.tx.IdentityOf(store.Email, reg.Email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Reply{}, err
	}
	note := ""
	for _, other := range []int64{owner.PersonID, reg.PersonID} {
		if other == 0 || other == c.person.ID {
			continue
		}
		me := c.person.ID
		c.person.ID = other
		n, err := c.mergeInto(me)
		if err != nil {
			return Reply{}, err
		}
		note += n
	}
	if err := c.tx.ConfirmEmail(c.person.ID, reg.Email); err != nil {
		return Reply{}, err
	}
	// A merge may have brought a better registration along.
	cur, err := c.tx.Registration(c.ev.id, c.person.ID)
	if err != nil {
		return Reply{}, err
	}
	var r Reply
	if cur.Status != store.Pending {
		r = textReply("your address is confirmed and linked: you are %s.", statusWord(cur))
	} else if r, err = c.seat(&cur); err != nil {
		return Reply{}, err
	}
	if note != "" && len(r.Lines) > 0 {
		r.Lines[0] += note
	}
	return r, nil
}

func runNotMe(c *call) (Reply, error) {
	if len(c.args.Words) != 1 {
		return Reply{}, c.usageErr("Give the code from the mail, or reply \"not me\" to it.")
	}
	token, ok := normalizeToken(c.args.Words[0])
	if !ok {
		return Reply{}, c.usageErr(fmt.Sprintf("%q is not a confirmation code (they look like K7Q2-9XM4).", c.args.Words[0]))
	}
	reg, err := c.tx.RegistrationByToken(token)
	if errors.Is(err, store.ErrNotFound) {
		if lc, err := c.tx.LinkCodeByCode(token); err == nil && lc.Email != "" {
			return c.refuseLink(lc)
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return Reply{}, err
		}
		return Reply{}, userErr(fmt.Sprintf("no request waits for the code %s.", token))
	} else if err != nil {
		return Reply{}, err
	}
	// Only the address's owner can refuse mail to it.
	if c.req.Who != AddressIdentity(reg.Email) {
		return Reply{}, userErr("only the owner of the address can refuse its confirmation mails: reply \"not me\" to the mail.")
	}
	if reg.Status == store.Pending {
		reg.Status = store.Cancelled
		if err := c.tx.SaveRegistration(&reg); err != nil {
			return Reply{}, err
		}
	}
	if err := c.tx.RefuseMail(reg.Email); err != nil {
		return Reply{}, err
	}
	return textReply("Sorry for the mail. The request is cancelled, and no more confirmation mails will come to this address. If you want to register one day, send \"register\" from this address."), nil
}

// seat gives a confirmed registration a seat, or a place on the waitlist.
func (c *call) seat(reg *store.Registration) (Reply, error) {
	counts, err := c.tx.RegistrationCounts(c.ev.id)
	if err != nil {
		return Reply{}, err
	}
	taken := counts[store.Registered] + counts[store.Offered]
	if reg.Status == store.Offered {
		taken-- // the offered seat is this person's
	}
	if c.ev.Capacity > 0 && taken >= c.ev.Capacity {
		if reg.Status != store.Offered {
			// Joining the queue (again, after a cancellation): at its end.
			if reg.WaitSeq, err = c.tx.NextWaitSeq(c.ev.id); err != nil {
				return Reply{}, err
			}
		}
		reg.Status = store.Waitlisted
		if err := c.tx.SaveRegistration(reg); err != nil {
			return Reply{}, err
		}
		pos, err := c.tx.WaitlistPosition(*reg)
		if err != nil {
			return Reply{}, err
		}
		return textReply("the event is full (%s): you are on the waitlist, #%d. We mail you when a seat frees up.", plural(c.ev.Capacity, "seat"), pos), nil
	}
	n, err := c.tx.NextRegistrationNumber(c.ev.id)
	if err != nil {
		return Reply{}, err
	}
	reg.Status, reg.Number, reg.OfferedUntil, reg.WaitSeq = store.Registered, n, time.Time{}, 0
	if err := c.tx.SaveRegistration(reg); err != nil {
		return Reply{}, err
	}
	msg := fmt.Sprintf("you're registered (#%d", taken+1)
	if c.ev.Capacity > 0 {
		msg += fmt.Sprintf(" of %d", c.ev.Capacity)
	}
	msg += ")."
	if c.req.Who.Kind == Address {
		// The mail goes to the person alone: it can carry their own feed.
		if c.ev.URL != "" {
			token, err := c.tx.FeedToken(c.ev.id, c.person.ID)
			if err != nil {
				return Reply{}, err
			}
			msg += "\nYour calendar (the sessions you vote for): " + webcal(c.ev.personalFeed(token)) +
				"\nThe whole schedule: " + webcal(c.ev.URL+"/schedule.ics")
		}
		return textReply("%s\nTo cancel, reply \"cancel\".", capitalize(msg)), nil
	}
	if c.ev.URL != "" {
		msg += " Calendar: " + webcal(c.ev.URL+"/schedule.ics") + " (yours: " + c.prefix() + "feed)"
	}
	return textReply("%s To cancel, say %scancel.", msg, c.prefix()), nil
}

func statusWord(r store.Registration) string {
	switch r.Status {
	case store.Registered:
		return "registered"

	case store.Waitlisted:
		return "on the waitlist"
	case store.Offered:
		return "offered a seat"
	}
	return r.Status
}

func runCancel(c *call) (Reply, error) {
	reg, err := c.tx.Registration(c.ev.id, c.person.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && reg.Status == store.Cancelled) {
		return textReply("you are not registered for %s.", c.ev.Name), nil
	} else if err != nil {
		return Reply{}, err
	}
	hadSeat := reg.Status == store.Registered || reg.Status == store.Offered
	reg.Status, reg.OfferedUntil, reg.WaitSeq = store.Cancelled, time.Time{}, 0
	if err := c.tx.SaveRegistration(&reg); err != nil {
		return Reply{}, err
	}
	if hadSeat {
		if err := c.bot.offerNext(c.tx, c.ev); err != nil {
			return Reply{}, err
		}
	}
	return textReply("cancelled your registration for %s. Thanks for freeing the seat.", c.ev.Name), nil
}

// offerNext offers a freed seat to the first on the waitlist, by mail,
// held for the configured time.
func (b *Bot) offerNext(tx *store.Tx, ev *Event) error {
	next, err := tx.FirstWaitlisted(ev.id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	next.Status = store.Offered
	next.OfferedUntil = ev.holdUntil(tx.Now())
	if err := tx.SaveRegistration(&next); err != nil {
		return err
	}
	if b.mailer == nil {
		return nil
	}
	until := next.OfferedUntil.In(ev.zone()).Format("Mon 2 Jan 15:04 MST")
	body := fmt.Sprintf("Hello,\n\nA seat at %s is free, and it is yours if you want it: reply \"register\" to this mail (or say \"%sregister\" to %s on IRC) before %s. After that it goes to the next person on the waitlist.\n",
		ev.Name, b.opts.Prefix, b.opts.Nick, until)
	return b.mailer.Mail(tx, OutMail{To: next.Email, Subject: "A seat is free for you at " + ev.Name, Body: body,
		DedupeKey: fmt.Sprintf("offer:%d:%d", next.ID, next.OfferedUntil.Unix())})
}

// ExpireOffers passes seats whose offer ran out to the next on the
// waitlist. The clock calls it.
func (b *Bot) ExpireOffers(tx *store.Tx, now time.Time) error {
	for _, ev := range b.events {
		expired, err := tx.ExpiredOffers(ev.id, now)
		if err != nil {
			return err
		}
		for _, r := range expired {
			r.Status, r.OfferedUntil = store.Cancelled, time.Time{}
			if err := tx.SaveRegistration(&r); err != nil {
				return err
			}
			if err := b.offerNext(tx, ev); err != nil {
				return err
			}
		}
	}
	return nil
}

func runRegistrations(c *call) (Reply, error) {
	counts, err := c.tx.RegistrationCounts(c.ev.id)
	if err != nil {
		return Reply{}, err
	}
	seats := counts[store.Registered]
	msg := fmt.Sprintf("%d registered", seats)
	if c.ev.Capacity > 0 {
		msg += " of " + plural(c.ev.Capacity, "seat")
	}
	msg += fmt.Sprintf(", %d on the waitlist", counts[store.Waitlisted])
	if counts[store.Offered] > 0 {
		msg += fmt.Sprintf(", %d offered a freed seat", counts[store.Offered])
	}
	msg = fmt.Sprintf("%s, %d still to confirm their address", msg, counts[store.Pending])
	bounced, err := c.tx.BouncedRegistrations(c.ev.id)
	if err != nil {
		return Reply{}, err
	}
	if bounced > 0 {
		msg += " (" + plural(bounced, "address") + " bounced)"
	}
	return textReply("%s.", msg), nil
}

// dedupeKey makes an outbox key for what this request sends: the same
// request carried out again (a redelivered mail) sends nothing new, while
// the same person asking again does.
func (c *call) dedupeKey(what string) string {
	key := strings.Join(c.req.Keys, " ")
	if key == "" {
		key = c.tx.Now().Format(time.RFC3339Nano)
	}
	return what + ":" + key
}

// greeting opens a mail: "Thanks Jane!" when the sender gave a name
// ("Jane Doe", or "Doe, Jane").
func (c *call) greeting() string {
	name := c.req.Name
	if _, given, ok := strings.Cut(name, ","); ok {
		name = given
	}
	first, _, _ := strings.Cut(strings.TrimSpace(name), " ")
	if first = strings.Trim(first, `"'()<>.,;:`); first != "" {
		return "Thanks " + first + "!"
	}
	return "Hello,"
}

// ircRequester is the IRC account and nick a request came from, which the
// store keeps with a confirmation mail to tell of a bounce there; "" for
// any other transport, whose requesters are not told (yet).
func (c *call) ircRequester() (account, nick string) {
	if c.req.Transport != IRC {
		return "", ""
	}
	if c.req.Who.Kind == IRCAccount {
		account = c.req.Who.Value
	}
	return account, c.req.Nick
}
