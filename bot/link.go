package bot

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hallwayhq/hallway/store"
)

// Linking identities: one person may come by IRC, Matrix and mail, and
// counts once. A code given to one identity and said from the other
// proves both are the same person's; a code mailed to an address and said
// back proves the address.
const (
	// linkCodeTTL is how long a code given in chat works (once).
	linkCodeTTL = 10 * time.Minute
	// linkMailTTL is how long a code mailed to an address works: mail
	// can take a while.
	linkMailTTL = 24 * time.Hour
	// linkCodesPerHour is how many codes one person gets an hour.
	linkCodesPerHour = 5
)

var linkSpec = &Spec{
	Name:  "link",
	Usage: "[CODE|ADDRESS]",
	Help: "Join your IRC account, Matrix ID and addresses into one person, who votes once: say link for a code, then link CODE from your other account. " +
		"link ADDRESS mails a code to the address. Without a code, also lists what is linked.",
	Examples: []string{"link", "link K7Q2-9XM4", "link jane@example.org"},
	Person:   true,
	Counts:   "links",
	Run:      runLink,
}

var unlinkSpec = &Spec{
	Name:     "unlink",
	Usage:    "ACCOUNT|@USER:SERVER|ADDRESS",
	Help:     "Split one of your linked identities off: it starts afresh as a person of its own; what was done stays with you.",
	Examples: []string{"unlink @jane:example.org"},
	Person:   true,
	Counts:   "links",
	Run:      runUnlink,
}

// vouched reports whether the request's identity is one a network vouches
// for (an IRC services account, a Matrix ID): only those can give or take
// a link code. A nick is not, and a mail's From can be forged.
func (c *call) vouched() bool {
	k := c.req.Who.Kind
	return (k == IRCAccount || k == MatrixUser) && !c.req.Who.IsZero()
}

var whoamiSpec = &Spec{
	Name:     "whoami",
	Help:     "Who hallway knows you as: your IRC account, Matrix ID and confirmed addresses, linked as one person (say link to add one).",
	Examples: []string{"whoami"},
	Person:   true,
	Counts:   "links",
	Run:      runWhoami,
}

func runWhoami(c *call) (Reply, error) {
	linked, err := c.linkedList()
	if err != nil {
		return Reply{}, err
	}
	return Reply{Private: true, Lines: []string{fmt.Sprintf("You are %s %s here. %s", KindName(c.req.Who.Kind), c.shownWho(), linked)}}, nil
}

// shownWho is the asker's identity as answers show it.
func (c *call) shownWho() string {
	switch {
	case c.req.Who.Kind == Address:
		return maskEmail(c.req.Who.Value)
	case c.req.Who.IsZero():
		return c.req.Nick
	}
	return c.req.Who.Value
}

func runLink(c *call) (Reply, error) {
	switch {
	case len(c.args.Words) == 0:
		return c.giveLinkCode()
	case len(c.args.Words) > 1:
		return Reply{}, c.usageErr("Give one code or one address.")
	}
	word := c.args.Words[0]
	if strings.HasPrefix(word, "@") && strings.Contains(word, ":") {
		return Reply{}, userErr(fmt.Sprintf("no need to name your Matrix ID: say %slink here for a code, then %slink CODE from Matrix (or the other way round).", c.prefix(), c.prefix()))
	}
	if strings.Contains(word, "@") {
		return c.mailLinkCode(word)
	}
	code, ok := normalizeToken(word)
	if !ok {
		return Reply{}, c.usageErr(fmt.Sprintf("%q is not a link code (they look like K7Q2-9XM4) or an address.", word))
	}
	return c.useLinkCode(code)
}

// giveLinkCode answers "link": a code for the other identity to say, and
// what is linked already.
func (c *call) giveLinkCode() (Reply, error) {
	switch {
	case c.req.Who.Kind == Address:
		return Reply{}, userErr(fmt.Sprintf("a link code is given only in chat, to an IRC account or a Matrix ID. To link this address, say %slink %s on IRC or Matrix: I mail a code here.", c.bot.opts.Prefix, c.req.Who.Value))
	case !c.vouched():
		return Reply{}, userErr("log in to services (NickServ) first: a code links an account, not a nick.")
	}
	if err := c.mayLinkCode(); err != nil {
		return Reply{}, err
	}
	code := newToken()
	if err := c.tx.AddLinkCode(store.LinkCode{Code: code, PersonID: c.person.ID, Kind: c.req.Who.Kind, Value: c.req.Who.Value}, linkCodeTTL); err != nil {
		return Reply{}, err
	}
	other := "your Matrix ID or another IRC account"
	if c.req.Who.Kind == MatrixUser {
		other = "your IRC account (logged in to services) or another Matrix ID"
	}
	lines := []string{fmt.Sprintf("To link %s %s with %s, say %slink %s from there (to me privately or in a room) within %d minutes. The code works once; keep it to yourself.",
		KindName(c.req.Who.Kind), c.req.Who.Value, other, c.bot.opts.Prefix, code, int(linkCodeTTL.Minutes()))}
	linked, err := c.linkedList()
	if err != nil {
		return Reply{}, err
	}
	lines = append(lines, linked)
	return Reply{Private: true, Lines: lines}, nil
}

// mayLinkCode refuses a code past the hour's allowance.
func (c *call) mayLinkCode() error {
	now := c.tx.Now()
	given, err := c.tx.LinkCodesSince(c.person.ID, now.Add(-time.Hour))
	if err != nil {
		return err
	}
	if len(given) >= linkCodesPerHour {
		return userErr(fmt.Sprintf("you asked for %d link codes in the last hour, the most I give; try again after %s.",
			len(given), c.clock(given[0].Add(time.Hour))))
	}
	return nil
}

// linkedList says which identities are this person's, addresses masked.
func (c *call) linkedList() (string, error) {
	ids, err := c.tx.Identities(c.person.ID)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, id := range ids {
		switch {
		case id.Kind == store.Email && id.ConfirmedAt.IsZero():
			continue // not theirs until confirmed
		case id.Kind == store.Email:
			parts = append(parts, "address "+maskEmail(id.Value))
		case strings.HasPrefix(id.Value, "nick:"):
			continue
		default:
			parts = append(parts, KindName(id.Kind)+" "+id.Value)
		}
	}
	if len(parts) <= 1 {
		return fmt.Sprintf("Nothing is linked to it yet (%slink links your other accounts).", c.prefix()), nil
	}
	return fmt.Sprintf("Linked as one person: %s. To split one off, say %sunlink with it.", strings.Join(parts, ", "), c.prefix()), nil
}

// mailLinkCode answers "link ADDRESS": a code mailed there, said back
// from here, links the address (the confirmation machinery of register:
// the same limits, the same "not me").
func (c *call) mailLinkCode(word string) (Reply, error) {
	addr, err := parseEmail(word)
	if err != nil {
		return Reply{}, err
	}
	if !c.vouched() {
		if c.req.Who.Kind == Address {
			return Reply{}, userErr(fmt.Sprintf("by mail, an address links by registering: send \"register\" from it. To link it to your IRC account or Matrix ID, say %slink %s there.", c.bot.opts.Prefix, addr))
		}
		return Reply{}, userErr("log in to services (NickServ) first: an address links to an account, not to a nick.")
	}
	if id, err := c.tx.IdentityOf(store.Email, addr); err == nil && id.PersonID == c.person.ID && !id.ConfirmedAt.IsZero() {
		return textReply("%s is linked to you already.", maskEmail(addr)), nil
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Reply{}, err
	}
	if c.bot.mailer == nil {
		return Reply{}, userErr("mail is not set up for this event, so I cannot send a code to an address; ask the organizers.")
	}
	if err := c.mayMailConfirmation(addr); err != nil {
		return Reply{}, err
	}
	code := newToken()
	if err := c.tx.AddLinkCode(store.LinkCode{Code: code, PersonID: c.person.ID, Kind: c.req.Who.Kind, Value: c.req.Who.Value, Email: addr}, linkMailTTL); err != nil {
		return Reply{}, err
	}
	account, nick := c.ircRequester()
	if err := c.tx.AddConfirmationMail(store.ConfirmationMail{EventID: c.ev.id, Email: addr, PersonID: c.person.ID,
		Account: account, Nick: nick, Token: code}); err != nil {
		return Reply{}, err
	}
	body := fmt.Sprintf("Hello,\n\n%s %s asked to link this address to it at %s, so that what you do by mail and in chat counts once. "+
		"To link it, say \"%slink %s\" to %s from %s, within 24 hours (or reply to this mail with \"confirm\" on the first line).\n\n"+
		"If you did not ask for this, reply \"not me\": nothing is linked, and no more confirmation mails come to this address. Nothing happens without you.\n",
		KindName(c.req.Who.Kind), c.req.Who.Value, c.ev.Name, c.bot.opts.Prefix, code, c.bot.opts.Nick, c.req.Who.Value)
	if err := c.bot.mailer.Mail(c.tx, OutMail{To: addr, Subject: "Link your address at " + c.ev.Name, Body: body,
		IDPrefix: "confirm-" + code, DedupeKey: c.dedupeKey("link:" + code)}); err != nil {
		return Reply{}, err
	}
	return textReply("a code is on its way to %s: say %slink CODE here with it, within 24 hours.", maskEmail(addr), c.prefix()), nil
}

// useLinkCode answers "link CODE".
func (c *call) useLinkCode(code string) (Reply, error) {
	lc, err := c.tx.LinkCodeByCode(code)
	if errors.Is(err, store.ErrNotFound) {
		return Reply{}, userErr(fmt.Sprintf("no link code %s is waiting: check it, or say %slink from your other account for a new one.", code, c.prefix()))
	} else if err != nil {
		return Reply{}, err
	}
	from := Identity{lc.Kind, lc.Value}
	if lc.Email != "" {
		return c.linkAddress(lc)
	}
	if !c.vouched() {
		if c.req.Who.Kind == Address {
			return Reply{}, userErr(fmt.Sprintf("a link code is said in chat, from your IRC account or Matrix ID: a mail's sender can be forged. To link this address, say %slink %s there and I mail a code here.", c.bot.opts.Prefix, c.req.Who.Value))
		}
		return Reply{}, userErr("log in to services (NickServ) first: a code links an account, not a nick.")
	}
	// Answers said where anyone may read them name the code's identity
	// only to the person it belongs to.
	there := "your other account"
	if lc.PersonID == c.person.ID {
		there = KindName(from.Kind) + " " + from.Value
	}
	switch {
	case !lc.UsedAt.IsZero():
		return Reply{}, userErr(fmt.Sprintf("the code %s was used already. Say %slink from %s for a new one.", code, c.bot.opts.Prefix, there))
	case !c.tx.Now().Before(lc.ExpiresAt) && lc.ExpiresAt.Before(lc.CreatedAt.Add(linkCodeTTL)):
		return Reply{}, userErr(fmt.Sprintf("the code %s was replaced by a newer one: only the latest code works. Say it, or %slink from %s for a new one.",
			code, c.bot.opts.Prefix, there))
	case !c.tx.Now().Before(lc.ExpiresAt):
		return Reply{}, userErr(fmt.Sprintf("the code %s expired at %s (codes work for %d minutes). Say %slink from %s for a new one.",
			code, c.clock(lc.ExpiresAt), int(linkCodeTTL.Minutes()), c.bot.opts.Prefix, there))
	}
	// A good code said is spent, whatever comes of it: said in a room
	// and refused, it must not wait there for someone else to say.
	if ok, err := c.tx.UseLinkCode(code); err != nil {
		return Reply{}, err
	} else if !ok {
		return Reply{}, userErr(fmt.Sprintf("the code %s was used already.", code))
	}
	spent := func(format string, args ...any) (Reply, error) {
		return textReply(format+" The code is spent: say %slink from %s for a new one.", append(args, c.bot.opts.Prefix, there)...), nil
	}
	switch {
	case from == c.req.Who:
		return spent("the code is said from your other account, not from the one that asked for it (%s %s): it links the two.", KindName(from.Kind), from.Value)
	case lc.PersonID == c.person.ID:
		return textReply("%s %s and you are linked already: one person.", KindName(from.Kind), from.Value), nil
	}
	if ev := c.bot.bothOrganize(from, c.req.Who); ev != nil {
		return spent("this %s and the %s that asked for the code are both organizers of %s in the config, and hallway keeps organizers apart: each decides in their own name. If both are yours, take part from one of them.",
			KindName(c.req.Who.Kind), KindName(from.Kind), ev.Name)
	}
	// One IRC account and one Matrix ID per person: a second would be
	// someone else's, or a mistake.
	for _, check := range []struct {
		person      int64
		adding, has Identity
	}{{lc.PersonID, c.req.Who, from}, {c.person.ID, from, c.req.Who}} {
		if err := c.oneOfEachKind(check.person, check.adding, check.has); err != nil {
			var uerr *Error
			if errors.As(err, &uerr) {
				return spent("%s", uerr.Msg)
			}
			return Reply{}, err
		}
	}
	note, err := c.mergeInto(lc.PersonID)
	if err != nil {
		return Reply{}, err
	}
	// The other side hears of it, so a code taken by someone else does
	// not go unnoticed.
	if err := c.bot.tellIdentity(c.tx, from, fmt.Sprintf("%s %s is now linked with your %s: one person. If that was not you, say %sunlink %s.",
		KindName(c.req.Who.Kind), c.req.Who.Value, KindName(from.Kind), c.bot.opts.Prefix, c.req.Who.Value)); err != nil {
		return Reply{}, err
	}
	for _, ev := range c.bot.events {
		if ev.isOrganizer(from) != ev.isOrganizer(c.req.Who) {
			// Organizers are who the config names, not whom they link.
			note += fmt.Sprintf(" Organizer commands for %s still work only from the %s the config names.", ev.Name, KindName(cmpIdentity(ev.isOrganizer(from), from, c.req.Who).Kind))
		}
	}
	return textReply("linked: this %s and the %s that asked for the code are one person now.%s", KindName(c.req.Who.Kind), KindName(from.Kind), note), nil
}

// linkAddress answers a code mailed to an address, said back by the
// person who asked for it: the address is theirs.
func (c *call) linkAddress(lc store.LinkCode) (Reply, error) {
	switch {
	case c.req.Who.Kind == Address && c.req.Who.Value != lc.Email:
		return Reply{}, userErr("confirm from the address the code went to.")
	case c.req.Who.Kind != Address && lc.PersonID != c.person.ID:
		return Reply{}, userErr(fmt.Sprintf("the code %s was asked for from another account: say it from the account that asked for it (the mail names it).", lc.Code))
	case !lc.UsedAt.IsZero():
		return textReply("that code was used already: %s is linked.", maskEmail(lc.Email)), nil
	case !c.tx.Now().Before(lc.ExpiresAt):
		return Reply{}, userErr(fmt.Sprintf("the code %s expired at %s. Say %slink ADDRESS again from %s %s for a new one.", lc.Code, c.clock(lc.ExpiresAt), c.bot.opts.Prefix, KindName(lc.Kind), lc.Value))
	}
	note := ""
	owner, err := c.tx.IdentityOf(store.Email, lc.Email)
	switch {
	case err == nil && owner.PersonID != lc.PersonID:
		// The address was someone's already (mail before chat): the
		// code proves both are this one person.
		ids, err := c.tx.Identities(owner.PersonID)
		if err != nil {
			return Reply{}, err
		}
		for _, id := range ids {
			if err := c.oneOfEachKind(lc.PersonID, Identity{id.Kind, id.Value}, Identity{lc.Kind, lc.Value}); err != nil {
				return Reply{}, err
			}
		}
		c.person.ID = owner.PersonID
		if note, err = c.mergeInto(lc.PersonID); err != nil {
			return Reply{}, err
		}
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return Reply{}, err
	}
	c.person.ID = lc.PersonID
	if _, err := c.tx.UseLinkCode(lc.Code); err != nil {
		return Reply{}, err
	}
	if err := c.tx.ConfirmEmail(lc.PersonID, lc.Email); err != nil {
		return Reply{}, err
	}
	return textReply("linked: %s is yours, confirmed.%s", maskEmail(lc.Email), note), nil
}

// oneOfEachKind refuses to give person a second IRC account or Matrix ID:
// adding stays the only one of its kind in the person.
func (c *call) oneOfEachKind(person int64, adding, asked Identity) error {
	if adding.Kind == Address {
		return nil
	}
	ids, err := c.tx.Identities(person)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if id.Kind == adding.Kind && id.Value != adding.Value && !strings.HasPrefix(id.Value, "nick:") {
			holder := "you are"
			if person != c.person.ID {
				holder = fmt.Sprintf("the %s that asked for the code is", KindName(asked.Kind))
			}
			return userErr(fmt.Sprintf("%s already linked with another %s, and a person has one %s here. To link this one, unlink that first (%swhoami shows it, %sunlink ACCOUNT splits it off).",
				holder, KindName(id.Kind), KindName(id.Kind), c.bot.opts.Prefix, c.bot.opts.Prefix))
		}
	}
	return nil
}

// bothOrganize returns an event both identities organize, or nil.
func (b *Bot) bothOrganize(x, y Identity) *Event {
	for _, ev := range b.events {
		if ev.isOrganizer(x) && ev.isOrganizer(y) {
			return ev
		}
	}
	return nil
}

// mergeInto makes the asker's person one with person into, and keeps the
// rules of every event: a seat held twice frees one for the waitlist;
// votes past the allowance (the latest) are taken back. It returns what
// to tell the person about it.
func (c *call) mergeInto(into int64) (string, error) {
	m, err := c.tx.MergePerson(c.person.ID, into)
	if err != nil {
		return "", err
	}
	c.person.ID = into
	var notes []string
	if n := m.Dropped["vote"]; n > 0 {
		notes = append(notes, fmt.Sprintf("%s you made from both count once", plural(int(n), "vote")))
	}
	for _, ev := range c.bot.events {
		if slices.Contains(m.FreedSeats, ev.id) {
			notes = append(notes, "you had two seats at "+ev.Name+": one is kept, the other goes to the waitlist")
			if err := c.bot.offerNext(c.tx, ev); err != nil {
				return "", err
			}
		}
		if ev.VotesPerPerson <= 0 {
			continue
		}
		votes, err := c.tx.VotesOf(ev.id, into)
		if err != nil {
			return "", err
		}
		if len(votes) <= ev.VotesPerPerson {
			continue
		}
		extra := votes[ev.VotesPerPerson:]
		for _, n := range extra {
			p, err := c.tx.Proposal(ev.id, n)
			if err != nil {
				return "", err
			}
			if _, err := c.tx.RemoveVote(p.ID, into); err != nil {
				return "", err
			}
		}
		notes = append(notes, fmt.Sprintf("together you had %d votes at %s, and a person has %d: your latest (%s) are taken back",
			len(votes), ev.Name, ev.VotesPerPerson, hashList(extra)))
	}
	if len(notes) == 0 {
		return "", nil
	}
	return " " + capitalize(strings.Join(notes, "; ")) + ".", nil
}

// tellIdentity says msg privately to an identity, where a chat transport
// reaches it; nothing if none does.
func (b *Bot) tellIdentity(tx *store.Tx, id Identity, msg string) error {
	transport, rep := b.chatFor(id.Kind)
	if rep == nil {
		return nil
	}
	req := Request{Transport: transport, Who: id, Can: ChatCapabilities, Nick: id.Value}
	return rep.Reply(tx, req, Reply{Lines: []string{msg}, Private: true})
}

func runUnlink(c *call) (Reply, error) {
	if len(c.args.Words) != 1 {
		return Reply{}, c.usageErr("Say which of your identities to split off.")
	}
	id, err := ParseIdentity(c.args.Words[0])
	if err != nil {
		return Reply{}, c.usageErr(err.Error() + ".")
	}
	have, err := c.tx.IdentityOf(id.Kind, id.Value)
	if errors.Is(err, store.ErrNotFound) || (err == nil && have.PersonID != c.person.ID) {
		return Reply{}, userErr(fmt.Sprintf("%s %s is not linked to you. Say %swhoami to see what is.", KindName(id.Kind), c.args.Words[0], c.prefix()))
	} else if err != nil {
		return Reply{}, err
	}
	ids, err := c.tx.Identities(c.person.ID)
	if err != nil {
		return Reply{}, err
	}
	if len(ids) < 2 {
		return Reply{}, userErr(fmt.Sprintf("%s %s is all there is of you: nothing to split it from.", KindName(id.Kind), id.Value))
	}
	if _, err := c.tx.Unlink(id.Kind, id.Value); err != nil {
		return Reply{}, err
	}
	shown := id.Value
	if id.Kind == Address {
		shown = maskEmail(id.Value)
	}
	return textReply("unlinked %s %s: it starts afresh as a person of its own; your votes, registrations and the rest stay with you.", KindName(id.Kind), shown), nil
}

// refuseLink answers "not me" to a mail that carried a link code: the
// code dies and the address gets no more confirmation mails.
func (c *call) refuseLink(lc store.LinkCode) (Reply, error) {
	if c.req.Who != AddressIdentity(lc.Email) {
		return Reply{}, userErr("only the owner of the address can refuse its confirmation mails: reply \"not me\" to the mail.")
	}
	if _, err := c.tx.UseLinkCode(lc.Code); err != nil {
		return Reply{}, err
	}
	if err := c.tx.RefuseMail(lc.Email); err != nil {
		return Reply{}, err
	}
	return textReply("Sorry for the mail. Nothing is linked, and no more confirmation mails will come to this address."), nil
}

// cmpIdentity is a if cond, else b.
func cmpIdentity(cond bool, a, b Identity) Identity {
	if cond {
		return a
	}
	return b
}
