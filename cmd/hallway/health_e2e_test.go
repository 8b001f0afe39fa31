package main

// Health under a full disk, with the real binary: its files are capped
// with RLIMIT_FSIZE (prlimit on the running process), so every write that
// grows the database's write-ahead log fails, as on a full disk; people
// on the real InspIRCd are told hallway can't save, /healthz says 503 with
// the reason, and all is well again once the limit is lifted. A damaged
// database is refused at start.

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/store/storetest"
)

// syncBuffer is a bytes.Buffer safe for a process to write while the test
// reads it: the process's log goes to a pipe, not a file, so the file size
// limit does not stop it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var servingRe = regexp.MustCompile(`msg=serving component=web addr=(\S+)`)

// httpGet answers a GET of url: status and body.
func httpGet(t *testing.T, url string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// prlimitFsize sets the soft file size limit of a running process (the
// hard one stays as it is: raising it back would need CAP_SYS_RESOURCE).
func prlimitFsize(t *testing.T, pid int, limit string) {
	t.Helper()
	if out, err := exec.Command("prlimit", "--pid", strconv.Itoa(pid), "--fsize="+limit+":").CombinedOutput(); err != nil {
		t.Fatalf("prlimit --fsize=%s: %v\n%s", limit, err, out)
	}
}

func TestDiskFull(t *testing.T) {
	storetest.SQLiteOnly(t) // a full disk under SQLite's file
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Fatal("prlimit (util-linux) is needed")
	}
	ircAddr := irctest.TestEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	user, botNick, channel := uniqueNick("full"), uniqueNick("hw"), "#"+uniqueNick("full")
	bin, cfgPath, dbPath := releaseCrashSetup(t, ctx, ircAddr, botNick, "nobody", channel)
	// Every interface, so that a request from an address of this machine
	// that is not loopback can be tried on /metrics.
	// One line at a time, two a second: lines are still going out after
	// the disk fills.
	cfg, _ := os.ReadFile(cfgPath)
	cfg = bytes.Replace(cfg, []byte(`listen = "127.0.0.1:0"`), []byte(`listen = ":0"`), 1)
	cfg = bytes.Replace(cfg, []byte("tls = false\n"), []byte("tls = false\nsend_burst = 1\nsend_rate = 2.0\n"), 1)
	os.WriteFile(cfgPath, cfg, 0o644)

	var logs syncBuffer
	cmd := exec.Command(bin, "run", "-config", cfgPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &crashProc{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			p.kill()
		}
		if t.Failed() {
			t.Logf("hallway's log:\n%s", logs.String())
		}
	}()
	var port string
	for port == "" {
		if m := servingRe.FindStringSubmatch(logs.String()); m != nil {
			_, port, _ = net.SplitHostPort(m[1])
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("hallway never served")
		case err := <-p.done:
			t.Fatalf("hallway exited: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	base := "http://127.0.0.1:" + port

	c := ircPerson(t, ctx, ircAddr, user)
	waitOnline(t, ctx, c, botNick)
	abstract := "An abstract long enough to be a line of its own: " + strings.Repeat("storage ", 30) + "end."
	c.Privmsg(botNick, `!propose "Before the disk filled" -- `+abstract)
	fromBot(t, ctx, c, botNick, "#1")
	// One instance leads at once, in the first term of a fresh database.
	if code, body := httpGet(t, base+"/healthz"); code != 200 || body != "ok: leader, term 1\n" {
		t.Errorf("healthz before: %d %q", code, body)
	}

	// /metrics: for loopback, not through a proxy, nor from another address.
	if code, _ := httpGet(t, base+"/metrics"); code != 200 {
		t.Errorf("metrics on loopback: %d", code)
	}
	if code, _ := httpGet(t, base+"/metrics", "X-Forwarded-For", "203.0.113.9"); code != 403 {
		t.Errorf("metrics through a proxy: %d, want 403", code)
	}
	if ip := outerIP(); ip != "" {
		if code, body := httpGet(t, "http://"+net.JoinHostPort(ip, port)+"/metrics"); code != 403 {
			t.Errorf("metrics from %s: %d %q, want 403", ip, code, body)
		}
		if code, _ := httpGet(t, "http://"+net.JoinHostPort(ip, port)+"/healthz"); code != 200 {
			t.Errorf("healthz from %s: %d", ip, code)
		}
	} else {
		t.Log("no address but loopback: /metrics from another address not tried")
	}

	// Everything the bot says from here on, in order.
	var said []string
	expect := func(want string) {
		t.Helper()
		if _, err := c.Expect(ctx, func(m irctest.Message) bool {
			if m.Command != "PRIVMSG" || !strings.EqualFold(m.Prefix.Nick, botNick) {
				return false
			}
			said = append(said, m.Last())
			return strings.Contains(m.Last(), want)
		}); err != nil {
			t.Fatalf("waiting for %s to say %q: %v; it said %q", botNick, want, err, said)
		}
	}

	// The disk fills, between the two lines of an answer: no file of
	// hallway's may grow past its size now.
	c.Privmsg(botNick, "!show 1")
	expect(`#1 "Before the disk filled"`)
	st, err := os.Stat(dbPath + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	prlimitFsize(t, cmd.Process.Pid, strconv.FormatInt(st.Size(), 10))
	tFull := time.Now()
	expect(abstract) // sent now; its row cannot be marked sent
	const tries = 3
	for i := range tries {
		c.Privmsg(botNick, "!vote 1")
		expect("hallway can't save right now, try again in a few minutes.")
		if i == 0 {
			t.Logf("first apology %s after the disk filled", time.Since(tFull).Round(time.Millisecond))
		}
	}
	code, body := httpGet(t, base+"/healthz")
	if code != 503 || !strings.HasPrefix(body, "database writes failing: the database cannot be written since ") {
		t.Errorf("healthz while writes fail: %d %q", code, body)
	} else {
		t.Logf("healthz while writes fail: %d %q", code, body)
	}

	// Space again: health says so by itself, without a command's write.
	prlimitFsize(t, cmd.Process.Pid, "unlimited")
	tFreed := time.Now()
	for {
		code, body := httpGet(t, base+"/healthz")
		if code == 200 {
			t.Logf("healthz 200 again %s after the disk had room", time.Since(tFreed).Round(time.Millisecond))
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("healthz after the disk had room: %d %q", code, body)
		case <-time.After(100 * time.Millisecond):
		}
	}
	c.Privmsg(botNick, "!vote 1")
	expect("#1")
	if _, err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// The abstract went out once, though its outbox row could not be
	// marked sent while the disk was full; and nothing else twice.
	seen := map[string]int{}
	for _, line := range said {
		seen[line]++
	}
	if !strings.Contains(logs.String(), `msg="marking IRC lines sent"`) {
		t.Error("no line's outbox row failed to be marked sent: the test did not try what it is for")
	}
	if seen[abstract] != 1 {
		t.Errorf("the abstract was said %d times: %q", seen[abstract], said)
	}
	if n := seen["hallway can't save right now, try again in a few minutes."]; n != tries {
		t.Errorf("%d apologies for %d tries: %q", n, tries, said)
	}
	for line, n := range seen {
		if n > 1 && !strings.HasPrefix(line, "hallway can't save") {
			t.Errorf("said %d times: %q", n, line)
		}
	}
	if err := p.term(); err != nil {
		t.Errorf("hallway after SIGTERM: %v", err)
	}
	var votes int
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT count(*) FROM vote`).Scan(&votes); err != nil || votes != 1 {
		t.Errorf("votes: %d, %v; want 1", votes, err)
	}

	// A damaged copy of this database is refused at start, clearly.
	bad := filepath.Join(t.TempDir(), "damaged.db")
	damage(t, db, bad)
	badCfg := filepath.Join(filepath.Dir(bad), "hallway.toml")
	cfg, _ = os.ReadFile(cfgPath)
	os.WriteFile(badCfg, bytes.Replace(cfg, []byte(fmt.Sprintf("%q", dbPath)), []byte(fmt.Sprintf("%q", bad)), 1), 0o644)
	out, err := exec.CommandContext(ctx, bin, "run", "-config", badCfg).CombinedOutput()
	// What SQLite says depends on the page hit: quick_check's list, or
	// "malformed" when the check itself cannot read it.
	if err == nil || !strings.Contains(string(out), "the database is damaged: stop hallway and restore the file from a backup") ||
		!strings.Contains(string(out), "quick_check found") && !strings.Contains(string(out), "database disk image is malformed") {
		t.Errorf("hallway run on a damaged database: %v\n%s", err, out)
	} else {
		t.Logf("hallway run on a damaged database: %v: %s", err, bytes.TrimSpace(out))
	}
}

// damage writes a copy of db to path with one b-tree page's header
// overwritten, as a bad disk or a careless copy would leave it.
func damage(t *testing.T, db *sql.DB, path string) {
	t.Helper()
	if _, err := db.Exec(`VACUUM INTO ?`, path); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var pageSize int64
	if err := db.QueryRow(`PRAGMA page_size`).Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	// VACUUM leaves no free pages: the last page is a b-tree page.
	if _, err := f.WriteAt([]byte{0x77, 0xff, 0xff, 0xff, 0xff, 0xff}, st.Size()-pageSize); err != nil {
		t.Fatal(err)
	}
}

// outerIP is an address of this machine that is not loopback, or "".
func outerIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}
