package config

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

const examplesDir = "../../../../examples"

func TestExampleLoads(t *testing.T) {
	c, err := Load(filepath.Join(examplesDir, "openinfra-day.toml"))
	if err != nil {
		t.Fatalf("the example config must load unchanged:\n%v", err)
	}
	if !filepath.IsAbs(c.Store.Path) || filepath.Base(c.Store.Path) != "hallway.db" ||
		filepath.Base(filepath.Dir(c.Store.Path)) != "examples" {
		t.Errorf("store path %q, want an absolute path to examples/hallway.db", c.Store.Path)
	}
	if got := c.IRC; got.Port != 6667 || got.TLS || got.Nick != "hallway" || got.SASLUser != "hallway" ||
		got.SASLPasswordEnv != "HALLWAY_IRC_PASSWORD" || got.Prefix != "!" || !got.RequireAccount ||
		got.SendBurst != 4 || got.SendRate != 1.0 {
		t.Errorf("irc = %+v", got)
	}
	if c.Mail.IMAPSecurity != SecurityNone || c.Mail.Mailbox != "INBOX" || c.Mail.ProcessedMailbox != "Processed" {
		t.Errorf("mail = %+v", c.Mail)
	}
	if len(c.Events) != 1 {
		t.Fatalf("%d events, want 1", len(c.Events))
	}
	e := c.Events[0]
	if e.Slug != "openinfra-day-2027" || e.Location.String() != "America/Los_Angeles" ||
		e.RegistrationCapacity != 60 || e.VotesPerPerson != 4 || len(e.Organizers) != 2 {
		t.Errorf("event = %+v", e)
	}
	if len(e.Phases) != 0 {
		t.Errorf("phases = %v, want none (commented out in the example)", e.Phases)
	}
	if len(e.Rooms) != 3 || e.Rooms[1] != (Room{"Room 104", 40, "#openinfra-104"}) {
		t.Errorf("rooms = %+v", e.Rooms)
	}
	if len(e.Days) != 1 || len(e.Days[0].Slots) != 9 {
		t.Fatalf("days = %+v", e.Days)
	}
	lunch := e.Days[0].Slots[4]
	if lunch.Kind != SlotBreak || lunch.Title != "Lunch" || len(lunch.Rooms) != 0 ||
		lunch.Start.Format(time.RFC3339) != "2027-03-04T12:00:00-08:00" || lunch.End().Format("15:04") != "13:00" {
		t.Errorf("lunch = %+v", lunch)
	}
	macs := e.Campaigns[0]
	if macs.Goal != (Goal{Raw: "3000 USD", Amount: 300000, Currency: "USD"}) || macs.Closes.Format(time.RFC3339) != "2027-04-30T00:00:00-07:00" {
		t.Errorf("campaign = %+v", macs)
	}
	if g := e.Campaigns[1].Goal; g != (Goal{Raw: "200h", Hours: 200}) || g.IsMoney() || !e.Campaigns[1].Closes.IsZero() {
		t.Errorf("campaign goal = %+v", g)
	}
	if ev, ok := c.Event("openinfra-day-2027"); !ok || ev != &c.Events[0] {
		t.Errorf("Event(slug) = %v, %v", ev, ok)
	}
}

// TestExamplesLoad keeps every shipped example loadable as the config
// grows.
func TestExamplesLoad(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.toml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load(f); err != nil {
				t.Errorf("%v", err)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse("dir/minimal.toml", []byte(`
[irc]
server = "irc.libera.chat"
[[event]]
slug = "m"
name = "M"
timezone = "UTC"
channel = "#m"
organizers = ["a"]
`))
	if err != nil {
		t.Fatal(err)
	}
	want := IRC{Server: "irc.libera.chat", Port: 6697, TLS: true, Nick: "hallway", Prefix: "!", RequireAccount: true, SendBurst: 4, SendRate: 1.0}
	if c.IRC.Server != want.Server || c.IRC.Port != want.Port || c.IRC.TLS != want.TLS || c.IRC.Nick != want.Nick ||
		c.IRC.Prefix != want.Prefix || c.IRC.RequireAccount != want.RequireAccount || c.IRC.SendBurst != want.SendBurst || c.IRC.SendRate != want.SendRate {
		t.Errorf("irc = %+v, want %+v", c.IRC, want)
	}
	if c.Store.Path != filepath.Join("dir", "hallway.db") {
		t.Errorf("store path = %q", c.Store.Path)
	}
	if c.Web != (Web{Listen: "127.0.0.1:8080", BaseURL: "http://127.0.0.1:8080"}) {
		t.Errorf("web = %+v", c.Web)
	}
	if c.Mail.Mailbox != "INBOX" || c.Mail.ProcessedMailbox != "Processed" || c.Mail.IMAPSecurity != SecurityTLS || c.Mail.SMTPSecurity != SecurityTLS {
		t.Errorf("mail = %+v", c.Mail)
	}
	if c.Events[0].VotesPerPerson != 4 {
		t.Errorf("votes_per_person = %d", c.Events[0].VotesPerPerson)
	}

	c, err = Parse("x.toml", []byte("[irc]\nserver = \"127.0.0.1\"\ntls = false\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.IRC.Port != 6667 {
		t.Errorf("port without TLS = %d, want 6667", c.IRC.Port)
	}
}

// TestTimes covers the ways a time may be written: "Times in the config
// without an offset are in the event's timezone".
func TestTimes(t *testing.T) {
	for _, tc := range []struct{ value, tz, want string }{
		{`"2027-01-10T00:00"`, "America/Los_Angeles", "2027-01-10T00:00:00-08:00"},
		{`"2027-04-30T00:00:00"`, "America/Los_Angeles", "2027-04-30T00:00:00-07:00"},
		{`"2027-04-30 09:15"`, "Europe/Brussels", "2027-04-30T09:15:00+02:00"},
		{`"2027-04-30T09:15:00.5"`, "UTC", "2027-04-30T09:15:00.5Z"},
		{`"2027-04-30T09:15:00-03:00"`, "Asia/Tokyo", "2027-04-30T09:15:00-03:00"},
		{`"2027-04-30T09:15Z"`, "Asia/Tokyo", "2027-04-30T09:15:00Z"},
		{`2027-01-10T00:00:00`, "America/Los_Angeles", "2027-01-10T00:00:00-08:00"},
		{`2027-01-10T00:00`, "Asia/Kolkata", "2027-01-10T00:00:00+05:30"},
		{`2027-01-10T00:00:00+01:00`, "America/Los_Angeles", "2027-01-10T00:00:00+01:00"},
		{`2027-01-10 07:30:00`, "UTC", "2027-01-10T07:30:00Z"},
	} {
		src := minimalEvent(tc.tz) + "[event.phases]\nvoting = { open = " + tc.value + " }\n"
		c, err := Parse("t.toml", []byte(src))
		if err != nil {
			t.Errorf("%s in %s: %v", tc.value, tc.tz, err)
			continue
		}
		got := c.Events[0].Phases[PhaseVoting].Open
		if s := got.Format(time.RFC3339Nano); s != tc.want {
			t.Errorf("%s in %s = %s, want %s", tc.value, tc.tz, s, tc.want)
		}
		if want, _ := time.Parse(time.RFC3339Nano, tc.want); !got.Equal(want) {
			t.Errorf("%s in %s: instant %v, want %v", tc.value, tc.tz, got, want)
		}
	}

	// Slots: the day's date and "HH:MM" in the event's timezone, also
	// across a daylight saving change.
	c, err := Parse("t.toml", []byte(minimalEvent("America/Los_Angeles")+`
[[event.room]]
name = "R"
[[event.day]]
date = 2027-03-14
slots = [{ start = 09:30:00, minutes = 30, kind = "talk", rooms = ["R"] }, { start = "01:30", minutes = 60, kind = "break" }]
`))
	if err != nil {
		t.Fatal(err)
	}
	day := c.Events[0].Days[0]
	if s := day.Date.Format(time.RFC3339); s != "2027-03-14T00:00:00-08:00" {
		t.Errorf("date = %s", s)
	}
	if s := day.Slots[0].Start.Format(time.RFC3339); s != "2027-03-14T09:30:00-07:00" {
		t.Errorf("slot after the DST change starts %s", s)
	}
	if s := day.Slots[1].Start.Format(time.RFC3339); s != "2027-03-14T01:30:00-08:00" {
		t.Errorf("slot before the DST change starts %s", s)
	}
}

func TestGoals(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Goal
		err  string
	}{
		{in: "3000 USD", want: Goal{Amount: 300000, Currency: "USD"}},
		{in: "1500.5 EUR", want: Goal{Amount: 150050, Currency: "EUR"}},
		{in: "1500.50 eur", want: Goal{Amount: 150050, Currency: "EUR"}},
		{in: "500000 JPY", want: Goal{Amount: 500000, Currency: "JPY"}},
		{in: "12.345 KWD", want: Goal{Amount: 12345, Currency: "KWD"}},
		{in: "200h", want: Goal{Hours: 200}},
		{in: "200 hours", want: Goal{Hours: 200}},
		{in: "1 h", want: Goal{Hours: 1}},
		{in: "", err: "is empty"},
		{in: "3000", err: `"3000 USD"`},
		{in: "USD 3000", err: `puts the currency first (got "USD 3000"): write "3000 USD"`},
		{in: "3000USD", err: `write "3000 USD"`},
		{in: "3000 dollars", err: `write the currency as its ISO 4217 code: 3000 USD`},
		{in: "3000 XYZ", err: `"XYZ" is not a currency code`},
		{in: "3,000 USD", err: "without thousands separators"},
		{in: "$3000", err: "is not a goal"},
		{in: "12.345 USD", err: "USD has 2"},
		{in: "10.5 JPY", err: "JPY has no decimals"},
		{in: "0 USD", err: "more than zero"},
		{in: "-5 USD", err: "more than zero"},
		{in: "0h", err: "positive whole number of hours"},
		{in: "7.5h", err: "is not a goal"},
		{in: "99999999999999999999 USD", err: "more than anyone pledges"},
	} {
		g, err := ParseGoal(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseGoal(%q) error = %v, want it to contain %q", tc.in, err, tc.err)
			}
			continue
		}
		tc.want.Raw = tc.in
		if err != nil || g != tc.want {
			t.Errorf("ParseGoal(%q) = %+v, %v, want %+v", tc.in, g, err, tc.want)
		}
	}
}

func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "smtp-pw")
	if err := os.WriteFile(pwFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `
[irc]
server = "irc.libera.chat"
sasl_user = "hallway"
sasl_password_env = "HALLWAY_IRC_PASSWORD"
[mail]
smtp = "smtp.example.org:465"
smtp_user = "bot"
smtp_password_env = "HALLWAY_SMTP_PASSWORD"
smtp_password_file = "smtp-pw"
from = "bot@example.org"
`
	if err := os.WriteFile(filepath.Join(dir, "c.toml"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(filepath.Join(dir, "c.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Secret(SecretSASLPassword); err == nil {
		t.Error("Secret before ResolveSecrets: no error")
	}

	// Nothing in the environment: the SASL password is missing, the SMTP
	// one comes from its file.
	err = c.ResolveSecrets(func(string) string { return "" })
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("ResolveSecrets = %v, want one error", err)
	}
	want := filepath.Join(dir, "c.toml") + `:5: key "irc.sasl_password_env": HALLWAY_IRC_PASSWORD not set; the password is needed because irc.sasl_user is set`
	if errs[0].Error() != want {
		t.Errorf("error\n%s\nwant\n%s", errs[0], want)
	}
	if _, err := c.Secret(SecretSASLPassword); err == nil {
		t.Error("missing needed secret: no error")
	}
	if v, err := c.Secret(SecretSMTPPassword); v != "s3cret" || err != nil {
		t.Errorf("SMTP password from file = %q, %v", v, err)
	}
	if v, err := c.Secret(SecretIMAPPassword); v != "" || err != nil {
		t.Errorf("unneeded IMAP password = %q, %v", v, err)
	}
	if _, err := c.Secret("irc.password"); err == nil {
		t.Error("unknown secret name: no error")
	}
	var b strings.Builder
	c.Print(&b)
	for _, s := range []string{
		`sasl_password_env = "HALLWAY_IRC_PASSWORD"  # not set` + "\n",
		`smtp_password_file = "` + pwFile + `"  # read, ******`,
	} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("Print output lacks %q:\n%s", s, b.String())
		}
	}

	// The environment wins over the file, and values never get printed.
	env := map[string]string{"HALLWAY_IRC_PASSWORD": "irc-value-1", "HALLWAY_SMTP_PASSWORD": "smtp-value-2"}
	if err := c.ResolveSecrets(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Secret(SecretSASLPassword); v != "irc-value-1" {
		t.Errorf("SASL password = %q", v)
	}
	if v, _ := c.Secret(SecretSMTPPassword); v != "smtp-value-2" {
		t.Errorf("SMTP password = %q", v)
	}
	b.Reset()
	c.Print(&b)
	if strings.Contains(b.String(), "-value-") || strings.Contains(b.String(), "s3cret") {
		t.Errorf("Print shows a secret:\n%s", b.String())
	}
	if !strings.Contains(b.String(), `sasl_password_env = "HALLWAY_IRC_PASSWORD"  # set, ******`) {
		t.Errorf("Print output lacks the set secret:\n%s", b.String())
	}
}

// minimalEvent is the smallest valid config with one event in tz; tests
// append to it.
func minimalEvent(tz string) string {
	return `[irc]
server = "irc.libera.chat"

[[event]]
slug = "ev"
name = "Ev"
timezone = "` + tz + `"
channel = "#ev"
organizers = ["alice"]
`
}

// TestBadConfigs checks that each problem is reported, and reported once,
// on the right line with the key at fault. A line of a case's config that
// ends with "# want: KEY" must get an error "bad.toml:LINE: key "KEY": ...";
// several keys are separated by commas, and "-" stands for an error
// without a key. Every error must be wanted, and msgs must all appear in
// the output.
func TestBadConfigs(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		msgs []string
	}{{
		name: "syntax",
		src: `[irc]
server = = "irc.libera.chat"  # want: -
`,
		msgs: []string{"TOML syntax"},
	}, {
		name: "unknown keys",
		src: minimalEvent("UTC") + `
bogus = 1                     # want: event[0].bogus
[[event.room]]
name = "A"
capacty = 3                   # want: event[0].room[0].capacty
[website]                     # want: website
`,
		msgs: []string{`did you mean "capacity"?`, `the top level takes only [[event]], [irc], [mail], [matrix], [store], [web]`, "this table takes"},
	}, {
		name: "store url and path",
		src: `[store]
url = "postgres://hallway@db.example.org/hallway"  # want: store.url
path = "hallway.db"
` + minimalEvent("UTC"),
		msgs: []string{"both set", "keep url for PostgreSQL, or path for a SQLite file"},
	}, {
		name: "store url not PostgreSQL",
		src: `[store]
url = "mysql://db.example.org/hallway"  # want: store.url
` + minimalEvent("UTC"),
		msgs: []string{`must be a PostgreSQL URL like "postgres://`},
	}, {
		name: "secret in the file",
		src: `[irc]
server = "irc.libera.chat"
sasl_user = "hallway"         # want: irc.sasl_password_env
sasl_password = "hunter2"     # want: irc.sasl_password
[mail]
api_token = "abc"             # want: mail.api_token
`,
		msgs: []string{
			`secrets never go in the config file, which is kept in git; remove it and use sasl_password_env = "HALLWAY_IRC_PASSWORD" naming an environment variable (or sasl_password_file naming a file)`,
			`is required because irc.sasl_user is set: name the environment variable holding the password, e.g. sasl_password_env = "HALLWAY_IRC_PASSWORD"`,
			`api_token": secrets never go in the config file`,
		},
	}, {
		name: "bad types",
		src: `[irc]
server = 6697                 # want: irc.server
port = "6697"                 # want: irc.port
tls = "yes"                   # want: irc.tls
send_rate = "fast"            # want: irc.send_rate
send_burst = 2.5              # want: irc.send_burst
channels = "#x"               # want: irc.channels
nick = ["a"]                  # want: irc.nick
[web]
listen = 8080                 # want: web.listen
`,
		msgs: []string{
			`must be a string: write server = "6697" in double quotes`,
			`must be a number, not a string: write port = 6697 without quotes`,
			`must be true or false, without quotes (got "yes")`,
			`must be a number, e.g. send_rate = 1.5 (got "fast")`,
			`must be a whole number, e.g. send_burst = 2 (got 2.5)`,
			`must be an array of strings, e.g. channels = ["#x"]`,
		},
	}, {
		name: "irc values",
		src: `[irc]
server = "irc.libera.chat:6697" # want: irc.server
port = 70000                  # want: irc.port
tls = false                   # want: irc.tls
nick = "9lives"               # want: irc.nick
sasl_user = "hall way"        # want: irc.sasl_user
sasl_password_env = "hunter2!" # want: irc.sasl_password_env
prefix = "! "                 # want: irc.prefix
send_burst = 0                # want: irc.send_burst
send_rate = 0                 # want: irc.send_rate
channels = ["ops"]            # want: irc.channels[0]
[web]
listen = "localhost"          # want: web.listen
base_url = "example.org/x"    # want: web.base_url
[store]
path = ""                     # want: store.path
`,
		msgs: []string{
			"must be the host alone; give the port as port = 6697",
			"must be true when sasl_user is set and the server is not on this machine",
			"must be a positive number of lines per second",
			"must be at least 1 line (got 0)",
			"not the secret itself",
		},
	}, {
		name: "mail",
		src: `[irc]
server = "irc.libera.chat"
[mail]
imap = "imap.example.org:143" # want: mail.imap_user, mail.imap_password_env
imap_security = "none"        # want: mail.imap_security
mailbox = "Done"
processed_mailbox = "Done"    # want: mail.processed_mailbox
smtp = "smtp.example.org"     # want: mail.smtp, mail.from
smtp_security = "ssl"         # want: mail.smtp_security
list = "List <l@example.org>" # want: mail.list
`,
		msgs: []string{
			`"none" is only allowed to a loopback host (127.0.0.1, ::1, localhost), as it sends the password and the mail in clear; use "starttls" or "tls" for imap.example.org`,
			`must be "none" (loopback only), "starttls" or "tls" (got "ssl")`,
			"or handled mail would be handled again",
			`must be host:port, e.g. smtp = "smtp.example.org:465" (got "smtp.example.org")`,
		},
	}, {
		name: "mail none on loopback is fine",
		src: `[irc]
server = "irc.libera.chat"
[mail]
smtp = "[::1]:25"
smtp_security = "none"
from = "bot@localhost"
imap = "localhost:143"
imap_security = "none"
imap_user = "bot"
imap_password_file = "pw"
list = "nope"                 # want: mail.list
`,
		msgs: []string{`must be a plain mail address like "organizers@example.org" (got "nope")`},
	}, {
		name: "event keys",
		src: `[irc]
server = "irc.libera.chat"

[[event]]                     # want: event[0].name, event[0].timezone, event[0].organizers
slug = "Open Infra"           # want: event[0].slug
channel = "openinfra"         # want: event[0].channel
registration_capacity = -1    # want: event[0].registration_capacity
votes_per_person = 0          # want: event[0].votes_per_person
board_filling = 90            # want: event[0].board_filling
board_full = 80
organizer_emails = ["a@b", "Bob <bob@example.org>"] # want: event[0].organizer_emails[1]

[[event]]                     # want: event[1].slug, event[1].channel
name = "Two"
timezone = "Mars/Olympus"     # want: event[1].timezone
organizers = ["ok", "", "two words", "OK"] # want: event[1].organizers[1], event[1].organizers[2], event[1].organizers[3]
`,
		msgs: []string{
			`unknown timezone "Mars/Olympus"; use an IANA name`,
			`must be lowercase letters, digits and single dashes, like "openinfra-day-2027" (got "Open Infra")`,
			`must be an IRC channel: "#" or "&" then a name`,
			`"OK" is listed twice`,
			"must be 0 (no limit) or a positive number of places (got -1)",
		},
	}, {
		name: "organizers of every kind",
		src: `[irc]
server = "irc.libera.chat"
[[event]]
slug = "ev"
name = "Ev"
timezone = "UTC"
channel = "#ev"
organizers = ["alice", "@alice:example.org", "Alice@Example.org", "@bob", "@:x", "bob@", "ALICE", "@Alice:example.org", "alice@example.org"] # want: event[0].organizers[3], event[0].organizers[4], event[0].organizers[5], event[0].organizers[6], event[0].organizers[8]
`,
		msgs: []string{
			`"@bob" is not a Matrix user ID: write @localpart:server, e.g. "@alice:example.org"`,
			`"bob@" is not a mail address: write name@domain, e.g. "alice@example.org"`,
			`"ALICE" is listed twice`,
			`"alice@example.org" is listed twice`,
		},
	}, {
		name: "rooms on every transport",
		src: `[irc]
server = "irc.libera.chat"
[matrix]
homeserver = "https://matrix.example.org"
user_id = "@hallway:example.org"
access_token_env = "HALLWAY_MATRIX_TOKEN"
[[event]]
slug = "ev"
name = "Ev"
timezone = "UTC"
channel = "#ev"
organizers = ["alice"]
channels = ["#ev-hallway", "irc:#ev-more", "matrix:!abc:example.org", "matrix:#ev:example.org", "ev", "matrix:ev", "xmpp:ev@muc.example.org", "#EV", "irc:#ev-hallway"] # want: event[0].channels[4], event[0].channels[5], event[0].channels[6], event[0].channels[7], event[0].channels[8]
`,
		msgs: []string{
			`"ev" is not an IRC channel: write an IRC channel ("#openinfra" or "irc:#openinfra") or a Matrix room ("matrix:!roomid:example.org" or "matrix:#alias:example.org")`,
			`"matrix:ev" is not a Matrix room`,
			`"xmpp:ev@muc.example.org" is on no transport hallway knows ("xmpp")`,
			`"#EV" is listed twice (channel counts too)`,
			`"irc:#ev-hallway" is listed twice`,
		},
	}, {
		name: "privacy and code of conduct",
		src: minimalEvent("UTC") + `retention = "12h"           # want: event[0].retention
coc_url = "example.org/conduct" # want: event[0].coc_url
coc_team = ["alice", "@Bob:example.org", "conduct@example.org", "two words", "", "Conduct <c@example.org>", "alice"] # want: event[0].coc_team[1], event[0].coc_team[3], event[0].coc_team[4], event[0].coc_team[5], event[0].coc_team[6]
`,
		msgs: []string{
			`must be at least "1d" (got "12h")`,
			`must be an absolute http or https URL like "https://example.org/conduct" (got "example.org/conduct")`,
			`must be a Matrix ID like "@alice:example.org", in lower case (got "@Bob:example.org")`,
			`must be an IRC services account ("alice"), a Matrix ID ("@alice:example.org") or a mail address, one per entry (got "two words")`,
			`"alice" is listed twice`,
		},
	}, {
		name: "retention not a duration",
		src: minimalEvent("UTC") + `retention = "soon"             # want: event[0].retention
`,
		msgs: []string{`must be a positive duration such as "14d", "48h" or "90m" (got "soon")`},
	}, {
		name: "matrix room without matrix",
		src: minimalEvent("UTC") + `channels = ["matrix:!abc:example.org"] # want: event[0].channels[0]
`,
		msgs: []string{`"matrix:!abc:example.org" is a Matrix room, but hallway has no Matrix account: add a [matrix] table`},
	}, {
		name: "matrix account",
		src: `[matrix]
homeserver = "http://matrix.example.org" # want: matrix.homeserver, matrix.access_token_env
user_id = "hallway"                       # want: matrix.user_id
` + minimalEvent("UTC"),
		msgs: []string{
			"must be https unless the homeserver is on this machine",
			`must be the bot's Matrix user ID, @localpart:server, e.g. user_id = "@hallway:example.org" (got "hallway")`,
			`matrix.access_token_env": is required because matrix.homeserver is set: name the environment variable holding the access token, e.g. access_token_env = "HALLWAY_MATRIX_TOKEN"`,
		},
	}, {
		name: "matrix without homeserver",
		src: `[matrix] # want: matrix.homeserver
user_id = "@hallway:example.org"
` + minimalEvent("UTC"),
		msgs: []string{`is required to use Matrix: the homeserver's URL`},
	}, {
		name: "matrix bad homeserver",
		src: `[matrix]
homeserver = "matrix.example.org" # want: matrix.homeserver
user_id = "@hallway:example.org"
access_token_file = "token"
` + minimalEvent("UTC"),
		msgs: []string{`must be an http or https URL like "https://matrix.example.org" (got "matrix.example.org")`},
	}, {
		name: "event as a single table",
		src: `[irc]
server = "irc.libera.chat"
[event]                       # want: event
slug = "x"
`,
		msgs: []string{"must be an array of tables: write [[event]] with double brackets"},
	}, {
		name: "duplicates",
		src: minimalEvent("UTC") + `
[[event.room]]
name = "A"
[[event.room]]
name = "A"                    # want: event[0].room[1].name
capacity = -3                 # want: event[0].room[1].capacity
[[event.campaign]]
slug = "c"
title = "C"
goal = "10h"
[[event.campaign]]
slug = "c"                    # want: event[0].campaign[1].slug
title = "C2"
goal = "10h"
[[event.day]]
date = "2027-03-04"
[[event.day]]
date = 2027-03-04             # want: event[0].day[1].date

[[event]]
slug = "ev"                   # want: event[1].slug
name = "Again"
timezone = "UTC"
channel = "#ev"
organizers = ["a"]
`,
		msgs: []string{
			`"ev" is already the slug of event[0]`,
			`"A" is already room[0]`,
			`"c" is already campaign[0]`,
			"2027-03-04 is already day[0]",
			"must be 0 (unknown) or a positive number of seats (got -3)",
		},
	}, {
		name: "slots",
		src: minimalEvent("UTC") + `
[[event.room]]
name = "A"
[[event.room]]
name = "B"
[[event.day]]
date = "2027-03-04"
slots = [
  { start = "09:00", minutes = 60, kind = "talk", rooms = ["A", "B"] },
  { start = "09:30", minutes = 30, kind = "session", rooms = ["B"] }, # want: event[0].day[0].slots[1]
  { start = "10:00", minutes = 30, kind = "talk", rooms = ["A"] },
  { start = "10:00", minutes = 30, kind = "break" },
  { start = "11:00", minutes = 0, kind = "talk", rooms = ["A"] }, # want: event[0].day[0].slots[4].minutes
  { start = "11:00", minutes = 10, kind = "lunch" }, # want: event[0].day[0].slots[5].kind
  { start = "12:00", minutes = 10, kind = "talk" }, # want: event[0].day[0].slots[6].rooms
  { start = "13:00", minutes = 10, kind = "talk", rooms = ["C", "A", "A"] }, # want: event[0].day[0].slots[7].rooms[0], event[0].day[0].slots[7].rooms[2]
  { start = "25:00", minutes = 10, kind = "break", room = ["A"] }, # want: event[0].day[0].slots[8].start, event[0].day[0].slots[8].room
  { minutes = 10 }, # want: event[0].day[0].slots[9].start, event[0].day[0].slots[9].kind
  "lunch", # want: event[0].day[0].slots[10]
]
[[event.day]]                 # want: event[0].day[1].date
`,
		msgs: []string{
			`overlaps slots[0] (09:00–10:00) in room "B"; start it at 10:00 or later, or shorten slots[0]`,
			`must be "talk", "session", "break" or "plenary" (got "lunch")`,
			`unknown room "C"; the event's rooms are "A", "B" (add an [[event.room]] for a new one)`,
			`room "A" is listed twice`,
			`is not a time of day (got "25:00")`,
			`did you mean "rooms"?`,
			`must be a table, e.g. { start = "09:00"`,
			`is required for a talk slot: the rooms it takes place in, e.g. rooms = ["A"]`,
		},
	}, {
		name: "phases and times",
		src: minimalEvent("America/Los_Angeles") + `
[event.phases]
cfp = { open = "2027-02-10T00:00", close = "2027-01-10T00:00" } # want: event[0].phases.cfp.close
voting = { open = "2027-03-04", close = "noon" } # want: event[0].phases.voting.open, event[0].phases.voting.close
registration = { open = 2027-03-14T02:30:00 } # want: event[0].phases.registration.open
vote = { open = "2027-03-04T11:00" } # want: event[0].phases.vote
[[event.campaign]]            # want: event[0].campaign[0].goal
slug = "c"
title = "C"
closes = 2027-04-30           # want: event[0].campaign[0].closes
[[event.campaign]]
slug = "d"
title = "D"
goal = "3000 dollars"         # want: event[0].campaign[1].goal
[[event.day]]
date = "March 4th"            # want: event[0].day[0].date
`,
		msgs: []string{
			"must be after open (2027-02-10T00:00:00-08:00), but is 2027-01-10T00:00:00-08:00",
			`needs a time of day as well as the date: write "2027-03-04T00:00" for the start of the day`,
			`is not a date and time (got "noon")`,
			"2027-03-14T02:30 does not exist in America/Los_Angeles",
			"unknown phase; the phases are cfp, registration, voting",
			"is required: write an amount",
			`write the currency as its ISO 4217 code: 3000 USD, not dollars`,
			`must be a date like "2027-03-04" (got "March 4th")`,
			"needs a time of day as well as the date",
		},
	}, {
		name: "exchange rates and holds",
		src: minimalEvent("UTC") + `registration_day_hold = "soon" # want: event[0].registration_day_hold
[[event.exchange_rate]]
from = "EUR"
to = "USD"
rate = 1.08                   # want: event[0].exchange_rate[0].rate
date = "2026-11-30"
[[event.exchange_rate]]
from = "euro"                 # want: event[0].exchange_rate[1].from
to = "USD"
rate = "1.08"
date = "yesterday"            # want: event[0].exchange_rate[1].date
[[event.exchange_rate]]
from = "GBP"
to = "GBP"                    # want: event[0].exchange_rate[2].to
rate = "1"
date = "2026-11-30"
[[event.exchange_rate]]       # want: event[0].exchange_rate[3].date
from = "CHF"
to = "USD"
rate = "1,13"                 # want: event[0].exchange_rate[3].rate
[[event.exchange_rate]]
from = "JPY"
to = "USD"
rate = "0.0067"
date = "2026-11-29"
[[event.exchange_rate]]
from = "JPY"                  # want: event[0].exchange_rate[5].from
to = "USD"
rate = "0.0068"
date = "2026-11-30"
`,
		msgs: []string{
			`must be a positive duration such as "14d", "48h" or "90m" (got "soon")`,
			`must be quoted, rate = "1.08", so that it is read exactly (a bare number is a binary float)`,
			`must be an ISO 4217 currency code like "EUR" or "USD" (got "euro")`,
			`must be a date like "2027-03-04" (got "yesterday")`,
			`must differ from from (both are "GBP")`,
			`"1,13" is not a rate: write a decimal number with a point, like "1.08"`,
			`is required: the day the rate was taken, e.g. date = "2026-11-30"; it is shown with every total it converts`,
			`JPY to USD already has a rate, exchange_rate[4]: keep one (the latest), so every total says which rate it used`,
		},
	}, {
		name: "wrong shapes",
		src: minimalEvent("UTC") + `phases = "all"                # want: event[0].phases
room = ["A"]                  # want: event[0].room[0]
[[event.day]]
date = "2027-01-01"
slots = { start = "09:00" }   # want: event[0].day[0].slots
`,
		msgs: []string{"must be a table: write [event.phases]", "write [[event.day.slots]] with double brackets"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.toml", []byte(tc.src))
			if err == nil {
				t.Fatalf("no error for\n%s", tc.src)
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, want Errors: %v", err, err)
			}
			got := map[string]bool{}
			for _, e := range errs {
				got[e.Error()] = true
			}
			for n, line := range strings.Split(tc.src, "\n") {
				_, spec, ok := strings.Cut(line, "# want: ")
				if !ok {
					continue
				}
				for _, key := range strings.Split(spec, ",") {
					key = strings.TrimSpace(key)
					prefix := "bad.toml:" + strconv.Itoa(n+1) + ": "
					if key != "-" {
						prefix += `key "` + key + `": `
					}
					found := false
					for e := range got {
						if strings.HasPrefix(e, prefix) {
							delete(got, e)
							found = true
							break
						}
					}
					if !found {
						t.Errorf("no error %q...", prefix)
					}
				}
			}
			for e := range got {
				t.Errorf("unwanted error: %s", e)
			}
			for _, m := range tc.msgs {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("errors lack %q", m)
				}
			}
			if t.Failed() || testing.Verbose() {
				t.Logf("all errors:\n%v", err)
			}
		})
	}
}

// TestPrint compares Print's output for each testdata/*.toml with its
// .golden file; run with -update to rewrite them.
func TestPrint(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.toml")
	if len(files) == 0 {
		t.Fatal("no testdata/*.toml")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c := loadTestdata(t, f)
			var b bytes.Buffer
			c.Print(&b)
			golden := strings.TrimSuffix(f, ".toml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("Print output differs from %s (run go test -update if the change is right):\n%s", golden, b.String())
			}
		})
	}
}

// TestPrintRoundTrip checks that Print's output is a config meaning the
// same: loading it and printing again gives the same text, but for the
// "default" notes (the values are explicit now).
func TestPrintRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.toml")
	examples, _ := filepath.Glob(filepath.Join(examplesDir, "*.toml"))
	for _, f := range append(files, examples...) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c := loadTestdata(t, f)
			var first bytes.Buffer
			c.Print(&first)
			// Paths in the output are already resolved; read it from the
			// current directory so they stay as they are.
			c2, err := Parse("printed.toml", first.Bytes())
			if err != nil {
				t.Fatalf("Print output does not load:\n%v\n%s", err, first.String())
			}
			c2.File = c.File
			c2.ResolveSecrets(testEnv)
			var second bytes.Buffer
			c2.Print(&second)
			noDefaults := regexp.MustCompile(`  # default(; )?`)
			want := noDefaults.ReplaceAllStringFunc(first.String(), func(m string) string {
				if strings.HasSuffix(m, "; ") {
					return "  # "
				}
				return ""
			})
			if second.String() != want {
				t.Errorf("printed config reloads differently:\n%s\nwant\n%s", second.String(), want)
			}
		})
	}
}

func testEnv(k string) string {
	if k == "HALLWAY_IMAP_PASSWORD" {
		return "imap-secret"
	}
	return ""
}

// loadTestdata parses a config under its relative name, so that the
// golden files don't depend on where the repository is, and resolves its
// secrets with testEnv.
func loadTestdata(t *testing.T, f string) *Config {
	t.Helper()
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(filepath.ToSlash(f), data)
	if err != nil {
		t.Fatal(err)
	}
	c.ResolveSecrets(testEnv) // missing secrets show in the output
	return c
}

func TestLineIndex(t *testing.T) {
	src := `# comment [not.a.table]
a = """
multi [line]
""" # 2
b.c = { d = 1, "e f" = [1,
  2] } # 5
'g' = '''x
y''' # 7
[[t]]   # 9
[t.u]   # 10
v = 1   # 11
[[t]]   # 12
[[t.w]] # 13
x = [ { y = 1 }, # 14
  { y = 2 } ]  # 15
"q.r" = "\"" # 16
z = "a#b" # 17
`
	ix := indexLines(src)
	for key, want := range map[string]int{
		"a": 2, "b": 5, "b.c": 5, "b.c.d": 5, "b.c.e f": 5, "b.c.e f[1]": 6, "g": 7,
		"t": 9, "t[0]": 9, "t[0].u": 10, "t[0].u.v": 11, "t[1]": 12, "t[1].w[0]": 13,
		"t[1].w[0].x[0].y": 14, "t[1].w[0].x[1]": 15, "t[1].w[0].x[1].y": 15, "t[1].w[0].q.r": 16, "t[1].w[0].z": 17,
	} {
		if got := ix[key]; got != want {
			t.Errorf("line of %q = %d, want %d", key, got, want)
		}
	}
	if got := ix.find("t[1].w[0].missing"); got != 13 {
		t.Errorf("find of a missing key = %d, want its table's line 13", got)
	}
}

// FuzzParse: no input may panic, and a config that loads must print to a
// config that loads.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{filepath.Join(examplesDir, "*.toml"), "testdata/*.toml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte(minimalEvent("Europe/Brussels") + "[event.phases]\nvoting = { open = 2027-01-01T00:00 }\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.toml", data)
		if err != nil {
			if err.Error() == "" {
				t.Error("empty error")
			}
			return
		}
		c.ResolveSecrets(func(string) string { return "x" })
		var b bytes.Buffer
		c.Print(&b)
		if _, err := Parse("printed.toml", b.Bytes()); err != nil {
			t.Errorf("printed config does not load: %v\n%s", err, b.String())
		}
		c.Print(io.Discard)
	})
}

// TestStoreURL: a PostgreSQL URL replaces the SQLite path; the journal
// goes next to the config, and the printed config hides the password.
func TestStoreURL(t *testing.T) {
	c, err := Parse(filepath.Join("dir", "hallway.toml"), []byte(`[store]
url = "postgres://hallway:s3cret@db.example.org/hallway"
`+minimalEvent("UTC")))
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.Path != "" || c.Store.Source() != "postgres://hallway:s3cret@db.example.org/hallway" || c.Store.Journal != filepath.Join("dir", "hallway-sent") {
		t.Errorf("store = %+v", c.Store)
	}
	var b strings.Builder
	c.Print(&b)
	if strings.Contains(b.String(), "s3cret") || !strings.Contains(b.String(), `url = "postgres://hallway:xxxxx@db.example.org/hallway"`) {
		t.Errorf("printed:\n%s", b.String())
	}
}
