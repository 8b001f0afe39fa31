package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hallwayhq/hallway/store"
)

// forgetCodeTTL is how long the code that confirms a forget works.
const forgetCodeTTL = 15 * time.Minute

var forgetSpec = &Spec{
	Name:     "forget",
	Usage:    "[confirm CODE]",
	Help:     "Delete what hallway keeps about you; what the event needs stays, without your name. It gives you a code to confirm with first.",
	Examples: []string{"forget"},
	Person:   true,
	Counts:   "requests to be forgotten",
	Run:      runForget,
}

func runForget(c *call) (Reply, error) {
	switch {
	case len(c.args.Words) == 0:
		code, err := c.tx.NewPrivacyToken(store.TokenForget, c.person.ID, forgetCodeTTL)
		if err != nil {
			return Reply{}, err
		}
		return Reply{Private: true, Lines: []string{
			"This deletes what hallway keeps about you: your accounts and addresses, the addresses of your registrations, your feed links, mail kept, messages to you, and what you said in session notes outside the minutes.",
			fmt.Sprintf("Kept without your name, because the event needs them: your votes (counted), your talks (given by %q), your pledges (in the totals, as anonymous), check-ins, seats and lines in published minutes.", store.ForgottenSpeaker),
			fmt.Sprintf("To go ahead, say within %d minutes: %sforget confirm %s", int(forgetCodeTTL.Minutes()), c.prefix(), code),
		}}, nil
	case len(c.args.Words) == 2 && c.args.keyword(0) == "confirm":
	default:
		return Reply{}, c.usageErr("")
	}
	if _, err := c.tx.UsePrivacyToken(store.TokenForget, c.args.Words[1], c.person.ID); errors.Is(err, store.ErrNotFound) {
		return Reply{}, userErr(fmt.Sprintf("that is not the code I gave you. Say %sforget for a new one.", c.prefix()))
	} else if errors.Is(err, store.ErrTokenUsed) {
		return Reply{}, userErr(fmt.Sprintf("that code has expired or was used already. Say %sforget for a new one.", c.prefix()))
	} else if err != nil {
		return Reply{}, err
	}
	f, err := c.tx.Forget(c.person.ID)
	if err != nil {
		return Reply{}, err
	}
	// Notes being taken hold their lines in memory too: rebuilt from the
	// log as it is now, and again from the store if this is undone.
	if err := c.bot.loadMeetings(c.tx); err != nil {
		return Reply{}, err
	}
	c.onRollback(func() {
		if err := c.bot.store.View(context.WithoutCancel(c.ctx), c.bot.loadMeetings); err != nil {
			c.bot.log.Error("reloading notes after an undone forget", "err", err)
		}
	})
	c.bot.forgotten(c.tx.Now())
	c.bot.log.Info("a person was forgotten", "person", c.person.ID, "kept", len(f.Kept))
	return Reply{}, c.answerForgotten(forgottenLines(f))
}

// forgottenLines is the answer to a forget: what was kept, and why.
func forgottenLines(f store.Forgotten) []string {
	lines := []string{"Done: hallway has forgotten you. Nothing kept leads back to you."}
	if len(f.Kept) == 0 {
		return append(lines, "Nothing was kept.")
	}
	var kept []string
	for _, k := range f.Kept {
		kept = append(kept, fmt.Sprintf("%d %s (%s)", k.N, singular(k.What, k.N), k.Why))
	}
	return append(lines, "Kept without your name: "+strings.Join(kept, "; ")+".")
}

// singular drops the plural "s" of a count of one ("1 vote").
func singular(what string, n int64) string {
	if n != 1 {
		return what
	}
	first, rest, _ := strings.Cut(what, " ")
	first = strings.TrimSuffix(first, "s")
	if rest != "" {
		return first + " " + rest
	}
	return first
}

// answerForgotten queues the answer to a forget under keys the retention
// run deletes once it is sent (store.ForgottenKeyPrefix): the answer is
// the last row to say where the person was.
func (c *call) answerForgotten(lines []string) error {
	key := fmt.Sprintf("%s%d:%d", store.ForgottenKeyPrefix, c.person.ID, c.tx.Now().UnixNano())
	if c.req.Transport == Mail {
		if c.bot.mailer == nil {
			return nil
		}
		_, email := c.asker()
		return c.bot.mailer.Mail(c.tx, OutMail{To: email, Subject: "You are forgotten", Body: strings.Join(lines, "\n\n") + "\n",
			Reply: c.req.Mail, DedupeKey: key})
	}
	rep, ok := c.bot.repliers[c.req.Transport]
	if !ok {
		return nil
	}
	return rep.Reply(c.tx, c.req, Reply{Lines: lines, Private: true, Key: key})
}
