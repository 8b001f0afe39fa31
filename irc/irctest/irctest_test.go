package irctest

// Integration tests against the real InspIRCd + Anope from
// scripts/testenv.sh. Without HALLWAY_TEST_IRC they skip (or fail, with
// HALLWAY_REQUIRE_TESTENV=1).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var nickSeq atomic.Uint64

// uniqueNick makes a nick no earlier run has registered (Anope's accounts
// live until the next `testenv.sh start`).
func uniqueNick(prefix string) string {
	s := strconv.FormatInt(time.Now().UnixNano()/1e6%1e9, 36) + strconv.FormatUint(nickSeq.Add(1), 36)
	n := prefix + s
	if len(n) > 30 {
		n = n[:30]
	}
	return n
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// registered dials nick and registers it with NickServ.
func registered(t *testing.T, ctx context.Context, addr, nick, password string) *Client {
	t.Helper()
	c, err := Dial(ctx, addr, nick)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Register(ctx, password, nick+"@test.local"); err != nil {
		t.Fatal(err)
	}
	if c.Account() != nick {
		t.Fatalf("after Register: Account() = %q, want %q", c.Account(), nick)
	}
	return c
}

func isPrivmsg(from, text string) func(Message) bool {
	return func(m Message) bool {
		return m.Command == "PRIVMSG" && strings.EqualFold(m.Prefix.Nick, from) && m.Last() == text
	}
}

func TestCapsOffered(t *testing.T) {
	addr := TestEnv(t)
	ctx := testCtx(t, 30*time.Second)
	c := DialT(t, addr, uniqueNick("caps"))
	for _, cp := range DefaultCaps {
		if !c.HasCap(cp) {
			t.Errorf("cap %s not acknowledged (offered: %v)", cp, c.OfferedCaps())
		}
	}
	if v := c.OfferedCaps()["sasl"]; !strings.Contains(v, "PLAIN") {
		t.Errorf("sasl cap = %q, want PLAIN among the mechanisms", v)
	}
	if _, err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAccountTag(t *testing.T) {
	addr := TestEnv(t)
	ctx := testCtx(t, 60*time.Second)
	channel := "#" + uniqueNick("acct")

	watcher := DialT(t, addr, uniqueNick("watch"))
	if err := watcher.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}

	alice := registered(t, ctx, addr, uniqueNick("alice"), "alicepass1")
	bob := registered(t, ctx, addr, uniqueNick("bob"), "bobpass12")
	anon := DialT(t, addr, uniqueNick("anon"))

	for _, c := range []*Client{alice, bob, anon} {
		if err := c.Join(ctx, channel); err != nil {
			t.Fatal(err)
		}
		// extended-join: the watcher sees the joiner's account (or "*")
		m, err := watcher.Expect(ctx, func(m Message) bool {
			return m.Command == "JOIN" && strings.EqualFold(m.Prefix.Nick, c.Nick())
		})
		if err != nil {
			t.Fatal(err)
		}
		want := c.Account()
		if want == "" {
			want = "*"
		}
		if m.Param(1) != want {
			t.Errorf("extended-join of %s: account param %q, want %q (%s)", c.Nick(), m.Param(1), want, m.Raw)
		}
	}

	for _, c := range []*Client{alice, bob, anon} {
		text := "hello from " + c.Nick()
		if err := c.Privmsg(channel, text); err != nil {
			t.Fatal(err)
		}
		m, err := watcher.Expect(ctx, isPrivmsg(c.Nick(), text))
		if err != nil {
			t.Fatal(err)
		}
		acct, has := m.Tag("account")
		switch {
		case c == anon && has:
			t.Errorf("message from %s (no account) carries account=%q: %s", c.Nick(), acct, m.Raw)
		case c != anon && acct != c.Nick():
			t.Errorf("message from %s: account tag %q, want %q: %s", c.Nick(), acct, c.Nick(), m.Raw)
		}
		if _, ok := m.Time(); !ok {
			t.Errorf("message without server-time tag: %s", m.Raw)
		}
		// echo-message: the sender gets its own message back, tagged too
		echo, err := c.Expect(ctx, isPrivmsg(c.Nick(), text))
		if err != nil {
			t.Fatal(err)
		}
		if echo.Account() != c.Account() {
			t.Errorf("echo for %s: account tag %q, want %q", c.Nick(), echo.Account(), c.Account())
		}
	}
}

func TestSASL(t *testing.T) {
	addr := TestEnv(t)
	ctx := testCtx(t, 60*time.Second)
	account := uniqueNick("sasl")
	const password = "s3cret-pass"
	reg := registered(t, ctx, addr, account, password)
	reg.Close()

	c, err := DialSASL(ctx, addr, uniqueNick("other"), account, password)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Account() != account {
		t.Fatalf("Account() = %q after SASL, want %q", c.Account(), account)
	}
	if err := c.Privmsg(c.Nick(), "ping myself"); err != nil {
		t.Fatal(err)
	}
	m, err := c.Expect(ctx, isPrivmsg(c.Nick(), "ping myself"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Account() != account {
		t.Errorf("account tag %q, want %q: %s", m.Account(), account, m.Raw)
	}

	_, err = DialSASL(ctx, addr, uniqueNick("bad"), account, "wrong-password")
	if err == nil || !strings.Contains(err.Error(), "SASL") {
		t.Errorf("DialSASL with a wrong password: err = %v, want a SASL failure", err)
	}
	_, err = DialSASL(ctx, addr, uniqueNick("bad"), uniqueNick("nosuch"), password)
	if err == nil {
		t.Error("DialSASL with an unknown account succeeded")
	}
}

func TestRegisterTwiceFails(t *testing.T) {
	addr := TestEnv(t)
	ctx := testCtx(t, 60*time.Second)
	c := registered(t, ctx, addr, uniqueNick("twice"), "twicepass")
	err := c.Register(ctx, "twicepass", "")
	if err == nil {
		t.Fatal("second REGISTER succeeded")
	}
	t.Logf("second REGISTER: %v", err)
}

func TestRestartIRC(t *testing.T) {
	addr := TestEnv(t)
	ctx := testCtx(t, 90*time.Second)
	account := uniqueNick("rst")
	const password = "restartpass"
	c := registered(t, ctx, addr, account, password)
	plain := DialT(t, addr, uniqueNick("plain"))

	t0 := time.Now()
	RestartIRC(t) // may first wait for other test processes (the IRC lock)
	t.Logf("restart-irc took %v", time.Since(t0))
	ctx = testCtx(t, 60*time.Second)

	for _, cl := range []*Client{c, plain} {
		// the connection ends (maybe after an ERROR line)
		_, err := cl.Expect(ctx, func(Message) bool { return false })
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s: after restart: err = %v, want ErrClosed", cl.Nick(), err)
		}
		select {
		case <-cl.Done():
		default:
			t.Errorf("%s: Done not closed after disconnect", cl.Nick())
		}
	}

	// The server is back, with services: the account still exists.
	c2, err := DialSASL(ctx, addr, uniqueNick("back"), account, password)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if c2.Account() != account {
		t.Errorf("Account() = %q after restart, want %q", c2.Account(), account)
	}
}

func TestStopStartIRC(t *testing.T) {
	addr := TestEnv(t)
	ctx := testCtx(t, 90*time.Second)
	c := DialT(t, addr, uniqueNick("stop"))
	start := StopIRC(t) // may first wait for other test processes (the IRC lock)
	ctx = testCtx(t, 60*time.Second)
	if _, err := c.Expect(ctx, func(Message) bool { return false }); !errors.Is(err, ErrClosed) {
		t.Errorf("after stop-irc: err = %v, want ErrClosed", err)
	}
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, err := Dial(dctx, addr, uniqueNick("down"))
	cancel()
	if err == nil {
		t.Error("Dial succeeded while the IRC server is stopped")
	}
	start()
	c2 := DialT(t, addr, uniqueNick("up"))
	if _, err := c2.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestManyRegisteredClients connects HALLWAY_IRCTEST_CLIENTS (default 250)
// clients at once, registers every one with NickServ, and checks that a
// watcher sees each one's message tagged with its account: the test
// environment must carry a load test of 200+ users from one IP.
func TestManyRegisteredClients(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	addr := TestEnv(t)
	n := 250
	if v := os.Getenv("HALLWAY_IRCTEST_CLIENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatalf("HALLWAY_IRCTEST_CLIENTS=%q: %v", v, err)
		}
	}
	ctx := testCtx(t, 3*time.Minute)
	channel := "#" + uniqueNick("load")
	watcher := DialT(t, addr, uniqueNick("lw"))
	if err := watcher.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}

	clients := make([]*Client, n)
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, c := range clients {
			if c != nil {
				wg.Add(1)
				go func() { defer wg.Done(); c.Close() }()
			}
		}
		wg.Wait()
	})
	run := func(what string, f func(i int) error) {
		t.Helper()
		t0 := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = f(i) }()
		}
		wg.Wait()
		failed := 0
		for i, err := range errs {
			if err != nil {
				if failed < 5 {
					t.Errorf("client %d: %s: %v", i, what, err)
				}
				failed++
			}
		}
		t.Logf("%d clients: %s in %v (%d failed)", n, what, time.Since(t0).Round(time.Millisecond), failed)
		if failed > 0 {
			t.FailNow()
		}
	}
	base := uniqueNick("ld")
	run("connect", func(i int) error {
		c, err := Dial(ctx, addr, fmt.Sprintf("%s_%d", base, i))
		clients[i] = c
		return err
	})
	run("register with NickServ", func(i int) error {
		c := clients[i]
		if err := c.Register(ctx, "loadpass-"+strconv.Itoa(i), ""); err != nil {
			return err
		}
		if c.Account() != c.Nick() {
			return fmt.Errorf("account %q, want %q", c.Account(), c.Nick())
		}
		return nil
	})
	run("join", func(i int) error { return clients[i].Join(ctx, channel) })
	run("send", func(i int) error { return clients[i].Privmsg(channel, "load "+strconv.Itoa(i)) })

	seen := make(map[string]bool, n)
	t0 := time.Now()
	for len(seen) < n {
		m, err := watcher.Expect(ctx, func(m Message) bool { return m.Command == "PRIVMSG" && m.Param(0) == channel })
		if err != nil {
			t.Fatalf("watcher saw %d of %d messages: %v", len(seen), n, err)
		}
		if m.Account() != m.Prefix.Nick {
			t.Errorf("message from %s: account tag %q", m.Prefix.Nick, m.Account())
		}
		seen[m.Prefix.Nick] = true
	}
	t.Logf("watcher got all %d messages in %v", n, time.Since(t0).Round(time.Millisecond))
	// everyone is still connected
	for i, c := range clients {
		if err := c.Err(); err != nil {
			t.Errorf("client %d disconnected: %v", i, err)
		}
	}
}
