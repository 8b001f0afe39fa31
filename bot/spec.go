package bot

import (
	"sort"
	"strings"
)

// Spec describes one command: how it is written, what it does, who may run
// it. Help text and the README's reference are generated from specs, and
// their examples run as tests.
type Spec struct {
	Name    string
	Aliases []string
	// Usage is the arguments, e.g. `N…` or `[talk|session] "Title" [-- abstract]`.
	Usage string
	// Help is one sentence.
	Help     string
	Examples []string
	// Organizer commands are for the event's organizers only.
	Organizer bool
	// Person commands need to know who is asking (a services account).
	Person bool
	// Unconfirmed commands accept a mail sender whose address is not
	// confirmed yet (register, confirm); others need it confirmed.
	Unconfirmed bool
	// Counts names what is counted per person, for the log-in hint.
	Counts string
	Run    func(c *call) (Reply, error)
}

func (s *Spec) countsWhat() string {
	if s.Counts != "" {
		return s.Counts
	}
	return "proposals and votes"
}

// usage is the spec's usage line with the transport's prefix.
func (s *Spec) usage(prefix string) string {
	u := prefix + s.Name
	if s.Usage != "" {
		u += " " + s.Usage
	}
	return u
}

// usageErr tells how to write the command right, with an example.
func (c *call) usageErr(what string) error {
	msg := what
	if msg != "" {
		msg += " "
	}
	msg += "Usage: " + c.spec.usage(c.prefix())
	if len(c.spec.Examples) > 0 {
		msg += " (e.g. " + c.prefix() + c.spec.Examples[0] + ")"
	}
	return userErr(msg)
}

var (
	specs  []*Spec
	byName = map[string]*Spec{}
)

func init() {
	specs = []*Spec{
		helpSpec, moreSpec,
		proposeSpec, editSpec, withdrawSpec, showSpec, proposalsSpec,
		voteSpec, unvoteSpec, votesSpec, topSpec,
		registerSpec, confirmSpec, notMeSpec, cancelSpec, registrationsSpec,
		scheduleSpec, nowSpec, nextSpec, whereSpec, feedSpec,
		pledgeSpec, pledgesSpec, unpledgeSpec, campaignSpec, notesSpec, hereSpec,
		mydataSpec, forgetSpec, linkSpec, unlinkSpec, whoamiSpec, cocSpec, reportSpec,
		acceptSpec, rejectSpec, openSpec, closeSpec, pinSpec, unpinSpec, receivedSpec, checkinSpec, fullSpec, spaceSpec, wrapupSpec,
	}
	for _, s := range specs {
		byName[s.Name] = s
		for _, a := range s.Aliases {
			byName[a] = s
		}
	}
}

// Specs returns every command's spec, in help order.
func Specs() []*Spec { return specs }

func lookup(name string) *Spec { return byName[name] }

// suggest returns the command name closest to a mistyped one, or "".
func suggest(name string) string {
	best, bestDist := "", 3
	if len(name) <= 3 {
		bestDist = 2
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if d := editDistance(name, n); d < bestDist {
			best, bestDist = byName[n].Name, d
		}
	}
	if best == "" {
		for _, n := range names {
			if len(name) >= 3 && strings.HasPrefix(n, name) {
				return byName[n].Name
			}
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
