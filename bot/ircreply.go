package bot

import "github.com/hallwayhq/hallway/store"

// ircReplier queues answers to IRC: in the channel addressed to the nick
// ("bob: voted for #7"), or privately to the nick. A private answer to
// someone logged in is bound to their account: it goes out only to a nick
// logged in to it, never to whoever holds the nick by then.
type ircReplier struct{}

func (ircReplier) Reply(tx *store.Tx, req Request, r Reply) error {
	target, addressee := req.Where, req.Nick
	if r.Private && target != "" {
		if err := tx.Enqueue(store.Message{Channel: store.IRC, Target: target, Addressee: addressee,
			Body: addressee + ": sent you a private message."}); err != nil {
			return err
		}
		target = ""
	}
	account := ""
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
		if err := tx.Enqueue(m); err != nil {
			return err
		}
	}
	return nil
}
