package bot

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hallwayhq/hallway/store"
)

// The organizers' decisions on proposals, and telling the speakers.

var acceptSpec = &Spec{
	Name:      "accept",
	Usage:     "N…",
	Help:      "Accept proposals; their speakers are told privately, on IRC and by mail.",
	Examples:  []string{"accept 4", "accept 3 7 8"},
	Organizer: true,
	Run:       runAccept,
}

var rejectSpec = &Spec{
	Name:      "reject",
	Usage:     "N… [-- reason]",
	Help:      "Reject proposals, saying why; their speakers are told privately, with the reason. A released session leaves the schedule, the pages and the feeds at once; accepting it again before the next release puts it back.",
	Examples:  []string{"reject 5 -- out of scope for this event", "reject 5 6 -- duplicates of #2"},
	Organizer: true,
	Run:       runReject,
}

func runAccept(c *call) (Reply, error) {
	ns, err := c.numbersArg()
	if err != nil {
		return Reply{}, err
	}
	return each(ns, c.accept)
}

func (c *call) accept(n int64) (string, error) {
	p, err := c.proposal(n)
	if err != nil {
		return "", err
	}
	if p.Status == store.Withdrawn {
		return "", userErr(fmt.Sprintf("#%d was withdrawn by its author and cannot be accepted.", p.Number))
	}
	if p.Status == store.Accepted {
		return fmt.Sprintf("%s #%d %q was already accepted.", p.Kind, p.Number, p.Title), nil
	}
	p.Status, p.Reason = store.Accepted, ""
	if err := c.tx.UpdateProposal(p); err != nil {
		return "", err
	}
	back, err := c.amend(p)
	if err != nil {
		return "", err
	}
	if p.Kind == store.Talk {
		author, err := c.tx.PersonName(p.AuthorID)
		if err != nil {
			return "", err
		}
		body := fmt.Sprintf("%s by %s is accepted for %s.\n", strconv.Quote(p.Title), author, c.ev.Name)
		if p.Abstract != "" {
			body += "\n" + p.Abstract + "\n"
		}
		if err := c.announce(fmt.Sprintf("accepted:%d", p.Number), "", fmt.Sprintf("Talk accepted: %s", p.Title), body); err != nil {
			return "", err
		}
	}
	if err := c.tellSpeakers(p); err != nil {
		return "", err
	}
	if back {
		return fmt.Sprintf("%s #%d %q accepted, and back in its slot of the released schedule.", p.Kind, p.Number, p.Title), nil
	}
	return fmt.Sprintf("%s #%d %q accepted.", p.Kind, p.Number, p.Title), nil
}

func runReject(c *call) (Reply, error) {
	// Words after the numbers are a reason written without its --.
	if len(c.args.Words) > 1 {
		if _, ok := parseNumber(c.args.Words[0]); ok {
			for _, w := range c.args.Words[1:] {
				if _, ok := parseNumber(strings.Trim(w, ",")); !ok {
					return Reply{}, c.usageErr("Put the reason after --.")
				}
			}
		}
	}
	ns, err := c.numbersArg()
	if err != nil {
		return Reply{}, err
	}
	return each(ns, c.reject)
}

func (c *call) reject(n int64) (string, error) {
	p, err := c.proposal(n)
	if err != nil {
		return "", err
	}
	if p.Status == store.Withdrawn {
		return "", userErr(fmt.Sprintf("#%d was withdrawn by its author already.", p.Number))
	}
	p.Status, p.Reason = store.Rejected, c.args.Text
	if err := c.tx.UpdateProposal(p); err != nil {
		return "", err
	}
	amended, err := c.amend(p)
	if err != nil {
		return "", err
	}
	if err := c.tellSpeakers(p); err != nil {
		return "", err
	}
	msg := fmt.Sprintf("%s #%d %q rejected", p.Kind, p.Number, p.Title)
	if p.Reason != "" {
		msg += ": " + p.Reason
	}
	if amended {
		msg += ". It is off the released schedule now"
	}
	return msg + ".", nil
}

// tellSpeakers tells a proposal's speakers privately what the organizers
// decided, as pretalx does: on IRC to their services account, and by mail
// where their address is confirmed. Each decision is told once: the outbox
// keeps its key, so saying it again, or the command carried out again,
// sends nothing more. An organizer deciding on their own proposal knows.
func (c *call) tellSpeakers(p store.Proposal) error {
	speakers, err := c.tx.SpeakersByNumber(c.ev.id)
	if err != nil {
		return err
	}
	what := "talk"
	if p.Kind != store.Talk {
		what = "session"
	}
	line := fmt.Sprintf("your %s #%d %q is accepted for %s.", what, p.Number, p.Title, c.ev.Name)
	subject := fmt.Sprintf("Your %s is accepted for %s", what, c.ev.Name)
	body := fmt.Sprintf("Hello,\n\nyour %s %q (#%d) is accepted for %s. Thank you for proposing it!\n", what, p.Title, p.Number, c.ev.Name)
	if c.ev.URL != "" {
		body += fmt.Sprintf("\nWhere and when it is: %s/schedule, once the schedule is released.\n", c.ev.URL)
	}
	if p.Status == store.Rejected {
		reason := ""
		if p.Reason != "" {
			reason = " The organizers said: " + p.Reason
		}
		line = fmt.Sprintf("your %s #%d %q was not accepted for %s.%s", what, p.Number, p.Title, c.ev.Name, reason)
		subject = fmt.Sprintf("Your %s for %s", what, c.ev.Name)
		body = fmt.Sprintf("Hello,\n\nthank you for proposing %q (#%d) for %s. The organizers did not accept it.\n", p.Title, p.Number, c.ev.Name)
		if p.Reason != "" {
			body += "\nTheir reason: " + p.Reason + "\n"
		}
	}
	key := fmt.Sprintf("decision:%s:%d:%s", c.ev.Slug, p.Number, p.Status)
	for _, s := range speakers[p.Number] {
		if s.PersonID == c.person.ID {
			continue
		}
		ids, err := c.tx.Identities(s.PersonID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if id.Kind != store.IRCAccount {
				continue
			}
			// Bound to the account: it goes only to a nick logged in to
			// it. Without services the nick is all there is.
			nick, account := id.Value, id.Value
			if n, ok := strings.CutPrefix(id.Value, "nick:"); ok {
				nick, account = n, ""
			}
			if err := c.tx.Enqueue(store.Message{Channel: store.IRC, Target: nick, Account: account, Body: line,
				DedupeKey: key + ":irc:" + id.Value}); err != nil {
				return err
			}
		}
		if c.bot.mailer == nil {
			continue
		}
		addr, err := c.tx.ConfirmedEmail(s.PersonID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if err := c.bot.mailer.Mail(c.tx, OutMail{To: addr, Subject: subject, Body: body, DedupeKey: key + ":mail"}); err != nil {
			return err
		}
	}
	return nil
}
