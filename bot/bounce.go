package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/hallwayhq/hallway/store"
)

// Undelivered is a mail the bot queued that the mail server refused for
// good (an SMTP 5xx) or that could not be delivered in time.
type Undelivered struct {
	OutboxID  int64
	To        string
	DedupeKey string // the bot's key for what the mail was
	Reason    string // the server's answer, for people
}

// MailUndelivered records a mail that could not be delivered where people
// look: a registration waiting for that address shows "address bounced"
// (in !registrations and the CSV export), the export of mail lists it, and
// whoever asked for the confirmation on IRC is told privately.
func (b *Bot) MailUndelivered(ctx context.Context, u Undelivered) error {
	err := b.store.Do(ctx, func(tx *store.Tx) error {
		first, err := tx.MarkReceived(store.Received{Channel: store.Mail, Key: fmt.Sprintf("undelivered:%d", u.OutboxID),
			Sender: "email:" + u.To, Outcome: "not delivered: " + u.Reason, Raw: "To: " + u.To + "\n\n" + u.Reason})
		if err != nil || !first {
			return err
		}
		// A confirmation's key is "confirm:TOKEN:…" (runRegister).
		token := ""
		if rest, ok := strings.CutPrefix(u.DedupeKey, "confirm:"); ok {
			token, _, _ = strings.Cut(rest, ":")
		}
		if token == "" {
			return nil
		}
		regs, err := tx.SetBounce(u.To, token, u.Reason)
		if err != nil {
			return err
		}
		for _, reg := range regs {
			cm, err := tx.ConfirmationMailByToken(reg.Token)
			if err != nil || cm.Nick == "" {
				continue // asked by mail: the bounce went to nobody to tell
			}
			// The store keeps an IRC requester's account and nick.
			req := Request{Transport: IRC, Who: IRCIdentity(cm.Account), Can: ChatCapabilities, Nick: cm.Nick}
			msg := fmt.Sprintf("the confirmation mail to %s could not be delivered (%s). Check the address and say %sregister ADDRESS again.",
				maskEmail(reg.Email), oneLineReason(u.Reason), b.opts.Prefix)
			rep := b.repliers[IRC]
			if rep == nil {
				continue // no IRC here to tell them on
			}
			if err := rep.Reply(tx, req, Reply{Lines: []string{msg}, Private: true}); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		b.wake()
	}
	return err
}

// oneLineReason shortens a server's answer for an IRC line.
func oneLineReason(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
