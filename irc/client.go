// Package irc is hallway's IRC transport: it turns lines people say into
// requests for the bot (package bot) and sends the outbox's IRC rows, paced,
// to the server. It holds no rules of its own.
package irc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/lrstanley/girc"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/schedule"
)

// Options configure the IRC transport.
type Options struct {
	Server    string
	Port      int
	TLS       bool
	TLSConfig *tls.Config
	Nick      string
	// SASLUser and SASLPassword log the bot in to services (SASL PLAIN);
	// an empty SASLUser means no SASL.
	SASLUser, SASLPassword string
	// Channels to join: the events' channels.
	Channels []string
	// SendBurst lines go out at once, then SendRate lines per second.
	SendBurst int
	SendRate  float64
	// PrivateWait is how long a private reply waits for a nick logged in
	// to its account before it is dropped; zero means 10 minutes.
	PrivateWait time.Duration
	// Debug receives the raw IRC lines, if set.
	Debug  io.Writer
	Logger *slog.Logger
	// TestHook, if set, is called with "claim:" and a target (lower
	// case) when the sender is about to claim the outbox rows of a line
	// it planned to that target, for tests that crash the process there.
	// Nil in production.
	TestHook func(point string)
}

// Bot is what the IRC transport needs of the command language.
type Bot interface {
	// HandleBatch carries out commands and queues their replies.
	HandleBatch(ctx context.Context, reqs []bot.Request) error
	// Prefix starts a command ("!").
	Prefix() string
	// Recording tells whether notes are being taken in a channel.
	Recording(channel string) bool
	// Channels are the channels to join besides Options.Channels.
	Channels() []string
	// Invited is an INVITE from a person logged in to account: true if
	// the bot should join.
	Invited(ctx context.Context, account, channel string) (bool, error)
	// TopicRefused tells the organizers the server refused a topic.
	TopicRefused(ctx context.Context, channel, me, serverSays string) error
}

// Client is the IRC transport: it turns lines people say into requests
// for the bot and sends the bot's outbox to IRC. It reconnects with
// backoff and rejoins by itself. It is also the bot's Replier for IRC
// (reply.go).
type Client struct {
	bot  Bot
	opts Options
	log  *slog.Logger
	work chan bot.Request
	send *sender

	mu     sync.Mutex
	client *girc.Client  // the registered connection, nil when down
	ready  chan struct{} // closed while client is set
	wire   *wireConn     // the connection's socket
}

// New returns the IRC transport for b, sending the IRC rows of box. It does
// no I/O. Install it as the bot's replier for IRC (bot.SetReplier(bot.IRC,
// c)) and wake it when lines are queued (Wake).
func New(b Bot, box outbox, opts *Options) *Client {
	o := *opts
	if o.Nick == "" {
		o.Nick = "hallway"
	}
	if o.SendBurst < 1 {
		o.SendBurst = 4
	}
	if o.SendRate <= 0 {
		o.SendRate = 1
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	c := &Client{
		bot:   b,
		opts:  o,
		log:   o.Logger.With("component", "irc"),
		work:  make(chan bot.Request, 4096),
		ready: make(chan struct{}),
	}
	c.send = newSender(box, c, o.SendBurst, o.SendRate, c.log)
	c.send.hook = o.TestHook
	if o.PrivateWait > 0 {
		c.send.privateWait = o.PrivateWait
	}
	return c
}

// Run connects and serves until ctx is done.
func (c *Client) Run(ctx context.Context) error {
	// The worker stops only after the connection is down, so that no line
	// girc delivers during shutdown is left unhandled.
	connDone := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.handleLoop(connDone) }()
	go func() { defer wg.Done(); c.send.run(ctx) }()
	defer wg.Wait()
	defer close(connDone)

	backoff := time.Second
	for {
		start := time.Now()
		err := c.connectOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > time.Minute {
			backoff = time.Second // it was up for a while: start over
		}
		// Jitter spreads reconnects of many bots after a netsplit.
		wait := backoff/2 + rand.N(backoff)
		c.log.Warn("disconnected; reconnecting", "err", err, "in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		backoff = min(backoff*2, time.Minute)
	}
}

// connectOnce runs one connection until it drops or ctx is done.
func (c *Client) connectOnce(ctx context.Context) error {
	cfg := girc.Config{
		Server:      c.opts.Server,
		Port:        c.opts.Port,
		Nick:        c.opts.Nick,
		User:        "hallway",
		Name:        "hallway event bot",
		AllowFlood:  true, // our own send queue paces the lines
		PingDelay:   30 * time.Second,
		PingTimeout: 60 * time.Second,
		Version:     "hallway",
		// The dialer does TLS itself, under the CTCP filter; STS would
		// upgrade a loopback test connection.
		DisableSTS: true,
		// echo-message tells which lines the server took and which it
		// refused (404).
		SupportedCaps: map[string][]string{"echo-message": nil},
		RecoverFunc: func(_ *girc.Client, e *girc.HandlerError) {
			c.log.Error("IRC handler panicked", "err", e.Error(), "stack", string(e.Stack))
		},
	}
	if c.opts.Debug != nil {
		cfg.Debug = c.opts.Debug
	}
	if c.opts.SASLUser != "" {
		cfg.SASL = &girc.SASLPlain{User: c.opts.SASLUser, Pass: c.opts.SASLPassword}
	}
	s := &ircSession{c: c, rejoins: map[string]*rejoinState{}, done: make(chan struct{})}
	// Registering, girc tries nick_ when the nick is taken; once in, a
	// taken nick is the regainer's business, not a reason to rename.
	cfg.HandleNickCollide = func(nick string) string {
		if s.registered.Load() {
			return ""
		}
		return nick + "_"
	}
	client := girc.New(cfg)
	// girc answers CTCP queries itself, outside our pacing: hallway
	// answers them (see ctcpQuery), and the wire drops what girc still
	// writes (its "unknown query" errors).
	for _, cmd := range []string{girc.CTCP_PING, girc.CTCP_PONG, girc.CTCP_VERSION, girc.CTCP_SOURCE, girc.CTCP_TIME, girc.CTCP_FINGER} {
		client.CTCP.Clear(cmd)
	}
	s.cl = client
	s.addHandlers(client)
	defer close(s.done)
	defer c.send.reset()

	errc := make(chan error, 1)
	go func() { errc <- client.DialerConnect(&wireDialer{c: c}) }()
	select {
	case <-ctx.Done():
		c.setClient(nil)
		client.Quit("hallway is shutting down")
		select {
		case <-errc:
		case <-time.After(2 * time.Second):
			client.Close()
			<-errc
		}
		return ctx.Err()
	case err := <-errc:
		c.setClient(nil)
		if err == nil {
			err = fmt.Errorf("connection closed")
		}
		return err
	}
}

func (c *Client) setClient(cl *girc.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if (c.client == nil) == (cl == nil) {
		c.client = cl
		return
	}
	c.client = cl
	if cl != nil {
		close(c.ready)
	} else {
		c.ready = make(chan struct{})
	}
}

// current returns the registered connection, or nil and a channel closed
// when there is one.
func (c *Client) current() (*girc.Client, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.client, c.ready
}

// onPrivmsg runs on girc's event loop: it only decides what a line is
// (a command, a line of notes being taken, or nothing for us) and hands it
// to the worker.
func (c *Client) onPrivmsg(cl *girc.Client, e girc.Event) {
	if e.Source == nil || len(e.Params) < 2 {
		return
	}
	nick := e.Source.Name
	if strings.EqualFold(nick, cl.GetNick()) || strings.Contains(nick, ".") {
		return // our own echo, or a server
	}
	where := ""
	if e.IsFromChannel() {
		where = e.Params[0]
	}
	text := e.Last()
	if ok, ctcp := e.IsCTCP(); ok {
		if ctcp.Command != "ACTION" {
			c.send.ctcpQuery(nick, ctcp.Command, ctcp.Text)
			return
		}
		if where == "" {
			return
		}
		text = "/me " + ctcp.Text
	}
	account := c.account(cl, e, nick)
	c.send.sawAccount(account, nick)
	base := bot.Request{Transport: bot.IRC, Can: bot.ChatCapabilities, Nick: nick, Where: where, At: e.Timestamp.UTC(), Who: bot.IRCIdentity(account),
		Resolve: func(n string) bot.Identity {
			if u := cl.LookupUser(n); u != nil && u.Extras.Account != "*" {
				return bot.IRCIdentity(u.Extras.Account)
			}
			return bot.Identity{}
		}}
	if id, ok := e.Tags.Get("msgid"); ok && id != "" {
		base.Keys = []string{"irc:" + id}
	}
	command, isCommand := commandText(text, c.bot.Prefix(), cl.GetNick(), where == "")
	if where != "" && (c.bot.Recording(where) || schedule.IsCommand(text) || strings.HasPrefix(strings.ToLower(text), "#startmeeting")) {
		// Notes keep every line said, commands to the bot too.
		line := base
		line.Raw, line.Text = true, text
		if isCommand && len(line.Keys) > 0 {
			line.Keys = []string{line.Keys[0] + ":line"}
		}
		c.queue(line)
	}
	if isCommand && !strings.HasPrefix(text, "/me ") {
		req := base
		req.Text = command
		c.queue(req)
	}
}

// account is the services account behind a line: the account-tag, or, on
// networks without it, what girc tracked from extended-join,
// account-notify and WHO.
func (c *Client) account(cl *girc.Client, e girc.Event, nick string) string {
	account, tagged := e.Tags.Get("account")
	if !tagged && !cl.HasCapability("account-tag") {
		if u := cl.LookupUser(nick); u != nil {
			account = u.Extras.Account
		}
	}
	if account == "*" {
		account = ""
	}
	return bot.FoldAccount(account)
}

func (c *Client) queue(req bot.Request) {
	select {
	case c.work <- req:
	default:
		c.log.Warn("command queue full; dropping a line", "nick", req.Nick)
	}
}

// commandText extracts the command from a line: "!vote 3", "hallway: vote
// 3", or, in a private message, "vote 3".
func commandText(line, prefix, nick string, private bool) (string, bool) {
	line = strings.TrimSpace(line)
	if prefix != "" && strings.HasPrefix(line, prefix) {
		rest := strings.TrimPrefix(line, prefix)
		if rest == "" || strings.HasPrefix(rest, " ") {
			return "", false
		}
		return rest, true
	}
	if len(line) > len(nick) && strings.EqualFold(line[:len(nick)], nick) {
		rest := line[len(nick):]
		if r := rest[0]; r == ':' || r == ',' {
			return strings.TrimSpace(rest[1:]), strings.TrimSpace(rest[1:]) != ""
		}
	}
	if private && line != "" {
		return line, true
	}
	return "", false
}

// maxBatch bounds how many queued commands share one transaction.
const maxBatch = 64

// handleLoop carries out commands off girc's event loop, in order. Commands
// that queued up while the last batch ran go together in one transaction.
// On shutdown it finishes what was already received.
func (c *Client) handleLoop(connDone <-chan struct{}) {
	// Commands run to completion even while shutting down: they were
	// said, so they are done, and their answers go out after a restart.
	ctx := context.Background()
	batch := make([]bot.Request, 0, maxBatch)
	for {
		select {
		case <-connDone:
			c.drain()
			return
		case req := <-c.work:
			batch = append(batch[:0], req)
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case req := <-c.work:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		if err := c.bot.HandleBatch(ctx, batch); err != nil && !logged(err) {
			c.log.Error("handling commands", "err", err)
		}
		c.send.wake()
	}
}

// drain carries out the commands received before shutdown: they were
// said, so they are done, and their answers go out after the restart.
func (c *Client) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		select {
		case req := <-c.work:
			if err := c.bot.HandleBatch(ctx, []bot.Request{req}); err != nil && !logged(err) {
				c.log.Error("handling command at shutdown", "err", err)
			}
		default:
			return
		}
	}
}

// Wake tells the sender that lines were queued outside a command.
func (c *Client) Wake() { c.send.wake() }

// logged tells whether the bot logged err where it happened.
func logged(err error) bool {
	var ce *bot.CommandError
	return errors.As(err, &ce)
}
