package bot

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

const (
	maxTitle    = 120 // runes: a title fits in one IRC line with room to spare
	maxAbstract = 2000
)

var proposeSpec = &Spec{
	Name:     "propose",
	Usage:    `[talk|session] "Title" [-- abstract]`,
	Help:     "Propose a talk or an unconference session (a session unless you say talk).",
	Examples: []string{`propose session "Renting Macs for CI" -- who does it, what it costs, what breaks`, `propose talk "From zero to 2500"`},
	Person:   true,
	Counts:   "proposals",
	Run:      runPropose,
}

func runPropose(c *call) (Reply, error) {
	kind := store.Session
	switch c.args.keyword(0) {
	case "talk":
		kind = store.Talk
		c.args.shift(1)
	case "session", "unconference":
		c.args.shift(1)
	}
	words := c.args.Words
	if len(words) == 0 {
		return Reply{}, c.usageErr("Give a title.")
	}
	title := strings.Join(words, " ")
	if err := checkTitle(title); err != nil {
		return Reply{}, err
	}
	abstract := c.args.Text
	if err := checkAbstract(abstract); err != nil {
		return Reply{}, err
	}
	if err := c.requirePhase("cfp"); err != nil {
		return Reply{}, err
	}
	p, err := c.tx.AddProposal(store.Proposal{EventID: c.ev.id, Kind: kind, Title: title, Abstract: abstract, AuthorID: c.person.ID})
	if err != nil {
		return Reply{}, err
	}
	return Reply{
		Lines: []string{fmt.Sprintf("proposed #%d (%s) %q. Vote with %svote %d.", p.Number, kindName(kind), title, c.prefix(), p.Number)},
		Short: fmt.Sprintf("proposed #%d", p.Number),
	}, nil
}

func kindName(kind string) string {
	if kind == store.Talk {
		return "talk"
	}
	return "unconference session"
}

func checkTitle(title string) error {
	title = strings.TrimSpace(title)
	switch {
	case title == "":
		return userErr(`the title is empty: write it in quotes, e.g. "Renting Macs for CI".`)
	case utf8.RuneCountInString(title) > maxTitle:
		return userErr(fmt.Sprintf("the title is %d characters long; keep it under %d and put the rest in the abstract after --.", utf8.RuneCountInString(title), maxTitle))
	}
	return nil
}

func checkAbstract(abstract string) error {
	if n := utf8.RuneCountInString(abstract); n > maxAbstract {
		return userErr(fmt.Sprintf("the abstract is %d characters long; keep it under %d.", n, maxAbstract))
	}
	return nil
}

// number parses a proposal number: "7" or "#7".
func parseNumber(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	return n, err == nil && n > 0
}

// proposalArg finds the proposal the first word names.
func (c *call) proposalArg() (store.Proposal, error) {
	if len(c.args.Words) == 0 {
		return store.Proposal{}, c.usageErr("Say which proposal.")
	}
	n, ok := parseNumber(c.args.Words[0])
	if !ok {
		return store.Proposal{}, c.usageErr(fmt.Sprintf("%q is not a proposal number.", c.args.Words[0]))
	}
	return c.proposal(n)
}

func (c *call) proposal(n int64) (store.Proposal, error) {
	p, err := c.tx.Proposal(c.ev.id, n)
	if errors.Is(err, store.ErrNotFound) {
		return p, userErr(fmt.Sprintf("there is no proposal #%d. Say %sproposals for the list.", n, c.prefix()))
	}
	return p, err
}

// mayChange allows the author and organizers to change a proposal.
func (c *call) mayChange(p store.Proposal) error {
	if p.AuthorID != c.person.ID && !c.organizer {
		return userErr(fmt.Sprintf("#%d is not yours: only its author or an organizer can change it.", p.Number))
	}
	if p.Status == store.Withdrawn || p.Status == store.Rejected {
		return userErr(fmt.Sprintf("#%d was %s and can no longer be changed.", p.Number, p.Status))
	}
	return nil
}

var editSpec = &Spec{
	Name:     "edit",
	Usage:    `N [title|abstract] …`,
	Help:     "Change your proposal's title or abstract.",
	Examples: []string{`edit 7 title "Renting Macs for CI, cheaply"`, `edit 7 abstract -- who rents them and what breaks`, `edit 7 "New title" -- new abstract`},
	Person:   true,
	Run:      runEdit,
}

func runEdit(c *call) (Reply, error) {
	p, err := c.proposalArg()
	if err != nil {
		return Reply{}, err
	}
	if err := c.mayChange(p); err != nil {
		return Reply{}, err
	}
	c.args.shift(1)
	field := ""
	switch kw := c.args.keyword(0); kw {
	case "title", "abstract":
		field = kw
		c.args.shift(1)
	}
	words := c.args.Words
	var changed []string
	switch field {
	case "title":
		if len(words) == 0 {
			return Reply{}, c.usageErr("Give the new title.")
		}
		p.Title = strings.Join(words, " ")
		changed = append(changed, "title")
	case "abstract":
		text := c.args.Text
		if !c.args.HasText {
			text = strings.Join(words, " ")
		}
		p.Abstract = text
		changed = append(changed, "abstract")
	default:
		if len(words) > 0 {
			p.Title = strings.Join(words, " ")
			changed = append(changed, "title")
		}
		if c.args.HasText {
			p.Abstract = c.args.Text
			changed = append(changed, "abstract")
		}
		if len(changed) == 0 {
			return Reply{}, c.usageErr("Say what to change.")
		}
	}
	if err := checkTitle(p.Title); err != nil {
		return Reply{}, err
	}
	if err := checkAbstract(p.Abstract); err != nil {
		return Reply{}, err
	}
	if err := c.tx.UpdateProposal(p); err != nil {
		return Reply{}, err
	}
	return textReply("updated the %s of #%d %q.", strings.Join(changed, " and "), p.Number, p.Title), nil
}

var withdrawSpec = &Spec{
	Name:     "withdraw",
	Usage:    "N",
	Help:     "Withdraw your proposal; its votes no longer count. A released session leaves the schedule, the pages and the feeds at once.",
	Examples: []string{"withdraw 7"},
	Person:   true,
	Run: func(c *call) (Reply, error) {
		p, err := c.proposalArg()
		if err != nil {
			return Reply{}, err
		}
		if err := c.mayChange(p); err != nil {
			return Reply{}, err
		}
		p.Status = store.Withdrawn
		if err := c.tx.UpdateProposal(p); err != nil {
			return Reply{}, err
		}
		amended, err := c.amend(p)
		if err != nil {
			return Reply{}, err
		}
		if amended {
			return textReply("withdrew #%d %q. It is off the released schedule now, and the organizers are told its slot is free.", p.Number, p.Title), nil
		}
		return textReply("withdrew #%d %q.", p.Number, p.Title), nil
	},
}

var showSpec = &Spec{
	Name:     "show",
	Aliases:  []string{"info"},
	Usage:    "N",
	Help:     "Show a proposal: title, kind, author, votes, status, abstract.",
	Examples: []string{"show 7"},
	Run: func(c *call) (Reply, error) {
		p, err := c.proposalArg()
		if err != nil {
			return Reply{}, err
		}
		if p, err = c.tx.ProposalWithVotes(c.ev.id, p.Number); err != nil {
			return Reply{}, err
		}
		author, err := c.tx.PersonName(p.AuthorID)
		if err != nil {
			return Reply{}, err
		}
		status := statusText(p)
		if p.Status == store.Proposed || p.Status == store.Accepted {
			// A session is scheduled by its votes, without being accepted.
			if at, ok, err := c.scheduledText(p.Number); err != nil {
				return Reply{}, err
			} else if ok {
				status = at
			}
		}
		head := fmt.Sprintf("#%d %q, %s by %s, %s, %s.", p.Number, p.Title, kindName(p.Kind), author, plural(p.Votes, "vote"), status)
		lines := []string{head}
		if p.Abstract != "" {
			lines = append(lines, p.Abstract)
		}
		return Reply{Lines: lines}, nil
	},
}

func statusText(p store.Proposal) string {
	switch p.Status {
	case store.Rejected:
		if p.Reason != "" {
			return "rejected (" + p.Reason + ")"
		}
	case store.Proposed:
		return "not yet accepted"
	}
	return p.Status
}

func plural(n int, word string) string { return schedule.Plural(n, word) }

var proposalsSpec = &Spec{
	Name:     "proposals",
	Aliases:  []string{"list"},
	Usage:    "[talk|session|mine]",
	Help:     "List the proposals, or only talks, sessions, or your own.",
	Examples: []string{"proposals", "proposals mine"},
	Run:      runProposals,
}

func runProposals(c *call) (Reply, error) {
	f := store.ProposalFilter{Statuses: []string{store.Proposed, store.Accepted}}
	what := "Proposals"
	for _, w := range c.args.Words {
		switch strings.ToLower(w) {
		case "talk", "talks":
			f.Kind, what = store.Talk, "Talks"
		case "session", "sessions":
			f.Kind, what = store.Session, "Sessions"
		case "mine":
			if err := c.identify(); err != nil {
				return Reply{}, err
			}
			f.AuthorID, f.Statuses, what = c.person.ID, nil, "Your proposals"
		default:
			return Reply{}, c.usageErr(fmt.Sprintf("%q is not talk, session or mine.", w))
		}
	}
	ps, err := c.tx.Proposals(c.ev.id, f)
	if err != nil {
		return Reply{}, err
	}
	if len(ps) == 0 {
		return textReply("%s: none yet. Propose one with %spropose.", what, c.prefix()), nil
	}
	lines := []string{fmt.Sprintf("%s (%d):", what, len(ps))}
	for _, p := range ps {
		line := fmt.Sprintf("#%d %s (%s, %s)", p.Number, p.Title, p.Kind, plural(p.Votes, "vote"))
		if p.Status != store.Proposed {
			line += " " + p.Status
		}
		lines = append(lines, line)
	}
	link := ""
	if c.ev.URL != "" && f.AuthorID == 0 {
		link = c.ev.URL + "/proposals"
	}
	return Reply{Lines: lines, Link: link}, nil
}
