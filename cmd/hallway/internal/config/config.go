// Package config loads hallway's configuration: one TOML file, kept in git
// and reviewed like code, describing the IRC and mail connections and the
// events hallway runs.
//
// Loading is strict. Unknown keys and bad values are errors, and every
// problem in the file is reported at once, each with the file, line and
// key it concerns and a hint on how to fix it, so that a reviewer can fix a
// config in one pass instead of one error per run.
//
// Secrets never live in the file: each one is named by an environment
// variable (*_env) and optionally a file (*_file), and is looked up by
// [Config.ResolveSecrets] only when hallway needs it.
package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	// The config names IANA timezones. Embedding the database keeps
	// validation (and the times it resolves) the same on hosts and
	// containers that ship without /usr/share/zoneinfo. This package is
	// only used by the hallway binary, so the ~450 kB is paid once.
	_ "time/tzdata"

	"github.com/BurntSushi/toml"

	"github.com/hallwayhq/hallway/bot/money"
)

// Config is a loaded, validated configuration with defaults filled in.
type Config struct {
	// File is the path the config was read from (or the name given to
	// Parse); relative paths in the config are resolved against its
	// directory.
	File string

	Store  Store
	Web    Web
	IRC    IRC
	Mail   Mail
	Matrix Matrix
	Events []Event // the [[event]] tables, in file order

	lines    lineIndex          // key path → line, for errors found after loading
	defaults map[string]bool    // key paths filled in by a default, for Print
	secrets  map[string]*secret // filled by ResolveSecrets
}

// Store is the [store] table: where hallway keeps its state.
type Store struct {
	// Path of the SQLite database, resolved against the config file's
	// directory so hallway finds it whatever its working directory.
	// Default "hallway.db"; empty when URL is set.
	Path string
	// URL of a PostgreSQL database (postgres://USER@HOST/DB, libpq's
	// form; a password is better in ~/.pgpass or PGPASSWORD than here).
	// When set, hallway keeps its state there instead of in Path.
	URL string
	// Journal is the file the mail sender notes what the SMTP server
	// took before the store hears of it: Path + "-sent" by default, or
	// "hallway-sent" next to the config with a URL.
	Journal string
	// Instance names this process among the instances sharing the
	// database, in the lease and the logs; each running instance needs
	// its own. Empty (the default) means the host's name and the process
	// id ("host:1234").
	Instance string
	// LeaseTTL is how long the leader's lease lasts unless renewed (every
	// third of it): a standby takes over at most this long after the
	// leader died. Default 6 s.
	LeaseTTL time.Duration
}

// Source is the database to give store.Open: the URL or the path.
func (s Store) Source() string {
	if s.URL != "" {
		return s.URL
	}
	return s.Path
}

// DefaultRetention is how long after an event its personal data is kept
// unless event.retention says.
const DefaultRetention = 90 * 24 * time.Hour

// DefaultLeaseTTL is the lease's length unless store.lease_ttl says: a
// standby answers within about this long of the leader's death, and a
// leader steps down when it could not renew for two thirds of it.
const DefaultLeaseTTL = 6 * time.Second

// Web is the [web] table: the read-only web pages and feeds.
type Web struct {
	// Listen is the host:port to serve on. Default "127.0.0.1:8080", so
	// nothing is exposed until someone decides to.
	Listen string
	// BaseURL is the public URL of the site, used in links in IRC
	// messages, feeds and mails; no trailing slash. Default
	// "http://" + Listen (with "localhost" for an empty host).
	BaseURL string
	// PublicMetrics serves /metrics to everyone. Default false: only to
	// clients on loopback that came through no proxy.
	PublicMetrics bool
}

// IRC is the [irc] table: the bot's connection.
type IRC struct {
	Server string // host name or address; required
	// Port defaults to 6697 with TLS, 6667 without.
	Port int
	// TLS defaults to true: public networks expect it, and a bot that
	// authenticates to services must not send its password in clear.
	TLS bool
	// Nick defaults to "hallway".
	Nick string
	// SASLUser is the bot's services account; empty means no SASL. When
	// set, the password is needed (see SASLPasswordEnv).
	SASLUser string
	// SASLPasswordEnv names the environment variable holding the SASL
	// password; SASLPasswordFile names a file holding it (resolved against
	// the config's directory), read when the variable is unset or empty.
	SASLPasswordEnv  string
	SASLPasswordFile string
	// Prefix starts a command ("!vote 3"). Default "!".
	Prefix string
	// RequireAccount, when true, lets only people logged in to services
	// propose, vote and pledge: nicks are free to take, accounts are not.
	// Default true.
	RequireAccount bool
	// SendBurst is how many lines go out at once before throttling.
	// Default 4.
	SendBurst int
	// SendRate is outgoing lines per second after the burst; networks
	// kill bots that flood. Default 1.0.
	SendRate float64
	// Channels are extra channels to join besides the events' channels.
	Channels []string
}

// Security is how a mail connection is protected.
type Security string

// Mail connection security. None is only allowed to a loopback host (a
// local test server or a stunnel), since it would send the password and the
// mail in clear.
const (
	SecurityNone     Security = "none"
	SecurityStartTLS Security = "starttls"
	SecurityTLS      Security = "tls"
)

// Mail is the [mail] table: the mailing list side. Leaving out imap
// disables incoming mail; leaving out smtp disables outgoing mail.
type Mail struct {
	IMAP             string   // host:port of the IMAP server
	IMAPSecurity     Security // default "tls"
	IMAPUser         string   // required with imap
	IMAPPasswordEnv  string   // env var holding the IMAP password
	IMAPPasswordFile string   // file holding it, if the env var is unset
	Mailbox          string   // mailbox read for commands; default "INBOX"
	// ProcessedMailbox is where handled mail is moved, so that a restart
	// never handles a mail twice. Default "Processed".
	ProcessedMailbox string
	// QuarantineMailbox is where mail whose handling failed three times is
	// moved, kept for the organizers. Default "Quarantine".
	QuarantineMailbox string
	// AnswersPerDay caps the mails hallway answers one address a day
	// (RFC 3834 section 2); past it, the address is told once, then not
	// answered until the next day. Default 10.
	AnswersPerDay    int
	SMTP             string   // host:port of the SMTP server
	SMTPSecurity     Security // default "tls"
	SMTPUser         string   // empty means no SMTP authentication
	SMTPPasswordEnv  string   // env var holding the SMTP password
	SMTPPasswordFile string   // file holding it, if the env var is unset
	From             string   // From: of outgoing mail; required with smtp
	List             string   // the list address for announcements and wrap-ups
}

// Matrix is the [matrix] table: the bot's Matrix account. Leaving out
// homeserver leaves Matrix off.
type Matrix struct {
	// Homeserver is the client-server API's base URL
	// ("https://matrix.example.org").
	Homeserver string
	// UserID is the bot's account ("@hallway:example.org"), logged in
	// with the access token named by AccessTokenEnv or AccessTokenFile.
	UserID          string
	AccessTokenEnv  string
	AccessTokenFile string
	// SendBurst messages go to a room at once, then SendRate a second
	// (10 and 1.0 by default: within a homeserver's usual limits; a bot
	// exempted from them on its own homeserver can go faster).
	SendBurst int
	SendRate  float64
}

// Event is one [[event]] table.
type Event struct {
	// Slug identifies the event in URLs and commands: lowercase letters,
	// digits and dashes, unique in the config.
	Slug string
	Name string // required
	// Timezone is the IANA name the event runs in ("America/Los_Angeles");
	// every time in the config without an offset is in it.
	Timezone string
	// Location is Timezone, loaded.
	Location *time.Location
	Venue    string
	// Channel is the IRC channel of the event ("#openinfra").
	Channel string
	// Channels are more rooms the event talks in, announcements and all,
	// on any chat transport: "#x" or "irc:#x" for an IRC channel,
	// "matrix:!id:server" or "matrix:#alias:server" for a Matrix room
	// (see bot.ParseChatRoom).
	Channels []string
	// Organizers are the people allowed to run the event, each an IRC
	// services account ("alice"), a Matrix user ID ("@alice:example.org")
	// or a mail address ("alice@example.org", once confirmed); see
	// bot.ParseIdentity.
	Organizers []string
	// OrganizerEmails are addresses whose mail is trusted as organizers'.
	OrganizerEmails []string
	// RegistrationCapacity caps registrations; 0 means no limit.
	RegistrationCapacity int
	// RegistrationHold is how long a seat freed by a cancellation is held
	// for the first on the waitlist before it goes to the next. Default 48h.
	// A hold never runs past the event's start; on the event's days it is
	// RegistrationDayHold. Default 30m.
	RegistrationHold    time.Duration
	RegistrationDayHold time.Duration
	// PledgeReminderAfter is how long after a pledge (and after each
	// reminder) an unreceived pledge gets a reminder by mail; at most
	// PledgeReminders of them. Defaults 14 days and 2.
	PledgeReminderAfter time.Duration
	PledgeReminders     int
	// KeepTopic has the bot set the channel's topic to what is on as each
	// slot starts; it needs op or channel mode -t. Default false.
	KeepTopic bool
	// VotesPerPerson is how many votes each person may cast. Default 4.
	VotesPerPerson int
	// BoardFilling and BoardFull are the percentages of a room's
	// capacity at which the checked-in voters of the session on make it
	// "filling" and "full" on the live board. Default 75 and 100.
	BoardFilling, BoardFull int
	// RetimeWeight is what a new version of the schedule pays for moving
	// a released item to another time, for each person who planned on it
	// (in the solver's units: one voter missing a session, one seat
	// short). Default 1. FreezeBefore: items starting within it (or
	// started) are not moved. Default 2h.
	RetimeWeight int
	FreezeBefore time.Duration
	// Retention is how long after the event's end hallway keeps personal
	// data it no longer needs: then addresses, mail kept for organizers,
	// lines of notes outside the minutes and personal feed tokens are
	// purged. Default 90 days.
	Retention time.Duration
	// CocURL is the event's code of conduct, for !coc; may be "".
	CocURL string
	// CocTeam are who receives code-of-conduct reports and may read them:
	// IRC services accounts, Matrix IDs ("@x:example.org") and mail
	// addresses. Empty means the organizers and organizer_emails.
	CocTeam []string
	// Phases holds the phases configured to open and close on their own,
	// keyed by PhaseCFP, PhaseRegistration or PhaseVoting. A phase left
	// out is opened and closed by hand.
	Phases    map[string]Phase
	Rooms     []Room     // [[event.room]]
	Days      []Day      // [[event.day]]
	Campaigns []Campaign // [[event.campaign]]
	// ExchangeRates ([[event.exchange_rate]]) count pledges in one
	// currency toward a goal in another; at most one per pair.
	ExchangeRates []money.Rate
}

// Phase names, the keys of Event.Phases.
const (
	PhaseCFP          = "cfp"
	PhaseRegistration = "registration"
	PhaseVoting       = "voting"
)

// phaseNames lists the phases in the order they usually happen.
var phaseNames = []string{PhaseCFP, PhaseRegistration, PhaseVoting}

// Phase is when a phase opens and closes on its own. A zero time means
// that end is left to an organizer's "!open" or "!close".
type Phase struct {
	Open  time.Time
	Close time.Time
}

// Room is one [[event.room]].
type Room struct {
	Name     string // unique in the event
	Capacity int    // seats; 0 means unknown
	// Channel is the room's own IRC channel, where its sessions take
	// notes; "" if the room has none.
	Channel string
}

// Day is one [[event.day]] of the schedule.
type Day struct {
	Date  time.Time // midnight at the start of the day, in the event's timezone
	Slots []Slot
}

// SlotKind says what fills a slot.
type SlotKind string

// Slot kinds.
const (
	SlotTalk    SlotKind = "talk"    // takes accepted talks
	SlotSession SlotKind = "session" // takes the unconference sessions voted for
	SlotBreak   SlotKind = "break"   // fixed item, rooms optional
	SlotPlenary SlotKind = "plenary" // fixed item for everyone
)

// Slot is one entry of a day's slots.
type Slot struct {
	// Start is the day's date at the slot's "HH:MM", in the event's
	// timezone.
	Start   time.Time
	Minutes int
	Kind    SlotKind
	Rooms   []string // names of the event's rooms; may be empty for a break
	Title   string
}

// End is when the slot is over.
func (s Slot) End() time.Time { return s.Start.Add(time.Duration(s.Minutes) * time.Minute) }

// Campaign is one [[event.campaign]]: a fundraiser people pledge money or
// time to.
type Campaign struct {
	Slug   string // unique in the event
	Title  string
	Goal   Goal
	Closes time.Time // zero if the campaign closes by hand
}

// Event returns the event with the given slug.
func (c *Config) Event(slug string) (*Event, bool) {
	for i := range c.Events {
		if c.Events[i].Slug == slug {
			return &c.Events[i], true
		}
	}
	return nil, false
}

// Load reads and validates the config file at path. Relative paths in it
// are resolved against the file's directory, made absolute so that they
// stay right if hallway changes directory. The error, if any, is an
// [Errors] listing every problem found.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	// Parse resolves against the name as given; anchor the result.
	for _, p := range []*string{&c.Store.Path, &c.Store.Journal, &c.IRC.SASLPasswordFile, &c.Mail.IMAPPasswordFile, &c.Mail.SMTPPasswordFile, &c.Matrix.AccessTokenFile} {
		if *p == "" {
			continue
		}
		if abs, err := filepath.Abs(*p); err == nil {
			*p = abs
		}
	}
	return c, nil
}

// Parse decodes and validates a config. name is used in error messages and
// to resolve relative paths (against filepath.Dir(name)). The error, if
// any, is an [Errors] listing every problem found.
func Parse(name string, data []byte) (*Config, error) {
	// A BOM is invisible in editors; don't let it fail the whole file.
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))

	// BurntSushi/toml does the parsing. We then decode the generic tree
	// ourselves rather than with toml.Decode into structs: Decode stops at
	// the first bad value, and the line it reports for a key inside an
	// array of tables ([[event.room]]) is that of the key's last
	// occurrence, not the one at fault. Unknown keys are found as we go,
	// including those inside inline tables in arrays.
	var root map[string]any
	if _, err := toml.Decode(string(data), &root); err != nil {
		return nil, syntaxError(name, err)
	}
	d := &decoder{file: name, lines: indexLines(string(data)), defaults: map[string]bool{}}
	c := d.config(root)
	d.validate(c)
	if len(d.errs) > 0 {
		d.errs.sort()
		return nil, d.errs
	}
	return c, nil
}

// syntaxError turns a toml parse error into our one-line form.
func syntaxError(name string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		e := &Error{File: name, Line: pe.Position.Line, Msg: pe.Message}
		if pe.LastKey != "" {
			e.Msg = fmt.Sprintf("%s (after key %q)", pe.Message, pe.LastKey)
		}
		e.Msg = "TOML syntax: " + e.Msg
		return Errors{e}
	}
	return Errors{{File: name, Msg: err.Error()}}
}

// Error is one problem in a config file, located by line and key so the
// user can go straight to it.
type Error struct {
	File string
	Line int    // 1-based; 0 if unknown (e.g. a required table is missing)
	Key  string // the key at fault, e.g. "event[0].room[1].capacity"; may be empty
	Msg  string // what is wrong and how to do it right
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		fmt.Fprintf(&b, "key %q: ", e.Key)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a config file, in line order. Its
// Error method prints them one per line.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (es Errors) sort() {
	slices.SortStableFunc(es, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
}

// Problem is a problem found about a key after loading (by "hallway
// check", looking at the database), located like the loading errors.
func (c *Config) Problem(key, msg string) *Error {
	return &Error{File: c.File, Line: c.lines.find(key), Key: key, Msg: msg}
}
