package bot

import (
	"fmt"
	"strings"
)

var feedSpec = &Spec{
	Name:     "feed",
	Aliases:  []string{"calendar", "ical"},
	Usage:    "[revoke]",
	Help:     "Your personal calendar feed (the sessions you voted for, speak in or pinned), sent privately; revoke makes a new address and stops the old one.",
	Examples: []string{"feed", "feed revoke"},
	Person:   true,
	Counts:   "feeds",
	Run:      runFeed,
}

// personalFeed is the address of a personal feed.
func (e *Event) personalFeed(token string) string {
	return e.URL + "/feed/" + token + ".ics"
}

// webcal turns an http(s) feed address into the webcal:// one calendar
// apps open as a subscription.
func webcal(url string) string {
	if rest, ok := strings.CutPrefix(url, "https://"); ok {
		return "webcal://" + rest
	}
	if rest, ok := strings.CutPrefix(url, "http://"); ok {
		return "webcal://" + rest
	}
	return url
}

func runFeed(c *call) (Reply, error) {
	if c.ev.URL == "" {
		return Reply{}, userErr("this event has no web address configured, so there are no feeds yet.")
	}
	var token string
	var err error
	switch c.args.keyword(0) {
	case "":
		token, err = c.tx.FeedToken(c.ev.id, c.person.ID)
	case "revoke", "new", "reset":
		token, err = c.tx.RevokeFeedToken(c.ev.id, c.person.ID)
	default:
		return Reply{}, c.usageErr(fmt.Sprintf("%q is not revoke.", c.args.Words[0]))
	}
	if err != nil {
		return Reply{}, err
	}
	url := c.ev.personalFeed(token)
	lines := []string{
		fmt.Sprintf("your calendar for %s: %s (or %s in a browser). Keep it to yourself; %sfeed revoke makes a new one.", c.ev.Name, webcal(url), url, c.prefix()),
		fmt.Sprintf("Everyone's: %s", webcal(c.ev.URL+"/schedule.ics")),
	}
	return Reply{Lines: lines, Private: true}, nil
}
