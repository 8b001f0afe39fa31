package config

import (
	"fmt"
	"math"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hallwayhq/hallway/bot"
)

// validate checks what decoding alone cannot: required keys, formats,
// ranges, and keys that must agree with each other. Keys with type errors
// were already reported and hold zero values; checks skip those where a
// second message about the same key would only be noise.
func (d *decoder) validate(c *Config) {
	switch {
	case c.Store.URL != "" && c.Store.Path != "":
		d.errorf("store.url", `and store.path are both set: hallway keeps its state in one database; keep url for PostgreSQL, or path for a SQLite file`)
	case c.Store.URL != "":
		if u, err := url.Parse(c.Store.URL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" && u.Query().Get("host") == "" {
			d.errorf("store.url", `must be a PostgreSQL URL like "postgres://hallway@db.example.org/hallway" (for a SQLite file, use path)`)
		}
	case c.Store.Path == "":
		d.errorf("store.path", `must not be empty; leave the key out to use the default "hallway.db" next to the config`)
	}
	if c.Store.LeaseTTL != 0 && c.Store.LeaseTTL < time.Second {
		d.errorf("store.lease_ttl", `must be at least "1s": the leader renews every third of it (got %q)`, c.Store.LeaseTTL)
	}
	if strings.ContainsAny(c.Store.Instance, "\r\n") {
		d.errorf("store.instance", "must be one line (got %q)", c.Store.Instance)
	}
	// Port 0 listens on a free port: tests run several hallways at once.
	d.hostPort("web.listen", c.Web.Listen, `listen = "127.0.0.1:8080"`, 0)
	// A base_url made from a bad listen is reported as the listen's fault.
	if u, err := url.Parse(c.Web.BaseURL); !d.defaults["web.base_url"] && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		d.errorf("web.base_url", `must be an absolute http or https URL like "https://hallway.example.org" (got %q)`, c.Web.BaseURL)
	}
	d.validateIRC(&c.IRC)
	d.validateMail(&c.Mail)
	d.validateMatrix(&c.Matrix)
	d.matrixOn = c.Matrix.Homeserver != ""
	for _, r := range c.secretRefs() {
		d.secretKeys(r)
	}

	slugs := map[string]int{}
	for i := range c.Events {
		e := &c.Events[i]
		p := indexKey("event", i)
		d.validateEvent(p, e)
		if e.Slug != "" {
			if j, dup := slugs[e.Slug]; dup {
				d.errorf(p+".slug", "%q is already the slug of event[%d]; each event needs its own", e.Slug, j)
			} else {
				slugs[e.Slug] = i
			}
		}
	}
}

func (d *decoder) validateIRC(irc *IRC) {
	switch {
	case irc.Server == "":
		d.errorf("irc.server", `is required: the IRC server to connect to, e.g. server = "irc.libera.chat"`)
	case strings.ContainsAny(irc.Server, " \t/"):
		d.errorf("irc.server", "must be a host name or address (got %q)", irc.Server)
	default:
		if _, port, err := net.SplitHostPort(irc.Server); err == nil {
			d.errorf("irc.server", "must be the host alone; give the port as port = %s", port)
		}
	}
	if irc.Port < 1 || irc.Port > 65535 {
		d.errorf("irc.port", "must be a port number from 1 to 65535 (got %d); leave it out for 6697 with TLS or 6667 without", irc.Port)
	}
	if !validNick(irc.Nick) {
		d.errorf("irc.nick", `must be a valid IRC nick: a letter or one of []\`+"`"+`_^{|} first, then letters, digits, those or "-", at most 30 (got %q)`, irc.Nick)
	}
	if strings.ContainsFunc(irc.SASLUser, unicode.IsSpace) {
		d.errorf("irc.sasl_user", "must be a services account name, without spaces (got %q)", irc.SASLUser)
	}
	if irc.SASLUser != "" && !irc.TLS && !isLoopback(irc.Server) {
		d.errorf("irc.tls", "must be true when sasl_user is set and the server is not on this machine: without TLS the bot's password goes over the network in clear")
	}
	if n := utf8.RuneCountInString(irc.Prefix); n == 0 || n > 5 || strings.ContainsFunc(irc.Prefix, unicode.IsSpace) || !utf8.ValidString(irc.Prefix) {
		d.errorf("irc.prefix", `must be a short command prefix without spaces, like "!" or "hw!" (got %q)`, irc.Prefix)
	}
	if irc.SendBurst < 1 {
		d.errorf("irc.send_burst", "must be at least 1 line (got %d); leave it out for the default 4", irc.SendBurst)
	}
	if !(irc.SendRate > 0) || math.IsInf(irc.SendRate, 0) {
		d.errorf("irc.send_rate", "must be a positive number of lines per second, like 1.0 or 0.5 (got %v)", irc.SendRate)
	}
	for i, ch := range irc.Channels {
		d.channel(indexKey("irc.channels", i), ch)
	}
}

func (d *decoder) validateMatrix(m *Matrix) {
	if m.Homeserver == "" {
		if m.UserID != "" || m.AccessTokenEnv != "" || m.AccessTokenFile != "" {
			d.errorf("matrix.homeserver", `is required to use Matrix: the homeserver's URL, e.g. homeserver = "https://matrix.example.org" (leave out [matrix] for no Matrix)`)
		}
		return
	}
	u, err := url.Parse(m.Homeserver)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "":
		d.errorf("matrix.homeserver", `must be an http or https URL like "https://matrix.example.org" (got %q)`, m.Homeserver)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		d.errorf("matrix.homeserver", `must be https unless the homeserver is on this machine: over http the access token goes over the network in clear (got %q)`, m.Homeserver)
	}
	if id, err := bot.ParseIdentity(m.UserID); m.UserID == "" || err != nil || id.Kind != bot.MatrixUser {
		d.errorf("matrix.user_id", `must be the bot's Matrix user ID, @localpart:server, e.g. user_id = "@hallway:example.org" (got %q)`, m.UserID)
	}
	if m.SendBurst < 1 {
		d.errorf("matrix.send_burst", "must be at least 1 message (got %d); leave it out for the default 10", m.SendBurst)
	}
	if !(m.SendRate > 0) || math.IsInf(m.SendRate, 0) {
		d.errorf("matrix.send_rate", "must be a positive number of messages per second in a room, like 1.0 or 0.5 (got %v)", m.SendRate)
	}
}

func (d *decoder) validateMail(m *Mail) {
	if m.IMAP != "" {
		d.hostPort("mail.imap", m.IMAP, `imap = "imap.example.org:993"`, 1)
		if m.IMAPUser == "" {
			d.errorAt("mail.imap", "mail.imap_user", "is required with imap: the account hallway reads mail as")
		}
	}
	d.security("mail.imap_security", m.IMAPSecurity, m.IMAP)
	if m.SMTP != "" {
		d.hostPort("mail.smtp", m.SMTP, `smtp = "smtp.example.org:465"`, 1)
		if m.From == "" {
			d.errorAt("mail.smtp", "mail.from", `is required with smtp: the From of hallway's mail, e.g. from = "Hallway <bot@example.org>"`)
		}
	}
	d.security("mail.smtp_security", m.SMTPSecurity, m.SMTP)
	if m.Mailbox == "" {
		d.errorf("mail.mailbox", `must not be empty; leave it out for "INBOX"`)
	}
	switch {
	case m.ProcessedMailbox == "":
		d.errorf("mail.processed_mailbox", `must not be empty; leave it out for "Processed"`)
	case m.ProcessedMailbox == m.Mailbox:
		d.errorf("mail.processed_mailbox", "must differ from mailbox %q, or handled mail would be handled again", m.Mailbox)
	}
	switch m.QuarantineMailbox {
	case "":
		d.errorf("mail.quarantine_mailbox", `must not be empty; leave it out for "Quarantine"`)
	case m.Mailbox, m.ProcessedMailbox:
		d.errorf("mail.quarantine_mailbox", "must differ from mailbox %q and processed_mailbox %q: it holds the mail that failed", m.Mailbox, m.ProcessedMailbox)
	}
	if m.AnswersPerDay < 1 {
		d.errorf("mail.answers_per_day", "must be at least 1 (got %d): the mails answered to one address a day, 10 by default", m.AnswersPerDay)
	}
	if m.From != "" {
		if _, err := mail.ParseAddress(m.From); err != nil {
			d.errorf("mail.from", `must be a mail address like "Open Infra Day <bot@example.org>" (got %q)`, m.From)
		}
	}
	if m.List != "" {
		d.bareAddress("mail.list", m.List)
		if m.SMTP == "" {
			d.errorAt("mail.list", "mail.smtp", `is required to send to the list; set smtp = "host:port"`)
		}
	}
}

// security checks a mail connection's security against its server.
func (d *decoder) security(key string, s Security, hostport string) {
	switch s {
	case SecurityStartTLS, SecurityTLS:
	case SecurityNone:
		host, _, err := net.SplitHostPort(hostport)
		if hostport != "" && err == nil && !isLoopback(host) {
			d.errorf(key, `"none" is only allowed to a loopback host (127.0.0.1, ::1, localhost), as it sends the password and the mail in clear; use "starttls" or "tls" for %s`, host)
		}
	default:
		d.errorf(key, `must be "none" (loopback only), "starttls" or "tls" (got %q)`, string(s))
	}
}

// secretKeys checks that a needed secret is named, and named sensibly.
func (d *decoder) secretKeys(r secretRef) {
	if r.env != "" && !envName.MatchString(r.env) {
		d.errorf(r.name+"_env", "must be the name of an environment variable (letters, digits and _, like HALLWAY_IRC_PASSWORD), not the secret itself")
	}
	if r.neededBy != "" && r.env == "" && r.file == "" {
		d.errorAt(r.neededBy, r.name+"_env", "is required because %s is set: name the environment variable holding the %s, e.g. %s_env = %q (or a file with %s_file)",
			r.neededBy, secretWhat(r.name), lastKey(r.name), exampleEnv[r.name], lastKey(r.name))
	}
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func lastKey(k string) string {
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		return k[i+1:]
	}
	return k
}

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func (d *decoder) slug(key, s, example string) {
	switch {
	case s == "":
		d.errorf(key, "is required: lowercase letters, digits and dashes, e.g. slug = %q", example)
	case !slugRE.MatchString(s):
		d.errorf(key, "must be lowercase letters, digits and single dashes, like %q (got %q)", example, s)
	case strings.HasPrefix(key, "event[") && !strings.Contains(key, "campaign") && (s == "healthz" || s == "metrics"):
		// An event's slug is the first part of its web address.
		d.errorf(key, "%q is taken by the web server's /%s: pick another slug", s, s)
	}
}

func (d *decoder) validateEvent(p string, e *Event) {
	d.slug(p+".slug", e.Slug, "openinfra-day-2027")
	if strings.TrimSpace(e.Name) == "" {
		d.errorf(p+".name", `is required: the event's full name, e.g. name = "Open Source Infrastructure Day 2027"`)
	}
	if e.Timezone == "" {
		d.errorf(p+".timezone", `is required: the IANA timezone the event runs in, e.g. timezone = "America/Los_Angeles"; times without an offset are read in it`)
	}
	if e.Channel == "" {
		d.errorf(p+".channel", `is required: the IRC channel of the event, e.g. channel = "#openinfra"`)
	} else {
		d.channel(p+".channel", e.Channel)
	}
	// IRC channels compare case-folded, Matrix rooms exactly.
	roomKey := func(r bot.ChatRoom) string {
		if r.Transport == bot.IRC {
			return strings.ToLower(r.Name)
		}
		return r.String()
	}
	chatRooms := map[string]bool{}
	if r, err := bot.ParseChatRoom(e.Channel); err == nil {
		chatRooms[roomKey(r)] = true
	}
	for i, s := range e.Channels {
		k := indexKey(p+".channels", i)
		r, err := bot.ParseChatRoom(s)
		switch {
		case err != nil:
			d.errorf(k, "%v", err)
		case chatRooms[roomKey(r)]:
			d.errorf(k, "%q is listed twice (channel counts too)", s)
		case r.Transport == bot.Matrix && !d.matrixOn:
			d.errorf(k, `%q is a Matrix room, but hallway has no Matrix account: add a [matrix] table with homeserver, user_id and access_token_env`, s)
		}
		if err == nil {
			chatRooms[roomKey(r)] = true
		}
	}
	if len(e.Organizers) == 0 {
		d.errorf(p+".organizers", `needs at least one organizer, e.g. organizers = ["alice"] (an IRC services account), "@alice:example.org" (a Matrix user) or "alice@example.org" (an address); only organizers can open and close phases`)
	}
	seen := map[bot.Identity]bool{}
	for i, o := range e.Organizers {
		k := indexKey(p+".organizers", i)
		id, err := bot.ParseIdentity(o)
		switch {
		case strings.TrimSpace(o) == "":
			d.errorf(k, "must not be empty: write the organizer's services account name, Matrix ID or address")
		case strings.ContainsFunc(o, unicode.IsSpace):
			d.errorf(k, "must be a services account name, Matrix ID or address, without spaces (got %q)", o)
		case err != nil:
			d.errorf(k, "%v", err)
		case seen[id]:
			d.errorf(k, "%q is listed twice", o)
		}
		seen[id] = true
	}
	for i, a := range e.OrganizerEmails {
		d.bareAddress(indexKey(p+".organizer_emails", i), a)
	}
	if e.RegistrationCapacity < 0 {
		d.errorf(p+".registration_capacity", "must be 0 (no limit) or a positive number of places (got %d)", e.RegistrationCapacity)
	}
	if e.VotesPerPerson < 1 {
		d.errorf(p+".votes_per_person", "must be at least 1 (got %d); leave it out for the default 4", e.VotesPerPerson)
	}
	if e.BoardFilling < 1 || e.BoardFull < 1 || e.BoardFilling >= e.BoardFull || e.BoardFull > 1000 {
		d.errorf(p+".board_filling", "and board_full must be percentages of a room's capacity with 1 <= board_filling < board_full <= 1000 (got %d and %d); leave them out for 75 and 100", e.BoardFilling, e.BoardFull)
	}
	if e.RetimeWeight < 0 {
		d.errorf(p+".retime_weight", "must be 0 (move freely) or more (got %d): what a new schedule version pays per person for moving an item to another time, 1 by default", e.RetimeWeight)
	}
	if e.FreezeBefore < 0 {
		d.errorf(p+".freeze_before", `must not be negative (got %s): how close to its start an item is no longer moved, e.g. "2h"`, e.FreezeBefore)
	}
	if e.Retention > 0 && e.Retention < 24*time.Hour {
		d.errorf(p+".retention", `must be at least "1d" (got %q): how long after the event's end personal data is kept, "90d" by default`, shortDuration(e.Retention))
	}
	d.validateCoc(p, e)
	if e.PledgeReminders < 0 {
		d.errorf(p+".pledge_reminders", "must be 0 (no reminders) or more (got %d)", e.PledgeReminders)
	}
	for _, name := range phaseNames {
		ph := e.Phases[name]
		k := p + ".phases." + name
		if !ph.Open.IsZero() && !ph.Close.IsZero() && !ph.Open.Before(ph.Close) {
			d.errorf(k+".close", "must be after open (%s), but is %s", ph.Open.Format(time.RFC3339), ph.Close.Format(time.RFC3339))
		}
	}

	rooms := map[string]int{}
	for i, r := range e.Rooms {
		k := indexKey(p+".room", i)
		switch name := r.Name; {
		case strings.TrimSpace(name) == "":
			d.errorf(k+".name", `is required, e.g. name = "Room 104"`)
		case rooms[name] > 0:
			d.errorf(k+".name", "%q is already room[%d]; room names must differ", r.Name, rooms[name]-1)
		default:
			rooms[name] = i + 1
		}
		if r.Capacity < 0 {
			d.errorf(k+".capacity", "must be 0 (unknown) or a positive number of seats (got %d)", r.Capacity)
		}
		if r.Channel != "" {
			d.channel(k+".channel", r.Channel)
		}
	}

	dates := map[time.Time]int{}
	for i := range e.Days {
		k := indexKey(p+".day", i)
		day := &e.Days[i]
		if day.Date.IsZero() {
			if !d.reported(k + ".date") {
				d.errorf(k+".date", `is required, e.g. date = "2027-03-04"`)
			}
		} else if j, dup := dates[day.Date]; dup {
			d.errorf(k+".date", "%s is already day[%d]; put all of a day's slots in one [[event.day]]", day.Date.Format(time.DateOnly), j)
		} else {
			dates[day.Date] = i
		}
		d.validateSlots(k, day, e, rooms)
	}

	campaigns := map[string]int{}
	for i, c := range e.Campaigns {
		k := indexKey(p+".campaign", i)
		d.slug(k+".slug", c.Slug, "ci-macs")
		if j, dup := campaigns[c.Slug]; dup && c.Slug != "" {
			d.errorf(k+".slug", "%q is already campaign[%d]; campaign slugs must differ", c.Slug, j)
		} else {
			campaigns[c.Slug] = i
		}
		if strings.TrimSpace(c.Title) == "" {
			d.errorf(k+".title", `is required, e.g. title = "Macs for CI testing"`)
		}
		if c.Goal.Raw == "" && !d.reported(k+".goal") {
			d.errorf(k+".goal", `is required: %s`, goalHint)
		}
	}
}

func (d *decoder) validateSlots(dayKey string, day *Day, e *Event, rooms map[string]int) {
	type use struct {
		slot       int
		start, end time.Time
	}
	byRoom := map[string][]use{}
	for i, s := range day.Slots {
		k := indexKey(dayKey+".slots", i)
		if s.Start.IsZero() && !d.reported(k+".start") && !day.Date.IsZero() {
			d.errorf(k+".start", `is required: the time of day the slot starts, e.g. start = "09:00"`)
		}
		if (s.Minutes < 1 || s.Minutes > 24*60) && !d.reported(k+".minutes") {
			d.errorf(k+".minutes", "must be a number of minutes from 1 to 1440, e.g. minutes = 40 (got %d)", s.Minutes)
		}
		switch s.Kind {
		case SlotTalk, SlotSession, SlotPlenary:
			if len(s.Rooms) == 0 && !d.reported(k+".rooms") {
				d.errorf(k+".rooms", `is required for a %s slot: the rooms it takes place in, e.g. rooms = ["%s"]`, s.Kind, firstRoom(e))
			}
		case SlotBreak:
		case "":
			if !d.reported(k + ".kind") {
				d.errorf(k+".kind", `is required: "talk", "session", "break" or "plenary"`)
			}
		default:
			d.errorf(k+".kind", `must be "talk", "session", "break" or "plenary" (got %q)`, string(s.Kind))
		}
		inSlot := map[string]bool{}
		for j, r := range s.Rooms {
			rk := indexKey(k+".rooms", j)
			switch {
			case rooms[r] == 0:
				d.errorf(rk, "unknown room %q; %s", r, roomHint(e, r))
				continue
			case inSlot[r]:
				d.errorf(rk, "room %q is listed twice", r)
				continue
			}
			inSlot[r] = true
			if !s.Start.IsZero() && s.Minutes > 0 {
				byRoom[r] = append(byRoom[r], use{i, s.Start, s.End()})
			}
		}
	}
	// Two slots in one room at once: sort each room's slots by start and
	// compare each with the latest-ending one before it.
	for _, name := range e.roomNames() {
		uses := byRoom[name]
		slices.SortStableFunc(uses, func(a, b use) int { return a.start.Compare(b.start) })
		var latest use // the slot ending last among those before
		for i, cur := range uses {
			if i > 0 && cur.start.Before(latest.end) {
				d.errorf(indexKey(dayKey+".slots", cur.slot), "overlaps slots[%d] (%s–%s) in room %q; start it at %s or later, or shorten slots[%d]",
					latest.slot, latest.start.Format("15:04"), latest.end.Format("15:04"), name, latest.end.Format("15:04"), latest.slot)
			}
			if i == 0 || cur.end.After(latest.end) {
				latest = cur
			}
		}
	}
}

func (e *Event) roomNames() []string {
	names := make([]string, len(e.Rooms))
	for i, r := range e.Rooms {
		names[i] = r.Name
	}
	return names
}

func firstRoom(e *Event) string {
	if len(e.Rooms) > 0 {
		return e.Rooms[0].Name
	}
	return "Room 104"
}

// roomHint says what the rooms are, or how to add one.
func roomHint(e *Event, r string) string {
	if len(e.Rooms) == 0 {
		return fmt.Sprintf("the event has no rooms: add [[event.room]] with name = %q", r)
	}
	quoted := make([]string, len(e.Rooms))
	for i, room := range e.Rooms {
		quoted[i] = strconv.Quote(room.Name)
	}
	return fmt.Sprintf("the event's rooms are %s (add an [[event.room]] for a new one)", strings.Join(quoted, ", "))
}

// reported tells whether key already has an error, so that a bad value is
// not also called missing.
func (d *decoder) reported(key string) bool {
	return d.failed[key] || d.failedUnder[key]
}

// channel checks an IRC channel name.
func (d *decoder) channel(key, ch string) {
	if ch == "" || (ch[0] != '#' && ch[0] != '&') || len(ch) < 2 || len(ch) > 50 || strings.ContainsAny(ch, " ,\a\r\n\x00") {
		d.errorf(key, `must be an IRC channel: "#" or "&" then a name without spaces or commas, like "#openinfra" (got %q)`, ch)
	}
}

// hostPort checks a "host:port" address.
func (d *decoder) hostPort(key, hp, example string, minPort int) {
	_, port, err := net.SplitHostPort(hp)
	if err == nil {
		if n, perr := strconv.Atoi(port); perr != nil || n < minPort || n > 65535 {
			err = fmt.Errorf("bad port")
		}
	}
	if err != nil {
		d.errorf(key, "must be host:port, e.g. %s (got %q)", example, hp)
	}
}

// bareAddress checks a plain mail address, the form mail is matched on.
func (d *decoder) bareAddress(key, a string) {
	if addr, err := mail.ParseAddress(a); err != nil || addr.Address != a {
		d.errorf(key, `must be a plain mail address like "organizers@example.org" (got %q)`, a)
	}
}

// isLoopback reports whether host is this machine: only then may a
// connection go unencrypted.
func isLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// validNick follows RFC 2812's nick syntax, with a length most networks
// accept.
func validNick(n string) bool {
	if n == "" || len(n) > 30 {
		return false
	}
	special := func(c byte) bool { return strings.IndexByte("[]\\`_^{|}", c) >= 0 }
	letter := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	for i := 0; i < len(n); i++ {
		c := n[i]
		if letter(c) || special(c) || i > 0 && (c >= '0' && c <= '9' || c == '-') {
			continue
		}
		return false
	}
	return true
}

// matrixID is a Matrix user ID, "@localpart:server".
var matrixID = regexp.MustCompile(`^@[a-z0-9._=/+\-]+:[A-Za-z0-9.\-]+(:[0-9]+)?$`)

// validateCoc checks the code-of-conduct keys: a link people can open,
// and a team of accounts, Matrix IDs and addresses.
func (d *decoder) validateCoc(p string, e *Event) {
	if e.CocURL != "" {
		if u, err := url.Parse(e.CocURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			d.errorf(p+".coc_url", `must be an absolute http or https URL like "https://example.org/conduct" (got %q)`, e.CocURL)
		}
	}
	seen := map[string]bool{}
	for i, m := range e.CocTeam {
		k := indexKey(p+".coc_team", i)
		switch {
		case strings.TrimSpace(m) == "":
			d.errorf(k, `must not be empty: an IRC services account ("alice"), a Matrix ID ("@alice:example.org") or a mail address ("conduct@example.org")`)
		case strings.HasPrefix(m, "@"):
			if !matrixID.MatchString(m) {
				d.errorf(k, `must be a Matrix ID like "@alice:example.org", in lower case (got %q)`, m)
			}
		case strings.Contains(m, "@"):
			d.bareAddress(k, m)
		case strings.ContainsFunc(m, unicode.IsSpace) || strings.ContainsAny(m, ",:"):
			d.errorf(k, `must be an IRC services account ("alice"), a Matrix ID ("@alice:example.org") or a mail address, one per entry (got %q)`, m)
		}
		if seen[strings.ToLower(m)] {
			d.errorf(k, "%q is listed twice", m)
		}
		seen[strings.ToLower(m)] = true
	}
}
