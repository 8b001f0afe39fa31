package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hallwayhq/hallway/bot/money"
	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

// Campaign is a pledge drive of an event, from the config.
type Campaign struct {
	Slug, Title string
	// Goal is a money goal; zero Minor if the goal is in hours.
	Goal money.Amount
	// GoalHours is a time goal; 0 for a money goal.
	GoalHours int
	// Closes is when pledges stop; zero if never.
	Closes time.Time
}

var pledgeSpec = &Spec{
	Name:  "pledge",
	Usage: `AMOUNT CURRENCY|Nh|"what" [for CAMPAIGN] [as anonymous|as "Name"]`,
	Help:  "Pledge money (an ISO 4217 currency), hours of your time, or things in quotes, to a campaign; pledging money or time again changes that pledge.",
	Examples: []string{"pledge 250 USD for ci-macs", "pledge 8h for infra-time as anonymous",
		`pledge "2 Mac minis (M2)" for ci-macs`, `pledge 50 EUR as "Jane D."`},
	Person: true,
	Counts: "pledges",
	Run:    withHint(runPledge, pledgeHint),
}

var pledgesSpec = &Spec{
	Name:     "pledges",
	Help:     "Your pledges and what became of them.",
	Examples: []string{"pledges"},
	Person:   true,
	Counts:   "pledges",
	Run:      runPledges,
}

var unpledgeSpec = &Spec{
	Name:     "unpledge",
	Usage:    "N",
	Help:     "Withdraw your pledge N.",
	Examples: []string{"unpledge 1"},
	Person:   true,
	Counts:   "pledges",
	Run:      runUnpledge,
}

var campaignSpec = &Spec{
	Name:     "campaign",
	Aliases:  []string{"campaigns"},
	Usage:    "[CAMPAIGN]",
	Help:     "How a campaign is doing, or the list of campaigns.",
	Examples: []string{"campaign ci-macs", "campaign"},
	Run:      runCampaign,
}

var receivedSpec = &Spec{
	Name:      "received",
	Usage:     "N… [AMOUNT CURRENCY]",
	Help:      "Record that pledges arrived (for money, optionally only part of one: say how much).",
	Examples:  []string{"received 1", "received 1 2", "received 1 40 USD"},
	Organizer: true,
	Run:       runReceived,
}

// pledgeForms shows how a pledge is written, for error messages.
func (c *call) pledgeForms() string {
	p := c.prefix()
	return fmt.Sprintf(`write %spledge 100 EUR, %spledge 8h, or %spledge "a rack server"`, p, p, p)
}

var hoursRe = regexp.MustCompile(`^(\d+(?:\.\d+)?)\s*(h|hr|hrs|hour|hours)$`)

// parsePledge reads what is pledged: money, hours, or things.
func (c *call) parsePledge(what []string, quoted []bool) (store.Pledge, error) {
	p := store.Pledge{}
	joined := strings.Join(what, " ")
	switch {
	case len(what) == 0:
		return p, userErr("say what you pledge: " + c.pledgeForms() + ".")
	case len(what) == 1 && quoted[0]:
		if strings.TrimSpace(what[0]) == "" {
			return p, userErr("say what you pledge inside the quotes.")
		}
		p.Kind, p.Description = store.PledgeKind, strings.TrimSpace(what[0])
		if len(p.Description) > 200 {
			return p, userErr("describe the pledge in under 200 plain characters.")
		}
		return p, nil
	}
	if m := hoursRe.FindStringSubmatch(strings.ToLower(joined)); m != nil {
		h, err := strconv.ParseFloat(m[1], 64)
		if err != nil || h <= 0 || h > 10000 {
			return p, userErr(fmt.Sprintf("%s is not a number of hours you can give: write it like 8h.", joined))
		}
		p.Kind, p.Amount = store.PledgeTime, int64(h*60+0.5)
		return p, nil
	}
	looksNumeric := strings.IndexFunc(what[0], func(r rune) bool { return (r < '0' || r > '9') && !strings.ContainsRune(".,-_e", r) }) < 0
	if len(what) == 2 && (looksNumeric || money.IsCurrency(what[0]) || money.IsCurrency(what[1])) {
		if money.IsCurrency(what[0]) && !money.IsCurrency(what[1]) {
			return p, userErr(fmt.Sprintf("put the amount first: %s %s.", what[1], strings.ToUpper(what[0])))
		}
		a, err := money.Parse(what[0], what[1])
		if err != nil {
			return p, userErr(err.Error() + ".")
		}
		p.Kind, p.Amount, p.Currency = store.PledgeMoney, a.Minor, a.Currency
		return p, nil
	}
	if looksNumeric && len(what) == 1 {
		return p, userErr(fmt.Sprintf("%s of what? Add a currency code (%s USD) or h for hours (%sh).", what[0], what[0], what[0]))
	}
	return p, userErr(fmt.Sprintf("I can't tell what %q is: %s.", joined, c.pledgeForms()))
}

// campaign finds a campaign of the event by slug.
func (c *call) campaign(slug string) (*Campaign, error) {
	for i := range c.ev.Campaigns {
		if strings.EqualFold(c.ev.Campaigns[i].Slug, slug) {
			return &c.ev.Campaigns[i], nil
		}
	}
	var slugs []string
	for _, cp := range c.ev.Campaigns {
		slugs = append(slugs, cp.Slug)
	}
	if len(slugs) == 0 {
		return nil, userErr(fmt.Sprintf("%s has no campaign %q; pledge to the event itself by leaving out \"for %s\".", c.ev.Name, slug, slug))
	}
	return nil, userErr(fmt.Sprintf("there is no campaign %q. Campaigns: %s.", slug, strings.Join(slugs, ", ")))
}

func runPledge(c *call) (Reply, error) {
	words, quoted := c.args.Words, c.args.Quoted
	var what []string
	var whatQuoted []bool
	slug, display := "", ""
	for i := 0; i < len(words); i++ {
		switch c.args.keyword(i) {
		case "for":
			if i+1 >= len(words) {
				return Reply{}, c.usageErr("Say which campaign after for.")
			}
			slug = words[i+1]
			i++
			continue
		case "as":
			if i+1 >= len(words) {
				return Reply{}, c.usageErr(`Say a name after as, or "as anonymous".`)
			}
			display = strings.TrimSpace(words[i+1])
			if strings.EqualFold(display, "anonymous") || strings.EqualFold(display, "anon") {
				display = "anonymous"
			}
			if len(display) > 60 || display == "" {
				return Reply{}, userErr("a display name is plain text under 60 characters.")
			}
			i++
			continue
		}
		if slug != "" || display != "" {
			return Reply{}, c.usageErr(fmt.Sprintf("%q comes after the campaign or name.", words[i]))
		}
		what = append(what, words[i])
		whatQuoted = append(whatQuoted, quoted[i])
	}
	p, err := c.parsePledge(what, whatQuoted)
	if err != nil {
		return Reply{}, err
	}
	var cp *Campaign
	if slug != "" {
		if cp, err = c.campaign(slug); err != nil {
			return Reply{}, err
		}
		if !cp.Closes.IsZero() && !c.tx.Now().Before(cp.Closes) {
			return Reply{}, userErr(fmt.Sprintf("the campaign %q closed on %s; thank you all the same.", cp.Title, cp.Closes.In(c.ev.zone()).Format("2 Jan 2006")))
		}
		p.Campaign = cp.Slug
	}
	// Pledging money (or time) again changes the open pledge of money
	// (or time) instead of adding one; things add up.
	old, err := c.tx.OpenPledge(c.ev.id, p.Campaign, c.person.ID, p.Kind)
	if p.Kind == store.PledgeKind {
		err = store.ErrNotFound
	}
	changed := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Reply{}, err
	}
	before := c.progressPercent(cp)
	if changed {
		old.Kind, old.Amount, old.Currency, old.Description = p.Kind, p.Amount, p.Currency, p.Description
		if display != "" {
			old.DisplayName = display
		}
		p = old
	} else {
		p.EventID, p.PersonID, p.DisplayName, p.Status = c.ev.id, c.person.ID, display, store.Pledged
	}
	if err := c.tx.SavePledge(&p); err != nil {
		return Reply{}, err
	}
	if err := c.milestones(cp, before); err != nil {
		return Reply{}, err
	}
	if err := c.thank(p, cp); err != nil {
		return Reply{}, err
	}
	target := c.ev.Name
	if cp != nil {
		target = strconv.Quote(cp.Title)
	}
	verb := "thank you! Pledge"
	if changed {
		verb = "changed your pledge"
	}
	msg := fmt.Sprintf("%s #%d: %s to %s", verb, p.ID, pledgeWhat(p), target)
	if cp != nil {
		msg += " — " + c.progress(cp)
	}
	if p.DisplayName == "anonymous" {
		msg += " (shown as anonymous)"
	}
	return textReply("%s.", msg), nil
}

// pledgeWhat says what a pledge is: "250.00 USD", "8h", "2 Mac minis".
func pledgeWhat(p store.Pledge) string {
	switch p.Kind {
	case store.PledgeMoney:
		return money.Format(p.Amount, p.Currency)
	case store.PledgeTime:
		return hours(p.Amount)
	}
	return strconv.Quote(p.Description)
}

// hours writes minutes as hours: "8h", "1.5h".
func hours(minutes int64) string {
	if minutes%60 == 0 {
		return fmt.Sprintf("%dh", minutes/60)
	}
	return strconv.FormatFloat(float64(minutes)/60, 'f', -1, 64) + "h"
}

// totals of a campaign: money per currency, minutes, things.
type totals struct {
	pledged, received map[string]int64 // by currency
	// counted and countedIn are the money of other currencies than the
	// goal's in the goal's, by currency, where the config gives a rate.
	counted, countedIn map[string]int64
	minutes, minutesIn int64
	things             []string
	count              int
}

func (c *call) totals(slug string) (totals, error) {
	t := totals{pledged: map[string]int64{}, received: map[string]int64{}, counted: map[string]int64{}, countedIn: map[string]int64{}}
	ps, err := c.tx.Pledges(c.ev.id, slug, 0)
	if err != nil {
		return t, err
	}
	goal := ""
	for _, cp := range c.ev.Campaigns {
		if cp.Slug == slug {
			goal = cp.Goal.Currency
		}
	}
	for _, p := range ps {
		if p.Status != store.Pledged && p.Status != store.PledgeReceived {
			continue
		}
		t.count++
		switch p.Kind {
		case store.PledgeMoney:
			t.pledged[p.Currency] += p.Amount
			t.received[p.Currency] += p.Received
			// Each pledge converted on its own, as the treasurer's
			// export shows it, so that the rows add up to the total.
			if r, ok := c.ev.rate(p.Currency, goal); ok {
				t.counted[p.Currency] += r.Convert(p.Amount)
				t.countedIn[p.Currency] += r.Convert(p.Received)
			}
		case store.PledgeTime:
			t.minutes += p.Amount
			t.minutesIn += p.Received
		default:
			t.things = append(t.things, p.Description)
		}
	}
	return t, nil
}

// progressPercent is how far a campaign is towards its goal, in percent
// of what was pledged; -1 without a campaign.
func (c *call) progressPercent(cp *Campaign) int64 {
	if cp == nil {
		return -1
	}
	t, err := c.totals(cp.Slug)
	if err != nil {
		return -1
	}
	switch {
	case cp.Goal.Minor > 0:
		pledged, _, _ := c.ev.counted(cp.Goal.Currency, t)
		return pledged * 100 / cp.Goal.Minor
	case cp.GoalHours > 0:
		return t.minutes * 100 / int64(cp.GoalHours*60)
	}
	return -1
}

// number writes minor units without the currency: "1,850.00".
func number(minor int64, currency string) string {
	return strings.TrimSuffix(money.Format(minor, currency), " "+currency)
}

// progress says how a campaign stands: "1,850.00 of 3,000.00 USD pledged
// (62%), 400.00 received", then other currencies, hours and things.
func (c *call) progress(cp *Campaign) string {
	t, err := c.totals(cp.Slug)
	if err != nil {
		return ""
	}
	var parts []string
	switch {
	case cp.Goal.Minor > 0:
		cur := cp.Goal.Currency
		pledged, received, byCurrency := c.ev.counted(cur, t)
		parts = append(parts, fmt.Sprintf("%s of %s pledged (%d%%), %s received", number(pledged, cur),
			money.Format(cp.Goal.Minor, cur), pledged*100/cp.Goal.Minor, number(received, cur)))
		if byCurrency != "" {
			parts = append(parts, byCurrency)
		}
	case cp.GoalHours > 0:
		parts = append(parts, fmt.Sprintf("%s of %dh pledged (%d%%), %s given", hours(t.minutes), cp.GoalHours,
			t.minutes*100/int64(cp.GoalHours*60), hours(t.minutesIn)))
		fallthrough
	default:
		for _, cur := range slices.Sorted(maps.Keys(t.pledged)) {
			parts = append(parts, fmt.Sprintf("%s pledged", money.Format(t.pledged[cur], cur)))
		}
	}
	if t.minutes > 0 && cp.GoalHours == 0 {
		parts = append(parts, hours(t.minutes)+" of time")
	}
	if len(t.things) > 0 {
		parts = append(parts, plural(len(t.things), "pledge")+" of things")
	}
	if len(parts) == 0 {
		return "nothing pledged yet"
	}
	return strings.Join(parts, "; ")
}

// counted is what a campaign's money comes to in the goal's currency cur:
// its own pledges, and those in other currencies at the config's rate
// (each pledge converted, rounded down to the minor unit). byCurrency says
// the totals per currency and which rate counted each, "" when every
// pledge is in cur.
func (e *Event) counted(cur string, t totals) (pledged, received int64, byCurrency string) {
	pledged, received = t.pledged[cur], t.received[cur]
	others := slices.Sorted(maps.Keys(t.pledged))
	if len(others) == 0 || (len(others) == 1 && others[0] == cur) {
		return pledged, received, ""
	}
	// The goal's own currency first.
	if i := slices.Index(others, cur); i > 0 {
		others = slices.Insert(slices.Delete(others, i, i+1), 0, cur)
	}
	var each []string
	for _, other := range others {
		total := money.Format(t.pledged[other], other)
		r, ok := e.rate(other, cur)
		switch {
		case other == cur:
			each = append(each, total)
		case !ok:
			each = append(each, fmt.Sprintf("%s (not counted: no exchange rate to %s)", total, cur))
		default:
			pledged += t.counted[other]
			received += t.countedIn[other]
			each = append(each, fmt.Sprintf("%s (counted as %s at %s)", total, money.Format(t.counted[other], cur), r))
		}
	}
	return pledged, received, "by currency: " + strings.Join(each, ", ")
}

// rate is the config's exchange rate from one currency to another.
func (e *Event) rate(from, to string) (money.Rate, bool) {
	for _, r := range e.Rates {
		if r.From == from && r.To == to {
			return r, true
		}
	}
	return money.Rate{}, false
}

// milestones posts to the list when a pledge takes a campaign past half
// its goal, and past all of it; once each.
func (c *call) milestones(cp *Campaign, before int64) error {
	after := c.progressPercent(cp)
	for _, m := range []int64{50, 100} {
		if before < m && after >= m {
			subject := fmt.Sprintf("%s: %d%% of the goal pledged", cp.Title, m)
			if m == 100 {
				subject = fmt.Sprintf("%s: the goal is reached", cp.Title)
			}
			body := fmt.Sprintf("%s now stands at %s.\n\nThank you, everyone who pledged.\n", cp.Title, c.progress(cp))
			if err := c.announce(fmt.Sprintf("milestone:%s:%d", cp.Slug, m), "", subject, body); err != nil {
				return err
			}
		}
	}
	return nil
}

// thank mails a thank-you to a pledger with a confirmed address who
// pledged on IRC; a pledge by mail is answered by mail already.
func (c *call) thank(p store.Pledge, cp *Campaign) error {
	if c.bot.mailer == nil || c.req.Who.Kind == Address {
		return nil
	}
	addr, err := c.tx.ConfirmedEmail(c.person.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	target := c.ev.Name
	if cp != nil {
		target = cp.Title
	}
	body := fmt.Sprintf("Thank you for pledging %s to %s (pledge #%d).\n\nThe organizers will be in touch about how to deliver it. To change it, pledge again; to withdraw it, say %sunpledge %d.\n",
		pledgeWhat(p), target, p.ID, c.prefix(), p.ID)
	return c.bot.mailer.Mail(c.tx, OutMail{To: addr, Subject: "Thank you for your pledge to " + target, Body: body,
		DedupeKey: c.dedupeKey(fmt.Sprintf("thanks:%d", p.ID))})
}

func runPledges(c *call) (Reply, error) {
	ps, err := c.tx.Pledges(c.ev.id, "*", c.person.ID)
	if err != nil {
		return Reply{}, err
	}
	if len(ps) == 0 {
		return textReply("you have no pledges. %s.", capitalize(c.pledgeForms())), nil
	}
	lines := []string{fmt.Sprintf("your pledges (%d):", len(ps))}
	for _, p := range ps {
		line := fmt.Sprintf("#%d %s", p.ID, pledgeWhat(p))
		if p.Campaign != "" {
			line += " for " + p.Campaign
		}
		line += ", " + pledgeStatus(p)
		lines = append(lines, line)
	}
	return Reply{Lines: lines}, nil
}

func pledgeStatus(p store.Pledge) string {
	switch {
	case p.Status == store.Pledged && p.Received > 0 && p.Kind == store.PledgeMoney:
		return fmt.Sprintf("%s received so far", money.Format(p.Received, p.Currency))
	case p.Status == store.Pledged:
		return "not yet received"
	}
	return p.Status
}

// pledgeArg finds the pledge the first word names.
func (c *call) pledgeArg() (store.Pledge, error) {
	if len(c.args.Words) == 0 {
		return store.Pledge{}, c.usageErr("Say which pledge.")
	}
	n, ok := parseNumber(c.args.Words[0])
	if !ok {
		return store.Pledge{}, c.usageErr(fmt.Sprintf("%q is not a pledge number.", c.args.Words[0]))
	}
	p, err := c.tx.Pledge(c.ev.id, n)
	if errors.Is(err, store.ErrNotFound) {
		return p, userErr(fmt.Sprintf("there is no pledge #%d. Say %spledges for yours.", n, c.prefix()))
	}
	return p, err
}

func runUnpledge(c *call) (Reply, error) {
	p, err := c.pledgeArg()
	if err != nil {
		return Reply{}, err
	}
	if p.PersonID != c.person.ID {
		return Reply{}, userErr(fmt.Sprintf("pledge #%d is not yours.", p.ID))
	}
	if p.Status != store.Pledged {
		return Reply{}, userErr(fmt.Sprintf("pledge #%d is %s already.", p.ID, p.Status))
	}
	if p.Received > 0 {
		return Reply{}, userErr(fmt.Sprintf("part of pledge #%d arrived already (%s): ask an organizer to settle the rest.", p.ID, money.Format(p.Received, p.Currency)))
	}
	p.Status = store.Withdrawn
	if err := c.tx.SavePledge(&p); err != nil {
		return Reply{}, err
	}
	return textReply("withdrew pledge #%d (%s).", p.ID, pledgeWhat(p)), nil
}

func runReceived(c *call) (Reply, error) {
	// A part is written with its currency ("1 40 USD"), or with cents
	// ("1 40.00"): a bare number is one more pledge.
	words, amount, currency := c.args.Words, "", ""
	if n := len(words); n >= 3 && money.IsCurrency(words[n-1]) {
		words, amount, currency = words[:n-2], words[n-2], words[n-1]
	} else if n >= 2 && strings.ContainsAny(words[n-1], ".,") {
		words, amount = words[:n-1], words[n-1]
	}
	c.args.Words = words
	ns, err := c.pledgeNumbers()
	if err != nil {
		return Reply{}, err
	}
	if amount != "" && len(ns) > 1 {
		return Reply{}, c.usageErr("Say the part received of one pledge at a time.")
	}
	if len(words) == 2 && amount == "" && !strings.HasPrefix(words[1], "#") {
		if amount, err = c.partOrPledge(ns[0], ns[1]); err != nil {
			return Reply{}, err
		}
		if amount != "" {
			ns = ns[:1]
		}
	}
	return each(ns, func(n int64) (string, error) {
		line, err := c.received(n, amount, currency)
		if errors.Is(err, store.ErrNotFound) {
			err = userErr(fmt.Sprintf("there is no pledge #%d.", n))
		}
		return line, err
	})
}

// partOrPledge reads "received 4 400" as it was meant: 400 of pledge #4
// when #4 is money still to come and there is no pledge #400 (as it was
// written before several pledges were taken); else pledges #4 and #400.
// It returns the amount, or "" for two pledges.
func (c *call) partOrPledge(n, m int64) (string, error) {
	p, err := c.tx.Pledge(c.ev.id, n)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	if p.Kind != store.PledgeMoney || p.Status != store.Pledged {
		return "", nil
	}
	if _, err := c.tx.Pledge(c.ev.id, m); errors.Is(err, store.ErrNotFound) {
		return strconv.FormatInt(m, 10), nil
	} else if err != nil {
		return "", err
	}
	return "", nil
}

// pledgeNumbers reads the pledge numbers of received.
func (c *call) pledgeNumbers() ([]int64, error) {
	if len(c.args.Words) == 0 {
		return nil, c.usageErr("Say which pledge.")
	}
	var ns []int64
	for _, w := range c.args.Words {
		n, ok := parseNumber(w)
		if !ok {
			return nil, c.usageErr(fmt.Sprintf("%q is not a pledge number.", w))
		}
		if !slices.Contains(ns, n) {
			ns = append(ns, n)
		}
	}
	return ns, nil
}

// received records pledge n as received, or amount of it.
func (c *call) received(n int64, amount, currency string) (string, error) {
	p, err := c.tx.Pledge(c.ev.id, n)
	if err != nil {
		return "", err
	}
	if p.Status != store.Pledged {
		return "", userErr(fmt.Sprintf("pledge #%d is %s, not waiting to be received.", p.ID, p.Status))
	}
	part := p.Amount - p.Received
	if amount != "" {
		if p.Kind != store.PledgeMoney {
			return "", userErr(fmt.Sprintf("pledge #%d is %s: it arrives whole; say %sreceived %d.", p.ID, pledgeWhat(p), c.prefix(), p.ID))
		}
		a, err := money.Parse(amount, cmp.Or(currency, p.Currency))
		if err != nil {
			return "", userErr(err.Error() + ".")
		}
		if a.Currency != p.Currency {
			return "", userErr(fmt.Sprintf("pledge #%d is in %s, not %s.", p.ID, p.Currency, a.Currency))
		}
		if a.Minor > part {
			return "", userErr(fmt.Sprintf("only %s of pledge #%d is still to come.", money.Format(part, p.Currency), p.ID))
		}
		part = a.Minor
	}
	p.Received += part
	if p.Received >= p.Amount {
		p.Status = store.PledgeReceived
	}
	if err := c.tx.SavePledge(&p); err != nil {
		return "", err
	}
	msg := fmt.Sprintf("pledge #%d received in full", p.ID)
	if p.Status == store.Pledged {
		msg = fmt.Sprintf("pledge #%d: %s received, %s still to come", p.ID, money.Format(p.Received, p.Currency), money.Format(p.Amount-p.Received, p.Currency))
	}
	if p.Campaign != "" {
		if cp, err := c.campaign(p.Campaign); err == nil {
			msg += " — " + cp.Title + ": " + c.progress(cp)
		}
	}
	return msg + ".", nil
}

func runCampaign(c *call) (Reply, error) {
	if len(c.args.Words) == 0 {
		if len(c.ev.Campaigns) == 0 {
			return textReply("%s has no campaigns; pledges go to the event itself.", c.ev.Name), nil
		}
		var lines []string
		for i := range c.ev.Campaigns {
			cp := &c.ev.Campaigns[i]
			lines = append(lines, fmt.Sprintf("%s (%s): %s", cp.Title, cp.Slug, c.progress(cp)))
		}
		return Reply{Lines: lines}, nil
	}
	cp, err := c.campaign(c.args.Words[0])
	if err != nil {
		return Reply{}, err
	}
	msg := fmt.Sprintf("%s: %s.", cp.Title, c.progress(cp))
	if !cp.Closes.IsZero() {
		if c.tx.Now().Before(cp.Closes) {
			msg += fmt.Sprintf(" Open until %s.", cp.Closes.In(c.ev.zone()).Format("2 Jan 2006"))
		} else {
			msg += " Closed."
		}
	}
	if c.ev.URL != "" {
		msg += " " + c.ev.URL + "/campaign/" + cp.Slug
	}
	return textReply("%s", msg), nil
}

// RemindPledges mails a reminder for each pledge still not received a
// while after it was made (or last reminded), at most the configured
// number of times; once a campaign has closed and the reminders went
// unanswered as long again, its open pledges expire. The clock calls it.
func (b *Bot) RemindPledges(tx *store.Tx, now time.Time) error {
	for _, ev := range b.events {
		if ev.ReminderAfter <= 0 {
			continue
		}
		ps, err := tx.Pledges(ev.id, "*", 0)
		if err != nil {
			return err
		}
		c := &call{tx: tx, bot: b, ev: ev, req: Request{Transport: Mail}}
		for _, p := range ps {
			if p.Status != store.Pledged || now.Sub(p.UpdatedAt) < ev.ReminderAfter {
				continue
			}
			var cp *Campaign
			if p.Campaign != "" {
				cp, _ = c.campaign(p.Campaign)
			}
			if p.RemindersSent >= ev.Reminders {
				if cp != nil && !cp.Closes.IsZero() && now.Sub(cp.Closes) >= ev.ReminderAfter {
					p.Status = store.PledgeExpired
					if err := tx.SavePledge(&p); err != nil {
						return err
					}
				}
				continue
			}
			addr, err := tx.ConfirmedEmail(p.PersonID)
			if errors.Is(err, store.ErrNotFound) {
				continue // nobody to remind by mail
			} else if err != nil {
				return err
			}
			p.RemindersSent++
			if err := tx.SavePledge(&p); err != nil {
				return err
			}
			if b.mailer == nil {
				continue
			}
			target := ev.Name
			if cp != nil {
				target = cp.Title
			}
			body := fmt.Sprintf("Hello,\n\nOn %s you pledged %s to %s (pledge #%d), and it has not arrived yet. The organizers will tell you how to deliver it; if your plans changed, reply \"unpledge %d\" and we will stop asking.\n",
				p.CreatedAt.In(ev.zone()).Format("2 January 2006"), pledgeWhat(p), target, p.ID, p.ID)
			if err := b.mailer.Mail(tx, OutMail{To: addr, Subject: "Your pledge to " + target, Body: body,
				DedupeKey: fmt.Sprintf("remind:%d:%d", p.ID, p.RemindersSent)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// CampaignReport is a campaign as the public sees it: progress and the
// pledges under the names their pledgers chose ("anonymous" hides them).
type CampaignReport struct {
	Slug, Title string
	Progress    string // "1,850.00 of 3,000.00 USD pledged (62%), 400.00 received"
	Percent     int    // towards the goal, capped at 100; -1 without a goal
	Closes      time.Time
	Pledges     []PublicPledge
}

// PublicPledge is one pledge on a campaign's public list.
type PublicPledge struct {
	Name   string // display name, account, or "anonymous"
	What   string // "250.00 USD", "8h", "2 Mac minis"
	Status string // "pledged", "received", "partly received"
	At     time.Time
}

// Campaign reports on one campaign of an event, for its page.
func (b *Bot) Campaign(ctx context.Context, event, slug string) (*CampaignReport, error) {
	var ev *Event
	for _, e := range b.events {
		if e.Slug == event {
			ev = e
		}
	}
	if ev == nil {
		return nil, store.ErrNotFound
	}
	var r *CampaignReport
	err := b.store.View(ctx, func(tx *store.Tx) error {
		c := &call{ctx: ctx, tx: tx, bot: b, ev: ev}
		cp, err := c.campaign(slug)
		if err != nil {
			return store.ErrNotFound
		}
		r = &CampaignReport{Slug: cp.Slug, Title: cp.Title, Progress: c.progress(cp), Closes: cp.Closes,
			Percent: int(min(c.progressPercent(cp), 100))}
		ps, err := tx.Pledges(ev.id, cp.Slug, 0)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if p.Status != store.Pledged && p.Status != store.PledgeReceived {
				continue
			}
			name := p.DisplayName
			if name == "" {
				if name, err = tx.PersonName(p.PersonID); err != nil {
					return err
				}
			}
			status := p.Status
			if p.Status == store.Pledged && p.Received > 0 {
				status = "partly received"
			}
			r.Pledges = append(r.Pledges, PublicPledge{Name: name, What: pledgeWhat(p), Status: status, At: p.CreatedAt})
		}
		return nil
	})
	return r, err
}

// Summary is an event's wrap-up, for its page.
func (b *Bot) Summary(ctx context.Context, event string) (*schedule.EventSummary, error) {
	for _, ev := range b.events {
		if ev.Slug != event {
			continue
		}
		var s *schedule.EventSummary
		err := b.store.View(ctx, func(tx *store.Tx) error {
			var err error
			s, err = b.summary(ctx, tx, ev)
			return err
		})
		return s, err
	}
	return nil, store.ErrNotFound
}
