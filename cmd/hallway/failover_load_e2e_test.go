package main

// TestFailoverUnderLoad: the failover test of issue 14 with work in
// flight. Two hallway processes share one database (PostgreSQL when the
// suite runs on it); before each SIGKILL of the leader, eight people fire
// four vote or unvote commands each in the channel without waiting; once
// one is answered, three mails go to the bot's mailbox, eight more people
// fire theirs, and the leader is killed at once: commands are being read,
// carried out, their answers queued or sent, mail taken in. Then: the standby takes over and
// answers !help (time recorded), every command that was answered has
// its effect in the database exactly (a vote answered is stored once, an
// unvote answered is gone, unless a later command of the same person on
// the same proposal went unanswered), every mail is answered, the clock's
// announcements are said once each, and how many answers went out twice
// (the at-least-once window between sending and marking sent, for IRC
// and SMTP alike) is counted and bounded.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/mail/mailtest"
)

// stormVoters and stormBurst size the storm: each voter sends
// stormBurst commands at once before a kill, within the bot's per-person
// burst, so none is refused as too fast.
const (
	stormVoters = 16
	stormBurst  = 4
	// stormProposal proposals are voted on in turn, stormBurst at a
	// time, and unvoted the next time round: an answer that comes late
	// is told from one of the next action on the same proposal by its
	// kind, three rounds apart.
	stormProposal = 3 * stormBurst
)

// stormAction is one command a voter sent: a vote or an unvote of
// proposal k, and whether the bot answered it.
type stormAction struct {
	round  int
	k      int
	vote   bool
	answer int // answers seen: more than one is a duplicate
}

// stormVoter is one person of the storm, with what it sent and saw.
type stormVoter struct {
	c    *irctest.Client
	nick string
	mu   sync.Mutex
	sent []*stormAction
}

// action returns the outstanding action of round on k, if any.
func (v *stormVoter) action(round, k int) *stormAction {
	for _, a := range v.sent {
		if a.round == round && a.k == k {
			return a
		}
	}
	return nil
}

func TestFailoverUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it")
	}
	// Mostly waiting for leases to lapse: the failover tests run beside
	// each other (their nicks, channels, folders and databases are their own).
	t.Parallel()
	ircAddr := irctest.TestEnv(t)
	imapAddr, smtpAddr, mailRoot := mailServers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute+time.Duration(failoverKills)*40*time.Second)
	defer cancel()
	f := newFailover(t, ctx)
	botNick, channel := uniqueNick("hw"), "#"+uniqueNick("fl")
	tag := fmt.Sprintf("fl%x", time.Now().UnixNano()%(1<<40))
	ic, mailbox, mailCfg := f.mailboxes(imapAddr, smtpAddr, tag)
	t0 := time.Now().UTC()
	at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
	// Proposals and votes are open from the start; two announcements come
	// while the leaders come and go.
	extra := fmt.Sprintf(`votes_per_person = %d
  [event.phases]
  voting = { open = %q }
  cfp = { open = %q, close = %q }
  registration = { open = %q }`, stormProposal, at(-time.Hour), at(-time.Hour), at(45*time.Second), at(20*time.Second))
	cfgs := map[string]string{
		"a": f.config("a", ircAddr, botNick, channel, mailCfg, extra),
		"b": f.config("b", ircAddr, botNick, channel, mailCfg, extra),
	}
	start := func(name string) *instance { return f.start(name, cfgs[name], "HALLWAY_TEST_IMAP_PASSWORD=botpass") }

	// A watcher counts what the bot says in the channel.
	watcher := ircPerson(t, ctx, ircAddr, uniqueNick("flw"))
	if err := watcher.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}
	voters := make([]*stormVoter, stormVoters)
	for i := range voters {
		nick := uniqueNick(fmt.Sprintf("fv%d", i))
		c := ircPerson(t, ctx, ircAddr, nick)
		if err := c.Join(ctx, channel); err != nil {
			t.Fatal(err)
		}
		voters[i] = &stormVoter{c: c, nick: nick}
	}
	byNick := map[string]*stormVoter{}
	for _, v := range voters {
		byNick[strings.ToLower(v.nick)] = v
	}

	// Everything the bot says in the channel, seen by the watcher.
	var mu sync.Mutex
	said := map[string]int{}
	answered := make(chan struct{}, 1024) // one per voter's answer seen
	joins := make(chan struct{}, 64)
	helps := make(chan struct{}, 64)
	go func() {
		for {
			m, err := watcher.Next(ctx)
			if err != nil {
				return
			}
			if m.Command == "JOIN" && strings.EqualFold(m.Prefix.Nick, botNick) && strings.EqualFold(m.Param(0), channel) {
				joins <- struct{}{}
				continue
			}
			if !strings.EqualFold(m.Prefix.Nick, botNick) || (m.Command != "PRIVMSG" && m.Command != "NOTICE") {
				continue
			}
			if !strings.HasPrefix(m.Param(0), "#") {
				if strings.Contains(m.Last(), "Commands:") {
					helps <- struct{}{}
				}
				continue
			}
			line := m.Last()
			if n := countAnswers(byNick, line); n > 0 {
				for range n {
					select {
					case answered <- struct{}{}:
					default:
					}
				}
				continue
			}
			mu.Lock()
			said[line]++
			mu.Unlock()
		}
	}()
	expectJoin := func(what string) {
		t.Helper()
		select {
		case <-joins:
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
	}
	help := func() {
		t.Helper()
		watcher.Privmsg(botNick, "!help")
		select {
		case <-helps:
		case <-ctx.Done():
			t.Fatal("no answer to !help")
		}
	}

	in := map[string]*instance{"a": start("a")}
	f.health(in["a"], "ok: leader, term 1\n")
	expectJoin("the leader joining")
	in["b"] = start("b")
	f.health(in["b"], "ok: standby, term 1 led by a\n")
	for i := range stormProposal { // one each: the bot limits commands per person
		voters[i].c.Privmsg(channel, fmt.Sprintf(`!propose "Storm session %d"`, i+1))
	}
	help()
	f.idle()

	var asked []string
	backlog := func(round int) {
		t.Helper()
		for j := range 3 {
			addr := fmt.Sprintf("%s-%d-%d@test.local", tag, round, j)
			asked = append(asked, addr)
			msg := fmt.Sprintf("From: %s\r\nTo: bot@test.local\r\nSubject: help\r\nMessage-ID: <%s-%d-%d@failover.test.local>\r\n\r\nhelp\r\n", addr, tag, round, j)
			if err := appendMail(ic, mailbox, msg); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() {
		if !t.Failed() {
			for _, a := range asked {
				os.RemoveAll(filepath.Join(mailRoot, a))
			}
		}
	})
	storm := func(round int, voters []*stormVoter) {
		for _, v := range voters {
			v.mu.Lock()
			for j := range stormBurst {
				n := round*stormBurst + j
				a := &stormAction{round: round, k: n%stormProposal + 1, vote: (n/stormProposal)%2 == 0}
				v.sent = append(v.sent, a)
				cmd := "!unvote"
				if a.vote {
					cmd = "!vote"
				}
				v.c.Privmsg(channel, fmt.Sprintf("%s %d", cmd, a.k))
			}
			v.mu.Unlock()
		}
	}
	// The voters read their answers in the channel.
	for _, v := range voters {
		go func() {
			for {
				m, err := v.c.Next(ctx)
				if err != nil {
					return
				}
				if m.Command != "PRIVMSG" || !strings.EqualFold(m.Prefix.Nick, botNick) || !strings.EqualFold(m.Param(0), channel) {
					continue
				}
				v.mu.Lock()
				for _, ans := range answersTo(v.nick, m.Last()) {
					// The latest action of its kind on k is the one
					// answered.
					for i := len(v.sent) - 1; i >= 0; i-- {
						if v.sent[i].k == ans.k && v.sent[i].vote == ans.vote {
							v.sent[i].answer++
							break
						}
					}
				}
				v.mu.Unlock()
			}
		}()
	}

	// settled waits until nothing is waiting or claimed in the outbox:
	// every answer of the round is out.
	settled := f.idle
	// noAnnouncementInFlight waits until no announcement is claimed and
	// unsent: the kill then falls outside their send-to-mark window (see
	// the closing note of issue 14 for the window and why).
	noAnnouncementInFlight := func() {
		t.Helper()
		for ctx.Err() == nil {
			var n int
			if err := f.db.QueryRow(`SELECT count(*) FROM outbox WHERE sent_at IS NULL AND claimed_term > 0 AND addressee = '' AND target = ?`, channel).Scan(&n); err == nil && n == 0 {
				return
			}
			f.pause()
		}
	}

	leader, standby := "a", "b"
	var took []time.Duration
	var inFlight []int
	for kill := 1; kill <= failoverKills; kill++ {
		round := kill - 1
		for len(answered) > 0 {
			<-answered
		}
		// Half the storm, answered at least in part; the mails; the other
		// half, and the kill, at once.
		storm(round, voters[:stormVoters/2])
		select {
		case <-answered:
		case <-ctx.Done():
			t.Fatal("no command of the storm answered")
		}
		backlog(round)
		noAnnouncementInFlight()
		storm(round, voters[stormVoters/2:])
		inFlight = append(inFlight, f.unsent())
		in[leader].p.kill()
		killed := time.Now()
		expectJoin("the standby joining after the kill")
		help()
		took = append(took, time.Since(killed))
		f.health(in[standby], fmt.Sprintf("ok: leader, term %d\n", kill+1))
		in[leader] = start(leader)
		f.health(in[leader], fmt.Sprintf("ok: standby, term %d led by %s\n", kill+1, standby))
		settled()
		leader, standby = standby, leader
	}
	// The announcements: both said, and said once.
	want := []string{"Registration is now open for Failover Day.", "The call for proposals is now closed for Failover Day."}
	f.waitSaid(&mu, said, want)
	settled()
	help() // after a settled outbox, the bot's own order is the barrier
	mu.Lock()
	for _, w := range want {
		if said[w] != 1 {
			t.Errorf("%q said %d times, want once", w, said[w])
		}
	}
	mu.Unlock()

	// Every answered command has its effect, exactly.
	var answeredN, unanswered, twice int
	for _, v := range voters {
		var votes []int64
		rows, err := f.db.Query(`SELECT p.number FROM vote v JOIN proposal p ON p.id = v.proposal_id
			JOIN identity i ON i.person_id = v.person_id WHERE i.kind = 'irc' AND i.value = ? ORDER BY p.number`, strings.ToLower(v.nick))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n int64
			rows.Scan(&n)
			votes = append(votes, n)
		}
		rows.Close()
		v.mu.Lock()
		for k := 1; k <= stormProposal; k++ {
			var last, lastAnswered *stormAction
			for _, a := range v.sent {
				if a.k != k {
					continue
				}
				last = a
				if a.answer > 0 {
					lastAnswered = a
				}
			}
			stored := slices.Contains(votes, int64(k))
			switch {
			case last == nil:
				if stored {
					t.Errorf("%s: #%d stored, never voted for", v.nick, k)
				}
			case last == lastAnswered:
				if stored != last.vote {
					t.Errorf("%s: #%d stored %v after an answered %s", v.nick, k, stored, verb(last.vote))
				}
			case lastAnswered != nil && stored != lastAnswered.vote && stored != last.vote:
				t.Errorf("%s: #%d stored %v, neither what was answered nor what was sent last", v.nick, k, stored)
			}
		}
		for _, a := range v.sent {
			switch {
			case a.answer == 0:
				unanswered++
			case a.answer > 1:
				twice++
			}
			if a.answer > 0 {
				answeredN++
			}
		}
		v.mu.Unlock()
	}
	// Every mail answered (the last leader takes in the last round's
	// mails in its own time); copies beyond the first are the SMTP window.
	answeredMail := func(a string) int {
		got, _ := mailtest.ReadMaildir(filepath.Join(mailRoot, a, "Maildir"))
		return len(got)
	}
	for _, a := range asked {
		for ctx.Err() == nil && answeredMail(a) == 0 {
			f.pause()
		}
	}
	settled()
	mailTwice := 0
	for _, a := range asked {
		n := answeredMail(a)
		if n == 0 {
			t.Errorf("%s got no answer", a)
		}
		mailTwice += max(n-1, 0)
	}
	// Bounds: each kill can catch one sender batch between its send and
	// its mark: for IRC at most the lines in flight, for mail the one mail
	// being handed to OpenSMTPD.
	if mailTwice > failoverKills {
		t.Errorf("%d mails answered twice in %d kills, want at most one per kill", mailTwice, failoverKills)
	}
	slices.Sort(took)
	t.Logf("%d kills with %d commands and %d mails sent before each: kill to !help answered median %s, worst %s (all %v); outbox rows in flight at the kills %v; %d commands answered, %d unanswered (lost with the leader, said while none led), %d answered twice; %d of %d mails answered twice",
		len(took), stormVoters*stormBurst, 3, took[len(took)/2].Round(10*time.Millisecond), took[len(took)-1].Round(10*time.Millisecond), took,
		inFlight, answeredN, unanswered, twice, mailTwice, len(asked))
	if worst := took[len(took)-1]; worst > 15*time.Second {
		t.Errorf("the new leader answered !help %s after the kill, want within 15 s", worst)
	}
	for _, p := range in {
		if err := p.p.term(); err != nil {
			t.Errorf("hallway after SIGTERM: %v", err)
		}
	}
}

func verb(vote bool) string {
	if vote {
		return "vote"
	}
	return "unvote"
}

// stormAnswer is an answer to a vote (vote) or an unvote of proposal k.
type stormAnswer struct {
	k    int
	vote bool
}

// answersTo returns what a line of the bot in the channel answers for
// nick: the full answers ("nick: voted for #3 (…).", "nick: took back
// your votes for #3 (…).", "nick: you had not voted for #3 (…).") and the
// short ones of a coalesced line ("nick: #3 ✓ 2 left · …", "nick:
// unvoted #3, 2 left", "nick: #3 not voted, 2 left").
func answersTo(nick, line string) []stormAnswer {
	var out []stormAnswer
	for _, seg := range strings.Split(line, " · ") {
		who, rest, ok := strings.Cut(seg, ": ")
		if !ok || !strings.EqualFold(who, nick) {
			continue
		}
		var vote bool
		switch {
		case strings.Contains(rest, "took back") || strings.Contains(rest, "not voted") || strings.HasPrefix(rest, "unvoted"):
			vote = false
		case strings.Contains(rest, "voted for") || strings.Contains(rest, "✓"):
			vote = true
		default:
			continue // not an answer to a vote or an unvote
		}
		for _, w := range strings.Fields(rest) {
			var k int
			if _, err := fmt.Sscanf(strings.TrimRight(w, ",.;)"), "#%d", &k); err == nil {
				out = append(out, stormAnswer{k, vote})
			}
		}
	}
	return out
}

// countAnswers counts the segments of a line addressed to a voter.
func countAnswers(byNick map[string]*stormVoter, line string) int {
	n := 0
	for _, seg := range strings.Split(line, " · ") {
		if who, _, ok := strings.Cut(seg, ": "); ok && byNick[strings.ToLower(who)] != nil {
			n++
		}
	}
	return n
}
