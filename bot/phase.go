package bot

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hallwayhq/hallway/store"
)

// phaseOpen tells whether a phase is open now. The latest of the config's
// scheduled times that have passed and the organizers' manual changes wins;
// with neither, a phase with a scheduled opening is closed until then, and
// a phase left out of the config is open.
func (c *call) phaseOpen(phase string) (bool, error) {
	now := c.tx.Now()
	var at time.Time
	open := true
	sched, scheduled := c.ev.Phases[phase]
	if scheduled {
		open = sched.Open.IsZero()
		if !sched.Open.IsZero() && !sched.Open.After(now) {
			at, open = sched.Open, true
		}
		if !sched.Close.IsZero() && !sched.Close.After(now) && sched.Close.After(at) {
			at, open = sched.Close, false
		}
	}
	ch, err := c.tx.LastPhaseChange(c.ev.id, phase)
	if errors.Is(err, store.ErrNotFound) {
		return open, nil
	}
	if err != nil {
		return false, err
	}
	if !ch.ChangedAt.Before(at) {
		open = ch.Open
	}
	return open, nil
}

// requirePhase refuses the command unless the phase is open.
func (c *call) requirePhase(phase string) error {
	open, err := c.phaseOpen(phase)
	if err != nil {
		return err
	}
	if !open {
		return userErr(fmt.Sprintf("%s is closed for %s.", capitalize(phaseTitle(phase)), c.ev.Name))
	}
	return nil
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

var openSpec = &Spec{
	Name:      "open",
	Usage:     "cfp|voting|registration",
	Help:      "Open a phase: the call for proposals, voting, or registration.",
	Examples:  []string{"open voting"},
	Organizer: true,
	Run:       func(c *call) (Reply, error) { return c.setPhase(true) },
}

var closeSpec = &Spec{
	Name:      "close",
	Usage:     "cfp|voting|registration",
	Help:      "Close a phase.",
	Examples:  []string{"close cfp"},
	Organizer: true,
	Run:       func(c *call) (Reply, error) { return c.setPhase(false) },
}

func (c *call) setPhase(open bool) (Reply, error) {
	if len(c.args.Words) != 1 {
		return Reply{}, c.usageErr("Say which phase.")
	}
	phase := strings.ToLower(c.args.Words[0])
	known := false
	for _, p := range phaseNames {
		known = known || p == phase
	}
	if !known {
		return Reply{}, c.usageErr(fmt.Sprintf("There is no phase %q.", c.args.Words[0]))
	}
	was, err := c.phaseOpen(phase)
	if err != nil {
		return Reply{}, err
	}
	verb := map[bool]string{true: "open", false: "closed"}
	if was == open {
		return textReply("%s was already %s.", capitalize(phaseTitle(phase)), verb[open]), nil
	}
	if err := c.tx.AddPhaseChange(c.ev.id, phase, open, c.person.ID); err != nil {
		return Reply{}, err
	}
	line := fmt.Sprintf("%s is now %s for %s.", capitalize(phaseTitle(phase)), verb[open], c.ev.Name)
	if err := c.announce("", line, line, phaseBody(c, phase, open)); err != nil {
		return Reply{}, err
	}
	return textReply("%s", line), nil
}

// phaseBody is the list post of a phase opening or closing: what people
// can do now, by IRC and by mail.
func phaseBody(c *call, phase string, open bool) string {
	p := c.bot.opts.Prefix
	var b strings.Builder
	fmt.Fprintf(&b, "%s is now %s for %s.\n", capitalize(phaseTitle(phase)), map[bool]string{true: "open", false: "closed"}[open], c.ev.Name)
	if open {
		b.WriteString("\n")
		switch phase {
		case "cfp":
			fmt.Fprintf(&b, "Propose a talk or an unconference session: say %spropose talk \"Title\" -- abstract in %s, or mail us with the subject \"propose session Title\" and the abstract in the body.\n", p, c.ev.Channel)
		case "voting":
			fmt.Fprintf(&b, "Vote for the sessions you want to attend: %sproposals lists them, %svote N votes, in %s. You have %s.\n", p, p, c.ev.Channel, plural(c.ev.VotesPerPerson, "vote"))
		case "registration":
			fmt.Fprintf(&b, "Register by replying to this mail with \"register\" on the first line, or say %sregister you@example.org in %s.\n", p, c.ev.Channel)
		}
	}
	if c.ev.URL != "" {
		fmt.Fprintf(&b, "\n%s\n", c.ev.URL)
	}
	return b.String()
}
