package bot

import (
	"errors"
	"fmt"
	"strings"
)

// Some things are better not said in a channel: an address (it is masked
// in the answer, but everyone saw it typed), or a pledge meant to be
// anonymous. The answer suggests a private message next time.

// saidInRoom reports whether the command was said in a room where others
// read it, on a transport that could have taken it privately.
func (c *call) saidInRoom() bool { return c.req.Where != "" && c.req.Can.PrivateReply }

// registerInChannel reports whether a register names its address in a
// channel.
func (c *call) registerInChannel() bool {
	return c.saidInRoom() && len(c.args.Words) > 0 && strings.Contains(c.args.Words[0], "@")
}

// anonymousInChannel reports whether a pledge "as anonymous" was said in a
// channel.
func (c *call) anonymousInChannel() bool {
	if !c.saidInRoom() {
		return false
	}
	for i := range c.args.Words {
		if c.args.keyword(i) == "as" {
			switch c.args.keyword(i + 1) {
			case "anonymous", "anon":
				return true
			}
		}
	}
	return false
}

// withHint adds a hint to run's answer, or to its mistake, when hint says
// so before run (run may change the arguments).
func withHint(run func(c *call) (Reply, error), hint func(c *call) string) func(c *call) (Reply, error) {
	return func(c *call) (Reply, error) {
		h := hint(c)
		r, err := run(c)
		if h == "" {
			return r, err
		}
		var uerr *Error
		if errors.As(err, &uerr) {
			return r, &Error{Msg: uerr.Msg + " " + h, More: uerr.More}
		}
		if err == nil && len(r.Lines) > 0 {
			r.Lines[0] += " " + h
			r.Short = ""
		}
		return r, err
	}
}

func registerHint(c *call) string {
	if !c.registerInChannel() {
		return ""
	}
	return fmt.Sprintf("Next time, say it to me in a private message (/msg %s register ADDRESS): your address stays out of the channel.", c.bot.opts.Nick)
}

func pledgeHint(c *call) string {
	if !c.anonymousInChannel() {
		return ""
	}
	return fmt.Sprintf("Next time, pledge in a private message (/msg %s pledge …): everyone here saw who pledged anonymously.", c.bot.opts.Nick)
}
