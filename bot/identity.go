package bot

import (
	"fmt"
	"strings"

	"github.com/hallwayhq/hallway/store"
)

// IdentityKind says who vouches for an identity.
type IdentityKind = store.IdentityKind

// Kinds of identity.
const (
	// IRCAccount is a services account, which the IRC network vouches
	// for; RFC 1459 case-folded (FoldAccount).
	IRCAccount = store.IRCAccount
	// MatrixUser is a Matrix user ID, "@localpart:server", which the
	// homeserver vouches for. Compared exactly: the spec's localparts are
	// lower case, but historical IDs may not be, and server names are
	// compared as given.
	MatrixUser = store.MatrixUser
	// Address is a mail address, lower-cased; it counts as the person
	// only once confirmed with a code.
	Address = store.Email
)

// Identity is who a person is, whatever the transport: the account a
// network vouches for, or a confirmed address. Two identities are the same
// person's exactly when they are equal (==): the constructors normalise the
// value as its kind compares.
type Identity struct {
	Kind  IdentityKind
	Value string
}

// IRCIdentity is the identity of an IRC services account; zero for "" (not
// logged in).
func IRCIdentity(account string) Identity {
	if account == "" {
		return Identity{}
	}
	return Identity{IRCAccount, FoldAccount(account)}
}

// MatrixIdentity is the identity of a Matrix user ID, as given.
func MatrixIdentity(userID string) Identity {
	if userID == "" {
		return Identity{}
	}
	return Identity{MatrixUser, userID}
}

// AddressIdentity is the identity of a mail address, lower-cased.
func AddressIdentity(addr string) Identity {
	if addr == "" {
		return Identity{}
	}
	return Identity{Address, strings.ToLower(addr)}
}

// IsZero tells an identity nobody vouched for.
func (id Identity) IsZero() bool { return id.Value == "" }

// String is the identity for logs and for "hallway check": the kind, a
// colon and the value ("irc:pleia2", "matrix:@pleia2:example.org",
// "email:ops@example.org").
func (id Identity) String() string {
	if id.IsZero() {
		return ""
	}
	return string(id.Kind) + ":" + id.Value
}

// ParseIdentity reads an organizer as the config writes it: "@local:server"
// is a Matrix user ID, a word with an "@" inside is a mail address, and any
// other word an IRC services account. The error says what is wrong and how
// to write it.
func ParseIdentity(s string) (Identity, error) {
	switch {
	case s == "" || strings.TrimSpace(s) != s || strings.ContainsFunc(s, isSpaceOrControl):
		return Identity{}, fmt.Errorf("%q is not an account name, a Matrix ID or an address: write it without spaces, e.g. \"alice\", \"@alice:example.org\" or \"alice@example.org\"", s)
	case strings.HasPrefix(s, "@"):
		local, server, ok := strings.Cut(s[1:], ":")
		if !ok || local == "" || server == "" {
			return Identity{}, fmt.Errorf("%q is not a Matrix user ID: write @localpart:server, e.g. \"@alice:example.org\"", s)
		}
		return MatrixIdentity(s), nil
	case strings.Contains(s, "@"):
		local, domain, _ := strings.Cut(s, "@")
		if local == "" || domain == "" || strings.Contains(domain, "@") {
			return Identity{}, fmt.Errorf("%q is not a mail address: write name@domain, e.g. \"alice@example.org\"", s)
		}
		return AddressIdentity(s), nil
	}
	return IRCIdentity(s), nil
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// KindName names a kind of identity for people ("IRC account").
func KindName(k IdentityKind) string {
	switch k {
	case IRCAccount:
		return "IRC account"
	case MatrixUser:
		return "Matrix user"
	case Address:
		return "address"
	}
	return string(k)
}

// Capabilities say what the transport a request came by can do with the
// answer, so that handlers ask what it can, never which transport it is.
type Capabilities struct {
	// Chat: the request is a line said in a chat (IRC, Matrix), where
	// commands are written with the prefix and answers are lines: a long
	// answer is paged ("more") and its extra lines are charged to the
	// asker's allowance. Without it (mail) one message is answered whole
	// by one message, and commands are written bare.
	Chat bool `json:"chat,omitempty"`
	// PrivateReply: the transport can answer the person alone, away from
	// the room the command was said in.
	PrivateReply bool `json:"private_reply,omitempty"`
}

// ChatCapabilities are a chat's: IRC's, Matrix's.
var ChatCapabilities = Capabilities{Chat: true, PrivateReply: true}
