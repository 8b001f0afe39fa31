package bot

import (
	"fmt"
	"sync"
)

// Lines a reply may take before the rest waits for "more": few in a channel
// so nobody floods it, more in a private message. Mail takes everything.
const (
	channelLines = 3
	privateLines = 8
	pagerMax     = 200 // lines kept per person
	// wrapWidth is where the pager cuts a long line, so that the line
	// limit counts the lines IRC will carry (a PRIVMSG holds about 400
	// bytes of text after the server's prefix and the addressee's nick).
	wrapWidth = 350
)

// pager keeps the rest of long IRC answers until the person says "more".
// It lives in memory: after a restart, "more" simply has nothing left.
type pager struct {
	mu   sync.Mutex
	rest map[string][]string
}

func newPager() *pager { return &pager{rest: map[string][]string{}} }

func pagerKey(req Request) string {
	return req.Transport + "\x00" + req.Who.String() + "\x00" + req.Nick
}

// page cuts a reply to what fits and keeps the rest.
func (p *pager) page(req Request, r Reply, prefix string) Reply {
	if !req.Can.Chat {
		return r
	}
	limit := privateLines
	if req.Where != "" && !r.Private {
		limit = channelLines
	}
	if wrapped := wrap(r.Lines, wrapWidth); len(wrapped) != len(r.Lines) {
		r.Lines, r.Short = wrapped, ""
	}
	if len(r.Lines) <= limit {
		return r
	}
	if limit == channelLines && r.Link != "" {
		// Everyone in the channel can follow a link; only the asker
		// could say "more".
		r.Lines, r.Short = cutWithLink(r.Lines, limit, r.Link), ""
		return r
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	key := pagerKey(req)
	rest := r.Lines[limit-1:]
	if len(rest) > pagerMax {
		rest = rest[:pagerMax]
	}
	p.rest[key] = rest
	r.Lines = append(r.Lines[:limit-1:limit-1], fmt.Sprintf("(%d more lines: say %smore)", len(rest), prefix))
	r.Short = ""
	return r
}

// wrap cuts lines longer than width bytes into several.
func wrap(lines []string, width int) []string {
	var out []string
	for _, l := range lines {
		for len(l) > width {
			var head string
			head, l = SplitLine(l, width)
			out = append(out, head)
		}
		out = append(out, l)
	}
	return out
}

func (p *pager) next(req Request) ([]string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := pagerKey(req)
	rest, ok := p.rest[key]
	delete(p.rest, key)
	return rest, ok
}

var moreSpec = &Spec{
	Name:     "more",
	Help:     "Show the rest of a long answer.",
	Examples: []string{"more"},
	Run: func(c *call) (Reply, error) {
		rest, ok := c.bot.pager.next(c.req)
		if !ok {
			return textReply("there is nothing more to show."), nil
		}
		return Reply{Lines: rest}, nil
	},
}

// cutWithLink keeps the first limit-1 lines and ends with the page that
// has them all.
func cutWithLink(lines []string, limit int, link string) []string {
	if len(lines) <= limit {
		return lines
	}
	return append(lines[:limit-1:limit-1], fmt.Sprintf("(%d more at %s)", len(lines)-limit+1, link))
}
