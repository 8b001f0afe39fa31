// Package mailtest is support for tests and benchmarks of hallway's mail
// against the real Dovecot and OpenSMTPD of scripts/testenv.sh.
//
// The bot's account in the testenv's Dovecot is bot@test.local (password
// botpass); Dovecot makes a home, with a Maildir, for any other address
// at test.local that OpenSMTPD delivers to by LMTP.
package mailtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The bot's IMAP account in the testenv's Dovecot.
const (
	BotAddress  = "bot@test.local"
	BotPassword = "botpass"
)

// MailRoot finds where Dovecot keeps each user's home: the testenv writes
// it in the userdb line of its dovecot.conf (home=DIR/%u) in the state
// directory envDir; DIR may be under /tmp when envDir's path is long. An
// address's mail is in DIR/ADDRESS/Maildir.
func MailRoot(envDir string) (string, error) {
	conf := filepath.Join(envDir, "dovecot", "dovecot.conf")
	b, err := os.ReadFile(conf)
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`home=(\S+)/%u`).FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("%s: no home=DIR/%%u in the userdb", conf)
	}
	return string(m[1]), nil
}

// ReadMaildir returns the mails in a Maildir, new and seen (none if it
// does not exist: nothing was delivered).
func ReadMaildir(dir string) ([][]byte, error) {
	var out [][]byte
	for _, sub := range []string{"new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read Dovecot's Maildir (run as root, like the testenv): %w", err)
		}
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, sub, e.Name()))
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
	}
	return out, nil
}

var headerRe = regexp.MustCompile(`(?mi)^(In-Reply-To|Message-Id):\s*(.*?)\r?$`)

// CheckConfirmation checks that a delivered mail is the bot's
// confirmation answering the register mail msgid: In-Reply-To is that
// mail's Message-ID, and its own Message-ID is the one the bot makes from
// the registration's token (<confirm-TOKEN.…>). An empty token is never
// right.
func CheckConfirmation(raw []byte, msgid, token string) error {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	if len(head) == len(raw) {
		head, _, _ = bytes.Cut(raw, []byte("\n\n"))
	}
	h := map[string]string{}
	for _, m := range headerRe.FindAllSubmatch(head, -1) {
		h[strings.ToLower(string(m[1]))] = string(m[2])
	}
	if h["in-reply-to"] != "<"+msgid+">" {
		return fmt.Errorf("In-Reply-To %q, want <%s>", h["in-reply-to"], msgid)
	}
	if token == "" || !strings.HasPrefix(h["message-id"], "<confirm-"+token+".") {
		return fmt.Errorf("Message-ID %q is not the confirmation for token %q", h["message-id"], token)
	}
	return nil
}

// Sum adds up the counts of a map, such as SMTPLog.Read's.
func Sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
