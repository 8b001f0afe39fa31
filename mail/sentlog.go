package mail

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
)

// sentLog is the sender's journal of the mails the SMTP server accepted:
// the outbox id of each, appended with a single write(2) the moment the
// server's 250 arrives, before the store is told.
//
// SMTP cannot be exactly once (RFC 1047): between the server taking
// responsibility for a mail and the client recording that it did, a
// crash makes the client send it again. Marking the outbox row sent is a
// SQLite write transaction, which waits for the write lock the intake
// holds (a millisecond or more under load); a line appended to a file
// takes a few microseconds, and the page cache keeps it when the process
// is killed. The window left is the time between the 250 reaching the
// socket and that write. After a crash, the next sender marks every id
// in the journal sent before it reads the outbox, then empties it.
//
// A crash of the machine, not the process, can lose the last lines, as
// it can lose the store's last transactions (synchronous=NORMAL): that
// mail is then sent again.
type sentLog struct {
	f *os.File
}

// openSentLog opens (creating) the journal at path.
func openSentLog(path string) (*sentLog, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the sent-mail journal: %w", err)
	}
	return &sentLog{f: f}, nil
}

// ids returns the ids the journal holds.
func (l *sentLog) ids() ([]int64, error) {
	fi, err := l.f.Stat()
	if err != nil {
		return nil, err
	}
	return readSentLog(io.NewSectionReader(l.f, 0, fi.Size()))
}

// ReadJournal returns the outbox ids in the sent-mail journal at path
// (none if there is no journal), for folding it into a copy of the
// store: mail the SMTP server took may not be marked sent there yet.
// It only reads, so the sender may be writing meanwhile.
func ReadJournal(path string) ([]int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("open the sent-mail journal: %w", err)
	}
	defer f.Close()
	ids, err := readSentLog(f)
	if err != nil {
		return nil, fmt.Errorf("read the sent-mail journal %s: %w", path, err)
	}
	return ids, nil
}

// readSentLog reads ids one per line. Only whole lines count: a last
// line without its newline (a write cut by a crash of the machine) could
// be another id cut short, and marking that one sent would lose a mail.
// Anything else that is not an id is skipped: at worst, that mail goes
// out again.
func readSentLog(r io.Reader) ([]int64, error) {
	var ids []int64
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF {
			return ids, nil
		} else if err != nil {
			return ids, err
		}
		if id, err := strconv.ParseInt(line[:len(line)-1], 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
}

// record appends id. Lines from several connections may interleave in
// any order, never within a line: each is one write to a file opened
// for appending.
func (l *sentLog) record(id int64) error {
	var buf [24]byte
	b := strconv.AppendInt(buf[:0], id, 10)
	b = append(b, '\n')
	_, err := l.f.Write(b)
	return err
}

// reset empties the journal once every id in it is marked in the store.
// The caller makes sure no record runs meanwhile.
func (l *sentLog) reset() error {
	return l.f.Truncate(0)
}

func (l *sentLog) Close() error {
	if l == nil {
		return nil
	}
	return l.f.Close()
}
