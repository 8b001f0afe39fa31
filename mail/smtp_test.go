package mail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/hallwayhq/hallway/store"
	"github.com/hallwayhq/hallway/store/storetest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recorder wraps the store and keeps every MarkFailed call.
type recorder struct {
	*store.Store
	mu     sync.Mutex
	failed []failure
}

type failure struct {
	id      int64
	cause   error
	retryAt time.Time
}

func (r *recorder) MarkFailed(ctx context.Context, id int64, cause error, retryAt time.Time) error {
	r.mu.Lock()
	r.failed = append(r.failed, failure{id, cause, retryAt})
	r.mu.Unlock()
	return r.Store.MarkFailed(ctx, id, cause, retryAt)
}

func (r *recorder) failures() []failure {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]failure(nil), r.failed...)
}

func openStore(t *testing.T, clk *clock) *recorder {
	t.Helper()
	s, err := store.Open(context.Background(), storetest.Source(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if clk != nil {
		s.Now = clk.Now
	}
	return &recorder{Store: s}
}

// enqueue puts a composed mail to each address into the outbox and
// returns their Message-IDs.
func enqueue(t *testing.T, s *recorder, to ...string) []string {
	t.Helper()
	var ids []string
	err := s.Do(context.Background(), func(tx *store.Tx) error {
		for i, addr := range to {
			id := fmt.Sprintf("hallway.test%d.%d@test.local", time.Now().UnixNano(), i)
			b, err := Compose(Outgoing{From: "Bot <bot@test.local>", To: []string{addr}, Subject: "hi " + addr, Body: "mail " + id, MessageID: id})
			if err != nil {
				return err
			}
			if err := tx.Enqueue(store.Message{Channel: store.Mail, Target: addr, Body: string(b), DedupeKey: id}); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func pending(t *testing.T, s *recorder) []store.Message {
	t.Helper()
	msgs, err := s.Pending(context.Background(), store.Mail, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// fakeSMTP is an in-process SMTP server that records what it receives and
// answers as told.
type fakeSMTP struct {
	addr string
	mu   sync.Mutex
	// rcpt, if set, answers RCPT TO (nil accepts).
	rcpt func(to string) error
	// dropSecond closes a connection at its second MAIL FROM.
	dropSecond bool
	// perSession, if set, refuses MAIL FROM with 452 past this many
	// messages in one session, as OpenSMTPD does past 100.
	perSession int
	// auth, if set, requires AUTH PLAIN with these credentials.
	auth *[2]string
	// delay, if set, is how long the end of DATA waits for its reply.
	delay time.Duration
	// refuseAfter, if set, answers connections past this many with 421.
	refuseAfter int

	conns    int
	open     int      // sessions now
	maxOpen  int      // most sessions at once
	received []string // "rcpt: body" per message
	authed   []string
}

func startFakeSMTP(t *testing.T, f *fakeSMTP) *fakeSMTP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = l.Addr().String()
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.conns++
		if f.refuseAfter > 0 && f.conns > f.refuseAfter {
			return nil, &smtp.SMTPError{Code: 421, Message: "too busy"}
		}
		f.open++
		f.maxOpen = max(f.maxOpen, f.open)
		return &fakeSession{f: f, conn: c}, nil
	}))
	srv.Domain = "fake.test"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return f
}

// sentOnceEach checks that the outbox is empty and each address got one
// mail.
func sentOnceEach(t *testing.T, box *recorder, srv *fakeSMTP, to []string) {
	t.Helper()
	if p := pending(t, box); len(p) != 0 {
		t.Fatalf("%d still pending", len(p))
	}
	got := srv.byRecipient()
	for _, a := range to {
		if got[a] != 1 {
			t.Errorf("%s got %d mails", a, got[a])
		}
	}
}

// byRecipient counts the messages received for each address.
func (f *fakeSMTP) byRecipient() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	got := map[string]int{}
	for _, r := range f.received {
		rcpt, _, _ := strings.Cut(r, ":")
		got[rcpt]++
	}
	return got
}

func (f *fakeSMTP) count() (conns, msgs int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns, len(f.received)
}

type fakeSession struct {
	f      *fakeSMTP
	conn   *smtp.Conn
	mails  int
	rcpts  []string
	authed bool
}

func (s *fakeSession) AuthMechanisms() []string {
	if s.f.auth == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *fakeSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != s.f.auth[0] || pass != s.f.auth[1] {
			return errors.New("bad credentials")
		}
		s.authed = true
		s.f.mu.Lock()
		s.f.authed = append(s.f.authed, user)
		s.f.mu.Unlock()
		return nil
	}), nil
}

func (s *fakeSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.f.auth != nil && !s.authed {
		return &smtp.SMTPError{Code: 530, Message: "authentication required"}
	}
	s.mails++
	if s.f.perSession > 0 && s.mails > s.f.perSession {
		return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 5, 3}, Message: "Too many messages sent"}
	}
	if s.f.dropSecond && s.mails == 2 {
		s.conn.Conn().Close()
		return errors.New("dropped")
	}
	return nil
}

func (s *fakeSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.f.rcpt != nil {
		if err := s.f.rcpt(to); err != nil {
			return err
		}
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *fakeSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	time.Sleep(s.f.delay)
	s.f.mu.Lock()
	for _, to := range s.rcpts {
		s.f.received = append(s.f.received, to+": "+string(b))
	}
	s.f.mu.Unlock()
	return nil
}

func (s *fakeSession) Reset() { s.rcpts = nil }

func (s *fakeSession) Logout() error {
	s.f.mu.Lock()
	s.f.open--
	s.f.mu.Unlock()
	return nil
}

// newTestSender makes a Sender on the fake server with a fixed jitter.
func newTestSender(t *testing.T, box outbox, addr string, clk *clock, mod func(*SenderOptions)) *Sender {
	t.Helper()
	o := &SenderOptions{Addr: addr, Security: SecurityNone, From: "bounces@test.local",
		RetryBase: time.Minute, RetryMax: time.Hour, Timeout: 10 * time.Second}
	if clk != nil {
		o.Now = clk.Now
	}
	if mod != nil {
		mod(o)
	}
	s, err := NewSender(box, o)
	if err != nil {
		t.Fatal(err)
	}
	s.jitter = func() float64 { return 0.5 }
	return s
}

func TestSenderBatchOneConnection(t *testing.T) {
	clk := &clock{t: time.Date(2027, 3, 14, 9, 0, 0, 0, time.UTC)}
	box := openStore(t, clk)
	srv := startFakeSMTP(t, &fakeSMTP{})
	ids := enqueue(t, box, "a@test.local", "b@test.local", "c@test.local", "d@test.local")
	s := newTestSender(t, box, srv.addr, clk, func(o *SenderOptions) { o.Batch, o.Connections = 3, 1 })

	if err := s.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.hangUp()
	conns, msgs := srv.count()
	if conns != 1 || msgs != 4 {
		t.Fatalf("%d connections, %d messages; want 1 and 4", conns, msgs)
	}
	if p := pending(t, box); len(p) != 0 {
		t.Fatalf("%d still pending", len(p))
	}
	for i, r := range srv.received {
		if !strings.Contains(r, ids[i]) || !strings.HasPrefix(r, []string{"a", "b", "c", "d"}[i]+"@test.local: ") {
			t.Errorf("message %d: %.80q", i, r)
		}
	}
}

func TestSenderTemporaryFailureBacksOff(t *testing.T) {
	clk := &clock{t: time.Date(2027, 3, 14, 9, 0, 0, 0, time.UTC)}
	box := openStore(t, clk)
	var mu sync.Mutex
	greylist := true
	srv := startFakeSMTP(t, &fakeSMTP{rcpt: func(to string) error {
		mu.Lock()
		defer mu.Unlock()
		if to == "grey@test.local" && greylist {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "greylisted, try again later"}
		}
		return nil
	}})
	enqueue(t, box, "grey@test.local", "ok@test.local")
	s := newTestSender(t, box, srv.addr, clk, func(o *SenderOptions) { o.Connections = 1 })
	ctx := context.Background()

	// Each failure waits about twice as long as the one before.
	for attempt, want := range []time.Duration{45 * time.Second, 90 * time.Second, 180 * time.Second} {
		if err := s.drain(ctx); err != nil {
			t.Fatal(err)
		}
		f := box.failures()
		if len(f) != attempt+1 {
			t.Fatalf("attempt %d: %d failures recorded", attempt, len(f))
		}
		last := f[len(f)-1]
		if got := last.retryAt.Sub(clk.Now()); got != want || IsPermanent(last.cause) || !strings.Contains(last.cause.Error(), "451") {
			t.Fatalf("attempt %d: retry in %v (%v), want %v", attempt, got, last.cause, want)
		}
		if p := pending(t, box); len(p) != 0 {
			t.Fatalf("attempt %d: the failed mail is due again at once", attempt)
		}
		clk.Add(want)
	}
	if _, msgs := srv.count(); msgs != 1 {
		t.Fatalf("%d delivered, want the one to ok@", msgs)
	}
	// A refusal ends its connection: the first drain needs two (grey@
	// refused, then ok@); the second tries the one that sent ok@, and as
	// a 4xx on a reused connection may be the session's fault, once more
	// on a fresh one; the third dials again.
	if conns, _ := srv.count(); conns != 4 {
		t.Errorf("%d connections, want 4", conns)
	}
	mu.Lock()
	greylist = false
	mu.Unlock()
	if err := s.drain(ctx); err != nil {
		t.Fatal(err)
	}
	if _, msgs := srv.count(); msgs != 2 {
		t.Fatalf("%d delivered after the greylisting ended", msgs)
	}
}

func TestSenderPermanentFailureGivesUp(t *testing.T) {
	clk := &clock{t: time.Date(2027, 3, 14, 9, 0, 0, 0, time.UTC)}
	box := openStore(t, clk)
	srv := startFakeSMTP(t, &fakeSMTP{rcpt: func(to string) error {
		if to == "gone@test.local" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}})
	enqueue(t, box, "gone@test.local", "ok@test.local")
	s := newTestSender(t, box, srv.addr, clk, nil)
	if err := s.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := box.failures()
	if len(f) != 1 || !IsPermanent(f[0].cause) || !strings.HasPrefix(f[0].cause.Error(), "gave up: ") || f[0].retryAt.Year() != 9999 {
		t.Fatalf("failures: %+v", f)
	}
	clk.Add(100 * 365 * 24 * time.Hour)
	if p := pending(t, box); len(p) != 0 {
		t.Fatalf("a given-up mail is due again: %+v", p)
	}
	if _, msgs := srv.count(); msgs != 1 {
		t.Fatalf("%d delivered", msgs)
	}
}

func TestSenderGivesUpOldTemporaryFailures(t *testing.T) {
	clk := &clock{t: time.Date(2027, 3, 14, 9, 0, 0, 0, time.UTC)}
	box := openStore(t, clk)
	srv := startFakeSMTP(t, &fakeSMTP{rcpt: func(string) error {
		return &smtp.SMTPError{Code: 452, Message: "mailbox full"}
	}})
	enqueue(t, box, "full@test.local")
	s := newTestSender(t, box, srv.addr, clk, func(o *SenderOptions) { o.GiveUpAfter = 24 * time.Hour })
	clk.Add(25 * time.Hour)
	if err := s.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := box.failures()
	if len(f) != 1 || f[0].retryAt.Year() != 9999 || !strings.Contains(f[0].cause.Error(), "still failing after 24h0m0s") {
		t.Fatalf("failures: %+v", f)
	}
}

func TestSenderRateLimit(t *testing.T) {
	clk := &clock{t: time.Date(2027, 3, 14, 9, 0, 0, 0, time.UTC)}
	box := openStore(t, clk)
	srv := startFakeSMTP(t, &fakeSMTP{})
	enqueue(t, box, "busy@test.local", "BUSY@test.local", "busy@test.local", "other@test.local", "busy@test.local")
	s := newTestSender(t, box, srv.addr, clk, func(o *SenderOptions) { o.RatePerAddress = 2 })
	ctx := context.Background()

	if err := s.drain(ctx); err != nil {
		t.Fatal(err)
	}
	if _, msgs := srv.count(); msgs != 3 {
		t.Fatalf("%d sent, want 2 to busy@ and 1 to other@", msgs)
	}
	f := box.failures()
	if len(f) != 2 {
		t.Fatalf("%d deferred, want 2", len(f))
	}
	for _, x := range f {
		var rl *RateLimitError
		if !errors.As(x.cause, &rl) || !x.retryAt.Equal(clk.Now().Add(time.Hour)) {
			t.Errorf("deferral %+v", x)
		}
	}
	clk.Add(59 * time.Minute)
	if p := pending(t, box); len(p) != 0 {
		t.Fatalf("deferred mail due early")
	}
	clk.Add(time.Minute)
	if err := s.drain(ctx); err != nil {
		t.Fatal(err)
	}
	if _, msgs := srv.count(); msgs != 5 {
		t.Fatalf("%d sent after the hour, want all 5", msgs)
	}
}

func TestSenderReconnectsWhenDropped(t *testing.T) {
	box := openStore(t, nil)
	srv := startFakeSMTP(t, &fakeSMTP{dropSecond: true})
	enqueue(t, box, "a@test.local", "b@test.local", "c@test.local")
	s := newTestSender(t, box, srv.addr, nil, nil)
	if err := s.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.hangUp()
	conns, msgs := srv.count()
	// Every connection dies at its second message: a, then b and c each
	// on a new one.
	if msgs != 3 || conns != 3 {
		t.Fatalf("%d messages over %d connections, want 3 over 3", msgs, conns)
	}
	if len(box.failures()) != 0 {
		t.Fatalf("failures recorded: %+v", box.failures())
	}
}

func TestSenderAuth(t *testing.T) {
	box := openStore(t, nil)
	srv := startFakeSMTP(t, &fakeSMTP{auth: &[2]string{"bot", "s3cret"}})
	enqueue(t, box, "a@test.local")

	bad := newTestSender(t, box, srv.addr, nil, func(o *SenderOptions) { o.Username, o.Password = "bot", "wrong" })
	err := bad.drain(context.Background())
	var ce *connError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "login") {
		t.Fatalf("wrong password: %v", err)
	}
	if len(box.failures()) != 0 || len(pending(t, box)) != 1 {
		t.Fatal("a login failure was charged to the message")
	}

	good := newTestSender(t, box, srv.addr, nil, func(o *SenderOptions) { o.Username, o.Password = "bot", "s3cret" })
	if err := good.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	good.hangUp()
	srv.mu.Lock()
	authed := srv.authed
	srv.mu.Unlock()
	if _, msgs := srv.count(); msgs != 1 || len(authed) != 1 {
		t.Fatalf("%d sent, logins %v", msgs, authed)
	}
}

func TestSenderRunWakeAndServerDown(t *testing.T) {
	box := openStore(t, nil)
	// A port nobody listens on: take one and free it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	s := newTestSender(t, box, addr, nil, func(o *SenderOptions) {
		o.PollInterval = time.Hour // only Wake and the retry timer move it
		o.RetryBase = 200 * time.Millisecond
		o.RetryMax = 400 * time.Millisecond
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	enqueue(t, box, "a@test.local")
	s.Wake()
	time.Sleep(300 * time.Millisecond)
	if len(pending(t, box)) != 1 || len(box.failures()) != 0 {
		t.Fatal("server down: the message should wait untouched")
	}

	// The server comes up on that port; the retry timer finds it.
	srv := &fakeSMTP{}
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	srvObj := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &fakeSession{f: srv, conn: c}, nil
	}))
	srvObj.AllowInsecureAuth = true
	srvObj.ErrorLog = log.New(io.Discard, "", 0)
	go srvObj.Serve(l)
	defer srvObj.Close()
	waitFor(t, 10*time.Second, func() bool { _, n := srv.count(); return n == 1 })

	// Wake sends new mail at once.
	enqueue(t, box, "b@test.local")
	s.Wake()
	waitFor(t, 5*time.Second, func() bool { _, n := srv.count(); return n == 2 })

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestNewSenderChecks(t *testing.T) {
	box := openStore(t, nil)
	for _, tc := range []struct {
		name string
		o    SenderOptions
		want string // "" for accepted
	}{
		{"none to loopback", SenderOptions{Addr: "127.0.0.1:2525", Security: SecurityNone, From: "b@x.org"}, ""},
		{"none to localhost", SenderOptions{Addr: "localhost:25", Security: SecurityNone, From: "b@x.org"}, ""},
		{"none to ::1", SenderOptions{Addr: "[::1]:25", Security: SecurityNone, From: "b@x.org"}, ""},
		{"none to a remote host", SenderOptions{Addr: "smtp.example.org:25", Security: SecurityNone, From: "b@x.org"}, "only allowed to a loopback host"},
		{"none to a remote IP", SenderOptions{Addr: "192.0.2.1:25", Security: SecurityNone, From: "b@x.org"}, "only allowed to a loopback host"},
		{"starttls by default", SenderOptions{Addr: "smtp.example.org:587", From: "b@x.org"}, ""},
		{"tls", SenderOptions{Addr: "smtp.example.org:465", Security: SecurityTLS, From: "b@x.org", Username: "u", Password: "p"}, ""},
		{"unknown security", SenderOptions{Addr: "smtp.example.org:25", Security: "ssl", From: "b@x.org"}, "want"},
		{"no port", SenderOptions{Addr: "smtp.example.org", From: "b@x.org"}, "SMTP address"},
		{"no from", SenderOptions{Addr: "smtp.example.org:587"}, "envelope sender"},
		{"user without password", SenderOptions{Addr: "smtp.example.org:587", From: "b@x.org", Username: "u"}, "without a password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSender(box, &tc.o)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestSTARTTLSRequired(t *testing.T) {
	// The fake server offers no STARTTLS: a starttls sender must not fall
	// back to plain text.
	box := openStore(t, nil)
	srv := startFakeSMTP(t, &fakeSMTP{})
	enqueue(t, box, "a@test.local")
	s := newTestSender(t, box, srv.addr, nil, func(o *SenderOptions) { o.Security = SecuritySTARTTLS })
	err := s.drain(context.Background())
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("drain: %v", err)
	}
	if _, msgs := srv.count(); msgs != 0 {
		t.Fatal("sent without TLS")
	}
}

func TestRetryDelay(t *testing.T) {
	for _, tc := range []struct {
		attempts int
		jitter   float64
		want     time.Duration
	}{
		{0, 0, 30 * time.Second},
		{0, 0.999999999, 60 * time.Second},
		{1, 0, 60 * time.Second},
		{2, 0.5, 3 * time.Minute},
		{10, 0, 30 * time.Minute},
		{1000, 0.5, 45 * time.Minute},
	} {
		got := retryDelay(tc.attempts, time.Minute, time.Hour, tc.jitter)
		if got.Round(time.Millisecond) != tc.want {
			t.Errorf("retryDelay(%d, jitter %v) = %v, want %v", tc.attempts, tc.jitter, got, tc.want)
		}
	}
}

func TestRateLimiter(t *testing.T) {
	t0 := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	r := newRateLimiter(3, time.Hour)
	for i := 0; i < 3; i++ {
		now := t0.Add(time.Duration(i) * 10 * time.Minute)
		if ok, _ := r.allow("a", now); !ok {
			t.Fatalf("send %d refused", i)
		}
		r.record("a", now)
	}
	ok, next := r.allow("a", t0.Add(30*time.Minute))
	if ok || !next.Equal(t0.Add(time.Hour)) {
		t.Fatalf("4th: ok=%v next=%v", ok, next)
	}
	if ok, _ := r.allow("b", t0); !ok {
		t.Fatal("another address is limited too")
	}
	if ok, _ := r.allow("a", t0.Add(time.Hour)); !ok {
		t.Fatal("still limited after the window moved")
	}
	r.sweep(t0.Add(3 * time.Hour))
	if len(r.sent) != 0 {
		t.Fatalf("sweep kept %v", r.sent)
	}
	unlimited := newRateLimiter(-1, time.Hour)
	for i := 0; i < 100; i++ {
		unlimited.record("a", t0)
	}
	if ok, _ := unlimited.allow("a", t0); !ok || len(unlimited.sent) != 0 {
		t.Fatal("negative limit limits")
	}
}

// TestSenderSessionLimit: a server that caps messages per session (452
// past the cap) costs a reconnect, never a message's delay.
func TestSenderSessionLimit(t *testing.T) {
	clk := &clock{t: time.Date(2027, 3, 14, 9, 0, 0, 0, time.UTC)}
	box := openStore(t, clk)
	srv := startFakeSMTP(t, &fakeSMTP{perSession: 3})
	var to []string
	for i := 0; i < maxPerConnection+7; i++ {
		to = append(to, fmt.Sprintf("p%d@test.local", i))
	}
	enqueue(t, box, to...)
	s := newTestSender(t, box, srv.addr, clk, nil)
	if err := s.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f := box.failures(); len(f) != 0 {
		t.Errorf("%d messages failed at the session limit: %v", len(f), f[0].cause)
	}
	if _, msgs := srv.count(); msgs != len(to) {
		t.Errorf("%d of %d delivered", msgs, len(to))
	}
}

// TestSenderConnections: several connections send at once; every message
// goes out exactly once and is marked sent, one address's mail keeps its
// order, and no more connections are open at once than asked for.
func TestSenderConnections(t *testing.T) {
	for _, conns := range []int{1, 2, 4, 16} {
		t.Run(fmt.Sprint(conns), func(t *testing.T) {
			box := openStore(t, nil)
			srv := startFakeSMTP(t, &fakeSMTP{delay: time.Millisecond})
			// Fewer than maxPerConnection a lane: no connection is
			// replaced, so the server sees one per lane used.
			var to []string
			for i := range 40 {
				to = append(to, fmt.Sprintf("c%d@test.local", i))
				if i%8 == 0 {
					to = append(to, "same@test.local") // 5 in all
				}
			}
			ids := enqueue(t, box, to...)
			s := newTestSender(t, box, srv.addr, nil, func(o *SenderOptions) {
				o.Connections, o.Batch = conns, 7
			})
			used := map[*lane]bool{}
			for _, a := range to {
				used[s.laneOf(a)] = true
			}
			if err := s.drain(context.Background()); err != nil {
				t.Fatal(err)
			}
			s.hangUp()
			if p := pending(t, box); len(p) != 0 {
				t.Fatalf("%d still pending", len(p))
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if len(srv.received) != len(to) {
				t.Errorf("%d received, want %d", len(srv.received), len(to))
			}
			seen := map[string]int{}
			var same []string
			for _, r := range srv.received {
				for _, id := range ids {
					if strings.Contains(r, "Message-Id: <"+id+">") {
						seen[id]++
						if strings.HasPrefix(r, "same@") {
							same = append(same, id)
						}
					}
				}
			}
			for i, id := range ids {
				if seen[id] != 1 {
					t.Errorf("message to %s received %d times", to[i], seen[id])
				}
			}
			var wantSame []string
			for i, id := range ids {
				if to[i] == "same@test.local" {
					wantSame = append(wantSame, id)
				}
			}
			if fmt.Sprint(same) != fmt.Sprint(wantSame) {
				t.Errorf("same@ got its mail in the order %v, want %v", same, wantSame)
			}
			// Each lane keeps its connection until the drain ends.
			if srv.conns != len(used) || srv.maxOpen != len(used) {
				t.Errorf("%d connections, %d at once; want one for each of the %d lanes used", srv.conns, srv.maxOpen, len(used))
			}
			if conns > 1 && len(used) < 2 {
				t.Errorf("all mail went to one lane")
			}
		})
	}
}

// TestSenderConnectionsRefused: when the server refuses a connection
// while other lanes are sending, the mail not yet tried stays due
// untouched, nothing is charged to a message, and the next drain sends
// the rest: each message exactly once.
func TestSenderConnectionsRefused(t *testing.T) {
	box := openStore(t, nil)
	srv := startFakeSMTP(t, &fakeSMTP{refuseAfter: 2, delay: time.Millisecond})
	var to []string
	for i := range 200 {
		to = append(to, fmt.Sprintf("r%d@test.local", i))
	}
	enqueue(t, box, to...)
	s := newTestSender(t, box, srv.addr, nil, func(o *SenderOptions) { o.Connections = 4 })
	err := s.drain(context.Background())
	var ce *connError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "421") {
		t.Fatalf("drain: %v, want the refused connection", err)
	}
	s.hangUp()
	_, sent := srv.count()
	if left := len(pending(t, box)); sent+left != len(to) || left == 0 {
		t.Fatalf("%d sent and %d still due, of %d", sent, left, len(to))
	}
	if f := box.failures(); len(f) != 0 {
		t.Fatalf("a refused connection was charged to a message: %v", f[0].cause)
	}
	srv.mu.Lock()
	srv.refuseAfter = 0
	srv.mu.Unlock()
	if err := s.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.hangUp()
	sentOnceEach(t, box, srv, to)
}

// TestSenderRunConnections: mail queued while Run is sending over
// several connections goes out exactly once.
func TestSenderRunConnections(t *testing.T) {
	box := openStore(t, nil)
	srv := startFakeSMTP(t, &fakeSMTP{delay: time.Millisecond})
	s := newTestSender(t, box, srv.addr, nil, func(o *SenderOptions) { o.PollInterval = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var to []string
	for round := range 10 {
		var batch []string
		for i := range 20 {
			batch = append(batch, fmt.Sprintf("w%d-%d@test.local", round, i))
		}
		enqueue(t, box, batch...)
		s.Wake()
		to = append(to, batch...)
		time.Sleep(5 * time.Millisecond)
	}
	// The server counts a mail before its 250 reaches the sender, which
	// marks it sent after that: wait for both.
	waitFor(t, 10*time.Second, func() bool {
		_, n := srv.count()
		return n >= len(to) && len(pending(t, box)) == 0
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sentOnceEach(t, box, srv, to)
	if _, n := srv.count(); n != len(to) {
		t.Errorf("%d received, want %d", n, len(to))
	}
}

// TestSenderJournal: a mail the server took before a crash, recorded in
// the journal but not marked sent in the store, is marked sent when the
// next sender starts, not sent again; the journal is emptied once the
// store has every mark, and records what goes out meanwhile.
func TestSenderJournal(t *testing.T) {
	box := openStore(t, nil)
	srv := startFakeSMTP(t, &fakeSMTP{})
	enqueue(t, box, "a@test.local", "b@test.local", "c@test.local")
	msgs := pending(t, box)
	journal := filepath.Join(t.TempDir(), "hallway.db-sent")
	// The process before took a's mail to the server and died before
	// marking it; a line cut short at the end is not trusted.
	if err := os.WriteFile(journal, []byte(fmt.Sprintf("%d\n%d", msgs[0].ID, msgs[1].ID)), 0o600); err != nil {
		t.Fatal(err)
	}
	var recorded []int64
	s := newTestSender(t, box, srv.addr, nil, func(o *SenderOptions) {
		o.Journal = journal
		o.PollInterval = time.Hour
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, 5*time.Second, func() bool { return len(pending(t, box)) == 0 })
	// Each drain ends by emptying the journal: wait for it, then look
	// at what the next mail leaves in it before that.
	waitFor(t, 5*time.Second, func() bool { b, _ := os.ReadFile(journal); return len(b) == 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, n := srv.count(); n != 2 {
		t.Errorf("%d mails sent, want 2 (b and c; a went out before the crash)", n)
	}
	for _, r := range srv.received {
		if strings.HasPrefix(r, "a@test.local") {
			t.Error("a's mail sent again")
		}
	}
	// A sender that dies after a send leaves the id in the journal.
	enqueue(t, box, "d@test.local")
	l, err := openSentLog(journal)
	if err != nil {
		t.Fatal(err)
	}
	s.journal = l
	if err := s.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.hangUp()
	l.Close()
	b, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	recorded, _ = readSentLog(strings.NewReader(string(b)))
	if len(recorded) != 1 {
		t.Errorf("journal after sending d: %q", b)
	}
}

// failOnce fails its first MarkSent, as a store busy past its timeout.
type failOnce struct {
	*recorder
	failed bool
}

func (f *failOnce) MarkSent(ctx context.Context, ids ...int64) error {
	if !f.failed {
		f.failed = true
		return errors.New("database is locked")
	}
	return f.recorder.MarkSent(ctx, ids...)
}

// TestSenderJournalRetriesMarks: a mail whose mark failed is marked from
// the journal once the drain ends, not sent again.
func TestSenderJournalRetriesMarks(t *testing.T) {
	box := &failOnce{recorder: openStore(t, nil)}
	srv := startFakeSMTP(t, &fakeSMTP{})
	enqueue(t, box.recorder, "a@test.local")
	s := newTestSender(t, box, srv.addr, nil, func(o *SenderOptions) {
		o.Journal = filepath.Join(t.TempDir(), "hallway.db-sent")
		o.PollInterval = time.Hour
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, 5*time.Second, func() bool { return len(pending(t, box.recorder)) == 0 })
	s.Wake() // another drain: nothing due, a must not go out again
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !box.failed {
		t.Fatal("the mark never failed")
	}
	if _, n := srv.count(); n != 1 {
		t.Errorf("%d mails sent, want 1", n)
	}
}
