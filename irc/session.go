package irc

import (
	"cmp"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lrstanley/girc"

	"github.com/hallwayhq/hallway/bot"
)

// ircSession is what the bot keeps up for one connection: its channels
// (rejoined after a kick, joined on invite) and its nick (regained from a
// squatter or a ghost of itself).
type ircSession struct {
	c          *Client
	cl         *girc.Client
	registered atomic.Bool
	done       chan struct{} // closed when the connection ends

	mu          sync.Mutex
	rejoins     map[string]*rejoinState // folded channel
	regainSince time.Time               // when the nick was found taken; zero when held
	monitor     bool                    // the server has MONITOR
}

// rejoinState is the backoff of rejoining one channel.
type rejoinState struct {
	name   string
	wait   time.Duration
	since  time.Time // when the bot lost the channel
	timer  *time.Timer
	joined time.Time
}

const (
	rejoinFirst = time.Second
	rejoinMax   = 5 * time.Minute
	// regainEvery is how often the bot tries for its nick without MONITOR
	// (ISON), and asks NickServ again.
	regainEvery = 10 * time.Second
)

func (s *ircSession) addHandlers(cl *girc.Client) {
	c := s.c
	onReady := func(cl *girc.Client, _ girc.Event) {
		if s.registered.Swap(true) {
			return
		}
		for _, ch := range s.channels() {
			c.send.command("JOIN " + ch)
		}
		c.setClient(cl)
		_, monitor := cl.GetServerOption("MONITOR")
		s.mu.Lock()
		s.monitor = monitor
		s.mu.Unlock()
		nick := cl.GetNick()
		c.log.Info("connected", "server", c.opts.Server, "nick", nick)
		if !strings.EqualFold(nick, c.opts.Nick) {
			s.startRegain(nick)
		}
	}
	cl.Handlers.Add(girc.RPL_ENDOFMOTD, onReady)
	cl.Handlers.Add(girc.ERR_NOMOTD, onReady)
	cl.Handlers.Add(girc.ERR_SASLFAIL, func(_ *girc.Client, e girc.Event) {
		c.log.Error("SASL login failed: check irc.sasl_user and the password variable", "server_says", e.Last())
	})
	cl.Handlers.Add(girc.PRIVMSG, c.onPrivmsg)
	cl.Handlers.Add(girc.KICK, s.onKick)
	cl.Handlers.Add(girc.INVITE, s.onInvite)
	cl.Handlers.Add(girc.JOIN, s.onJoin)
	cl.Handlers.Add(girc.CAP_ACCOUNT, func(_ *girc.Client, e girc.Event) {
		if e.Source != nil && len(e.Params) > 0 && e.Params[0] != "*" {
			c.send.sawAccount(bot.FoldAccount(e.Params[0]), e.Source.Name)
		}
	})
	cl.Handlers.Add(girc.MODE, func(_ *girc.Client, e girc.Event) {
		if len(e.Params) > 0 && girc.IsValidChannel(e.Params[0]) {
			c.send.unblock(e.Params[0])
		}
	})
	// The only command of ours that needs op is TOPIC (event.keep_topic).
	cl.Handlers.Add(girc.ERR_CHANOPRIVSNEEDED, func(cl *girc.Client, e girc.Event) {
		if len(e.Params) < 2 || !girc.IsValidChannel(e.Params[1]) {
			return
		}
		c.log.Warn("the server refused to set a topic", "channel", e.Params[1], "server_says", e.Last())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		me := cmp.Or(c.opts.SASLUser, cl.GetNick())
		if err := c.bot.TopicRefused(ctx, e.Params[1], me, e.Last()); err != nil {
			c.log.Error("telling the organizers the topic was refused", "err", err)
		}
	})
	for _, code := range []string{girc.ERR_CHANNELISFULL, girc.ERR_INVITEONLYCHAN, girc.ERR_BANNEDFROMCHAN,
		girc.ERR_BADCHANNELKEY, "477", "489"} {
		cl.Handlers.Add(code, s.onJoinRefused)
	}
	// Lines the server refused are queued again (with echo-message the
	// sender knows which line it was).
	for _, code := range []string{girc.ERR_CANNOTSENDTOCHAN, girc.ERR_NOTONCHANNEL, girc.ERR_NOSUCHCHANNEL, girc.ERR_NOSUCHNICK} {
		cl.Handlers.Add(code, func(_ *girc.Client, e girc.Event) {
			if len(e.Params) > 1 {
				c.send.refused(e.Params[1])
			}
		})
	}
	cl.Handlers.Add(girc.ALL_EVENTS, func(_ *girc.Client, e girc.Event) {
		if e.Echo && (e.Command == girc.PRIVMSG || e.Command == girc.NOTICE) && len(e.Params) > 1 {
			c.send.echoed(e.Params[0], e.Last())
		}
	})
	// WHOX answers about nicks a private line is for.
	cl.Handlers.Add(girc.RPL_WHOSPCRPL, func(_ *girc.Client, e girc.Event) {
		// <me> <token> <nick> <account>
		if len(e.Params) >= 4 && e.Params[1] == whoToken {
			c.send.whoReply(e.Params[2], e.Params[3], false)
		}
	})
	cl.Handlers.Add(girc.RPL_ENDOFWHO, func(_ *girc.Client, e girc.Event) {
		if len(e.Params) > 1 && !girc.IsValidChannel(e.Params[1]) {
			c.send.whoReply(e.Params[1], "", true)
		}
	})
	// Without WHOX: WHOIS, 330 <me> <nick> <account> :is logged in as
	cl.Handlers.Add(girc.RPL_WHOISACCOUNT, func(_ *girc.Client, e girc.Event) {
		if len(e.Params) >= 3 {
			c.send.whoReply(e.Params[1], e.Params[2], false)
		}
	})
	cl.Handlers.Add(girc.RPL_ENDOFWHOIS, func(_ *girc.Client, e girc.Event) {
		if len(e.Params) > 1 {
			c.send.whoReply(e.Params[1], "", true)
		}
	})
	// Regaining the nick.
	cl.Handlers.Add(girc.NICK, s.onNick)
	cl.Handlers.Add(girc.RPL_MONOFFLINE, func(_ *girc.Client, e girc.Event) {
		for _, t := range strings.Split(e.Last(), ",") {
			if n, _, _ := strings.Cut(t, "!"); strings.EqualFold(n, c.opts.Nick) {
				s.tryNick()
			}
		}
	})
	cl.Handlers.Add(girc.RPL_ISON, func(_ *girc.Client, e girc.Event) {
		for _, n := range strings.Fields(e.Last()) {
			if strings.EqualFold(n, c.opts.Nick) {
				return
			}
		}
		s.tryNick()
	})
}

// ended tells whether the connection is over.
func (s *ircSession) ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// serves tells whether channel is one of the bot's, and its configured name.
func (s *ircSession) serves(channel string) (string, bool) {
	for _, ch := range s.channels() {
		if girc.ToRFC1459(ch) == girc.ToRFC1459(channel) {
			return ch, true
		}
	}
	return "", false
}

// onKick: kicked from a channel it serves, the bot rejoins with backoff
// (Limnoria's alwaysRejoin).
func (s *ircSession) onKick(cl *girc.Client, e girc.Event) {
	if len(e.Params) < 2 || !strings.EqualFold(e.Params[1], cl.GetNick()) {
		return
	}
	ch, ok := s.serves(e.Params[0])
	if !ok {
		return
	}
	by := ""
	if e.Source != nil {
		by = e.Source.Name
	}
	s.c.log.Warn("kicked from a channel; rejoining", "channel", ch, "by", by, "reason", e.Last())
	s.mu.Lock()
	r := s.rejoin(ch)
	r.since = time.Now()
	// Kicked again soon after coming back: back off more.
	if time.Since(r.joined) > time.Minute {
		r.wait = 0
	}
	s.scheduleLocked(r)
	s.mu.Unlock()
}

// onJoinRefused: a join the server refused (invite only, banned, full)
// is tried again later, with growing waits.
func (s *ircSession) onJoinRefused(_ *girc.Client, e girc.Event) {
	if len(e.Params) < 2 {
		return
	}
	ch, ok := s.serves(e.Params[1])
	if !ok {
		return
	}
	s.mu.Lock()
	r := s.rejoin(ch)
	if r.since.IsZero() {
		r.since = time.Now()
	}
	s.scheduleLocked(r)
	wait := r.wait
	s.mu.Unlock()
	s.c.log.Warn("could not join a channel; trying again", "channel", ch, "server_says", e.Last(), "in", wait)
}

// channels are the channels the bot is in: the configured ones, the
// rooms' and those an organizer invited it to.
func (s *ircSession) channels() []string {
	return append(append([]string(nil), s.c.opts.Channels...), s.c.bot.Channels()...)
}

// onInvite: invited to a channel it serves, the bot joins at once; to
// another, it joins if the bot says the inviter may bring it there (an
// organizer, by account).
func (s *ircSession) onInvite(cl *girc.Client, e girc.Event) {
	if len(e.Params) < 2 || !strings.EqualFold(e.Params[0], cl.GetNick()) || e.Source == nil {
		return
	}
	if ch, ok := s.serves(e.Params[1]); ok {
		if !cl.IsInChannel(ch) {
			s.c.log.Info("invited; joining", "channel", ch)
			s.c.send.command("JOIN " + ch)
		}
		return
	}
	ch, account := e.Params[1], s.c.account(cl, e, e.Source.Name)
	if !girc.IsValidChannel(ch) || account == "" {
		s.c.log.Info("invitation not taken up: the inviter is not logged in", "channel", ch, "nick", e.Source.Name)
		return
	}
	// The store write stays off girc's event loop.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ok, err := s.c.bot.Invited(ctx, account, ch)
		switch {
		case err != nil:
			s.c.log.Error("recording an invitation", "err", err, "channel", ch)
		case !ok:
			s.c.log.Info("invitation not taken up: the inviter organizes no event", "channel", ch, "account", account)
		case !s.ended():
			s.c.send.command("JOIN " + ch)
		}
	}()
}

func (s *ircSession) onJoin(cl *girc.Client, e girc.Event) {
	if e.Source == nil || len(e.Params) == 0 {
		return
	}
	if !strings.EqualFold(e.Source.Name, cl.GetNick()) {
		// extended-join: the account of whoever joined
		if len(e.Params) > 1 && e.Params[1] != "*" {
			s.c.send.sawAccount(bot.FoldAccount(e.Params[1]), e.Source.Name)
		}
		return
	}
	ch := e.Params[0]
	s.c.send.unblock(ch)
	s.mu.Lock()
	r, ok := s.rejoins[girc.ToRFC1459(ch)]
	if ok {
		if r.timer != nil {
			r.timer.Stop()
			r.timer = nil
		}
		r.joined = time.Now()
		if !r.since.IsZero() {
			s.c.log.Info("rejoined a channel", "channel", ch, "after", time.Since(r.since).Round(time.Millisecond))
			r.since = time.Time{}
		}
	}
	s.mu.Unlock()
}

func (s *ircSession) rejoin(ch string) *rejoinState {
	k := girc.ToRFC1459(ch)
	r, ok := s.rejoins[k]
	if !ok {
		r = &rejoinState{name: ch}
		s.rejoins[k] = r
	}
	return r
}

// scheduleLocked plans the next JOIN of r after its backoff.
func (s *ircSession) scheduleLocked(r *rejoinState) {
	if r.timer != nil {
		r.timer.Stop()
	}
	if r.wait == 0 {
		r.wait = rejoinFirst
	} else {
		r.wait = min(2*r.wait, rejoinMax)
	}
	name := r.name
	r.timer = time.AfterFunc(r.wait, func() {
		if s.ended() || s.cl.IsInChannel(name) {
			return
		}
		s.c.send.command("JOIN " + name)
	})
}

// startRegain begins taking the configured nick back from whoever holds
// it: NickServ RECOVER with the bot's own account (Anope renames the
// holder and gives us the nick), then MONITOR (or ISON) to take it as soon
// as it is free.
func (s *ircSession) startRegain(held string) {
	c := s.c
	s.mu.Lock()
	s.regainSince = time.Now()
	monitor := s.monitor
	s.mu.Unlock()
	c.log.Warn("the bot's nick is taken; regaining it", "nick", c.opts.Nick, "holding", held)
	if monitor {
		c.send.command("MONITOR + " + c.opts.Nick)
	}
	s.recover()
	go func() {
		t := time.NewTicker(regainEvery)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
			}
			s.mu.Lock()
			regaining := !s.regainSince.IsZero()
			s.mu.Unlock()
			if !regaining {
				return
			}
			s.recover()
			if !monitor {
				c.send.command("ISON " + c.opts.Nick)
			}
		}
	}()
}

// recover asks NickServ for the nick, when the bot logs in to services.
func (s *ircSession) recover() {
	if s.c.opts.SASLUser != "" {
		s.c.send.command("PRIVMSG NickServ :RECOVER " + s.c.opts.Nick)
	}
}

func (s *ircSession) tryNick() {
	s.mu.Lock()
	regaining := !s.regainSince.IsZero()
	s.mu.Unlock()
	if regaining {
		s.c.send.command("NICK " + s.c.opts.Nick)
	}
}

func (s *ircSession) onNick(cl *girc.Client, e girc.Event) {
	if e.Source == nil || len(e.Params) == 0 {
		return
	}
	// Someone we share a channel with changed nick: private lines for
	// their account follow them.
	for _, n := range []string{e.Params[0], e.Source.Name} {
		if u := cl.LookupUser(n); u != nil && u.Extras.Account != "" && u.Extras.Account != "*" {
			s.c.send.sawAccount(bot.FoldAccount(u.Extras.Account), e.Params[0])
			break
		}
	}
	// girc may or may not have renamed us in its state yet.
	ours := strings.EqualFold(e.Source.Name, cl.GetNick()) || strings.EqualFold(cl.GetNick(), s.c.opts.Nick)
	if !ours || !strings.EqualFold(e.Params[0], s.c.opts.Nick) {
		return
	}
	s.mu.Lock()
	since, monitor := s.regainSince, s.monitor
	s.regainSince = time.Time{}
	s.mu.Unlock()
	if since.IsZero() {
		return
	}
	s.c.log.Info("nick regained", "nick", s.c.opts.Nick, "after", time.Since(since).Round(time.Millisecond))
	if monitor {
		s.c.send.command("MONITOR - " + s.c.opts.Nick)
	}
}
