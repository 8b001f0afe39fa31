package irctest

// Client tests against a scripted fake server: they need no test
// environment.

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// fakeServer accepts one connection and runs handle on it.
func fakeServer(t *testing.T, handle func(r *bufio.Reader, w net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		handle(bufio.NewReader(conn), conn)
	}()
	return ln.Addr().String()
}

func readLine(r *bufio.Reader) string {
	l, _ := r.ReadString('\n')
	return strings.TrimRight(l, "\r\n")
}

func send(w net.Conn, lines ...string) {
	for _, l := range lines {
		fmt.Fprintf(w, "%s\r\n", l)
	}
}

// handshake plays a server offering CAP (in two LS lines) and SASL PLAIN,
// checking what the client sends; it returns the client's lines.
func handshake(t *testing.T, r *bufio.Reader, w net.Conn, wantSASL string) []string {
	var got []string
	next := func() string { l := readLine(r); got = append(got, l); return l }
	if l := next(); l != "CAP LS 302" {
		t.Errorf("first line %q, want CAP LS 302", l)
	}
	next() // NICK
	next() // USER
	send(w, ":srv CAP * LS * :message-tags account-tag sasl=PLAIN,EXTERNAL",
		":srv CAP * LS :server-time echo-message away-notify")
	req := next()
	send(w, ":srv CAP * ACK :"+strings.TrimPrefix(req, "CAP REQ :"))
	if wantSASL != "" {
		if l := next(); l != "AUTHENTICATE PLAIN" {
			t.Errorf("got %q, want AUTHENTICATE PLAIN", l)
		}
		send(w, "AUTHENTICATE +")
		l := next()
		if want := "AUTHENTICATE " + base64.StdEncoding.EncodeToString([]byte(wantSASL)); l != want {
			send(w, ":srv 904 nick :SASL authentication failed")
			return got
		}
		send(w, ":srv 900 nick nick!u@h acct :You are now logged in as acct", ":srv 903 nick :SASL authentication successful")
	}
	if l := next(); l != "CAP END" {
		t.Errorf("got %q, want CAP END", l)
	}
	send(w, ":srv 001 nick :Welcome", ":srv 005 nick NETWORK=Test CHANTYPES=# :are supported", ":srv 422 nick :No MOTD")
	return got
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestDialNegotiatesCaps(t *testing.T) {
	lines := make(chan []string, 1)
	addr := fakeServer(t, func(r *bufio.Reader, w net.Conn) {
		lines <- handshake(t, r, w, "")
		readLine(r) // QUIT
	})
	c, err := Dial(ctxT(t), addr, "nick")
	if err != nil {
		t.Fatal(err)
	}
	got := <-lines
	if want := "CAP REQ :message-tags account-tag server-time echo-message"; got[3] != want {
		t.Errorf("CAP REQ = %q, want %q (only offered DefaultCaps)", got[3], want)
	}
	if !c.HasCap("account-tag") || c.HasCap("sasl") || c.HasCap("extended-join") {
		t.Errorf("caps: account-tag %v sasl %v extended-join %v", c.HasCap("account-tag"), c.HasCap("sasl"), c.HasCap("extended-join"))
	}
	if v := c.OfferedCaps()["sasl"]; v != "PLAIN,EXTERNAL" {
		t.Errorf("offered sasl = %q", v)
	}
	if v, ok := c.ISupport("NETWORK"); !ok || v != "Test" {
		t.Errorf("ISUPPORT NETWORK = %q, %v", v, ok)
	}
	if c.Account() != "" {
		t.Errorf("Account() = %q without SASL", c.Account())
	}
	c.Close()
}

func TestDialSASL(t *testing.T) {
	addr := fakeServer(t, func(r *bufio.Reader, w net.Conn) {
		handshake(t, r, w, "acct\x00acct\x00pw")
		readLine(r)
	})
	c, err := DialSASL(ctxT(t), addr, "nick", "acct", "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Account() != "acct" || !c.HasCap("sasl") {
		t.Errorf("Account() = %q, sasl cap %v", c.Account(), c.HasCap("sasl"))
	}
}

func TestDialSASLWrongPassword(t *testing.T) {
	addr := fakeServer(t, func(r *bufio.Reader, w net.Conn) {
		handshake(t, r, w, "acct\x00acct\x00pw")
		readLine(r)
	})
	_, err := DialSASL(ctxT(t), addr, "nick", "acct", "nope")
	if err == nil || !strings.Contains(err.Error(), "904") {
		t.Fatalf("err = %v, want the 904 failure", err)
	}
}

func TestDialNickInUse(t *testing.T) {
	addr := fakeServer(t, func(r *bufio.Reader, w net.Conn) {
		readLine(r)
		readLine(r)
		readLine(r)
		send(w, ":srv 433 * nick :Nickname is already in use")
		readLine(r)
	})
	_, err := Dial(ctxT(t), addr, "nick")
	if err == nil || !strings.Contains(err.Error(), "433") {
		t.Fatalf("err = %v, want 433", err)
	}
}

func TestDialTimeout(t *testing.T) {
	addr := fakeServer(t, func(r *bufio.Reader, w net.Conn) {
		readLine(r)
		io.Copy(io.Discard, r) // never answers, until the client hangs up
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err := Dial(ctx, addr, "nick")
	if err == nil {
		t.Fatal("Dial succeeded against a silent server")
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("Dial took %v to give up with a 200ms context", d)
	}
}

// connected returns a client past the handshake and the server's end.
func connected(t *testing.T, serve func(r *bufio.Reader, w net.Conn)) *Client {
	addr := fakeServer(t, func(r *bufio.Reader, w net.Conn) {
		handshake(t, r, w, "")
		serve(r, w)
	})
	c, err := Dial(ctxT(t), addr, "nick")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestExpectKeepsEveryMessageInOrder(t *testing.T) {
	const n = 20000
	c := connected(t, func(r *bufio.Reader, w net.Conn) {
		bw := bufio.NewWriter(w)
		for i := range n {
			fmt.Fprintf(bw, "@account=a%d :a!u@h PRIVMSG #c :msg %d\r\n", i, i)
		}
		bw.Flush()
		readLine(r)
	})
	ctx := ctxT(t)
	// Let the whole burst queue up before reading any of it.
	for queued := 0; queued < n; {
		if ctx.Err() != nil {
			t.Fatalf("%d of %d messages queued: %v", queued, n, ctx.Err())
		}
		time.Sleep(5 * time.Millisecond)
		c.mu.Lock()
		queued = len(c.queue)
		c.mu.Unlock()
	}
	for i := range n {
		m, err := c.Expect(ctx, func(m Message) bool { return m.Command == "PRIVMSG" })
		if err != nil {
			t.Fatal(err)
		}
		if m.Last() != fmt.Sprintf("msg %d", i) || m.Account() != fmt.Sprintf("a%d", i) {
			t.Fatalf("message %d: %s", i, m.Raw)
		}
	}
}

func TestSyncAndAutoPong(t *testing.T) {
	c := connected(t, func(r *bufio.Reader, w net.Conn) {
		send(w, "PING :keepalive")
		// The client's auto-PONG and the PING of its Sync race to the
		// wire, in either order. The Sync is answered only once the
		// auto-PONG is in, so Sync returning proves the auto-PONG.
		ponged := false
		var waiting []string
		for {
			l := readLine(r)
			switch {
			case l == "" || strings.HasPrefix(l, "QUIT"):
				return
			case l == "PONG :keepalive":
				ponged = true
			case strings.HasPrefix(l, "PING "):
				waiting = append(waiting, strings.TrimPrefix(l, "PING "))
			default:
				send(w, "NOTICE nick :unexpected "+l)
			}
			for ponged && len(waiting) > 0 {
				send(w, ":srv NOTICE nick :before", ":srv PONG srv "+waiting[0])
				waiting = waiting[1:]
			}
		}
	})
	before, err := c.Sync(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range before {
		texts = append(texts, m.Command+" "+m.Last())
	}
	got := strings.Join(texts, "|")
	if want := "PING keepalive|NOTICE before"; got != want {
		t.Errorf("messages before the PONG: %q, want %q", got, want)
	}
}

func TestExpectTimeoutAndClose(t *testing.T) {
	c := connected(t, func(r *bufio.Reader, w net.Conn) {
		send(w, ":srv NOTICE nick :one", ":srv NOTICE nick :two")
		readLine(r) // PRIVMSG
		send(w, "ERROR :Closing link")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Expect(ctx, func(m Message) bool { return m.Command == "PRIVMSG" })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "NOTICE nick :two") {
		t.Errorf("timeout error = %v; want DeadlineExceeded listing the unmatched NOTICEs", err)
	}
	if err := c.Privmsg("x", "bye"); err != nil {
		t.Fatal(err)
	}
	m, err := c.Expect(ctxT(t), func(m Message) bool { return m.Command == "ERROR" })
	if err != nil || m.Last() != "Closing link" {
		t.Fatalf("ERROR: %v %v", m, err)
	}
	if _, err := c.Next(ctxT(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("after server closed: err = %v, want ErrClosed", err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Error("Done not closed")
	}
	if err := c.Raw("bad\r\nline"); err == nil {
		t.Error("Raw accepted CRLF inside a line")
	}
	c.Close()
	c.Close()
}

func TestStripFormatting(t *testing.T) {
	for in, want := range map[string]string{
		"Nickname \x02alice\x02 registered.": "Nickname alice registered.",
		"\x0304,12red\x03 \x031x\x0f\x1dy":   "red xy",
		"\x03,5comma":                        ",5comma",
		"\x04ff00ffhex":                      "hex",
		"plain":                              "plain",
	} {
		if got := StripFormatting(in); got != want {
			t.Errorf("StripFormatting(%q) = %q, want %q", in, got, want)
		}
	}
}
