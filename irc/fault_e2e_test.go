package irc_test

// End-to-end tests of the IRC transport under faults and hostile clients,
// against the real InspIRCd + Anope: a squatter on the bot's nick, a nick
// taken over between a reply and its sending, kicks and refusals, CTCP
// floods, one person hogging the replies.

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/store"
	"github.com/hallwayhq/hallway/store/storetest"
)

// fromBot matches a PRIVMSG from the bot to target (any target if "").
func fromBot(botNick, target string) func(irctest.Message) bool {
	return func(m irctest.Message) bool {
		return m.Command == "PRIVMSG" && strings.EqualFold(m.Prefix.Nick, botNick) &&
			(target == "" || strings.EqualFold(m.Param(0), target))
	}
}

// TestIRCNickRegained: someone holds the bot's nick when it connects (a
// squatter, or a ghost of the bot itself); the bot takes it back, and
// people who message the nick reach the bot.
func TestIRCNickRegained(t *testing.T) {
	addr := irctest.TestEnv(t)
	for _, tc := range []struct {
		name string
		// holder connects as the bot's nick before the bot starts.
		holder func(ctx context.Context, botNick string) (*irctest.Client, error)
		sasl   bool
		// free makes the holder let go (when the bot cannot make it).
		free func(c *irctest.Client)
	}{
		{name: "squatter", sasl: true, holder: func(ctx context.Context, botNick string) (*irctest.Client, error) {
			return irctest.Dial(ctx, addr, botNick)
		}},
		{name: "ghost", sasl: true, holder: func(ctx context.Context, botNick string) (*irctest.Client, error) {
			// the bot's own account, as after a ping timeout not noticed yet
			return irctest.DialSASL(ctx, addr, botNick, botNick, "pw-"+botNick)
		}},
		{name: "no services: squatter leaves", holder: func(ctx context.Context, botNick string) (*irctest.Client, error) {
			return irctest.Dial(ctx, addr, botNick)
		}, free: func(c *irctest.Client) { c.Close() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxFor(t, time.Minute)
			channel := "#" + unique("nick")
			botNick, alice := unique("hw"), unique("alice")
			account(t, ctx, addr, botNick).Close()
			aliceC := account(t, ctx, addr, alice)
			if err := aliceC.Join(ctx, channel); err != nil {
				t.Fatal(err)
			}
			holder, err := tc.holder(ctx, botNick)
			if err != nil {
				t.Fatal(err)
			}
			defer holder.Close()
			setup := botSetup{addr: addr, nick: botNick, channel: channel,
				db: storetest.Source(t), burst: 10, rate: 10}
			if tc.sasl {
				setup.account, setup.password = botNick, "pw-"+botNick
			}
			b := startBot(t, setup)
			defer b.stop()
			// The bot joins under another nick...
			m, err := aliceC.Expect(ctx, func(m irctest.Message) bool {
				return m.Command == "JOIN" && strings.HasPrefix(strings.ToLower(m.Prefix.Nick), strings.ToLower(botNick))
			})
			if err != nil {
				t.Fatal(err)
			}
			joined := time.Now()
			if strings.EqualFold(m.Prefix.Nick, botNick) {
				t.Fatalf("the bot joined as %s while %s held the nick", m.Prefix.Nick, botNick)
			}
			if tc.free != nil {
				tc.free(holder)
			}
			// ...and takes its nick back.
			if _, err := aliceC.Expect(ctx, func(m irctest.Message) bool {
				return m.Command == "NICK" && strings.EqualFold(m.Param(0), botNick)
			}); err != nil {
				t.Fatalf("the bot did not regain its nick: %v", err)
			}
			t.Logf("nick regained %v after the bot joined", time.Since(joined).Round(time.Millisecond))
			if tc.free == nil {
				// The holder was renamed (it learns so from its own NICK
				// line) or, a ghost, disconnected.
				_, err := holder.Sync(ctx)
				if err != nil && holder.Err() == nil {
					t.Fatal(err)
				}
				if err == nil && strings.EqualFold(holder.Nick(), botNick) {
					t.Errorf("the holder still has %s", botNick)
				}
			}
			// A private message to the nick reaches the bot.
			aliceC.Privmsg(botNick, "votes")
			if _, err := aliceC.Expect(ctx, fromBot(botNick, alice)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestIRCPrivateReplyFollowsAccount: a private reply (a personal feed
// address) waits while its nick is held by someone not logged in to the
// account, and goes to the account's new nick, never to the taker.
func TestIRCPrivateReplyFollowsAccount(t *testing.T) {
	addr := irctest.TestEnv(t)
	ctx := ctxFor(t, 2*time.Minute)
	channel := "#" + unique("priv")
	botNick, victim := unique("hw"), unique("vic")
	account(t, ctx, addr, botNick).Close()
	victimC := account(t, ctx, addr, victim)
	if err := victimC.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}
	taker := irctest.DialT(t, addr, unique("tk")) // never logs in
	if err := taker.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}
	// One line every 5 s: the private line waits behind the channel one.
	b := startBot(t, botSetup{addr: addr, nick: botNick, account: botNick, password: "pw-" + botNick, channel: channel,
		db: storetest.Source(t), burst: 1, rate: 0.2, url: "https://e2e.test"})
	defer b.stop()
	waitJoined(t, ctx, victimC, botNick, channel)
	victimC.Privmsg(channel, "!feed")
	said(t, ctx, victimC, botNick, victim+": sent you a private message.")
	// The victim drops; the taker takes the nick before the bot sends.
	victimC.Close()
	if _, err := taker.Expect(ctx, func(m irctest.Message) bool { return m.Command == "QUIT" && strings.EqualFold(m.Prefix.Nick, victim) }); err != nil {
		t.Fatal(err)
	}
	taker.Raw("NICK " + victim)
	if _, err := taker.Expect(ctx, func(m irctest.Message) bool { return m.Command == "NICK" && strings.EqualFold(m.Param(0), victim) }); err != nil {
		t.Fatal(err)
	}
	// The victim comes back under another nick, logged in.
	back, err := irctest.DialSASL(ctx, addr, unique("vb"), victim, "pw-"+victim)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if err := back.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	m, backErr := back.Expect(waitCtx, fromBot(botNick, back.Nick()))
	// Nothing the bot sent the taker held the feed.
	got, err := taker.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range got {
		if m.Command == "PRIVMSG" && strings.EqualFold(m.Prefix.Nick, botNick) && strings.Contains(m.Last(), "/feed/") {
			t.Errorf("the taker of %s got the victim's feed: %q", victim, m.Last())
		}
	}
	if backErr != nil {
		t.Fatalf("the feed never reached the victim's new nick: %v", backErr)
	}
	if !strings.Contains(m.Last(), "https://e2e.test/feed/") {
		t.Errorf("the victim's first private line is %q, want the feed address", m.Last())
	}
}

// TestIRCPrivateReplyDropped: a private line whose account never comes
// back under any nick is dropped after the bound, not sent to the nick's
// new holder.
func TestIRCPrivateReplyDropped(t *testing.T) {
	addr := irctest.TestEnv(t)
	ctx := ctxFor(t, time.Minute)
	channel := "#" + unique("drop")
	botNick, victim := unique("hw"), unique("vic")
	account(t, ctx, addr, botNick).Close()
	victimC := account(t, ctx, addr, victim)
	if err := victimC.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}
	taker := irctest.DialT(t, addr, unique("tk"))
	if err := taker.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}
	db := storetest.Source(t)
	b := startBot(t, botSetup{addr: addr, nick: botNick, account: botNick, password: "pw-" + botNick, channel: channel,
		db: db, burst: 1, rate: 0.5, url: "https://e2e.test", privateWait: 3 * time.Second})
	defer b.stop()
	waitJoined(t, ctx, victimC, botNick, channel)
	victimC.Privmsg(channel, "!feed")
	said(t, ctx, victimC, botNick, victim+": sent you a private message.")
	victimC.Close()
	taker.Raw("NICK " + victim)
	if _, err := taker.Expect(ctx, func(m irctest.Message) bool { return m.Command == "NICK" && strings.EqualFold(m.Param(0), victim) }); err != nil {
		t.Fatal(err)
	}
	waitSent(t, ctx, db) // dropped
	got, err := taker.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range got {
		if m.Command == "PRIVMSG" && strings.EqualFold(m.Prefix.Nick, botNick) && m.Param(0) != channel {
			t.Errorf("the taker of %s got a private line: %q", victim, m.Last())
		}
	}
}

// waitSent waits until no IRC line waits in the outbox (sent or dropped).
func waitSent(t *testing.T, ctx context.Context, db string) {
	t.Helper()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		msgs, err := st.Pending(ctx, store.IRC, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("lines still wait in the outbox")
		case <-tick.C:
		}
	}
}

// TestIRCPrivateReplyOutsideChannels: the same when the person shares no
// channel with the bot (it asks the server who holds the nick): the feed
// asked for by private message, then the nick taken over before the bot
// could send it, goes to the account's new nick only.
func TestIRCPrivateReplyOutsideChannels(t *testing.T) {
	addr := irctest.TestEnv(t)
	ctx := ctxFor(t, 2*time.Minute)
	channel := "#" + unique("priv")
	botNick, victim, helper := unique("hw"), unique("vic"), unique("hlp")
	account(t, ctx, addr, botNick).Close()
	victimC := account(t, ctx, addr, victim)
	helperC := account(t, ctx, addr, helper)
	if err := helperC.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}
	taker := irctest.DialT(t, addr, unique("tk")) // never logs in, joins nothing
	b := startBot(t, botSetup{addr: addr, nick: botNick, account: botNick, password: "pw-" + botNick, channel: channel,
		db: storetest.Source(t), burst: 2, rate: 0.2, url: "https://e2e.test"})
	defer b.stop()
	waitJoined(t, ctx, helperC, botNick, channel)
	// The helper's answers take the bot's tokens: the next line waits 5 s.
	helperC.Privmsg(channel, "!votes")
	helperC.Privmsg(channel, "!votes")
	saidPrefix(t, ctx, helperC, botNick, helper+": ")
	saidPrefix(t, ctx, helperC, botNick, helper+": ")
	victimC.Privmsg(botNick, "feed")
	victimC.Close()
	taker.Raw("NICK " + victim)
	if _, err := taker.Expect(ctx, func(m irctest.Message) bool { return m.Command == "NICK" && strings.EqualFold(m.Param(0), victim) }); err != nil {
		t.Fatal(err)
	}
	back, err := irctest.DialSASL(ctx, addr, unique("vb"), victim, "pw-"+victim)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	back.Privmsg(botNick, "votes")
	waitCtx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	m, backErr := back.Expect(waitCtx, fromBot(botNick, back.Nick()))
	got, err := taker.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range got {
		if m.Command == "PRIVMSG" && strings.EqualFold(m.Prefix.Nick, botNick) && strings.Contains(m.Last(), "/feed/") {
			t.Errorf("the taker of %s got the victim's feed: %q", victim, m.Last())
		}
	}
	if backErr != nil {
		t.Fatalf("the feed never reached the victim's new nick: %v", backErr)
	}
	if !strings.Contains(m.Last(), "https://e2e.test/feed/") {
		t.Errorf("the victim's first private line is %q, want the feed address", m.Last())
	}
}

// announce queues a line for the channel as the bot's clock or an
// organizer's command would.
func announce(t *testing.T, ctx context.Context, b *running, db, channel, text string) {
	t.Helper()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Do(ctx, func(tx *store.Tx) error {
		return tx.Enqueue(store.Message{Channel: store.IRC, Target: channel, Body: text})
	}); err != nil {
		t.Fatal(err)
	}
	b.irc.Wake()
}

// TestIRCKickedComesBack: kicked, the bot rejoins; kept out, it joins
// when invited; announcements the server refused, or made while the bot
// was out, arrive once it is back.
func TestIRCKickedComesBack(t *testing.T) {
	addr := irctest.TestEnv(t)
	ctx := ctxFor(t, 2*time.Minute)
	channel := "#" + unique("kick")
	botNick, op := unique("hw"), unique("op")
	account(t, ctx, addr, botNick).Close()
	opC := account(t, ctx, addr, op)
	if err := opC.Join(ctx, channel); err != nil { // first in: channel operator
		t.Fatal(err)
	}
	db := storetest.Source(t)
	b := startBot(t, botSetup{addr: addr, nick: botNick, account: botNick, password: "pw-" + botNick, channel: channel,
		db: db, burst: 10, rate: 10})
	defer b.stop()
	waitJoined(t, ctx, opC, botNick, channel)
	isJoin := func(m irctest.Message) bool {
		return m.Command == "JOIN" && strings.EqualFold(m.Prefix.Nick, botNick) && strings.EqualFold(m.Param(0), channel)
	}

	// Kicked: back by itself.
	opC.Raw("KICK " + channel + " " + botNick + " :out")
	kicked := time.Now()
	if _, err := opC.Expect(ctx, isJoin); err != nil {
		t.Fatalf("the bot did not rejoin after a kick: %v", err)
	}
	t.Logf("rejoined %v after the kick", time.Since(kicked).Round(time.Millisecond))

	// Kept out (invite only), an announcement waits; invited, it joins
	// and says it.
	opC.Raw("MODE " + channel + " +i")
	opC.Raw("KICK " + channel + " " + botNick + " :stay out")
	if _, err := opC.Expect(ctx, func(m irctest.Message) bool { return m.Command == "KICK" && strings.EqualFold(m.Param(1), botNick) }); err != nil {
		t.Fatal(err)
	}
	announce(t, ctx, b, db, channel, "announcement made while out")
	opC.Raw("INVITE " + botNick + " " + channel)
	if _, err := opC.Expect(ctx, isJoin); err != nil {
		t.Fatalf("the bot did not join when invited: %v", err)
	}
	said(t, ctx, opC, botNick, "announcement made while out")

	// Moderated: the server refuses the line (404); voiced, the bot says it.
	opC.Raw("MODE " + channel + " +m")
	if _, err := opC.Expect(ctx, func(m irctest.Message) bool { return m.Command == "MODE" && m.Param(1) == "+m" }); err != nil {
		t.Fatal(err)
	}
	announce(t, ctx, b, db, channel, "announcement refused once")
	waitQueuedAgain(t, ctx, db, "announcement refused once")
	opC.Raw("MODE " + channel + " +v " + botNick)
	said(t, ctx, opC, botNick, "announcement refused once")
}

// waitQueuedAgain waits until the line the bot sent with body was queued
// again (refused by the server): the outbox holds it twice.
func waitQueuedAgain(t *testing.T, ctx context.Context, db, body string) {
	t.Helper()
	sdb := storetest.OpenDB(t, db)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var n int
		if err := sdb.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE body = ?`, body).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n >= 2 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the refused line %q was not queued again", body)
		case <-tick.C:
		}
	}
}

// TestIRCCTCPFlood: 240 CTCP VERSIONs from 20 clients not logged in do
// not get the bot disconnected on a server with a public network's flood
// limits, and each asker gets at most a couple of answers.
func TestIRCCTCPFlood(t *testing.T) {
	addr := irctest.TestEnv(t)
	strict := irctest.RequireEnv(t, "HALLWAY_TEST_IRC_STRICT")
	ctx := ctxFor(t, 2*time.Minute)
	channel := "#" + unique("ctcp")
	botNick, alice := unique("hw"), unique("alice")
	account(t, ctx, addr, botNick).Close()
	aliceC := account(t, ctx, addr, alice)
	if err := aliceC.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}
	b := startBot(t, botSetup{addr: strict, nick: botNick, account: botNick, password: "pw-" + botNick, channel: channel,
		db: storetest.Source(t), burst: 4, rate: 1})
	defer b.stop()
	waitJoined(t, ctx, aliceC, botNick, channel)

	const clients, each = 20, 12
	flooders := make([]*irctest.Client, clients)
	var wg sync.WaitGroup
	for i := range flooders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := irctest.Dial(ctx, addr, unique("fl"))
			if err != nil {
				t.Error(err)
				return
			}
			flooders[i] = c
		}()
	}
	wg.Wait()
	for _, f := range flooders {
		if f == nil {
			t.FailNow()
		}
		defer f.Close()
	}
	received := make([][]irctest.Message, clients)
	for i, f := range flooders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				f.Privmsg(botNick, "\x01VERSION\x01")
			}
			received[i], _ = f.Sync(ctx)
		}()
	}
	wg.Wait()
	// The bot is still there, on the same connection, and answers.
	aliceC.Privmsg(channel, "!votes")
	m, err := aliceC.Expect(ctx, func(m irctest.Message) bool {
		return (m.Command == "QUIT" || m.Command == "PART") && strings.EqualFold(m.Prefix.Nick, botNick) || fromBot(botNick, channel)(m)
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.Command != "PRIVMSG" {
		t.Fatalf("the bot left under a CTCP flood of %d: %s", clients*each, m.Raw)
	}
	answers := 0
	for i, f := range flooders {
		got, err := f.Sync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(received[i], got...)
		n := 0
		for _, m := range got {
			if m.Command == "NOTICE" && strings.EqualFold(m.Prefix.Nick, botNick) && strings.HasPrefix(m.Last(), "\x01VERSION") {
				n++
			}
		}
		if n > 2 {
			t.Errorf("%s got %d CTCP answers for %d queries; want at most 2", f.Nick(), n, each)
		}
		answers += n
	}
	if answers == 0 {
		t.Error("no CTCP VERSION was answered at all")
	}
	t.Logf("%d CTCP VERSIONs from %d clients: bot stayed, %d answered", clients*each, clients, answers)
}

// TestIRCFairReplies: one person asking for long answers as fast as they
// may does not hold back another's acknowledgement, and no answer takes
// more than the pager's three lines in the channel.
func TestIRCFairReplies(t *testing.T) {
	addr := irctest.TestEnv(t)
	ctx := ctxFor(t, 2*time.Minute)
	channel := "#" + unique("fair")
	botNick, hog, bob := unique("hw"), unique("hog"), unique("bob")
	account(t, ctx, addr, botNick).Close()
	hogC := account(t, ctx, addr, hog)
	bobC := account(t, ctx, addr, bob)
	for _, c := range []*irctest.Client{hogC, bobC} {
		if err := c.Join(ctx, channel); err != nil {
			t.Fatal(err)
		}
	}
	b := startBot(t, botSetup{addr: addr, nick: botNick, account: botNick, password: "pw-" + botNick, channel: channel,
		db: storetest.Source(t), burst: 2, rate: 2})
	defer b.stop()
	waitJoined(t, ctx, hogC, botNick, channel)
	hogC.Privmsg(channel, `!propose "Long one" -- `+strings.Repeat("An abstract that goes on and on. ", 60))
	saidPrefix(t, ctx, hogC, botNick, hog+": proposed #1")

	for range 6 {
		hogC.Privmsg(channel, "!show 1")
	}
	if _, err := hogC.Sync(ctx); err != nil { // the server took them before bob's vote
		t.Fatal(err)
	}
	bobC.Privmsg(channel, "!vote 1")
	before := 0
	for {
		m, err := bobC.Expect(ctx, fromBot(botNick, channel))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(m.Last(), bob+": ") {
			break
		}
		before++
	}
	if before > 2 {
		t.Errorf("%d lines to %s went out before %s's acknowledgement; want at most 2", before, hog, bob)
	}
	// The hog's answers: at most three lines per !show, and the last
	// one tells them to slow down.
	lines := 0
	for {
		m, err := hogC.Expect(ctx, fromBot(botNick, channel))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(m.Last(), hog+": ") {
			continue
		}
		if strings.Contains(m.Last(), "slow down") {
			break
		}
		lines++
	}
	if lines > 3*3 {
		t.Errorf("the hog's !show answers took %d lines; want at most 3 per answer, 3 answers", lines)
	}
}
