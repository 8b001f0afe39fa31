package bot

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hallwayhq/hallway/store"
)

var voteSpec = &Spec{
	Name:     "vote",
	Usage:    "N…",
	Help:     "Vote for proposals (one vote each; the config sets how many you have).",
	Examples: []string{"vote 7 3", "vote #7"},
	Person:   true,
	Counts:   "votes",
	Run:      runVote,
}

var unvoteSpec = &Spec{
	Name:     "unvote",
	Usage:    "N…",
	Help:     "Take back your votes for proposals.",
	Examples: []string{"unvote 3"},
	Person:   true,
	Counts:   "votes",
	Run:      runUnvote,
}

var votesSpec = &Spec{
	Name:     "votes",
	Aliases:  []string{"myvotes"},
	Help:     "List your votes and how many you have left.",
	Examples: []string{"votes"},
	Person:   true,
	Counts:   "votes",
	Run:      runVotes,
}

var topSpec = &Spec{
	Name:     "top",
	Usage:    "[N] [talk|session]",
	Help:     "The most voted proposals (sessions unless you say talk).",
	Examples: []string{"top", "top 10 talk"},
	Run:      runTop,
}

// numbersArg parses the proposal numbers of vote and unvote, each once.
func (c *call) numbersArg() ([]int64, error) {
	if len(c.args.Words) == 0 {
		return nil, c.usageErr("Say which proposals.")
	}
	var nums []int64
	seen := map[int64]bool{}
	for _, w := range c.args.Words {
		for _, part := range strings.Split(w, ",") {
			if part == "" {
				continue
			}
			n, ok := parseNumber(part)
			if !ok {
				return nil, c.usageErr(fmt.Sprintf("%q is not a proposal number.", part))
			}
			if !seen[n] {
				seen[n] = true
				nums = append(nums, n)
			}
		}
	}
	if len(nums) > 50 {
		return nil, userErr("that is too many numbers in one command.")
	}
	return nums, nil
}

func hashList(nums []int64) string {
	s := make([]string, len(nums))
	for i, n := range nums {
		s[i] = "#" + strconv.FormatInt(n, 10)
	}
	return strings.Join(s, ", ")
}

func (c *call) votesLeft(used int) string {
	return fmt.Sprintf("%d of your %s left", c.ev.VotesPerPerson-used, plural(c.ev.VotesPerPerson, "vote"))
}

func runVote(c *call) (Reply, error) {
	nums, err := c.numbersArg()
	if err != nil {
		return Reply{}, err
	}
	if err := c.requirePhase("voting"); err != nil {
		return Reply{}, err
	}
	props := make([]store.Proposal, 0, len(nums))
	for _, n := range nums {
		p, err := c.proposal(n)
		if err != nil {
			return Reply{}, err
		}
		if p.Status == store.Withdrawn || p.Status == store.Rejected {
			return Reply{}, userErr(fmt.Sprintf("#%d was %s: it cannot get votes. Nothing was recorded.", n, p.Status))
		}
		props = append(props, p)
	}
	mine, err := c.tx.VotesOf(c.ev.id, c.person.ID)
	if err != nil {
		return Reply{}, err
	}
	had := map[int64]bool{}
	for _, n := range mine {
		had[n] = true
	}
	var fresh, already []int64
	var freshProps []store.Proposal
	for _, p := range props {
		if had[p.Number] {
			already = append(already, p.Number)
		} else {
			fresh = append(fresh, p.Number)
			freshProps = append(freshProps, p)
		}
	}
	if left := c.ev.VotesPerPerson - len(mine); len(fresh) > left {
		msg := fmt.Sprintf("you have %s left and asked for %d more.", plural(left, "vote"), len(fresh))
		if len(mine) > 0 {
			msg += fmt.Sprintf(" Take one back first with %sunvote N (your votes: %s).", c.prefix(), hashList(mine))
		}
		return Reply{}, userErr(msg + " Nothing was recorded.")
	}
	for _, p := range freshProps {
		if _, err := c.tx.AddVote(c.ev.id, p.ID, c.person.ID); err != nil {
			return Reply{}, err
		}
	}
	used := len(mine) + len(fresh)
	var parts []string
	if len(fresh) > 0 {
		parts = append(parts, "voted for "+hashList(fresh))
	}
	if len(already) > 0 {
		parts = append(parts, "already had your vote: "+hashList(already))
	}
	return Reply{
		Lines: []string{fmt.Sprintf("%s (%s).", strings.Join(parts, "; "), c.votesLeft(used))},
		Short: fmt.Sprintf("%s ✓ %d left", strings.ReplaceAll(hashList(append(fresh, already...)), ", ", " "), c.ev.VotesPerPerson-used),
	}, nil
}

func runUnvote(c *call) (Reply, error) {
	nums, err := c.numbersArg()
	if err != nil {
		return Reply{}, err
	}
	if err := c.requirePhase("voting"); err != nil {
		return Reply{}, err
	}
	var removed, missing []int64
	for _, n := range nums {
		p, err := c.proposal(n)
		if err != nil {
			return Reply{}, err
		}
		ok, err := c.tx.RemoveVote(p.ID, c.person.ID)
		if err != nil {
			return Reply{}, err
		}
		if ok {
			removed = append(removed, n)
		} else {
			missing = append(missing, n)
		}
	}
	used, err := c.tx.VoteCount(c.ev.id, c.person.ID)
	if err != nil {
		return Reply{}, err
	}
	var parts []string
	if len(removed) > 0 {
		parts = append(parts, "took back your votes for "+hashList(removed))
	}
	if len(missing) > 0 {
		parts = append(parts, "you had not voted for "+hashList(missing))
	}
	var short []string
	if len(removed) > 0 {
		short = append(short, "unvoted "+strings.ReplaceAll(hashList(removed), ", ", " "))
	}
	if len(missing) > 0 {
		short = append(short, strings.ReplaceAll(hashList(missing), ", ", " ")+" not voted")
	}
	return Reply{
		Lines: []string{fmt.Sprintf("%s (%s).", strings.Join(parts, "; "), c.votesLeft(used))},
		Short: fmt.Sprintf("%s, %d left", strings.Join(short, "; "), c.ev.VotesPerPerson-used),
	}, nil
}

func runVotes(c *call) (Reply, error) {
	mine, err := c.tx.VotesOf(c.ev.id, c.person.ID)
	if err != nil {
		return Reply{}, err
	}
	if len(mine) == 0 {
		return textReply("you have not voted yet (%s to give). Vote with %svote N.", plural(c.ev.VotesPerPerson, "vote"), c.prefix()), nil
	}
	items := make([]string, len(mine))
	for i, n := range mine {
		p, err := c.tx.Proposal(c.ev.id, n)
		if err != nil {
			return Reply{}, err
		}
		items[i] = fmt.Sprintf("#%d %s", n, p.Title)
	}
	return textReply("your votes: %s (%s).", strings.Join(items, " · "), c.votesLeft(len(mine))), nil
}

func runTop(c *call) (Reply, error) {
	limit, kind := 5, store.Session
	for _, w := range c.args.Words {
		switch lw := strings.ToLower(w); lw {
		case "talk", "talks":
			kind = store.Talk
		case "session", "sessions":
			kind = store.Session
		default:
			n, err := strconv.Atoi(lw)
			if err != nil || n < 1 {
				return Reply{}, c.usageErr(fmt.Sprintf("%q is not a count or talk|session.", w))
			}
			limit = min(n, 50)
		}
	}
	ps, err := c.tx.TopProposals(c.ev.id, kind, limit)
	if err != nil {
		return Reply{}, err
	}
	what := "sessions"
	if kind == store.Talk {
		what = "talks"
	}
	if len(ps) == 0 {
		return textReply("no %s proposed yet.", what), nil
	}
	items := make([]string, len(ps))
	for i, p := range ps {
		if i == 0 {
			items[i] = fmt.Sprintf("#%d %s (%s)", p.Number, p.Title, plural(p.Votes, "vote"))
		} else {
			items[i] = fmt.Sprintf("#%d %s (%d)", p.Number, p.Title, p.Votes)
		}
	}
	return Reply{Lines: packLines("Top "+what+": ", items, " · ", 380)}, nil
}

// packLines joins items into as few lines of at most max bytes as it can,
// the first line starting with head.
func packLines(head string, items []string, sep string, max int) []string {
	var lines []string
	cur := head
	empty := true
	for _, it := range items {
		if !empty && len(cur)+len(sep)+len(it) > max {
			lines = append(lines, cur)
			cur, empty = "", true
		}
		if !empty {
			cur += sep
		}
		cur += it
		empty = false
	}
	return append(lines, cur)
}
