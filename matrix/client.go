package matrix

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// Config says which homeserver and account the bot uses and what it does
// there.
type Config struct {
	// Homeserver is the client-server API's base URL, e.g.
	// https://matrix.example.org.
	Homeserver string
	// UserID is the bot's account (@hallway:example.org), AccessToken its
	// token (see AccessToken for reading it from the environment or a file).
	UserID      string
	AccessToken string
	// Rooms are joined at start: room IDs or aliases.
	Rooms []string
	// Joined, if set, is told each of Rooms once joined, with the room's
	// ID: messages come with the ID, whatever name the config gave.
	Joined func(name, roomID string)
	// Organizers are the user IDs whose invites the bot accepts; an invite
	// from anyone else is refused.
	Organizers []string
	// Prefix starts a command ("!" by default).
	Prefix string
	// Names the bot answers to as "NAME: command" besides its user ID,
	// localpart and display name.
	Names []string
	// SyncTimeout is how long one /sync waits for news (30 s by default).
	SyncTimeout time.Duration
	// Logger gets the client's logs (slog.Default by default).
	Logger *slog.Logger
	// HTTPClient, if set, makes the requests.
	HTTPClient *http.Client
}

// AccessToken reads a token from the environment variable env or, if env
// is empty, from file (trailing white space dropped).
func AccessToken(env, file string) (string, error) {
	switch {
	case env != "":
		t := strings.TrimSpace(os.Getenv(env))
		if t == "" {
			return "", fmt.Errorf("the environment variable %s (the Matrix access token) is empty or unset", env)
		}
		return t, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read the Matrix access token: %w", err)
		}
		t := strings.TrimSpace(string(b))
		if t == "" {
			return "", fmt.Errorf("the Matrix access token file %s is empty", file)
		}
		return t, nil
	}
	return "", errors.New("no Matrix access token: set an environment variable or a file for it")
}

// Client is the bot's connection to its homeserver. Its methods are safe
// for concurrent use.
type Client struct {
	cfg    Config
	cli    *mautrix.Client
	log    *slog.Logger
	self   id.UserID
	prefix string
	orgs   map[id.UserID]bool
	ready  chan struct{}
	once   sync.Once

	mu    sync.Mutex
	rooms map[id.RoomID]*room
	names []string
	// public are the configured rooms, by ID: never taken for a direct
	// chat, however few are in them.
	public map[id.RoomID]bool
	// targets are where rows addressed by alias or to a person go: an
	// alias's room, a person's direct chat with the bot.
	targets map[string]id.RoomID
}

// room is what the client knows of a room it is in.
type room struct {
	members   map[id.UserID]bool // joined
	known     bool               // members is complete
	encrypted bool
	warned    bool // told that hallway does not read it
}

// New makes a client; it does no I/O.
func New(cfg Config) (*Client, error) {
	if cfg.Homeserver == "" || cfg.UserID == "" || cfg.AccessToken == "" {
		return nil, errors.New("matrix: a homeserver, a user ID and an access token are needed")
	}
	self := id.UserID(cfg.UserID)
	local, _, err := self.Parse()
	if err != nil {
		return nil, fmt.Errorf("matrix: user ID %q: %w (want @name:server)", cfg.UserID, err)
	}
	cli, err := mautrix.NewClient(cfg.Homeserver, self, cfg.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("matrix: %w", err)
	}
	if cfg.HTTPClient != nil {
		cli.Client = cfg.HTTPClient
	}
	cli.Log = zerolog.Nop()
	// Retries are ours: mautrix reads only a Retry-After header, and sleeps
	// where a sender should move on to another room.
	cli.DefaultHTTPRetries = 0
	cli.IgnoreRateLimit = true
	if cfg.Prefix == "" {
		cfg.Prefix = "!"
	}
	if cfg.SyncTimeout == 0 {
		cfg.SyncTimeout = 30 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	c := &Client{
		cfg:     cfg,
		cli:     cli,
		log:     log.With("component", "matrix"),
		self:    self,
		prefix:  cfg.Prefix,
		orgs:    map[id.UserID]bool{},
		ready:   make(chan struct{}),
		rooms:   map[id.RoomID]*room{},
		public:  map[id.RoomID]bool{},
		targets: map[string]id.RoomID{},
		names:   append([]string{string(self), local}, cfg.Names...),
	}
	for _, o := range cfg.Organizers {
		c.orgs[id.UserID(o)] = true
	}
	return c, nil
}

// UserID is the bot's account.
func (c *Client) UserID() string { return string(c.self) }

// Ready is closed once the first sync is done: from then on every message
// sent to a room the bot is in reaches the handler.
func (c *Client) Ready() <-chan struct{} { return c.ready }

// retryAfter reports whether err is M_LIMIT_EXCEEDED, and how long the
// homeserver asked to wait (a second if it did not say).
func retryAfter(err error) (time.Duration, bool) {
	var he mautrix.HTTPError
	if !errors.As(err, &he) || he.RespError == nil {
		return 0, false
	}
	re := he.RespError
	if re.ErrCode != mautrix.MLimitExceeded.ErrCode && !he.IsStatus(http.StatusTooManyRequests) {
		return 0, false
	}
	d := time.Second
	if ms, ok := re.ExtraData["retry_after_ms"].(float64); ok && ms >= 0 {
		d = time.Duration(ms) * time.Millisecond
	}
	return min(d, 5*time.Minute), true
}

// limited runs f until it is not refused with M_LIMIT_EXCEEDED, waiting as
// long as the homeserver asks between tries.
func (c *Client) limited(ctx context.Context, what string, f func() error) error {
	for {
		err := f()
		d, ok := retryAfter(err)
		if !ok {
			return err
		}
		c.log.Debug("rate limited", "what", what, "retry_after", d)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// joinConfigured joins the configured rooms (IDs or aliases).
func (c *Client) joinConfigured(ctx context.Context) error {
	for _, r := range c.cfg.Rooms {
		var resp *mautrix.RespJoinRoom
		err := c.limited(ctx, "join", func() (err error) {
			resp, err = c.cli.JoinRoom(ctx, r, nil)
			return err
		})
		if err != nil {
			return fmt.Errorf("matrix: join %s: %w", r, err)
		}
		c.mu.Lock()
		c.public[resp.RoomID] = true
		if r != string(resp.RoomID) {
			c.targets[r] = resp.RoomID
		}
		c.mu.Unlock()
		if c.cfg.Joined != nil {
			c.cfg.Joined(r, string(resp.RoomID))
		}
		c.log.Info("joined room", "room", r, "room_id", resp.RoomID)
	}
	return nil
}

// room returns what is known of a room, fetching its members if need be
// (a room first seen after a restart, whose state /sync does not repeat).
func (c *Client) room(ctx context.Context, roomID id.RoomID) *room {
	c.mu.Lock()
	r := c.rooms[roomID]
	if r == nil {
		r = &room{members: map[id.UserID]bool{}}
		c.rooms[roomID] = r
	}
	known := r.known
	c.mu.Unlock()
	if !known {
		var resp *mautrix.RespJoinedMembers
		err := c.limited(ctx, "members", func() (err error) {
			resp, err = c.cli.JoinedMembers(ctx, roomID)
			return err
		})
		if err != nil {
			c.log.Warn("could not list a room's members", "room", roomID, "err", err)
			return r
		}
		c.mu.Lock()
		for u := range resp.Joined {
			r.members[u] = true
		}
		r.known = true
		c.mu.Unlock()
	}
	return r
}

// addName adds a name the bot answers to (its display name).
func (c *Client) addName(name string) {
	if name == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.names {
		if strings.EqualFold(n, name) {
			return
		}
	}
	c.names = append(c.names, name)
}

// RoomID is the room a row's target names: a room ID as it is, an alias's
// room, or for a user ID ("@alice:example.org") the direct chat with that
// person: the one they last talked to the bot in, or a new one, invite
// only, to which only they are invited (a private answer must reach no
// one else).
func (c *Client) RoomID(ctx context.Context, target string) (string, error) {
	if strings.HasPrefix(target, "!") {
		return target, nil
	}
	c.mu.Lock()
	r, ok := c.targets[target]
	c.mu.Unlock()
	if ok {
		return string(r), nil
	}
	switch {
	case strings.HasPrefix(target, "#"):
		var resp *mautrix.RespAliasResolve
		err := c.limited(ctx, "alias", func() (err error) {
			resp, err = c.cli.ResolveAlias(ctx, id.RoomAlias(target))
			return err
		})
		if err != nil {
			return "", fmt.Errorf("matrix: resolve %s: %w", target, err)
		}
		r = resp.RoomID
	case strings.HasPrefix(target, "@"):
		var resp *mautrix.RespCreateRoom
		err := c.limited(ctx, "create room", func() (err error) {
			resp, err = c.cli.CreateRoom(ctx, &mautrix.ReqCreateRoom{
				Preset: "trusted_private_chat", IsDirect: true, Invite: []id.UserID{id.UserID(target)},
			})
			return err
		})
		if err != nil {
			return "", fmt.Errorf("matrix: open a direct chat with %s: %w", target, err)
		}
		r = resp.RoomID
		c.log.Info("opened a direct chat", "room", r, "user", target)
	default:
		return "", fmt.Errorf("matrix: %q is not a room ID, an alias or a user ID", target)
	}
	c.mu.Lock()
	c.targets[target] = r
	c.mu.Unlock()
	return string(r), nil
}
