// Package matrixtest drives the test environment's homeserver (Dendrite,
// started by scripts/testenv.sh) for tests: users registered through the
// shared secret, rooms, invites, messages, and waiting for events by
// /sync with a deadline.
package matrixtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/synapseadmin"
)

// Environment variables set by `scripts/testenv.sh env`.
const (
	EnvURL        = "HALLWAY_TEST_MATRIX_URL"
	EnvSecret     = "HALLWAY_TEST_MATRIX_SECRET"
	EnvServerName = "HALLWAY_TEST_MATRIX_SERVER_NAME"
	envScript     = "HALLWAY_TESTENV_SCRIPT"
	envRequire    = "HALLWAY_REQUIRE_TESTENV"
)

// Server is the test homeserver.
type Server struct {
	URL        string
	Secret     string
	ServerName string
}

var waitOnce struct {
	sync.Once
	err error
}

// Env returns the test homeserver, skipping the test when the environment
// is not set (failing with HALLWAY_REQUIRE_TESTENV=1). The first call in a
// process waits for the homeserver (`scripts/testenv.sh wait-matrix`: on a
// machine's first start it is still being built).
func Env(t testing.TB) *Server {
	t.Helper()
	s := &Server{URL: os.Getenv(EnvURL), Secret: os.Getenv(EnvSecret), ServerName: os.Getenv(EnvServerName)}
	if s.URL == "" || s.Secret == "" || s.ServerName == "" {
		msg := fmt.Sprintf("%s is not set: start the real servers with `scripts/testenv.sh start && eval \"$(scripts/testenv.sh env)\"`, or run scripts/test.sh", EnvURL)
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("%s (and %s=1 forbids skipping)", msg, envRequire)
		}
		t.Skip(msg)
	}
	waitOnce.Do(func() {
		script := os.Getenv(envScript)
		if script == "" {
			return
		}
		out, err := exec.Command(script, "wait-matrix").CombinedOutput()
		if err != nil {
			waitOnce.err = fmt.Errorf("%s wait-matrix: %w\n%s", script, err, out)
		}
	})
	if waitOnce.err != nil {
		t.Fatal(waitOnce.err)
	}
	return s
}

// Unique returns prefix with a random suffix: a localpart (or any name)
// that no other test, in this run or another one on the same server,
// uses.
func Unique(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return strings.ToLower(prefix) + "-" + hex.EncodeToString(b)
}

// User is a registered account with an access token.
type User struct {
	ID     id.UserID
	Token  string
	Device id.DeviceID
	Client *mautrix.Client

	srv      *Server
	password string

	mu    sync.Mutex
	since string
	seen  []*event.Event // every timeline event synced so far, in order
}

// Register makes an account localpart (use Unique) through the shared
// secret. An admin account is never rate limited (the test server's
// rate limits are Dendrite's defaults for everyone else).
func (s *Server) Register(t testing.TB, localpart string, admin bool) *User {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, err := s.RegisterCtx(ctx, localpart, admin)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// RegisterCtx is Register for programs that are not tests.
func (s *Server) RegisterCtx(ctx context.Context, localpart string, admin bool) (*User, error) {
	cli, err := s.client("", "")
	if err != nil {
		return nil, err
	}
	adm := &synapseadmin.Client{Client: cli}
	pw := Unique("password")
	resp, err := adm.SharedSecretRegister(ctx, s.Secret, synapseadmin.ReqSharedSecretRegister{
		Username: localpart, Password: pw, Admin: admin,
	})
	if err != nil {
		return nil, fmt.Errorf("register @%s:%s: %w", localpart, s.ServerName, err)
	}
	c, err := s.client(resp.UserID, resp.AccessToken)
	if err != nil {
		return nil, err
	}
	return &User{ID: resp.UserID, Token: resp.AccessToken, Device: resp.DeviceID, Client: c, srv: s, password: pw}, nil
}

// Login logs the user in again: a new device with a new access token (a
// new scope for transaction IDs).
func (u *User) Login(t testing.TB) *User {
	t.Helper()
	ctx, cancel := ctx30()
	defer cancel()
	cli, err := u.srv.client("", "")
	if err != nil {
		t.Fatal(err)
	}
	var resp *mautrix.RespLogin
	err = limited(ctx, func() (err error) {
		resp, err = cli.Login(ctx, &mautrix.ReqLogin{
			Type:       mautrix.AuthTypePassword,
			Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: string(u.ID)},
			Password:   u.password,
		})
		return err
	})
	if err != nil {
		t.Fatalf("%s: login: %v", u.ID, err)
	}
	c, err := u.srv.client(resp.UserID, resp.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	return &User{ID: resp.UserID, Token: resp.AccessToken, Device: resp.DeviceID, Client: c, srv: u.srv, password: u.password}
}

func (s *Server) client(user id.UserID, token string) (*mautrix.Client, error) {
	c, err := mautrix.NewClient(s.URL, user, token)
	if err != nil {
		return nil, err
	}
	c.Log = zerolog.Nop()
	c.DefaultHTTPRetries = 0
	c.IgnoreRateLimit = true
	c.Client = &http.Client{Timeout: 60 * time.Second}
	return c, nil
}

// limited runs f again while the server answers M_LIMIT_EXCEEDED, waiting
// its retry_after_ms.
func limited(ctx context.Context, f func() error) error {
	for {
		err := f()
		var he mautrix.HTTPError
		if err == nil || !errors.As(err, &he) || he.RespError == nil || he.RespError.ErrCode != "M_LIMIT_EXCEEDED" {
			return err
		}
		d := time.Second
		if ms, ok := he.RespError.ExtraData["retry_after_ms"].(float64); ok {
			d = time.Duration(ms) * time.Millisecond
		}
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func ctx30() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// RoomOptions say what room CreateRoom makes.
type RoomOptions struct {
	Name      string
	Invite    []id.UserID
	Direct    bool   // a direct chat (is_direct on the invites)
	Encrypted bool   // m.room.encryption in the initial state
	Public    bool   // anyone may join
	Alias     string // a local alias: the room is #Alias:server too
}

// CreateRoom makes a room and returns its ID.
func (u *User) CreateRoom(t testing.TB, o RoomOptions) id.RoomID {
	t.Helper()
	ctx, cancel := ctx30()
	defer cancel()
	req := &mautrix.ReqCreateRoom{Name: o.Name, Invite: o.Invite, IsDirect: o.Direct, Preset: "private_chat", RoomAliasName: o.Alias}
	if o.Public {
		req.Preset = "public_chat"
	}
	if o.Encrypted {
		req.InitialState = []*event.Event{{
			Type:    event.StateEncryption,
			Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}},
		}}
	}
	var resp *mautrix.RespCreateRoom
	err := limited(ctx, func() (err error) {
		resp, err = u.Client.CreateRoom(ctx, req)
		return err
	})
	if err != nil {
		t.Fatalf("%s: create room: %v", u.ID, err)
	}
	return resp.RoomID
}

// Invite invites user to room.
func (u *User) Invite(t testing.TB, room id.RoomID, user id.UserID) {
	t.Helper()
	ctx, cancel := ctx30()
	defer cancel()
	if err := limited(ctx, func() error {
		_, err := u.Client.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: user})
		return err
	}); err != nil {
		t.Fatalf("%s: invite %s to %s: %v", u.ID, user, room, err)
	}
}

// Join joins a room (ID or alias).
func (u *User) Join(t testing.TB, room id.RoomID) {
	t.Helper()
	ctx, cancel := ctx30()
	defer cancel()
	if err := limited(ctx, func() error {
		_, err := u.Client.JoinRoom(ctx, string(room), nil)
		return err
	}); err != nil {
		t.Fatalf("%s: join %s: %v", u.ID, room, err)
	}
}

// SetDisplayName sets the user's display name.
func (u *User) SetDisplayName(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := ctx30()
	defer cancel()
	if err := limited(ctx, func() error { return u.Client.SetDisplayName(ctx, name) }); err != nil {
		t.Fatalf("%s: set display name: %v", u.ID, err)
	}
}

// Send sends a text message and returns its event ID.
func (u *User) Send(t testing.TB, room id.RoomID, text string) id.EventID {
	t.Helper()
	return u.SendContent(t, room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: text})
}

// SendContent sends any event content (a reply, a thread message, an
// m.room.encrypted event).
func (u *User) SendContent(t testing.TB, room id.RoomID, typ event.Type, content any) id.EventID {
	t.Helper()
	ctx, cancel := ctx30()
	defer cancel()
	var resp *mautrix.RespSendEvent
	if err := limited(ctx, func() (err error) {
		resp, err = u.Client.SendMessageEvent(ctx, room, typ, content)
		return err
	}); err != nil {
		t.Fatalf("%s: send to %s: %v", u.ID, room, err)
	}
	return resp.EventID
}

// WaitEvent syncs until an event in room matches match (events synced by
// earlier calls count too) and returns it; it fails the test after
// timeout.
func (u *User) WaitEvent(t testing.TB, room id.RoomID, timeout time.Duration, what string, match func(*event.Event) bool) *event.Event {
	t.Helper()
	evt, err := u.WaitEventCtx(context.Background(), room, timeout, match)
	if err != nil {
		t.Fatalf("%s: waiting for %s in %s: %v", u.ID, what, room, err)
	}
	return evt
}

// WaitEventCtx is WaitEvent for programs that are not tests.
func (u *User) WaitEventCtx(ctx context.Context, room id.RoomID, timeout time.Duration, match func(*event.Event) bool) (*event.Event, error) {
	return u.waitAny(ctx, timeout, func(evt *event.Event) bool { return evt.RoomID == room && match(evt) })
}

// WaitInvite syncs until the user is invited to a room other than except
// (invites synced by earlier calls count too) and returns the room.
func (u *User) WaitInvite(t testing.TB, timeout time.Duration, except ...id.RoomID) id.RoomID {
	t.Helper()
	evt, err := u.waitAny(context.Background(), timeout, func(evt *event.Event) bool {
		return evt.Type == event.StateMember && evt.StateKey != nil && id.UserID(*evt.StateKey) == u.ID &&
			evt.Content.AsMember().Membership == event.MembershipInvite && !slices.Contains(except, evt.RoomID)
	})
	if err != nil {
		t.Fatalf("%s: waiting for an invite: %v", u.ID, err)
	}
	return evt.RoomID
}

func (u *User) waitAny(ctx context.Context, timeout time.Duration, match func(*event.Event) bool) (*event.Event, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u.mu.Lock()
	defer u.mu.Unlock()
	for i := 0; ; {
		for ; i < len(u.seen); i++ {
			if evt := u.seen[i]; match(evt) {
				return evt, nil
			}
		}
		wait := time.Until(deadline(ctx))
		resp, err := u.Client.SyncRequest(ctx, int(min(wait, 10*time.Second).Milliseconds()), u.since, syncFilter, false, event.PresenceOffline)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("not seen within %s", timeout)
			}
			return nil, err
		}
		u.since = resp.NextBatch
		for rid, jr := range resp.Rooms.Join {
			for _, evt := range jr.Timeline.Events {
				evt.RoomID = rid
				_ = evt.Content.ParseRaw(evt.Type)
				u.seen = append(u.seen, evt)
			}
		}
		for rid, inv := range resp.Rooms.Invite {
			for _, evt := range inv.State.Events {
				evt.RoomID = rid
				_ = evt.Content.ParseRaw(evt.Type)
				u.seen = append(u.seen, evt)
			}
		}
		for rid, lr := range resp.Rooms.Leave {
			for _, evt := range lr.Timeline.Events {
				evt.RoomID = rid
				_ = evt.Content.ParseRaw(evt.Type)
				u.seen = append(u.seen, evt)
			}
		}
	}
}

// syncFilter (inline JSON) asks for every event between two syncs: with
// the default timeline limit a busy room's sync skips events.
const syncFilter = `{"room":{"timeline":{"limit":1000}}}`

func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// Messages returns every event of room's timeline visible to the user,
// oldest first (paginating /messages): for counting what a room holds.
// Dendrite v0.13.8 now and then leaves out of /messages an event its /sync
// gave (TestMatrixKill: one answer in some runs, whatever the page size).
func (u *User) Messages(t testing.TB, room id.RoomID) []*event.Event {
	t.Helper()
	ctx, cancel := ctx30()
	defer cancel()
	var out []*event.Event
	from := ""
	for {
		resp, err := u.Client.Messages(ctx, room, from, "", mautrix.DirectionBackward, nil, 1000)
		if err != nil {
			t.Fatalf("%s: messages of %s: %v", u.ID, room, err)
		}
		for _, evt := range resp.Chunk {
			evt.RoomID = room
			_ = evt.Content.ParseRaw(evt.Type)
			out = append(out, evt)
		}
		if len(resp.Chunk) == 0 || resp.End == "" || resp.End == from {
			break
		}
		from = resp.End
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Membership returns user's membership of room as u sees it ("" if none).
func (u *User) Membership(t testing.TB, room id.RoomID, user id.UserID) event.Membership {
	t.Helper()
	ctx, cancel := ctx30()
	defer cancel()
	var m event.MemberEventContent
	if err := u.Client.StateEvent(ctx, room, event.StateMember, string(user), &m); err != nil {
		if errors.Is(err, mautrix.MNotFound) {
			return ""
		}
		t.Fatalf("%s: membership of %s in %s: %v", u.ID, user, room, err)
	}
	return m.Membership
}
