package bot

import "github.com/hallwayhq/hallway/store"

// ircReplier queues answers to IRC: in the channel addressed to the nick
// ("bob: voted for #7"), or privately to the nick. now, if set, sends a
// line at once without the outbox (the IRC client's sender).
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

// ReplyNow sends the answer at once, without the outbox, when there is a
// connection to send it on; it is not kept.
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
		out = append(out, m)
	}
	return out
}
