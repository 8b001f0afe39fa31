package bot

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hallwayhq/hallway/store"
)

// Code-of-conduct reports reach the event's team at once and no one else:
// a report is said only in private, never echoed, logged or counted, and
// only the team reads it back (here in private, or hallway coc).

var cocSpec = &Spec{
	Name:     "coc",
	Usage:    "[list [all]|show N|ack N|close N [-- note]]",
	Help:     "The code of conduct and how to report a problem privately. For its team, in private: the reports (list, show, ack, close).",
	Examples: []string{"coc"},
	Counts:   "the team's commands",
	Run:      runCoc,
}

var reportSpec = &Spec{
	Name:        "report",
	Usage:       "WHAT HAPPENED",
	Help:        "Report a code-of-conduct problem to the event's team, privately: in a private message to me, or a mail with Subject: report. Never in the channel.",
	Examples:    []string{"report someone in Room 104 keeps interrupting the speakers"},
	Unconfirmed: true,
	Run:         runReport,
}

// isReport reports whether a command line (without prefix) is a report.
func isReport(text string) bool {
	first, _, _ := strings.Cut(strings.TrimSpace(text), " ")
	return strings.EqualFold(first, reportSpec.Name)
}

// confidentialText is a request's text as the log may show it: a report's
// words stay out of every log line.
func confidentialText(text string) string {
	if isReport(text) {
		return reportSpec.Name + " (not logged)"
	}
	return text
}

// confidentialLine reports whether a line said in a channel is a report
// to the bot ("!report …", "hallway: report …"): notes being taken there
// leave it out, as the answer does.
func (c *call) confidentialLine(text string) bool {
	if rest, ok := strings.CutPrefix(text, c.bot.opts.Prefix); ok && isReport(rest) {
		return true
	}
	nick := c.bot.opts.Nick
	if len(text) > len(nick) && strings.EqualFold(text[:len(nick)], nick) {
		rest := strings.TrimLeft(text[len(nick):], ":, ")
		return isReport(rest)
	}
	return false
}

// runConfidential carries out a report before the command line is split:
// its words are not a command's arguments, and nothing in them (an
// unclosed quote) may fail it, since a failed command's mail is kept for
// the organizers. ok is false for any other command.
func (c *call) runConfidential() (r Reply, ok bool, err error) {
	if !isReport(c.req.Text) {
		return Reply{}, false, nil
	}
	c.spec = reportSpec
	r, err = runReport(c)
	return r, true, err
}

func runReport(c *call) (Reply, error) {
	if !c.privately() {
		// Nothing of what was said is repeated here, nor kept.
		return textReply("please don't report here, where everyone reads it: send it to me in a private message (/msg %s report WHAT HAPPENED), or mail it with Subject: report. Only the code-of-conduct team will read it.", c.bot.opts.Nick), nil
	}
	_, text, _ := strings.Cut(strings.TrimSpace(c.req.Text), " ")
	text = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), "--"))
	text = strings.TrimSpace(text)
	if text == "" {
		return textReply("say what happened after %sreport, in one message: who, where, when, what. Only the code-of-conduct team will read it.", c.prefix()), nil
	}
	account, email := c.asker()
	contact, anonymous := account, false
	switch {
	case account != "":
	case email != "":
		contact = email
	case c.req.Nick != "":
		// Not logged in: the nick is how the team can answer, for now.
		contact, anonymous = "nick:"+FoldAccount(c.req.Nick), true
	}
	p, err := c.reporter(contact)
	if err != nil {
		return Reply{}, err
	}
	r := store.Report{EventID: c.ev.id, ReporterID: p.ID, Via: c.req.Transport, Contact: contact, Text: text}
	if err := c.tx.AddReport(&r); err != nil {
		return Reply{}, err
	}
	chats, mails, err := c.notifyTeam(r)
	if err != nil {
		return Reply{}, err
	}
	if err := c.tx.Audit(c.ev.id, r.ID, "hallway", "notified", fmt.Sprintf("%d by chat, %d by mail", chats, mails)); err != nil {
		return Reply{}, err
	}
	lines := []string{
		fmt.Sprintf("Thank you. Your report #%d reached the code-of-conduct team of %s just now; only they can read it.", r.ID, c.ev.Name),
		"What happens next: a team member answers you privately, here or by mail, as soon as they can (during the event, within the hour). To add something, send another report. If anyone is in danger now, find venue staff or call the local emergency number.",
	}
	if anonymous {
		lines = append(lines, "You are not logged in to services: the team can reach you only while you keep this nick.")
	}
	return Reply{Private: true, Lines: lines}, nil
}

// reporter is the person a report comes from: the asker, or, not logged
// in, the nick they wrote from.
func (c *call) reporter(contact string) (store.Person, error) {
	if strings.HasPrefix(contact, "nick:") {
		return c.tx.PersonByIdentity(store.IRCAccount, contact, c.req.Nick)
	}
	if err := c.identify(); err != nil {
		return store.Person{}, err
	}
	return c.person, nil
}

// team is who receives the event's reports.
func (e *Event) team() []string {
	if len(e.CocTeam) > 0 {
		return e.CocTeam
	}
	team := make([]string, len(e.Organizers))
	for i, o := range e.Organizers {
		team[i] = o.Value // a Matrix ID starts with "@", an address holds one
	}
	return team
}

// onTeam reports whether the asker is on the event's code-of-conduct
// team: by services account, or by a confirmed address.
func (c *call) onTeam() (bool, error) {
	account, email := c.asker()
	for _, m := range c.ev.team() {
		switch {
		case strings.HasPrefix(m, "@"):
			if c.req.Who == MatrixIdentity(m) {
				return true, nil
			}
		case strings.Contains(m, "@"):
			if email == "" || !strings.EqualFold(m, email) {
				continue
			}
			id, err := c.tx.IdentityOf(store.Email, email)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return false, err
			}
			if !id.ConfirmedAt.IsZero() {
				return true, nil
			}
		default:
			if account != "" && FoldAccount(m) == account {
				return true, nil
			}
		}
	}
	return false, nil
}

// actor names the asker in the audit log.
func (c *call) actor() string {
	account, email := c.asker()
	if account != "" {
		return account
	}
	return email
}

// notifyTeam tells every team member of a new report at once: privately
// on chat (an IRC message bound to their account reaches them while they
// are online, and no one else; a Matrix message goes to a direct chat), or
// by mail. chats counts the chat messages.
func (c *call) notifyTeam(r store.Report) (chats, mails int, err error) {
	short := r.Text
	if utf8.RuneCountInString(short) > 200 {
		short = string([]rune(short)[:200]) + "…"
	}
	line := fmt.Sprintf("New code-of-conduct report #%d for %s (via %s, from %s): %s | In private: %scoc show %d, %scoc ack %d, %scoc close %d",
		r.ID, c.ev.Name, r.Via, r.Contact, cleanLine(short), c.bot.opts.Prefix, r.ID, c.bot.opts.Prefix, r.ID, c.bot.opts.Prefix, r.ID)
	for _, m := range c.ev.team() {
		key := fmt.Sprintf("coc:%d:%s", r.ID, strings.ToLower(m))
		to, err := ParseIdentity(m)
		if err != nil {
			continue // the config check refuses it before run
		}
		if to.Kind == Address {
			if c.bot.mailer == nil {
				continue
			}
			body := fmt.Sprintf("A code-of-conduct report for %s came in via %s from %s:\n\n%s\n\n"+
				"Acknowledge it to the reporter, then act. The report is kept where only the team can read it:\n"+
				"on IRC in a private message to %s, %scoc show %d / %scoc ack %d / %scoc close %d;\n"+
				"on the server, hallway coc show %d / close %d.\n",
				c.ev.Name, r.Via, r.Contact, r.Text, c.bot.opts.Nick, c.bot.opts.Prefix, r.ID, c.bot.opts.Prefix, r.ID, c.bot.opts.Prefix, r.ID, r.ID, r.ID)
			if err := c.bot.mailer.Mail(c.tx, OutMail{To: to.Value, Subject: fmt.Sprintf("[%s] code-of-conduct report #%d", c.ev.Name, r.ID),
				Body: body, DedupeKey: key}); err != nil {
				return chats, mails, err
			}
			mails++
			continue
		}
		transport, rep := c.bot.chatFor(to.Kind)
		if rep == nil {
			continue // no transport of this kind runs
		}
		// Nick is where an IRC private message goes: the account's name.
		if err := rep.Reply(c.tx, Request{Transport: transport, Who: to, Can: ChatCapabilities, Nick: m},
			Reply{Lines: []string{line}, Private: true, Key: key}); err != nil {
			return chats, mails, err
		}
		chats++
	}
	return chats, mails, nil
}

func runCoc(c *call) (Reply, error) {
	if len(c.args.Words) == 0 {
		var lines []string
		if c.ev.CocURL != "" {
			lines = append(lines, fmt.Sprintf("%s's code of conduct: %s", c.ev.Name, c.ev.CocURL))
		} else {
			lines = append(lines, fmt.Sprintf("%s has a code of conduct team; ask the organizers for the text.", c.ev.Name))
		}
		lines = append(lines, fmt.Sprintf("To report a problem, privately: /msg %s report WHAT HAPPENED (or mail me with Subject: report). Only the team reads it, at once; never say it in the channel.", c.bot.opts.Nick))
		return Reply{Lines: lines}, nil
	}
	sub := c.args.keyword(0)
	switch sub {
	case "list", "show", "ack", "close":
	default:
		return Reply{}, c.usageErr(fmt.Sprintf("%q is not a coc subcommand.", c.args.Words[0]))
	}
	if !c.privately() {
		return Reply{}, userErr(fmt.Sprintf("%scoc %s only in a private message (/msg %s coc %s): reports stay out of channels.", c.prefix(), sub, c.bot.opts.Nick, sub))
	}
	if c.req.Who.Kind == Address {
		// The team's addresses count once confirmed.
		if err := c.identify(); err != nil {
			return Reply{}, err
		}
	}
	ok, err := c.onTeam()
	if err != nil {
		return Reply{}, err
	}
	if !ok {
		return Reply{}, userErr(fmt.Sprintf("%scoc %s is for the code-of-conduct team of %s. To report something, use %sreport.", c.prefix(), sub, c.ev.Name, c.prefix()))
	}
	if sub == "list" {
		all := len(c.args.Words) > 1 && c.args.keyword(1) == "all"
		rs, err := c.tx.Reports(c.ev.id, !all)
		if err != nil {
			return Reply{}, err
		}
		if err := c.tx.Audit(c.ev.id, 0, c.actor(), "listed", ""); err != nil {
			return Reply{}, err
		}
		if len(rs) == 0 {
			return Reply{Private: true, Lines: []string{"No open reports."}}, nil
		}
		lines := []string{fmt.Sprintf("Reports (%d):", len(rs))}
		for _, r := range rs {
			lines = append(lines, reportLine(c, r))
		}
		return Reply{Private: true, Lines: lines}, nil
	}
	if len(c.args.Words) != 2 {
		return Reply{}, c.usageErr("")
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(c.args.Words[1], "#"), 10, 64)
	if err != nil || id <= 0 {
		return Reply{}, c.usageErr(fmt.Sprintf("%q is not a report number.", c.args.Words[1]))
	}
	r, err := c.tx.Report(c.ev.id, id)
	if errors.Is(err, store.ErrNotFound) {
		return Reply{}, userErr(fmt.Sprintf("there is no report #%d. Say %scoc list for the open ones.", id, c.prefix()))
	} else if err != nil {
		return Reply{}, err
	}
	switch sub {
	case "show":
		if err := c.tx.Audit(c.ev.id, r.ID, c.actor(), "shown", ""); err != nil {
			return Reply{}, err
		}
		log, err := c.tx.AuditLog(r.ID)
		if err != nil {
			return Reply{}, err
		}
		lines := []string{reportLine(c, r), "Text: " + cleanLine(r.Text)}
		var audit []string
		for _, e := range log {
			a := fmt.Sprintf("%s %s by %s", e.At.In(c.ev.zone()).Format("Jan 2 15:04"), e.Action, e.Actor)
			if e.Note != "" {
				a += " (" + e.Note + ")"
			}
			audit = append(audit, a)
		}
		return Reply{Private: true, Lines: append(lines, "Log: "+strings.Join(audit, "; "))}, nil
	default:
		status := map[string]string{"ack": store.ReportAcknowledged, "close": store.ReportResolved}[sub]
		changed, err := c.tx.SetReportStatus(c.ev.id, r.ID, status, c.actor(), c.args.Text)
		if err != nil {
			return Reply{}, err
		}
		if !changed {
			return Reply{Private: true, Lines: []string{fmt.Sprintf("Report #%d was already %s.", r.ID, status)}}, nil
		}
		return Reply{Private: true, Lines: []string{fmt.Sprintf("Report #%d is now %s.", r.ID, status)}}, nil
	}
}

// reportLine is one report in a list.
func reportLine(c *call, r store.Report) string {
	short := cleanLine(r.Text)
	if utf8.RuneCountInString(short) > 80 {
		short = string([]rune(short)[:80]) + "…"
	}
	contact := r.Contact
	if contact == "" {
		contact = "a reporter who asked to be forgotten"
	}
	return fmt.Sprintf("#%d [%s] %s via %s from %s: %s", r.ID, r.Status, r.CreatedAt.In(c.ev.zone()).Format("Jan 2 15:04"), r.Via, contact, short)
}
