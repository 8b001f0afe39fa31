package mailtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// SMTPLog follows OpenSMTPD's log (smtpd -d writes it into the testenv's
// state directory) from where it was when it was made, reading only what
// was added since the last call. It is for one goroutine.
type SMTPLog struct {
	path      string
	offset    int64
	partial   []byte
	accepted  map[string]int
	delivered map[string]int
	open      map[string]bool // envelope ids accepted, not delivered yet
}

// FollowSMTPLog starts following OpenSMTPD's log in the testenv's state
// directory envDir at its current end.
func FollowSMTPLog(envDir string) *SMTPLog {
	l := &SMTPLog{path: filepath.Join(envDir, "smtpd", "out.log"), accepted: map[string]int{}, delivered: map[string]int{}, open: map[string]bool{}}
	if fi, err := os.Stat(l.path); err == nil {
		l.offset = fi.Size()
	}
	return l
}

var (
	envelopeRe = regexp.MustCompile(`smtp envelope evpid=(\w+) from=<bot@test\.local> to=<([^>]+)>`)
	// A delivery is "mta delivery ... result="Ok"" when OpenSMTPD relays to
	// Dovecot over LMTP (the testenv now) and "mda delivery ... result=Ok"
	// through its lmtp MDA (the testenv before).
	deliveryRe = regexp.MustCompile(`m[dt]a delivery evpid=(\w+) from=<bot@test\.local> to=<([^>]+)>.* result="?Ok"?( |$)`)
)

// Read returns, for the addresses containing tag, how many mails from the
// bot OpenSMTPD accepted and delivered (Dovecot's LMTP said Ok) since the
// log was first followed, and how many it holds undelivered. Every call
// must pass the same tag. The maps are the follower's own: read only.
func (l *SMTPLog) Read(tag string) (accepted, delivered map[string]int, inFlight int, err error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, nil, 0, err
	}
	defer f.Close()
	if _, err := f.Seek(l.offset, io.SeekStart); err != nil {
		return nil, nil, 0, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, 0, err
	}
	l.offset += int64(len(b))
	b = append(l.partial, b...)
	last := bytes.LastIndexByte(b, '\n')
	l.partial = append([]byte(nil), b[last+1:]...)
	for _, line := range strings.Split(string(b[:last+1]), "\n") {
		if !strings.Contains(line, tag) {
			continue
		}
		if m := envelopeRe.FindStringSubmatch(line); m != nil {
			l.accepted[m[2]]++
			l.open[m[1]] = true
		} else if m := deliveryRe.FindStringSubmatch(line); m != nil {
			l.delivered[m[2]]++
			delete(l.open, m[1])
		}
	}
	return l.accepted, l.delivered, len(l.open), nil
}

// WaitDelivered waits until OpenSMTPD has accepted mail for at least
// minAddrs of tag's addresses and delivered each mail it accepted for
// them, and returns Read's counts.
func (l *SMTPLog) WaitDelivered(ctx context.Context, tag string, minAddrs int) (accepted, delivered map[string]int, err error) {
	for {
		accepted, delivered, inFlight, err := l.Read(tag)
		if err != nil {
			return nil, nil, err
		}
		if inFlight == 0 && len(accepted) >= minAddrs {
			return accepted, delivered, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("%d mails accepted for %d addresses, %d still not delivered: %w", Sum(accepted), len(accepted), inFlight, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
