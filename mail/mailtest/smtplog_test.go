package mailtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Both forms of OpenSMTPD's delivery line count: relaying over LMTP (mta)
// and the lmtp MDA (mda). Deferrals and other senders don't.
func TestSMTPLogRead(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "smtpd"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "smtpd", "out.log")
	if err := os.WriteFile(path, []byte("before 1 smtp envelope evpid=00 from=<bot@test.local> to=<t-0@test.local>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := FollowSMTPLog(dir)
	lines := `a1 smtp envelope evpid=e1 from=<bot@test.local> to=<t-1@test.local>
a1 smtp envelope evpid=e2 from=<bot@test.local> to=<t-2@test.local>
a1 smtp envelope evpid=e3 from=<bot@test.local> to=<t-3@test.local>
a1 smtp envelope evpid=e4 from=<alice@test.local> to=<t-4@test.local>
a1 smtp envelope evpid=e5 from=<bot@test.local> to=<other@test.local>
b2 mta delivery evpid=e1 from=<bot@test.local> to=<t-1@test.local> rcpt=<-> source="127.0.0.1" relay="127.0.0.1 (localhost)" delay=0s result="Ok" stat="250 2.0.0 <t-1@test.local> x Saved"
b2 mta delivery evpid=e3 from=<bot@test.local> to=<t-3@test.local> rcpt=<-> source="127.0.0.1" relay="127.0.0.1 (localhost)" delay=0s result="TempFail" stat="451 4.3.0 Okay later"
c3 mda delivery evpid=e2 from=<bot@test.local> to=<t-2@test.local> rcpt=<t-2@test.local> user=nobody delay=0s result=Ok stat=Delivered
b2 mta delivery evpid=e4 from=<alice@test.local> to=<t-4@test.local> rcpt=<-> result="Ok" stat="250 ok"
a1 smtp envelope evpid=e6 from=<bot@test.local> to=<t-6`
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(lines); err != nil {
		t.Fatal(err)
	}
	acc, del, open, err := l.Read("t-")
	if err != nil {
		t.Fatal(err)
	}
	if len(acc) != 3 || acc["t-1@test.local"] != 1 || acc["t-2@test.local"] != 1 || acc["t-3@test.local"] != 1 {
		t.Errorf("accepted = %v, want t-1, t-2, t-3 once", acc)
	}
	if len(del) != 2 || del["t-1@test.local"] != 1 || del["t-2@test.local"] != 1 {
		t.Errorf("delivered = %v, want t-1 and t-2 once", del)
	}
	if open != 1 {
		t.Errorf("in flight = %d, want 1 (t-3, deferred)", open)
	}
	// the partial last line completes on the next read
	if _, err := f.WriteString("@test.local>\n"); err != nil {
		t.Fatal(err)
	}
	if acc, _, open, err = l.Read("t-"); err != nil || acc["t-6@test.local"] != 1 || open != 2 {
		t.Errorf("after the rest of a line: accepted %v, in flight %d, err %v", acc, open, err)
	}
}
