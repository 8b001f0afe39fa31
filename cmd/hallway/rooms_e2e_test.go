package main

import (
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/irc/irctest"
)

// TestClockAnnouncesInEveryRoom: a phase the config opens at a time is
// announced by the clock in every room of the event, its channel and the
// IRC channel event.channels adds, through the real InspIRCd; and the
// announcement's mail to the list leaves at once through OpenSMTPD, not at
// the mail sender's next look at the outbox (every 30 s), because the
// clock wakes every sender.
func TestClockAnnouncesInEveryRoom(t *testing.T) {
	second := "#" + uniqueNick("more")
	// The clock looks every 15 s from the start: the phase opens between
	// its third and fourth look, away from the mail sender's own look at
	// 30 s, so a mail left to that look waits about 15 s.
	opens := time.Now().Add(37 * time.Second)
	e := startMailEnv(t, 3*time.Minute, func(cfg *config.Config) {
		cfg.Events[0].Channels = []string{second}
		cfg.Events[0].Phases = map[string]config.Phase{"voting": {Open: opens}}
	})
	botNick, channel := e.cfg.IRC.Nick, e.cfg.Events[0].Channel
	watcher := ircPerson(t, e.ctx, e.ircAddr, uniqueNick("w"))
	for _, ch := range []string{channel, second} {
		if err := watcher.Join(e.ctx, ch); err != nil {
			t.Fatal(err)
		}
		inChannel(t, e, watcher, botNick, ch)
	}
	if time.Now().After(opens.Add(-5 * time.Second)) {
		t.Fatal("the setup took too long to see the announcement")
	}
	want := "Voting is now open for Test Day."
	heard := map[string]bool{}
	for len(heard) < 2 {
		m, err := watcher.Expect(e.ctx, func(m irctest.Message) bool {
			return m.Command == "PRIVMSG" && strings.EqualFold(m.Prefix.Nick, botNick) && m.Last() == want
		})
		if err != nil {
			t.Fatalf("heard %q in %v only: %v", want, heard, err)
		}
		heard[strings.ToLower(m.Param(0))] = true
	}
	if !heard[strings.ToLower(channel)] || !heard[strings.ToLower(second)] {
		t.Errorf("heard the announcement in %v, want %s and %s", heard, channel, second)
	}
	var queued, sent time.Time
	e.waitFor("the list's mail to be sent", func() bool {
		err := e.db.QueryRowContext(e.ctx, `SELECT created_at, sent_at FROM outbox WHERE channel = 'mail' AND target = ? AND sent_at IS NOT NULL`,
			e.cfg.Mail.List).Scan(&queued, &sent)
		return err == nil
	})
	if d := sent.Sub(queued); d > 5*time.Second {
		t.Errorf("the list's mail left %v after it was queued; want at once", d.Round(time.Millisecond))
	}
	t.Logf("the list's mail left %v after it was queued", sent.Sub(queued).Round(time.Millisecond))
}
