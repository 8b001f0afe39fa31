package bot

import "github.com/hallwayhq/hallway/store"

// ircReplier queues answers to IRC: in the channel addressed to the nick
// ("bob: voted for #7"), or privately to the nick. A private answer to
// someone logged in is bound to their account: it goes out only to a nick
// logged in to it, never to whoever holds the nick by then. now, if set,
// says a line at once without the outbox (the IRC client's sender).
type ircReplier struct {
	now func(target, text string)
}

func (r ircReplier) Reply(tx *store.Tx, req Request, reply Reply) error {
	for _, m := range ircMessages(req, reply) {
		if err := tx.Enqueue(m); err != nil {
			return err
		}
	}
	return nil
}

// ReplyNow says the answer at once, without the outbox, when there is a
// connection to say it on; it is not kept. It is for answers that carry
// no secret (the apology when the outbox cannot be written).
func (r ircReplier) ReplyNow(req Request, reply Reply) {
	if r.now == nil {
		return
	}
	for _, m := range ircMessages(req, reply) {
		r.now(m.Target, m.Body)
	}
}

// ircMessages are the outbox messages of an answer.
func ircMessages(req Request, r Reply) []store.Message {
	var out []store.Message
	target, addressee := req.Where, req.Nick
	if r.Private && target != "" {
		out = append(out, store.Message{Channel: store.IRC, Target: target, Addressee: addressee,
			Body: addressee + ": sent you a private message."})
		target = ""
	}
	account := ""
	if r.Public && target != "" {
		addressee = ""
	}
	if target == "" {
		target, addressee, account = req.Nick, "", req.Account
	}
	for _, line := range r.Lines {
		m := store.Message{Channel: store.IRC, Target: target, Addressee: addressee, Account: account, Body: line}
		if addressee != "" {
			m.Body = addressee + ": " + line
		}
		if len(r.Lines) == 1 {
			m.Short = r.Short
		}
		out = append(out, m)
	}
	return out
}
