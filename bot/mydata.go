package bot

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hallwayhq/hallway/store"
)

// myDataLinkTTL is how long a link to one's data works (once).
const myDataLinkTTL = time.Hour

var mydataSpec = &Spec{
	Name:     "mydata",
	Usage:    "[link]",
	Help:     "Everything hallway keeps about you, as JSON: mailed to your confirmed address, or (with link, or without an address) a private link that works once, for an hour.",
	Examples: []string{"mydata", "mydata link"},
	Person:   true,
	Counts:   "requests for your data",
	Run:      runMyData,
}

func runMyData(c *call) (Reply, error) {
	link := false
	switch {
	case len(c.args.Words) == 0:
	case len(c.args.Words) == 1 && c.args.keyword(0) == "link":
		link = true
	default:
		return Reply{}, c.usageErr("")
	}
	addr, err := c.tx.ConfirmedEmail(c.person.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Reply{}, err
	}
	if !link && addr != "" && c.bot.mailer != nil {
		d, err := c.tx.PersonData(c.person.ID)
		if err != nil {
			return Reply{}, err
		}
		body, err := myDataMail(c.ev, d)
		if err != nil {
			return Reply{}, err
		}
		if err := c.bot.mailer.Mail(c.tx, OutMail{To: addr, Subject: "Your data at " + c.ev.Name, Body: body}); err != nil {
			return Reply{}, err
		}
		return Reply{Private: true, Lines: []string{fmt.Sprintf(
			"I mailed everything hallway keeps about you (JSON) to your confirmed address %s. %sforget deletes it.", maskEmail(addr), c.prefix())}}, nil
	}
	base := myDataBase(c.ev)
	if base == "" {
		return Reply{}, userErr("this event has no web address to send you a link to, and no confirmed address of yours to mail it to: register an address first (" + c.prefix() + "register ADDRESS), or ask the organizers.")
	}
	token, err := c.tx.NewPrivacyToken(store.TokenMyData, c.person.ID, myDataLinkTTL)
	if err != nil {
		return Reply{}, err
	}
	return Reply{Private: true, Lines: []string{fmt.Sprintf(
		"Everything hallway keeps about you, as JSON: %s/mydata/%s (works once, for an hour; it is yours alone, don't share it).", base, token)}}, nil
}

// myDataBase is where the event's pages are, for the link ("" if none).
func myDataBase(ev *Event) string { return strings.TrimSuffix(ev.URL, "/") }

// myDataMail is the mail that carries a person's data: a few words, then
// the JSON document (store.PersonData describes its shape).
func myDataMail(ev *Event, d store.PersonData) (string, error) {
	doc, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(`You asked for everything %s's hallway keeps about you. It is below, as JSON
(format %s): each table of the database, with every row that refers to you
or names your account or address.

To have it deleted, send "forget" (by mail, or !forget on IRC).

%s
`, ev.Name, d.Format, doc), nil
}
