package bot

import (
	"fmt"
	"strings"
)

var helpSpec = &Spec{
	Name:     "help",
	Aliases:  []string{"commands"},
	Usage:    "[command]",
	Help:     "List the commands, or explain one.",
	Examples: []string{"help", "help vote"},
	Run:      runHelp,
}

func runHelp(c *call) (Reply, error) {
	p := c.prefix()
	if len(c.args.Words) == 0 {
		var everyone, organizers []string
		for _, s := range specs {
			if s.Organizer {
				organizers = append(organizers, s.Name)
			} else {
				everyone = append(everyone, s.Name)
			}
		}
		lines := []string{fmt.Sprintf("Commands: %s. Say %shelp COMMAND for one.", strings.Join(everyone, ", "), p)}
		if c.organizer {
			lines = append(lines, "For organizers: "+strings.Join(organizers, ", ")+".")
		}
		return Reply{Lines: lines}, nil
	}
	name := strings.ToLower(strings.TrimPrefix(c.args.Words[0], c.bot.opts.Prefix))
	s := lookup(name)
	if s == nil {
		msg := fmt.Sprintf("there is no command %q.", c.args.Words[0])
		if sug := suggest(name); sug != "" {
			msg += fmt.Sprintf(" Did you mean %s?", sug)
		}
		return Reply{}, userErr(msg)
	}
	return Reply{Lines: helpLines(s, p)}, nil
}

// helpLines explains one command.
func helpLines(s *Spec, prefix string) []string {
	line := s.usage(prefix) + ": " + s.Help
	if s.Organizer {
		line += " (organizers only)"
	}
	if len(s.Aliases) > 0 {
		line += " Also: " + strings.Join(s.Aliases, ", ") + "."
	}
	lines := []string{line}
	if len(s.Examples) > 0 {
		ex := make([]string, len(s.Examples))
		for i, e := range s.Examples {
			ex[i] = prefix + e
		}
		lines = append(lines, "Example: "+strings.Join(ex, "  |  "))
	}
	return lines
}

// Reference writes the command reference in Markdown, for the README.
func Reference(prefix string) string {
	var b strings.Builder
	b.WriteString("| command | what it does | example |\n|---|---|---|\n")
	for _, s := range specs {
		help := s.Help
		if s.Organizer {
			help += " *(organizers)*"
		}
		if len(s.Aliases) > 0 {
			help += " Also `" + strings.Join(s.Aliases, "`, `") + "`."
		}
		ex := ""
		if len(s.Examples) > 0 {
			ex = "`" + prefix + s.Examples[0] + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", strings.ReplaceAll(s.usage(prefix), "|", `\|`), help, strings.ReplaceAll(ex, "|", `\|`))
	}
	return b.String()
}
