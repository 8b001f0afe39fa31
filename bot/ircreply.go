package bot

import "github.com/hallwayhq/hallway/store"

// ircReplier queues answers to IRC: in the channel addressed to the nick
// ("bob: voted for #7"), or privately to the nick.
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
	if target == "" {
		target, addressee = req.Nick, ""
	}
	for _, line := range r.Lines {
		m := store.Message{Channel: store.IRC, Target: target, Addressee: addressee, Body: line}
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
