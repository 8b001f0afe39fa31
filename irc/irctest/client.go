package irctest

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCaps are requested by Dial when the server offers them.
var DefaultCaps = []string{"message-tags", "account-tag", "extended-join", "account-notify", "server-time", "echo-message"}

// ErrClosed is returned (wrapped) by Expect and friends once the connection
// has ended and every received message has been consumed.
var ErrClosed = errors.New("irctest: connection closed")

// Config describes a connection. Dial and DialSASL fill it for you.
type Config struct {
	Addr     string
	Nick     string
	User     string // default: Nick
	RealName string // default: Nick
	// Caps to request if offered; nil means DefaultCaps. "sasl" is added
	// when SASLAccount is set.
	Caps []string
	// SASL PLAIN credentials; empty means no SASL.
	SASLAccount  string
	SASLPassword string
	// Logf, if set, gets every line sent (">") and received ("<"). With
	// t.Logf, Close the client before the test ends (DialT does).
	Logf func(format string, args ...any)
}

// Client is a raw IRC connection for tests. Its methods are safe for
// concurrent use; Expect calls consume messages in arrival order.
type Client struct {
	cfg  Config
	conn net.Conn

	wmu sync.Mutex // serialises writes

	mu      sync.Mutex
	queue   []Message // received, not yet consumed
	readErr error     // why the reader stopped
	nick    string
	account string
	caps    map[string]string // acknowledged caps
	offered map[string]string // CAP LS
	isupp   map[string]string

	notify    chan struct{} // poked after each push
	done      chan struct{} // closed when the reader stops
	closeOnce sync.Once
	syncSeq   atomic.Uint64
}

// Dial connects, negotiates capabilities (DefaultCaps, when offered),
// registers with NICK/USER and waits for the end of the MOTD.
func Dial(ctx context.Context, addr, nick string) (*Client, error) {
	return DialConfig(ctx, Config{Addr: addr, Nick: nick})
}

// DialSASL is Dial plus SASL PLAIN authentication as account, so the
// client is logged in (RPL_LOGGEDIN) before registration completes.
func DialSASL(ctx context.Context, addr, nick, account, password string) (*Client, error) {
	return DialConfig(ctx, Config{Addr: addr, Nick: nick, SASLAccount: account, SASLPassword: password})
}

// DialConfig connects as described by cfg.
func DialConfig(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Nick == "" {
		return nil, errors.New("irctest: Dial: empty nick")
	}
	if cfg.User == "" {
		cfg.User = cfg.Nick
	}
	if cfg.RealName == "" {
		cfg.RealName = cfg.Nick
	}
	if cfg.Caps == nil {
		cfg.Caps = DefaultCaps
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("irctest: dial %s: %w", cfg.Addr, err)
	}
	c := &Client{
		cfg:     cfg,
		conn:    conn,
		nick:    cfg.Nick,
		caps:    map[string]string{},
		offered: map[string]string{},
		isupp:   map[string]string{},
		notify:  make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	go c.readLoop()
	// Unblock reads if ctx ends while registering.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	err = c.register(ctx)
	if !stop() {
		// ctx ended: the read deadline may have fired
		if err == nil {
			err = ctx.Err()
		}
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("irctest: %s: connect to %s: %w", cfg.Nick, cfg.Addr, err)
	}
	return c, nil
}

func (c *Client) register(ctx context.Context) error {
	if err := c.Raw("CAP LS 302"); err != nil {
		return err
	}
	if err := c.Raw("NICK " + c.cfg.Nick); err != nil {
		return err
	}
	if err := c.Raw("USER " + c.cfg.User + " 0 * :" + c.cfg.RealName); err != nil {
		return err
	}
	// CAP LS (possibly several lines: "CAP * LS * :..." then "CAP * LS :...")
	capNegotiation := true
	for {
		m, err := c.expectAny(ctx, func(m Message) bool {
			return m.Command == "CAP" || m.Command == "001" || isRegError(m)
		})
		if err != nil {
			return err
		}
		if m.Command == "001" { // server without CAP
			capNegotiation = false
			break
		}
		if isRegError(m) {
			return regError(m)
		}
		if strings.EqualFold(m.Param(1), "LS") {
			c.mu.Lock()
			for _, tok := range strings.Fields(m.Last()) {
				k, v, _ := strings.Cut(tok, "=")
				c.offered[k] = v
			}
			c.mu.Unlock()
			if m.Param(2) != "*" {
				break
			}
		}
	}
	if capNegotiation {
		var want []string
		c.mu.Lock()
		for _, cp := range c.cfg.Caps {
			if _, ok := c.offered[cp]; ok {
				want = append(want, cp)
			}
		}
		_, haveSASL := c.offered["sasl"]
		c.mu.Unlock()
		if c.cfg.SASLAccount != "" {
			if !haveSASL {
				return errors.New("server does not offer SASL")
			}
			want = append(want, "sasl")
		}
		if len(want) > 0 {
			if err := c.Raw("CAP REQ :" + strings.Join(want, " ")); err != nil {
				return err
			}
			m, err := c.expectAny(ctx, func(m Message) bool {
				return m.Command == "CAP" && (strings.EqualFold(m.Param(1), "ACK") || strings.EqualFold(m.Param(1), "NAK"))
			})
			if err != nil {
				return err
			}
			if strings.EqualFold(m.Param(1), "NAK") {
				return fmt.Errorf("CAP REQ refused: %s", m.Last())
			}
			c.mu.Lock()
			for _, cp := range strings.Fields(m.Last()) {
				if strings.HasPrefix(cp, "-") {
					delete(c.caps, cp[1:])
					continue
				}
				c.caps[cp] = c.offered[cp]
			}
			c.mu.Unlock()
		}
		if c.cfg.SASLAccount != "" {
			if err := c.saslPlain(ctx); err != nil {
				return err
			}
		}
		if err := c.Raw("CAP END"); err != nil {
			return err
		}
		m, err := c.expectAny(ctx, func(m Message) bool { return m.Command == "001" || isRegError(m) })
		if err != nil {
			return err
		}
		if isRegError(m) {
			return regError(m)
		}
	}
	m, err := c.expectAny(ctx, func(m Message) bool {
		return m.Command == "376" || m.Command == "422" || isRegError(m)
	})
	if err != nil {
		return err
	}
	if isRegError(m) {
		return regError(m)
	}
	return nil
}

func isRegError(m Message) bool {
	switch m.Command {
	case "ERROR", "432", "433", "436", "437", "465", "464":
		return true
	}
	return false
}

func regError(m Message) error {
	if m.Command == "ERROR" {
		return fmt.Errorf("server closed the connection: %s", m.Last())
	}
	return fmt.Errorf("registration refused: %s", m.Raw)
}

func (c *Client) saslPlain(ctx context.Context) error {
	if err := c.Raw("AUTHENTICATE PLAIN"); err != nil {
		return err
	}
	m, err := c.expectAny(ctx, func(m Message) bool {
		return m.Command == "AUTHENTICATE" || isSASLFail(m)
	})
	if err != nil {
		return err
	}
	if isSASLFail(m) {
		return fmt.Errorf("SASL PLAIN refused: %s", m.Raw)
	}
	acct := c.cfg.SASLAccount
	payload := base64.StdEncoding.EncodeToString([]byte(acct + "\x00" + acct + "\x00" + c.cfg.SASLPassword))
	for len(payload) >= 400 {
		if err := c.Raw("AUTHENTICATE " + payload[:400]); err != nil {
			return err
		}
		payload = payload[400:]
	}
	if payload == "" {
		payload = "+"
	}
	if err := c.Raw("AUTHENTICATE " + payload); err != nil {
		return err
	}
	m, err = c.expectAny(ctx, func(m Message) bool { return m.Command == "903" || isSASLFail(m) })
	if err != nil {
		return err
	}
	if m.Command != "903" {
		return fmt.Errorf("SASL login as %q failed: %s", acct, m.Raw)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.account == "" {
		return fmt.Errorf("SASL login as %q: 903 without 900 (RPL_LOGGEDIN)", acct)
	}
	return nil
}

func isSASLFail(m Message) bool {
	switch m.Command {
	case "902", "904", "905", "906", "907", "908":
		return true
	}
	return false
}

// readLoop reads lines into the queue until the connection ends. It
// answers server PINGs itself (the PING is still queued).
func (c *Client) readLoop() {
	defer close(c.done)
	r := bufio.NewReaderSize(c.conn, 16<<10)
	for {
		line, err := r.ReadString('\n')
		if line != "" && (err == nil || line[len(line)-1] == '\n') {
			m, perr := ParseMessage(line)
			if perr != nil {
				c.finish(fmt.Errorf("bad line from server: %w", perr))
				return
			}
			c.logf("< %s", m.Raw)
			c.track(m)
			if m.Command == "PING" {
				_ = c.Raw("PONG :" + m.Last())
			}
			c.push(m)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = ErrClosed
			}
			c.finish(err)
			return
		}
	}
}

func (c *Client) finish(err error) {
	c.mu.Lock()
	if c.readErr == nil {
		c.readErr = err
	}
	c.mu.Unlock()
	_ = c.conn.Close()
}

// track keeps nick, account and ISUPPORT current.
func (c *Client) track(m Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch m.Command {
	case "001":
		if n := m.Param(0); n != "" {
			c.nick = n
		}
	case "NICK":
		if strings.EqualFold(m.Prefix.Nick, c.nick) {
			c.nick = m.Param(0)
		}
	case "900": // RPL_LOGGEDIN <nick> <nick!user@host> <account> :text
		c.account = m.Param(2)
	case "901": // RPL_LOGGEDOUT
		c.account = ""
	case "005":
		if len(m.Params) < 3 {
			return
		}
		for _, tok := range m.Params[1 : len(m.Params)-1] {
			k, v, _ := strings.Cut(tok, "=")
			if strings.HasPrefix(k, "-") {
				delete(c.isupp, k[1:])
				continue
			}
			c.isupp[k] = v
		}
	}
}

func (c *Client) push(m Message) {
	c.mu.Lock()
	c.queue = append(c.queue, m)
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *Client) logf(format string, args ...any) {
	if c.cfg.Logf != nil {
		c.cfg.Logf("[%s] "+format, append([]any{c.cfg.Nick}, args...)...)
	}
}

// Next returns the next received message, waiting until one arrives, ctx
// ends, or the connection has ended and the queue is empty.
func (c *Client) Next(ctx context.Context) (Message, error) {
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			m := c.queue[0]
			c.queue[0] = Message{}
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return m, nil
		}
		c.mu.Unlock()
		select {
		case <-c.done:
			c.mu.Lock()
			empty, err := len(c.queue) == 0, c.readErr
			c.mu.Unlock()
			if empty {
				if !errors.Is(err, ErrClosed) {
					err = fmt.Errorf("%w: %v", ErrClosed, err)
				}
				return Message{}, err
			}
		case <-c.notify:
		case <-ctx.Done():
			return Message{}, ctx.Err()
		}
	}
}

// Expect consumes messages in order until one satisfies match, and returns
// it; the messages before it are dropped. It fails when ctx ends (give it
// a timeout) or the connection ends first; the error lists the last
// messages that did not match.
func (c *Client) Expect(ctx context.Context, match func(Message) bool) (Message, error) {
	m, err := c.expectAny(ctx, match)
	if err != nil {
		return Message{}, fmt.Errorf("irctest: %s: expect: %w", c.Nick(), err)
	}
	return m, nil
}

func (c *Client) expectAny(ctx context.Context, match func(Message) bool) (Message, error) {
	const keep = 15
	var skipped []string
	for {
		m, err := c.Next(ctx)
		if err != nil {
			if len(skipped) > 0 {
				return Message{}, fmt.Errorf("%w; last unmatched messages:\n  %s", err, strings.Join(skipped, "\n  "))
			}
			return Message{}, fmt.Errorf("%w (no unmatched messages)", err)
		}
		if match(m) {
			return m, nil
		}
		skipped = append(skipped, m.Raw)
		if len(skipped) > keep {
			skipped = skipped[1:]
		}
	}
}

// Sync is a barrier: it sends a PING and waits for the matching PONG, so
// every reply to earlier commands has arrived. It returns the messages
// received before the PONG (consumed from the queue).
func (c *Client) Sync(ctx context.Context) ([]Message, error) {
	token := "irctest-sync-" + strconv.FormatUint(c.syncSeq.Add(1), 10)
	if err := c.Raw("PING :" + token); err != nil {
		return nil, err
	}
	var before []Message
	_, err := c.Expect(ctx, func(m Message) bool {
		if m.Command == "PONG" && m.Last() == token {
			return true
		}
		before = append(before, m)
		return false
	})
	return before, err
}

// Raw sends one line (without CRLF).
func (c *Client) Raw(line string) error {
	if strings.ContainsAny(line, "\r\n\x00") {
		return fmt.Errorf("irctest: Raw: line contains CR, LF or NUL: %q", line)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.logf("> %s", line)
	_ = c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c.conn, line+"\r\n"); err != nil {
		return fmt.Errorf("irctest: %s: send: %w", c.cfg.Nick, err)
	}
	return nil
}

// Privmsg sends a PRIVMSG.
func (c *Client) Privmsg(target, text string) error {
	return c.Raw("PRIVMSG " + target + " :" + text)
}

// Notice sends a NOTICE.
func (c *Client) Notice(target, text string) error {
	return c.Raw("NOTICE " + target + " :" + text)
}

// Join joins a channel and waits for the server to confirm it (our own
// JOIN echoed, then the end of NAMES).
func (c *Client) Join(ctx context.Context, channel string) error {
	if err := c.Raw("JOIN " + channel); err != nil {
		return err
	}
	joined := false
	m, err := c.Expect(ctx, func(m Message) bool {
		switch m.Command {
		case "JOIN":
			if strings.EqualFold(m.Prefix.Nick, c.Nick()) && strings.EqualFold(m.Param(0), channel) {
				joined = true
			}
		case "366": // RPL_ENDOFNAMES
			return joined && strings.EqualFold(m.Param(1), channel)
		case "403", "405", "471", "473", "474", "475", "476", "477", "489":
			return strings.EqualFold(m.Param(1), channel)
		}
		return false
	})
	if err != nil {
		return err
	}
	if m.Command != "366" {
		return fmt.Errorf("irctest: %s: JOIN %s refused: %s", c.Nick(), channel, m.Raw)
	}
	return nil
}

// Register registers the current nick with NickServ (REGISTER password
// [email]) and waits until the server says we are logged in (900).
// Anope wants a password of at least 5 characters that is not the nick.
func (c *Client) Register(ctx context.Context, password, email string) error {
	cmd := "REGISTER " + password
	if email != "" {
		cmd += " " + email
	}
	if err := c.Privmsg("NickServ", cmd); err != nil {
		return err
	}
	nick := c.Nick()
	var failure string
	_, err := c.Expect(ctx, func(m Message) bool {
		switch {
		case m.Command == "900":
			return true
		case m.Command == "NOTICE" && strings.EqualFold(m.Prefix.Nick, "NickServ"):
			// Anope: "Nickname <nick> registered." (nick in bold), then
			// RPL_LOGGEDIN; anything else it says first is a refusal.
			text := StripFormatting(m.Last())
			if strings.EqualFold(text, "Nickname "+nick+" registered.") {
				return false
			}
			failure = text
			return true
		}
		return false
	})
	if err != nil {
		return err
	}
	if failure != "" {
		return fmt.Errorf("irctest: %s: NickServ REGISTER failed: %s", nick, failure)
	}
	return nil
}

// StripFormatting removes mIRC formatting codes (bold, colours, ...) from
// text.
func StripFormatting(text string) string {
	if !strings.ContainsAny(text, "\x02\x03\x04\x0f\x11\x16\x1d\x1e\x1f") {
		return text
	}
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case 0x02, 0x0f, 0x11, 0x16, 0x1d, 0x1e, 0x1f:
		case 0x03: // ^C[fg[,bg]] with 1-2 digit numbers
			i = skipColour(text, i, isDigit, 2)
		case 0x04: // hex colour ^D[RRGGBB[,RRGGBB]]
			i = skipColour(text, i, isHex, 6)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// skipColour returns the index of the last byte of a colour code starting
// at i.
func skipColour(s string, i int, digit func(byte) bool, max int) int {
	n := 0
	for n < max && i+1 < len(s) && digit(s[i+1]) {
		i++
		n++
	}
	if n > 0 && i+2 < len(s) && s[i+1] == ',' && digit(s[i+2]) {
		i++
		for n = 0; n < max && i+1 < len(s) && digit(s[i+1]); n++ {
			i++
		}
	}
	return i
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// Nick returns the client's current nick.
func (c *Client) Nick() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nick
}

// Account returns the account we are logged in as ("" if none), from
// RPL_LOGGEDIN/RPL_LOGGEDOUT.
func (c *Client) Account() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.account
}

// HasCap reports whether the server acknowledged a capability.
func (c *Client) HasCap(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.caps[name]
	return ok
}

// OfferedCaps returns the capabilities from CAP LS (name -> value).
func (c *Client) OfferedCaps() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]string, len(c.offered))
	for k, v := range c.offered {
		out[k] = v
	}
	return out
}

// ISupport returns an RPL_ISUPPORT (005) token's value.
func (c *Client) ISupport(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.isupp[key]
	return v, ok
}

// Done is closed when the connection has ended (the queue may still hold
// messages).
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended, or nil while it is up.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// Close sends QUIT, closes the connection and waits for the reader to stop.
// It is safe to call more than once.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		select {
		case <-c.done:
		default:
			c.wmu.Lock()
			_ = c.conn.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = io.WriteString(c.conn, "QUIT :irctest\r\n")
			c.wmu.Unlock()
		}
		c.finish(ErrClosed)
	})
	<-c.done
	return nil
}
