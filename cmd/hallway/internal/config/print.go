package config

import (
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hallwayhq/hallway/bot"
)

// Print writes the config as hallway understands it: defaults filled in
// (and marked "# default"), paths resolved, times with their UTC offsets,
// secrets shown only as found or not. It is what "hallway check" prints,
// so that a reviewer sees what a config change really does.
//
// The output is itself valid TOML and loads to the same config, so it can
// be used as a fully spelled-out starting point for a new file.
func (c *Config) Print(w io.Writer) {
	p := &printer{c: c}
	p.comment("hallway config %s, as hallway reads it:", c.File)
	p.comment("defaults filled in, paths resolved, times with their UTC offsets.")

	p.table("[store]")
	if c.Store.URL != "" {
		p.kv("store", "url", quote(redactURL(c.Store.URL)), "")
	} else {
		p.kv("store", "path", quote(c.Store.Path), "")
	}
	p.kv("store", "journal", quote(c.Store.Journal), "")
	p.kv("store", "instance", quote(c.Store.Instance), instanceNote(c.Store.Instance))
	p.kv("store", "lease_ttl", quote(shortDuration(c.Store.LeaseTTL)), "")

	p.table("[web]")
	p.kv("web", "listen", quote(c.Web.Listen), "")
	p.kv("web", "base_url", quote(c.Web.BaseURL), "")
	p.kv("web", "public_metrics", strconv.FormatBool(c.Web.PublicMetrics), "")

	irc := c.IRC
	refs := c.secretRefs()
	p.table("[irc]")
	p.kv("irc", "server", quote(irc.Server), "")
	p.kv("irc", "port", strconv.Itoa(irc.Port), "")
	p.kv("irc", "tls", strconv.FormatBool(irc.TLS), "")
	p.kv("irc", "nick", quote(irc.Nick), "")
	p.kv("irc", "sasl_user", quote(irc.SASLUser), "")
	p.secret("irc", "sasl_password", refs[0])
	p.kv("irc", "prefix", quote(irc.Prefix), "")
	p.kv("irc", "require_account", strconv.FormatBool(irc.RequireAccount), "")
	p.kv("irc", "send_burst", strconv.Itoa(irc.SendBurst), "")
	p.kv("irc", "send_rate", formatFloat(irc.SendRate), "")
	p.kv("irc", "channels", quoteList(irc.Channels), "")

	m := c.Mail
	p.table("[mail]")
	p.kv("mail", "imap", quote(m.IMAP), "")
	p.kv("mail", "imap_security", quote(string(m.IMAPSecurity)), "")
	p.kv("mail", "imap_user", quote(m.IMAPUser), "")
	p.secret("mail", "imap_password", refs[1])
	p.kv("mail", "mailbox", quote(m.Mailbox), "")
	p.kv("mail", "processed_mailbox", quote(m.ProcessedMailbox), "")
	p.kv("mail", "quarantine_mailbox", quote(m.QuarantineMailbox), "")
	p.kv("mail", "answers_per_day", strconv.Itoa(m.AnswersPerDay), "")
	p.kv("mail", "smtp", quote(m.SMTP), "")
	p.kv("mail", "smtp_security", quote(string(m.SMTPSecurity)), "")
	p.kv("mail", "smtp_user", quote(m.SMTPUser), "")
	p.secret("mail", "smtp_password", refs[2])
	p.kv("mail", "from", quote(m.From), "")
	p.kv("mail", "list", quote(m.List), "")

	if mx := c.Matrix; mx.Homeserver != "" {
		p.table("[matrix]")
		p.kv("matrix", "homeserver", quote(mx.Homeserver), "")
		p.kv("matrix", "user_id", quote(mx.UserID), "")
		p.secret("matrix", "access_token", refs[3])
		p.kv("matrix", "send_burst", strconv.Itoa(mx.SendBurst), "")
		p.kv("matrix", "send_rate", formatFloat(mx.SendRate), "")
	}

	for i, e := range c.Events {
		p.event(indexKey("event", i), &e)
	}
	io.WriteString(w, p.b.String())
}

type printer struct {
	c      *Config
	b      strings.Builder
	indent string
}

func (p *printer) comment(format string, args ...any) {
	fmt.Fprintf(&p.b, "# "+format+"\n", args...)
}

func (p *printer) table(header string) {
	fmt.Fprintf(&p.b, "\n%s%s\n", p.indent, header)
}

// kv writes one key, noting whether its value is a default.
func (p *printer) kv(path, key, value, note string) {
	if p.c.defaults[joinKey(path, key)] {
		if note == "" {
			note = "default"
		} else {
			note = "default; " + note
		}
	}
	fmt.Fprintf(&p.b, "%s%s = %s", p.indent, key, value)
	if note != "" {
		fmt.Fprintf(&p.b, "  # %s", note)
	}
	p.b.WriteByte('\n')
}

// secret writes the keys naming a secret, with whether it was found.
func (p *printer) secret(path, key string, r secretRef) {
	note := ""
	if r.env != "" {
		note = p.c.secretNote(r, false)
	}
	p.kv(path, key+"_env", quote(r.env), note)
	if r.file != "" {
		p.kv(path, key+"_file", quote(r.file), p.c.secretNote(r, true))
	}
}

func (p *printer) event(path string, e *Event) {
	p.indent = ""
	p.table("[[event]]")
	p.kv(path, "slug", quote(e.Slug), "")
	p.kv(path, "name", quote(e.Name), "")
	p.kv(path, "timezone", quote(e.Timezone), "")
	p.kv(path, "venue", quote(e.Venue), "")
	p.kv(path, "channel", quote(e.Channel), "")
	p.kv(path, "channels", quoteList(e.Channels), roomKinds(e.Channels))
	p.kv(path, "organizers", quoteList(e.Organizers), identityKinds(e.Organizers))
	p.kv(path, "organizer_emails", quoteList(e.OrganizerEmails), "")
	capNote := ""
	if e.RegistrationCapacity == 0 {
		capNote = "no limit"
	}
	p.kv(path, "registration_capacity", strconv.Itoa(e.RegistrationCapacity), capNote)
	p.kv(path, "registration_hold", quote(shortDuration(e.RegistrationHold)), "")
	p.kv(path, "registration_day_hold", quote(shortDuration(e.RegistrationDayHold)), "")
	p.kv(path, "pledge_reminder_after", quote(shortDuration(e.PledgeReminderAfter)), "")
	p.kv(path, "pledge_reminders", strconv.Itoa(e.PledgeReminders), "")
	p.kv(path, "keep_topic", strconv.FormatBool(e.KeepTopic), "")
	p.kv(path, "votes_per_person", strconv.Itoa(e.VotesPerPerson), "")
	p.kv(path, "board_filling", strconv.Itoa(e.BoardFilling), "percent of a room's capacity")
	p.kv(path, "board_full", strconv.Itoa(e.BoardFull), "")
	p.kv(path, "retime_weight", strconv.Itoa(e.RetimeWeight), "")
	p.kv(path, "freeze_before", quote(shortDuration(e.FreezeBefore)), "")
	p.kv(path, "retention", quote(shortDuration(e.Retention)), "after the event's end")
	p.kv(path, "coc_url", quote(e.CocURL), "")
	teamNote := ""
	if len(e.CocTeam) == 0 {
		teamNote = "the organizers and organizer_emails"
	}
	p.kv(path, "coc_team", quoteList(e.CocTeam), teamNote)

	p.indent = "  "
	if len(e.Phases) > 0 {
		p.table("[event.phases]")
		for _, name := range phaseNames {
			ph, ok := e.Phases[name]
			if !ok {
				continue
			}
			var parts []string
			if !ph.Open.IsZero() {
				parts = append(parts, "open = "+timestamp(ph.Open))
			}
			if !ph.Close.IsZero() {
				parts = append(parts, "close = "+timestamp(ph.Close))
			}
			p.kv(path+".phases", name, "{ "+strings.Join(parts, ", ")+" }", "")
		}
	}
	for i, r := range e.Rooms {
		rp := indexKey(path+".room", i)
		p.table("[[event.room]]")
		p.kv(rp, "name", quote(r.Name), "")
		p.kv(rp, "capacity", strconv.Itoa(r.Capacity), "")
		if r.Channel != "" {
			p.kv(rp, "channel", quote(r.Channel), "")
		}
	}
	for i, d := range e.Days {
		dp := indexKey(path+".day", i)
		p.table("[[event.day]]")
		p.kv(dp, "date", d.Date.Format(time.DateOnly), "")
		fmt.Fprintf(&p.b, "%sslots = [\n", p.indent)
		for _, s := range d.Slots {
			start := s.Start.Format("15:04")
			if s.Start.Second() != 0 || s.Start.Nanosecond() != 0 {
				start = s.Start.Format("15:04:05.999999999")
			}
			fields := []string{
				"start = " + quote(start),
				"minutes = " + strconv.Itoa(s.Minutes),
				"kind = " + quote(string(s.Kind)),
			}
			if len(s.Rooms) > 0 {
				fields = append(fields, "rooms = "+quoteList(s.Rooms))
			}
			if s.Title != "" {
				fields = append(fields, "title = "+quote(s.Title))
			}
			fmt.Fprintf(&p.b, "%s  { %s },  # %s\n", p.indent, strings.Join(fields, ", "), timestamp(s.Start))
		}
		fmt.Fprintf(&p.b, "%s]\n", p.indent)
	}
	for i, c := range e.Campaigns {
		cp := indexKey(path+".campaign", i)
		p.table("[[event.campaign]]")
		p.kv(cp, "slug", quote(c.Slug), "")
		p.kv(cp, "title", quote(c.Title), "")
		goalNote := fmt.Sprintf("%d hours", c.Goal.Hours)
		if c.Goal.IsMoney() {
			goalNote = fmt.Sprintf("%d minor units of %s", c.Goal.Amount, c.Goal.Currency)
		}
		p.kv(cp, "goal", quote(c.Goal.Raw), goalNote)
		if !c.Closes.IsZero() {
			p.kv(cp, "closes", timestamp(c.Closes), "")
		}
	}
	for i, r := range e.ExchangeRates {
		rp := indexKey(path+".exchange_rate", i)
		p.table("[[event.exchange_rate]]")
		p.kv(rp, "from", quote(r.From), "")
		p.kv(rp, "to", quote(r.To), "")
		p.kv(rp, "rate", quote(r.Text), "")
		p.kv(rp, "date", r.Date.Format(time.DateOnly), "")
	}
	p.indent = ""
}

// timestamp writes a time as a TOML offset date-time.
func timestamp(t time.Time) string { return t.Format(time.RFC3339Nano) }

// formatFloat writes a TOML float: always with a fraction or exponent, so it
// reads back as a float.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// roomKinds says what kinds of room a list holds: "1 IRC channel, 2
// Matrix rooms".
func roomKinds(list []string) string {
	var kinds []string
	count := map[string]int{}
	for _, s := range list {
		r, err := bot.ParseChatRoom(s)
		if err != nil {
			continue
		}
		if count[r.Transport] == 0 {
			kinds = append(kinds, r.Transport)
		}
		count[r.Transport]++
	}
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		name := map[string]string{bot.IRC: "IRC channel", bot.Matrix: "Matrix room"}[k]
		if count[k] != 1 {
			name += "s"
		}
		parts[i] = fmt.Sprintf("%d %s", count[k], name)
	}
	return strings.Join(parts, ", ")
}

// identityKinds says what kinds of identity a list holds, in the order
// they first appear: "2 IRC accounts, 1 Matrix user".
func identityKinds(list []string) string {
	var kinds []bot.IdentityKind
	count := map[bot.IdentityKind]int{}
	for _, s := range list {
		id, err := bot.ParseIdentity(s)
		if err != nil {
			continue
		}
		if count[id.Kind] == 0 {
			kinds = append(kinds, id.Kind)
		}
		count[id.Kind]++
	}
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		name := bot.KindName(k)
		switch {
		case count[k] == 1:
		case strings.HasSuffix(name, "ss"):
			name += "es" // addresses
		default:
			name += "s"
		}
		parts[i] = fmt.Sprintf("%d %s", count[k], name)
	}
	return strings.Join(parts, ", ")
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// quote writes a TOML basic string. strconv.Quote won't do: TOML has no
// \x or \a escapes.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// shortDuration writes "48h" rather than Go's "48h0m0s", and whole days
// as "14d".
// instanceNote says what an empty instance name stands for.
func instanceNote(name string) string {
	if name == "" {
		return "this host's name and the process id"
	}
	return ""
}

func shortDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// redactURL hides a database URL's password: the printed config is for
// reviewers, and the password is better kept in ~/.pgpass anyway.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	return u.Redacted()
}
