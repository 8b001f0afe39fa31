package matrix_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/hallwayhq/hallway/matrix"
	"github.com/hallwayhq/hallway/matrix/matrixtest"
	"github.com/hallwayhq/hallway/store"
	"github.com/hallwayhq/hallway/store/storetest"
)

const wait = 20 * time.Second

// recorder is a Handler that keeps what it was handed.
type recorder struct {
	mu   sync.Mutex
	msgs []matrix.Message
	cond chan struct{} // closed and replaced on every message
}

func newRecorder() *recorder { return &recorder{cond: make(chan struct{})} }

func (r *recorder) HandleMessage(_ context.Context, m matrix.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
	close(r.cond)
	r.cond = make(chan struct{})
	return nil
}

// wait returns the first message handed so far or later that matches.
func (r *recorder) wait(t *testing.T, what string, match func(matrix.Message) bool) matrix.Message {
	t.Helper()
	deadline := time.After(wait)
	for i := 0; ; {
		r.mu.Lock()
		for ; i < len(r.msgs); i++ {
			if match(r.msgs[i]) {
				m := r.msgs[i]
				r.mu.Unlock()
				return m
			}
		}
		ch := r.cond
		r.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("handler never got %s", what)
		}
	}
}

func (r *recorder) all() []matrix.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]matrix.Message(nil), r.msgs...)
}

type bot struct {
	user   *matrixtest.User
	client *matrix.Client
	rec    *recorder
	stop   func()
}

type botOptions struct {
	user       *matrixtest.User // an existing account (a restart); else a new one
	tokens     matrix.SyncTokens
	organizers []id.UserID
	rooms      []id.RoomID
	httpClient *http.Client
	handler    matrix.Handler
}

// startBot runs a client as a normal (rate-limited) account until the test
// ends or stop is called, and waits for its first sync.
func startBot(t *testing.T, srv *matrixtest.Server, o botOptions) *bot {
	t.Helper()
	u := o.user
	if u == nil {
		u = srv.Register(t, matrixtest.Unique("hallway"), false)
	}
	if o.tokens == nil {
		o.tokens = &matrix.MemoryTokens{}
	}
	cfg := matrix.Config{
		Homeserver: srv.URL, UserID: string(u.ID), AccessToken: u.Token,
		SyncTimeout: 5 * time.Second, HTTPClient: o.httpClient,
	}
	for _, org := range o.organizers {
		cfg.Organizers = append(cfg.Organizers, string(org))
	}
	for _, r := range o.rooms {
		cfg.Rooms = append(cfg.Rooms, string(r))
	}
	c, err := matrix.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	h := o.handler
	if h == nil {
		h = rec
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, h, o.tokens) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	select {
	case <-c.Ready():
	case err := <-done:
		t.Fatalf("Run ended before its first sync: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("no first sync within 60 s")
	}
	return &bot{user: u, client: c, rec: rec, stop: stop}
}

// waitJoined waits until u sees user joined to room.
func waitJoined(t *testing.T, u *matrixtest.User, room id.RoomID, user id.UserID) {
	t.Helper()
	u.WaitEvent(t, room, wait, fmt.Sprintf("%s joining", user), func(e *event.Event) bool {
		return e.Type == event.StateMember && e.StateKey != nil && *e.StateKey == string(user) &&
			e.Content.AsMember().Membership == event.MembershipJoin
	})
}

// room makes a room of alice's with a third person in it (two people and
// the bot is no direct chat), the bot invited and joined.
func room(t *testing.T, srv *matrixtest.Server, alice *matrixtest.User, b *bot) id.RoomID {
	t.Helper()
	carol := srv.Register(t, matrixtest.Unique("carol"), false)
	r := alice.CreateRoom(t, matrixtest.RoomOptions{Name: "hallway test", Invite: []id.UserID{carol.ID, b.user.ID}})
	carol.Join(t, r)
	waitJoined(t, alice, r, b.user.ID)
	return r
}

func TestMatrixSendReceive(t *testing.T) {
	srv := matrixtest.Env(t)
	alice := srv.Register(t, matrixtest.Unique("alice"), false)
	b := startBot(t, srv, botOptions{organizers: []id.UserID{alice.ID}})
	r := room(t, srv, alice, b)

	local := strings.TrimPrefix(strings.SplitN(string(b.user.ID), ":", 2)[0], "@")
	tests := []struct{ body, cmd string }{
		{"!vote 3", "vote 3"},
		{local + ": vote 4", "vote 4"},
		{string(b.user.ID) + ", vote 5", "vote 5"},
		{"just chatting", ""},
	}
	for _, tt := range tests {
		eid := alice.Send(t, r, tt.body)
		m := b.rec.wait(t, tt.body, func(m matrix.Message) bool { return m.EventID == string(eid) })
		want := matrix.Message{EventID: string(eid), RoomID: string(r), Sender: string(alice.ID), Body: tt.body, Command: tt.cmd, Time: m.Time}
		if m != want {
			t.Errorf("got %+v\nwant %+v", m, want)
		}
	}

	// The answer: a Matrix reply with an HTML body and a plain one.
	ask := alice.Send(t, r, "!help")
	m := b.rec.wait(t, "!help", func(m matrix.Message) bool { return m.EventID == string(ask) })
	ctx := context.Background()
	if _, err := b.client.Reply(ctx, m, matrix.Reply{Text: "vote <3> noted", HTML: "vote <b>&lt;3&gt;</b> noted"}, matrixtest.Unique("txn")); err != nil {
		t.Fatal(err)
	}
	ans := alice.WaitEvent(t, r, wait, "the reply", func(e *event.Event) bool {
		return e.Sender == b.user.ID && e.Type == event.EventMessage && e.Content.AsMessage().RelatesTo.GetReplyTo() == ask
	})
	mc := ans.Content.AsMessage()
	if mc.Body != "vote <3> noted" || mc.Format != event.FormatHTML || mc.FormattedBody != "vote <b>&lt;3&gt;</b> noted" || mc.MsgType != event.MsgNotice {
		t.Errorf("reply = %+v", mc)
	}
	if mc.RelatesTo.GetThreadParent() != "" {
		t.Errorf("reply outside a thread is in thread %s", mc.RelatesTo.GetThreadParent())
	}
	if mc.Mentions == nil || len(mc.Mentions.UserIDs) != 1 || mc.Mentions.UserIDs[0] != alice.ID {
		t.Errorf("reply mentions %+v, want alice", mc.Mentions)
	}
}

func TestMatrixDirect(t *testing.T) {
	srv := matrixtest.Env(t)
	alice := srv.Register(t, matrixtest.Unique("alice"), false)
	b := startBot(t, srv, botOptions{organizers: []id.UserID{alice.ID}})
	r := alice.CreateRoom(t, matrixtest.RoomOptions{Invite: []id.UserID{b.user.ID}, Direct: true})
	waitJoined(t, alice, r, b.user.ID)
	eid := alice.Send(t, r, "vote 3")
	m := b.rec.wait(t, "the direct message", func(m matrix.Message) bool { return m.EventID == string(eid) })
	if !m.Direct || m.Command != "vote 3" {
		t.Errorf("direct message = %+v, want Direct and command \"vote 3\"", m)
	}
}

func TestMatrixThreadReply(t *testing.T) {
	srv := matrixtest.Env(t)
	alice := srv.Register(t, matrixtest.Unique("alice"), false)
	b := startBot(t, srv, botOptions{organizers: []id.UserID{alice.ID}})
	r := room(t, srv, alice, b)

	root := alice.Send(t, r, "session 4: notes")
	in := alice.SendContent(t, r, event.EventMessage, &event.MessageEventContent{
		MsgType: event.MsgText, Body: "!vote 4",
		RelatesTo: (&event.RelatesTo{}).SetThread(root, root),
	})
	m := b.rec.wait(t, "the thread message", func(m matrix.Message) bool { return m.EventID == string(in) })
	if m.Thread != string(root) || m.Command != "vote 4" || m.InReplyTo != "" {
		t.Errorf("thread message = %+v, want thread %s, command \"vote 4\", no reply (a fallback)", m, root)
	}
	if _, err := b.client.Reply(context.Background(), m, matrix.Reply{Text: "noted"}, matrixtest.Unique("txn")); err != nil {
		t.Fatal(err)
	}
	ans := alice.WaitEvent(t, r, wait, "the reply in the thread", func(e *event.Event) bool {
		return e.Sender == b.user.ID && e.Type == event.EventMessage && e.Content.AsMessage().RelatesTo.GetThreadParent() == root
	})
	if got := ans.Content.AsMessage().RelatesTo.GetReplyTo(); got != in {
		t.Errorf("reply in thread replies to %s, want %s", got, in)
	}
	if f := ans.Content.AsMessage().FormattedBody; f != "noted" {
		t.Errorf("formatted body %q, want the text escaped", f)
	}

	// A reply (not in a thread) to someone's message.
	rep := alice.SendContent(t, r, event.EventMessage, &event.MessageEventContent{
		MsgType: event.MsgText, Body: "!vote 5", RelatesTo: (&event.RelatesTo{}).SetReplyTo(root),
	})
	m = b.rec.wait(t, "the reply", func(m matrix.Message) bool { return m.EventID == string(rep) })
	if m.InReplyTo != string(root) || m.Thread != "" {
		t.Errorf("reply = %+v, want InReplyTo %s", m, root)
	}
}

// A display name is anyone's to take: the sender is the user ID.
func TestMatrixDisplayNameSpoof(t *testing.T) {
	srv := matrixtest.Env(t)
	alice := srv.Register(t, matrixtest.Unique("alice"), false)
	mallory := srv.Register(t, matrixtest.Unique("mallory"), false)
	b := startBot(t, srv, botOptions{organizers: []id.UserID{alice.ID}})
	r := room(t, srv, alice, b)
	alice.Invite(t, r, mallory.ID)
	mallory.Join(t, r)
	for _, name := range []string{string(alice.ID), "alice", string(b.user.ID)} {
		mallory.SetDisplayName(t, name)
		eid := mallory.Send(t, r, "!accept 1")
		m := b.rec.wait(t, "mallory's message", func(m matrix.Message) bool { return m.EventID == string(eid) })
		if m.Sender != string(mallory.ID) {
			t.Errorf("with display name %q the sender is %q, want %q", name, m.Sender, mallory.ID)
		}
	}
}

func TestMatrixInviteFromNonOrganizer(t *testing.T) {
	srv := matrixtest.Env(t)
	alice := srv.Register(t, matrixtest.Unique("alice"), false)
	mallory := srv.Register(t, matrixtest.Unique("mallory"), false)
	b := startBot(t, srv, botOptions{organizers: []id.UserID{alice.ID}})

	r := mallory.CreateRoom(t, matrixtest.RoomOptions{Invite: []id.UserID{b.user.ID}})
	mallory.WaitEvent(t, r, wait, "the bot refusing", func(e *event.Event) bool {
		return e.Type == event.StateMember && e.StateKey != nil && *e.StateKey == string(b.user.ID) &&
			e.Content.AsMember().Membership == event.MembershipLeave
	})
	// and the organizer's invite is accepted
	ok := alice.CreateRoom(t, matrixtest.RoomOptions{Invite: []id.UserID{b.user.ID}})
	waitJoined(t, alice, ok, b.user.ID)
	if got := mallory.Membership(t, r, b.user.ID); got != event.MembershipLeave {
		t.Errorf("bot's membership in mallory's room: %q, want leave", got)
	}
}

// A restart hands on what was said while the bot was down, and nothing
// handled before.
func TestMatrixRestartSyncToken(t *testing.T) {
	srv := matrixtest.Env(t)
	alice := srv.Register(t, matrixtest.Unique("alice"), false)
	tokens := &matrix.MemoryTokens{}
	b := startBot(t, srv, botOptions{organizers: []id.UserID{alice.ID}, tokens: tokens})
	r := room(t, srv, alice, b)
	before := alice.Send(t, r, "!vote 1")
	b.rec.wait(t, "the first vote", func(m matrix.Message) bool { return m.EventID == string(before) })
	b.stop()

	during := alice.Send(t, r, "!vote 2")
	b2 := startBot(t, srv, botOptions{user: b.user, organizers: []id.UserID{alice.ID}, tokens: tokens})
	b2.rec.wait(t, "the vote sent while it was down", func(m matrix.Message) bool { return m.EventID == string(during) })
	after := alice.Send(t, r, "!vote 3")
	b2.rec.wait(t, "the vote after", func(m matrix.Message) bool { return m.EventID == string(after) })
	for _, m := range b2.rec.all() {
		if m.EventID == string(before) {
			t.Errorf("the vote handled before the restart was handed again")
		}
	}
}

// memOutbox is an outbox in memory; failMarks makes MarkSent fail (a crash
// between sending and recording it) that many times.
type memOutbox struct {
	mu        sync.Mutex
	rows      []matrix.Outgoing
	sent      map[int64]string
	failMarks int
	onFail    func()
	changed   chan struct{} // closed and replaced when a row is marked sent
}

func (o *memOutbox) Pending(_ context.Context, after int64, limit int) ([]matrix.Outgoing, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []matrix.Outgoing
	for _, r := range o.rows {
		if _, ok := o.sent[r.ID]; !ok && r.ID > after && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func (o *memOutbox) MarkSent(_ context.Context, id int64, eventID string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failMarks > 0 {
		o.failMarks--
		if o.onFail != nil {
			o.onFail()
		}
		return errors.New("crashed before recording the send")
	}
	if o.sent == nil {
		o.sent = map[int64]string{}
	}
	o.sent[id] = eventID
	if o.changed != nil {
		close(o.changed)
	}
	o.changed = make(chan struct{})
	return nil
}

func (o *memOutbox) MarkFailed(_ context.Context, id int64, cause error, _ time.Time) error {
	return fmt.Errorf("row %d failed: %w", id, cause)
}

// done returns how many rows were sent, and a channel closed at the
// next one.
func (o *memOutbox) done() (int, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.changed == nil {
		o.changed = make(chan struct{})
	}
	return len(o.sent), o.changed
}

// runSender runs a sender until the outbox is empty.
func runSender(t *testing.T, c *matrix.Client, ob *memOutbox, opt *matrix.SenderOptions, n int) {
	t.Helper()
	s := matrix.NewSender(c, ob, opt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.After(60 * time.Second)
	s.Wake()
	for {
		sent, changed := ob.done()
		if sent >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%d of %d rows sent within 60 s", sent, n)
		}
	}
}

func count(events []*event.Event, from id.UserID, body string) int {
	n := 0
	for _, e := range events {
		if e.Sender == from && e.Type == event.EventMessage && e.Content.AsMessage().Body == body {
			n++
		}
	}
	return n
}

// resendCase is a room with alice and a stopped bot, and an outbox of one
// row for the room whose "sent" mark fails failMarks times: a crash
// between sending the row and recording it.
type resendCase struct {
	srv   *matrixtest.Server
	alice *matrixtest.User
	b     *bot
	room  id.RoomID
	text  string
	ob    *memOutbox
}

func newResendCase(t *testing.T, failMarks int) *resendCase {
	c := &resendCase{srv: matrixtest.Env(t), text: matrixtest.Unique("once")}
	c.alice = c.srv.Register(t, matrixtest.Unique("alice"), false)
	c.b = startBot(t, c.srv, botOptions{organizers: []id.UserID{c.alice.ID}})
	c.room = room(t, c.srv, c.alice, c.b)
	c.b.stop()
	c.ob = &memOutbox{failMarks: failMarks, rows: []matrix.Outgoing{{ID: 1, CreatedAt: time.Now(), RoomID: string(c.room), Reply: matrix.Reply{Text: c.text}}}}
	return c
}

// copies is how many times the row is in the room, read after a later
// message (the barrier: everything before it is in the room).
func (c *resendCase) copies(t *testing.T) int {
	t.Helper()
	last := c.b.user.Send(t, c.room, matrixtest.Unique("barrier"))
	c.alice.WaitEvent(t, c.room, wait, "the barrier", func(e *event.Event) bool { return e.ID == last })
	return count(c.alice.Messages(t, c.room), c.b.user.ID, c.text)
}

// Sending a row again (the send was not recorded: a crash), by the same
// client and by a new one after a restart, makes no second event.
func TestMatrixTxnIdempotent(t *testing.T) {
	c := newResendCase(t, 2)
	srv, b, ob := c.srv, c.b, c.ob
	// The first client sends and "crashes" twice before recording it...
	ctx, cancel := context.WithCancel(context.Background())
	s := matrix.NewSender(b.client, ob, nil)
	crashed := make(chan struct{})
	ob.onFail = func() { // with ob.mu held
		if ob.failMarks == 0 {
			cancel()
			close(crashed)
		}
	}
	stopped := make(chan struct{})
	go func() { s.Run(ctx); close(stopped) }()
	select {
	case <-crashed:
	case <-time.After(wait):
		t.Fatal("the sender never tried to record the send twice")
	}
	<-stopped
	// ...then a new client with the same access token sends it again.
	c2, err := matrix.New(matrix.Config{Homeserver: srv.URL, UserID: string(b.user.ID), AccessToken: b.user.Token})
	if err != nil {
		t.Fatal(err)
	}
	runSender(t, c2, ob, nil, 1)
	if n := c.copies(t); n != 1 {
		t.Errorf("the row sent three times is in the room %d times, want 1", n)
	}
}

// Rows to one room go out in order, paced, none lost; rows of another
// room are not held up by it.
func TestMatrixSenderPaced(t *testing.T) {
	srv := matrixtest.Env(t)
	alice := srv.Register(t, matrixtest.Unique("alice"), false)
	b := startBot(t, srv, botOptions{organizers: []id.UserID{alice.ID}})
	r := room(t, srv, alice, b)
	const n = 30
	ob := &memOutbox{}
	prefix := matrixtest.Unique("line")
	for i := 1; i <= n; i++ {
		ob.rows = append(ob.rows, matrix.Outgoing{ID: int64(i), CreatedAt: time.Now(), RoomID: string(r), Reply: matrix.Reply{Text: fmt.Sprintf("%s %02d", prefix, i)}})
	}
	start := time.Now()
	runSender(t, b.client, ob, &matrix.SenderOptions{Burst: 5, Every: 40 * time.Millisecond}, n)
	if el := time.Since(start); el < 25*40*time.Millisecond {
		t.Errorf("30 rows with a burst of 5 then one every 40 ms went out in %s", el)
	}
	last := b.user.Send(t, r, matrixtest.Unique("barrier"))
	alice.WaitEvent(t, r, wait, "the barrier", func(e *event.Event) bool { return e.ID == last })
	var got []string
	for _, e := range alice.Messages(t, r) {
		if e.Sender == b.user.ID && strings.HasPrefix(e.Content.AsMessage().Body, prefix) {
			got = append(got, e.Content.AsMessage().Body)
		}
	}
	if len(got) != n {
		t.Fatalf("%d lines in the room, want %d", len(got), n)
	}
	for i, g := range got {
		if want := fmt.Sprintf("%s %02d", prefix, i+1); g != want {
			t.Errorf("line %d = %q, want %q", i, g, want)
		}
	}
}

// statusCounter counts the homeserver's 429 answers.
type statusCounter struct {
	limited atomic.Int64
}

func (s *statusCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		s.limited.Add(1)
	}
	return resp, err
}

// The bot, a normal account, joins its rooms while another client of the
// same account and device has used up Dendrite's rate limit (5 requests,
// a slot freed 500 ms after each): its requests are answered
// M_LIMIT_EXCEEDED until the other stops, and it waits as told and joins
// every room.
func TestMatrixRateLimited(t *testing.T) {
	srv := matrixtest.Env(t)
	alice := srv.Register(t, matrixtest.Unique("alice"), true) // admin: makes rooms unlimited
	const n = 12
	var rooms []id.RoomID
	for i := 0; i < n; i++ {
		rooms = append(rooms, alice.CreateRoom(t, matrixtest.RoomOptions{Public: true, Name: fmt.Sprintf("room %d", i)}))
	}
	u := srv.Register(t, matrixtest.Unique("hallway"), false)
	sc := &statusCounter{}
	// The other client keeps every slot taken until the bot has met the
	// limit (a rate-limited endpoint without effects: whoami), whatever
	// the machine's speed.
	hammered := make(chan struct{})
	go func() {
		defer close(hammered)
		deadline := time.Now().Add(60 * time.Second)
		for sc.limited.Load() == 0 && time.Now().Before(deadline) {
			var wg sync.WaitGroup
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest(http.MethodGet, srv.URL+"/_matrix/client/v3/account/whoami", nil)
					req.Header.Set("Authorization", "Bearer "+u.Token)
					if resp, err := http.DefaultClient.Do(req); err == nil {
						resp.Body.Close()
					}
				}()
			}
			wg.Wait()
		}
	}()
	b := startBot(t, srv, botOptions{user: u, rooms: rooms, httpClient: &http.Client{Transport: sc}})
	<-hammered
	for _, r := range rooms {
		if got := alice.Membership(t, r, b.user.ID); got != event.MembershipJoin {
			t.Errorf("bot in %s: %q, want join", r, got)
		}
	}
	if sc.limited.Load() == 0 {
		t.Errorf("no M_LIMIT_EXCEEDED in %d joins: the test does not test the limit", n)
	}
	t.Logf("%d joins; %d requests answered M_LIMIT_EXCEEDED and retried", n, sc.limited.Load())
}

func TestMatrixEncryptedRoom(t *testing.T) {
	srv := matrixtest.Env(t)
	alice := srv.Register(t, matrixtest.Unique("alice"), false)
	b := startBot(t, srv, botOptions{organizers: []id.UserID{alice.ID}})
	plain := room(t, srv, alice, b)
	enc := alice.CreateRoom(t, matrixtest.RoomOptions{Invite: []id.UserID{b.user.ID}, Encrypted: true})
	alice.WaitEvent(t, enc, wait, "the notice", func(e *event.Event) bool {
		return e.Sender == b.user.ID && e.Type == event.EventMessage && e.Content.AsMessage().Body == matrix.EncryptedNotice
	})
	// what an encrypting client sends, and a plain message
	alice.SendContent(t, enc, event.EventEncrypted, map[string]any{
		"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgAEnAC", "sender_key": "x", "device_id": "D", "session_id": "s",
	})
	alice.Send(t, enc, "!vote 3")
	// two barriers, the second sent after the first was handled: the
	// batch with the encrypted room's events is done
	for i := 0; i < 2; i++ {
		eid := alice.Send(t, plain, "!help")
		b.rec.wait(t, "the barrier", func(m matrix.Message) bool { return m.EventID == string(eid) })
	}
	for _, m := range b.rec.all() {
		if m.RoomID == string(enc) {
			t.Errorf("a message of the encrypted room was handled: %+v", m)
		}
	}
	// A restart (a fresh sync, a new login: transaction IDs of the old
	// token do not count) says nothing again.
	b.stop()
	b2 := startBot(t, srv, botOptions{user: b.user.Login(t), organizers: []id.UserID{alice.ID}})
	eid := alice.Send(t, plain, "!help")
	b2.rec.wait(t, "a message after the restart", func(m matrix.Message) bool { return m.EventID == string(eid) })
	eid = alice.Send(t, enc, "still here?")
	alice.WaitEvent(t, enc, wait, "own message", func(e *event.Event) bool { return e.ID == eid })
	eid = alice.Send(t, plain, "!help")
	b2.rec.wait(t, "a message after the restart", func(m matrix.Message) bool { return m.EventID == string(eid) })
	if n := count(alice.Messages(t, enc), b.user.ID, matrix.EncryptedNotice); n != 1 {
		t.Errorf("the notice is in the encrypted room %d times, want 1", n)
	}
}

func TestMatrixReaction(t *testing.T) {
	srv := matrixtest.Env(t)
	alice := srv.Register(t, matrixtest.Unique("alice"), false)
	b := startBot(t, srv, botOptions{organizers: []id.UserID{alice.ID}})
	r := room(t, srv, alice, b)
	line := alice.Send(t, r, "#info the build is green")
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := b.client.React(ctx, string(r), string(line), "✅"); err != nil {
			t.Fatal(err)
		}
	}
	last := b.user.Send(t, r, matrixtest.Unique("barrier"))
	alice.WaitEvent(t, r, wait, "the barrier", func(e *event.Event) bool { return e.ID == last })
	n := 0
	for _, e := range alice.Messages(t, r) {
		if e.Type == event.EventReaction && e.Sender == b.user.ID {
			rel := e.Content.AsReaction().RelatesTo
			if rel.Type != event.RelAnnotation || rel.EventID != line || rel.Key != "✅" {
				t.Errorf("reaction relates %+v", rel)
			}
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d reactions, want 1 (reacting twice is idempotent)", n)
	}
}

// crashOnce is the store's outbox whose first MarkSent fails: the process
// died between sending and recording it.
type crashOnce struct {
	*store.Store
	crashed atomic.Bool
	done    chan struct{} // closed at the crash
}

func (c *crashOnce) MarkSent(ctx context.Context, ids ...int64) error {
	if c.crashed.CompareAndSwap(false, true) {
		close(c.done)
		return errors.New("crashed before recording the send")
	}
	return c.Store.MarkSent(ctx, ids...)
}

// Rows of the store's outbox: a reply in a thread with HTML, and a
// reaction; the first is sent again after a "crash" by a new client, and
// is in the room once.
func TestMatrixStoreOutbox(t *testing.T) {
	srv := matrixtest.Env(t)
	alice := srv.Register(t, matrixtest.Unique("alice"), false)
	b := startBot(t, srv, botOptions{organizers: []id.UserID{alice.ID}})
	r := room(t, srv, alice, b)
	root := alice.Send(t, r, "session 2")
	ask := alice.SendContent(t, r, event.EventMessage, &event.MessageEventContent{
		MsgType: event.MsgText, Body: "!vote 2", RelatesTo: (&event.RelatesTo{}).SetThread(root, root),
	})
	st, err := store.Open(context.Background(), storetest.Source(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	text := matrixtest.Unique("vote noted")
	err = st.Do(context.Background(), func(tx *store.Tx) error {
		if err := tx.Enqueue(store.Message{Channel: store.Matrix, Target: string(r), Addressee: string(alice.ID),
			Body: text, HTML: "<b>" + text + "</b>", ReplyTo: string(ask), Thread: string(root)}); err != nil {
			return err
		}
		return tx.Enqueue(store.Message{Channel: store.Matrix, Target: string(r), Kind: store.ReactionKind, Body: "👍", ReplyTo: string(ask)})
	})
	if err != nil {
		t.Fatal(err)
	}
	box := &crashOnce{Store: st, done: make(chan struct{})}
	// first client: sends the reply, "crashes" before recording it
	ctx, cancel := context.WithCancel(context.Background())
	s := matrix.NewSender(b.client, matrix.StoreOutbox(box), &matrix.SenderOptions{Poll: time.Hour})
	stopped := make(chan struct{})
	go func() { s.Run(ctx); close(stopped) }()
	select {
	case <-box.done:
	case <-time.After(wait):
		t.Fatal("the first sender never sent")
	}
	cancel()
	<-stopped
	// a new client with the same token sends what the store says is unsent
	c2, err := matrix.New(matrix.Config{Homeserver: srv.URL, UserID: string(b.user.ID), AccessToken: b.user.Token})
	if err != nil {
		t.Fatal(err)
	}
	s2 := matrix.NewSender(c2, matrix.StoreOutbox(box), &matrix.SenderOptions{Poll: time.Hour})
	ctx2, cancel2 := context.WithCancel(context.Background())
	stopped2 := make(chan struct{})
	go func() { s2.Run(ctx2); close(stopped2) }()
	defer func() { cancel2(); <-stopped2 }()
	alice.WaitEvent(t, r, wait, "the reaction", func(e *event.Event) bool {
		return e.Sender == b.user.ID && e.Type == event.EventReaction && e.Content.AsReaction().RelatesTo.Key == "👍"
	})
	last := b.user.Send(t, r, matrixtest.Unique("barrier"))
	alice.WaitEvent(t, r, wait, "the barrier", func(e *event.Event) bool { return e.ID == last })
	events := alice.Messages(t, r)
	if n := count(events, b.user.ID, text); n != 1 {
		t.Errorf("the reply is in the room %d times, want 1", n)
	}
	for _, e := range events {
		if e.Sender == b.user.ID && e.Content.AsMessage().Body == text {
			mc := e.Content.AsMessage()
			if mc.FormattedBody != "<b>"+text+"</b>" || mc.RelatesTo.GetThreadParent() != root || mc.RelatesTo.GetReplyTo() != ask {
				t.Errorf("reply = %+v, relates %+v", mc, mc.RelatesTo)
			}
		}
	}
}

// batcher is a BatchHandler that keeps the batches it was handed; the
// first one is held until gate is closed.
type batcher struct {
	*recorder
	entered, gate chan struct{}
	once          sync.Once
	mu            sync.Mutex
	sizes         []int
}

func (b *batcher) HandleMessages(ctx context.Context, ms []matrix.Message) error {
	b.once.Do(func() {
		close(b.entered)
		<-b.gate
	})
	b.mu.Lock()
	b.sizes = append(b.sizes, len(ms))
	b.mu.Unlock()
	for _, m := range ms {
		b.recorder.HandleMessage(ctx, m)
	}
	return nil
}

// TestMatrixBatch: the messages that came while the handler was busy are
// handed over together, in the order they were said, so the bot carries a
// storm out in a few transactions rather than one per message (they came
// one call each before).
func TestMatrixBatch(t *testing.T) {
	srv := matrixtest.Env(t)
	alice := srv.Register(t, matrixtest.Unique("alice"), true) // not rate limited
	h := &batcher{recorder: newRecorder(), entered: make(chan struct{}), gate: make(chan struct{})}
	b := startBot(t, srv, botOptions{organizers: []id.UserID{alice.ID}, handler: h})
	r := room(t, srv, alice, b)

	first := alice.Send(t, r, "!help")
	select {
	case <-h.entered:
	case <-time.After(wait):
		t.Fatal("the handler was never handed a batch")
	}
	// While the handler is busy, a storm.
	const storm = 20
	var said []string
	for i := range storm {
		said = append(said, string(alice.Send(t, r, fmt.Sprintf("!vote %d", i+1))))
	}
	close(h.gate)
	last := h.wait(t, "the storm's last message", func(m matrix.Message) bool { return m.EventID == said[storm-1] })
	if last.Command != fmt.Sprintf("vote %d", storm) {
		t.Errorf("last message %+v", last)
	}
	var got []string
	for _, m := range h.all() {
		if m.EventID != string(first) {
			got = append(got, m.EventID)
		}
	}
	if strings.Join(got, " ") != strings.Join(said, " ") {
		t.Errorf("handed %v, want %v in that order, once each", got, said)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	// The first batch, then the storm: one sync's answer, or two if the
	// homeserver answered a sync between two of the sends.
	if len(h.sizes) > 3 {
		t.Errorf("batches %v: the storm came in %d of them, want at most 2", h.sizes, len(h.sizes)-1)
	}
	t.Logf("batches: %v", h.sizes)
}

// TestMatrixSentBeforeForgotten: a row sent by a process that died before
// recording it, when the homeserver does not know the transaction ID any
// more (a PUT cut off by SIGKILL: Dendrite makes the event and forgets the
// ID; here, a new access token: another scope), is found in the room and
// not sent again (it was, a second event).
func TestMatrixSentBeforeForgotten(t *testing.T) {
	c := newResendCase(t, 1)
	srv, b, ob := c.srv, c.b, c.ob
	ctx, cancel := context.WithCancel(context.Background())
	s := matrix.NewSender(b.client, ob, nil)
	ob.onFail = func() { cancel() } // sent, then "killed" before recording it
	stopped := make(chan struct{})
	go func() { s.Run(ctx); close(stopped) }()
	<-stopped
	// Another token: the homeserver knows nothing of the first send.
	u2 := b.user.Login(t)
	c2, err := matrix.New(matrix.Config{Homeserver: srv.URL, UserID: string(u2.ID), AccessToken: u2.Token})
	if err != nil {
		t.Fatal(err)
	}
	runSender(t, c2, ob, nil, 1)
	if n := c.copies(t); n != 1 {
		t.Errorf("the row sent before the kill is in the room %d times, want 1", n)
	}
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if ob.sent[1] == "" {
		t.Error("the row is not marked sent with its event")
	}
}
