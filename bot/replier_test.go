package bot

import "github.com/hallwayhq/hallway/store"

// chatReplier queues answers as the IRC transport (package irc) does,
// which bot's own tests cannot import: addressed in the room, or privately
// bound to the account, with a notice in the room that a private answer
// went out. The tests read the command language's answers through it.
type chatReplier struct{}

func (chatReplier) Reaches(kind IdentityKind) bool { return kind == IRCAccount }

func (chatReplier) Reply(tx *store.Tx, req Request, r Reply) error {
	target, addressee := req.Where, req.Nick
	if r.Private && target != "" {
		if err := tx.Enqueue(store.Message{Channel: store.IRC, Target: target, Addressee: addressee,
			Body: addressee + ": sent you a private message."}); err != nil {
			return err
		}
		target = ""
	}
	account := ""
	if r.Public && target != "" {
		addressee = ""
	}
	if target == "" {
		target, addressee, account = req.Nick, "", req.Who.Value
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

// newTestBot is New with the chat replier installed for IRC.
func newTestBot(s *store.Store, events []*Event, opts *Options) *Bot {
	b := New(s, events, opts)
	b.SetReplier(IRC, chatReplier{})
	return b
}
