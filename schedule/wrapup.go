package schedule

import (
	"bytes"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"
)

// noteLabels names note kinds in the minutes, as MeetBot does.
var noteLabels = map[string]string{
	NoteInfo: "INFO", NoteIdea: "IDEA", NoteAgreed: "AGREED", NoteHelp: "HELP", NoteLink: "LINK", NoteAction: "ACTION",
}

func (m *Minutes) zone() *time.Location {
	if m.Info.Zone == nil {
		return time.UTC
	}
	return m.Info.Zone
}

// clock writes a log time in the event's zone.
func (m *Minutes) clock(t time.Time) string { return t.In(m.zone()).Format("15:04:05") }

// heading is the minutes' title line.
func (m *Minutes) heading() string {
	h := m.Info.Title
	if m.Info.Number != 0 {
		h = fmt.Sprintf("#%d %s", m.Info.Number, h)
	}
	return h
}

// facts are the minutes' header lines, label and value.
func (m *Minutes) facts() [][2]string {
	z := m.zone()
	var f [][2]string
	if m.Info.Event != "" {
		f = append(f, [2]string{"Event", m.Info.Event})
	}
	if m.Info.Room != "" {
		f = append(f, [2]string{"Room", m.Info.Room})
	}
	if !m.Info.Start.IsZero() {
		f = append(f, [2]string{"Slot", m.Info.Start.In(z).Format("Mon 2 Jan 2006 15:04") + "–" + m.Info.End.In(z).Format("15:04 MST")})
	}
	if len(m.Info.Speakers) > 0 {
		f = append(f, [2]string{"Speakers", strings.Join(m.Info.Speakers, ", ")})
	}
	if m.Info.Number != 0 {
		f = append(f, [2]string{"Votes", fmt.Sprint(m.Info.Votes)})
	}
	f = append(f, [2]string{"Notes", fmt.Sprintf("%s, %s to %s, started by %s", m.Info.Channel,
		m.Started.In(z).Format("15:04"), m.endText(), m.StartedBy)})
	if len(m.Chairs) > 0 {
		f = append(f, [2]string{"Chairs", strings.Join(m.Chairs, ", ")})
	}
	f = append(f, [2]string{"Attendance", m.attendance()})
	return f
}

func (m *Minutes) endText() string {
	if m.Ended.IsZero() {
		return "(still running)"
	}
	return m.Ended.In(m.zone()).Format("15:04")
}

func (m *Minutes) attendance() string {
	parts := make([]string, len(m.Speakers))
	for i, s := range m.Speakers {
		parts[i] = fmt.Sprintf("%s (%d)", s.Nick, s.Lines)
	}
	return fmt.Sprintf("%s spoke: %s", Plural(len(m.Speakers), "person"), strings.Join(parts, ", "))
}

// byOwner groups open actions by whom they are assigned to, owners sorted,
// "unassigned" last.
func byOwner(actions []Note) ([]string, map[string][]Note) {
	groups := map[string][]Note{}
	var owners []string
	for _, a := range actions {
		who := a.Owners
		if len(who) == 0 {
			who = []string{"unassigned"}
		}
		for _, o := range who {
			if _, ok := groups[o]; !ok {
				owners = append(owners, o)
			}
			groups[o] = append(groups[o], a)
		}
	}
	slices.SortFunc(owners, func(a, b string) int {
		if (a == "unassigned") != (b == "unassigned") {
			if a == "unassigned" {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	return owners, groups
}

// Markdown renders the minutes.
func (m *Minutes) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", mdEscape(m.heading()))
	for _, f := range m.facts() {
		fmt.Fprintf(&b, "- **%s:** %s\n", f[0], mdEscape(f[1]))
	}
	b.WriteString("\n## Notes\n")
	for i, t := range m.Topics {
		if i == 0 && len(t.Notes) == 0 {
			continue
		}
		if i > 0 {
			fmt.Fprintf(&b, "\n### %s ([%s](#l-%d))\n\n", mdEscape(t.Title), m.clock(t.At), t.Line)
		} else {
			b.WriteString("\n")
		}
		for _, n := range t.Notes {
			fmt.Fprintf(&b, "- %s: %s (%s, [%s](#l-%d))\n", noteLabels[n.Kind], mdEscape(n.Text), mdEscape(n.Nick), m.clock(n.At), n.Line)
		}
	}
	if decisions := m.notesOf(NoteAgreed); len(decisions) > 0 {
		b.WriteString("\n## Decisions\n\n")
		for _, n := range decisions {
			fmt.Fprintf(&b, "- %s\n", mdEscape(n.Text))
		}
	}
	owners, groups := byOwner(m.OpenActions())
	if len(owners) > 0 {
		b.WriteString("\n## Actions by person\n")
		for _, o := range owners {
			fmt.Fprintf(&b, "\n**%s**\n\n", mdEscape(o))
			for _, a := range groups[o] {
				carried := ""
				if slices.ContainsFunc(m.CarriedOver, func(c Note) bool { return c.Text == a.Text && c.At.Equal(a.At) }) {
					carried = " *(carried over)*"
				}
				fmt.Fprintf(&b, "- %s%s\n", mdEscape(a.Text), carried)
			}
		}
	}
	if links := m.notesOf(NoteLink); len(links) > 0 {
		b.WriteString("\n## Links\n\n")
		for _, n := range links {
			fmt.Fprintf(&b, "- <%s>\n", strings.ReplaceAll(n.Text, ">", "%3E"))
		}
	}
	b.WriteString("\n## Log\n\n")
	for i, l := range m.Log {
		fmt.Fprintf(&b, "<a id=\"l-%d\"></a>`%s` **&lt;%s&gt;** %s  \n", i+1, m.clock(l.At), mdEscape(l.Nick), mdEscape(l.Text))
	}
	return b.String()
}

func (m *Minutes) notesOf(kind string) []Note {
	var out []Note
	for _, t := range m.Topics {
		for _, n := range t.Notes {
			if n.Kind == kind {
				out = append(out, n)
			}
		}
	}
	return out
}

// mdEscape keeps what people typed from turning into Markdown (or HTML,
// which Markdown passes through).
func mdEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;", "#", `\#`, "|", `\|`).Replace(s)
}

// Text renders the minutes as plain text, for mail.
func (m *Minutes) Text() string {
	var b strings.Builder
	b.WriteString(m.heading() + "\n" + strings.Repeat("=", len([]rune(m.heading()))) + "\n\n")
	for _, f := range m.facts() {
		fmt.Fprintf(&b, "%-11s %s\n", f[0]+":", f[1])
	}
	for i, t := range m.Topics {
		if i == 0 && len(t.Notes) == 0 {
			continue
		}
		if i > 0 {
			fmt.Fprintf(&b, "\n%s (%s)\n", t.Title, m.clock(t.At))
		} else {
			b.WriteString("\n")
		}
		for _, n := range t.Notes {
			fmt.Fprintf(&b, "  * %s: %s (%s, %s)\n", noteLabels[n.Kind], n.Text, n.Nick, m.clock(n.At))
		}
	}
	owners, groups := byOwner(m.OpenActions())
	if len(owners) > 0 {
		b.WriteString("\nActions by person\n")
		for _, o := range owners {
			fmt.Fprintf(&b, "  %s\n", o)
			for _, a := range groups[o] {
				fmt.Fprintf(&b, "    * %s\n", a.Text)
			}
		}
	}
	if m.Info.URL != "" {
		fmt.Fprintf(&b, "\nMinutes and full log: %s\n", m.Info.URL)
	}
	return b.String()
}

var minutesHTML = template.Must(template.New("minutes").Funcs(template.FuncMap{
	"label": func(k string) string { return noteLabels[k] },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Heading}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:50rem;margin:1rem auto;padding:0 1rem;line-height:1.45}
dt{font-weight:bold;float:left;clear:left;width:7rem}dd{margin-left:7.5rem}
.log{font-family:ui-monospace,monospace;font-size:.9rem}.log p{margin:0}
.log :target{background:#ffd}.k{font-weight:bold}time{color:#666}
</style>
</head>
<body>
<main>
<h1>{{.Heading}}</h1>
<dl>{{range .Facts}}<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>{{end}}</dl>
<h2>Notes</h2>
{{range .Topics}}{{if .Title}}<h3>{{.Title}} <a href="#l-{{.Line}}"><time>{{.Clock}}</time></a></h3>{{end}}
<ul>{{range .Notes}}<li><span class="k">{{label .Kind}}</span>: {{.Text}} ({{.Nick}}, <a href="#l-{{.Line}}">{{.Clock}}</a>)</li>{{end}}</ul>
{{end}}
{{if .Owners}}<h2>Actions by person</h2>
{{range .Owners}}<h3>{{.Name}}</h3><ul>{{range .Actions}}<li>{{.}}</li>{{end}}</ul>{{end}}{{end}}
<h2>Log</h2>
<div class="log">{{range .Log}}<p id="l-{{.N}}"><a href="#l-{{.N}}"><time>{{.Clock}}</time></a> &lt;{{.Nick}}&gt; {{.Text}}</p>
{{end}}</div>
</main>
</body>
</html>
`))

// HTML renders the minutes as a page; everything people typed is escaped.
func (m *Minutes) HTML() string {
	type note struct {
		Kind, Text, Nick, Clock string
		Line                    int
	}
	type topic struct {
		Title, Clock string
		Line         int
		Notes        []note
	}
	type owner struct {
		Name    string
		Actions []string
	}
	type line struct {
		N                 int
		Clock, Nick, Text string
	}
	data := struct {
		Heading string
		Facts   [][2]string
		Topics  []topic
		Owners  []owner
		Log     []line
	}{Heading: m.heading(), Facts: m.facts()}
	for i, t := range m.Topics {
		if i == 0 && len(t.Notes) == 0 {
			continue
		}
		tp := topic{Title: t.Title, Clock: m.clock(t.At), Line: t.Line}
		for _, n := range t.Notes {
			tp.Notes = append(tp.Notes, note{Kind: n.Kind, Text: n.Text, Nick: n.Nick, Clock: m.clock(n.At), Line: n.Line})
		}
		data.Topics = append(data.Topics, tp)
	}
	owners, groups := byOwner(m.OpenActions())
	for _, o := range owners {
		ow := owner{Name: o}
		for _, a := range groups[o] {
			ow.Actions = append(ow.Actions, a.Text)
		}
		data.Owners = append(data.Owners, ow)
	}
	for i, l := range m.Log {
		data.Log = append(data.Log, line{N: i + 1, Clock: m.clock(l.At), Nick: l.Nick, Text: l.Text})
	}
	var b bytes.Buffer
	if err := minutesHTML.Execute(&b, data); err != nil {
		panic(err) // the template is fixed; an error here is a bug
	}
	return b.String()
}

// EventSummary is what the event's wrap-up reports.
type EventSummary struct {
	Event      string
	URL        string
	Sessions   []*Minutes
	Registered int // with a seat
	CheckedIn  int
	// RegisteredIn is how many of the registered checked in.
	RegisteredIn int
	Proposals    int
	Votes        int
	Voters       int
	// Pledges are the campaigns' progress lines, already written.
	Pledges []string
	// NoNotes are the scheduled sessions and talks no notes were taken of.
	NoNotes []Item
	Zone    *time.Location
}

// zone is where the summary's times are shown: the sessions'.
func (s *EventSummary) zone() *time.Location {
	if s.Zone != nil {
		return s.Zone
	}
	return time.UTC
}

// Markdown renders the event's wrap-up.
func (s *EventSummary) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: wrap-up\n\n", mdEscape(s.Event))
	fmt.Fprintf(&b, "- **People:** %d registered, %d checked in (%d of them registered, %s)\n",
		s.Registered, s.CheckedIn, s.RegisteredIn, Plural(s.CheckedIn-s.RegisteredIn, "walk-in"))
	fmt.Fprintf(&b, "- **Proposals:** %d, with %s from %s\n", s.Proposals, Plural(s.Votes, "vote"), Plural(s.Voters, "person"))
	for _, p := range s.Pledges {
		fmt.Fprintf(&b, "- **Pledges:** %s\n", mdEscape(p))
	}
	b.WriteString("\n## Sessions\n")
	var open []Note
	for _, m := range s.Sessions {
		fmt.Fprintf(&b, "\n### %s\n\n", mdEscape(m.heading()))
		if m.Info.Room != "" {
			fmt.Fprintf(&b, "%s, %s. ", mdEscape(m.Info.Room), m.Info.Start.In(m.zone()).Format("Mon 15:04"))
		}
		fmt.Fprintf(&b, "%s, %s, %s, %s spoke.", Plural(len(m.Topics)-1, "topic"), Plural(len(m.notesOf(NoteAgreed)), "decision"), Plural(len(m.Actions()), "action"), Plural(len(m.Speakers), "person"))
		if m.Info.URL != "" {
			fmt.Fprintf(&b, " [Minutes](%s)", m.Info.URL)
		}
		b.WriteString("\n")
		for _, d := range m.notesOf(NoteAgreed) {
			fmt.Fprintf(&b, "\n- AGREED: %s", mdEscape(d.Text))
		}
		if len(m.notesOf(NoteAgreed)) > 0 {
			b.WriteString("\n")
		}
		open = append(open, m.Actions()...)
	}
	if len(s.NoNotes) > 0 {
		b.WriteString("\n## Sessions without notes\n\n")
		for _, it := range s.NoNotes {
			fmt.Fprintf(&b, "- #%d %s (%s, %s)\n", it.Number, mdEscape(it.Title), mdEscape(it.Room), it.Start.In(s.zone()).Format("Mon 15:04"))
		}
	}
	owners, groups := byOwner(open)
	if len(owners) > 0 {
		b.WriteString("\n## Open actions by person\n")
		for _, o := range owners {
			fmt.Fprintf(&b, "\n**%s**\n\n", mdEscape(o))
			for _, a := range groups[o] {
				fmt.Fprintf(&b, "- %s\n", mdEscape(a.Text))
			}
		}
	}
	if s.URL != "" {
		fmt.Fprintf(&b, "\n%s\n", s.URL)
	}
	return b.String()
}

// Text renders the event's wrap-up as plain text, for the list.
func (s *EventSummary) Text() string {
	var b strings.Builder
	title := s.Event + ": wrap-up"
	b.WriteString(title + "\n" + strings.Repeat("=", len([]rune(title))) + "\n\n")
	fmt.Fprintf(&b, "People:    %d registered, %d checked in (%d of them registered, %s)\n",
		s.Registered, s.CheckedIn, s.RegisteredIn, Plural(s.CheckedIn-s.RegisteredIn, "walk-in"))
	fmt.Fprintf(&b, "Proposals: %d, with %s from %s\n", s.Proposals, Plural(s.Votes, "vote"), Plural(s.Voters, "person"))
	for _, p := range s.Pledges {
		fmt.Fprintf(&b, "Pledges:   %s\n", p)
	}
	var open []Note
	for _, m := range s.Sessions {
		fmt.Fprintf(&b, "\n%s\n", m.heading())
		if m.Info.Room != "" {
			fmt.Fprintf(&b, "  %s, %s\n", m.Info.Room, m.Info.Start.In(m.zone()).Format("Mon 15:04"))
		}
		for _, d := range m.notesOf(NoteAgreed) {
			fmt.Fprintf(&b, "  * AGREED: %s\n", d.Text)
		}
		fmt.Fprintf(&b, "  %s, %s spoke", Plural(len(m.Actions()), "action"), Plural(len(m.Speakers), "person"))
		if m.Info.URL != "" {
			fmt.Fprintf(&b, "; minutes: %s", m.Info.URL)
		}
		b.WriteString("\n")
		open = append(open, m.Actions()...)
	}
	if len(s.NoNotes) > 0 {
		b.WriteString("\nSessions without notes\n")
		for _, it := range s.NoNotes {
			fmt.Fprintf(&b, "  #%d %s (%s, %s)\n", it.Number, it.Title, it.Room, it.Start.In(s.zone()).Format("Mon 15:04"))
		}
	}
	owners, groups := byOwner(open)
	if len(owners) > 0 {
		b.WriteString("\nOpen actions by person\n")
		for _, o := range owners {
			fmt.Fprintf(&b, "  %s\n", o)
			for _, a := range groups[o] {
				fmt.Fprintf(&b, "    * %s\n", a.Text)
			}
		}
	}
	if s.URL != "" {
		fmt.Fprintf(&b, "\n%s\n", s.URL)
	}
	return b.String()
}
