package main

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/irc/irctest"
)

var nickSeq atomic.Int64

// uniqueNick makes a nick (and services account) no earlier run used:
// Anope keeps accounts until the test servers are started afresh.
func uniqueNick(prefix string) string {
	return fmt.Sprintf("%s%x%d", prefix, time.Now().UnixNano()/1e6%0xfffff, nickSeq.Add(1))
}

// ircPerson connects to the test InspIRCd as nick and registers the nick
// with NickServ, so the client is logged in to an account of that name.
func ircPerson(t *testing.T, ctx context.Context, addr, nick string) *irctest.Client {
	t.Helper()
	c := irctest.DialT(t, addr, nick)
	// Services may be relinking after another test restarted them.
	waitOnline(t, ctx, c, "NickServ")
	if err := c.Register(ctx, "pw-"+nick, nick+"@test.local"); err != nil {
		t.Fatalf("register %s: %v", nick, err)
	}
	return c
}

// waitOnline waits until nick is connected, as ISON sees it.
func waitOnline(t *testing.T, ctx context.Context, c *irctest.Client, nick string) {
	t.Helper()
	waitISON(t, ctx, c, nick, true)
}

// waitISON waits until ISON says nick is (or is not) connected.
func waitISON(t *testing.T, ctx context.Context, c *irctest.Client, nick string, online bool) {
	t.Helper()
	for ctx.Err() == nil {
		if err := c.Raw("ISON " + nick); err != nil {
			t.Fatal(err)
		}
		m, err := c.Expect(ctx, func(m irctest.Message) bool { return m.Command == "303" })
		if err == nil && strings.EqualFold(strings.TrimSpace(m.Last()), nick) == online {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("%s never came online (or left): %v", nick, ctx.Err())
}

// fromBot waits for a PRIVMSG or NOTICE from botNick whose text has want.
func fromBot(t *testing.T, ctx context.Context, c *irctest.Client, botNick, want string) string {
	t.Helper()
	m, err := c.Expect(ctx, func(m irctest.Message) bool {
		return (m.Command == "PRIVMSG" || m.Command == "NOTICE") && strings.EqualFold(m.Prefix.Nick, botNick) && strings.Contains(m.Last(), want)
	})
	if err != nil {
		t.Fatalf("waiting for %s to say %q: %v", botNick, want, err)
	}
	return m.Last()
}
