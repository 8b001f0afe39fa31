package mail

import (
	"regexp"
	"strings"

	"github.com/hallwayhq/hallway/bot"
)

// CommandSource says where a mail's command line came from.
type CommandSource string

const (
	// FromSubject: the subject, without its prefixes, starts with a command.
	FromSubject CommandSource = "subject"
	// FromBody: the subject does not, the body's first line does.
	FromBody CommandSource = "body"
	// NoCommand: neither does; Command is the bare subject, for the bot to
	// answer with help (or for a list post to be left alone).
	NoCommand CommandSource = "none"
)

// mailCommands are commands people send by mail that may not be in the
// bot's table yet.
var mailCommands = []string{"register", "unregister", "cancel", "confirm", "pledge", "unpledge", "propose", "help"}

// DefaultCommands returns the command words Parse recognises by default:
// the bot's commands and aliases, and the mail commands (register, cancel,
// confirm, pledge, ...).
func DefaultCommands() []string {
	words := append([]string(nil), mailCommands...)
	for _, s := range bot.Specs() {
		words = append(words, s.Name)
		words = append(words, s.Aliases...)
	}
	return words
}

// subjectPrefix is one reply or forward marker ("Re:", "RE[2]:", "Fwd:",
// "AW:", "WG:", "SV:", "VS:", "Antw:", "TR:", "Odp:") or a list tag
// ("[hallway]").
var subjectPrefix = regexp.MustCompile(`(?i)^\s*(?:(?:re|fwd?|aw|wg|sv|vs|antw|tr|odp|rif|enc|res)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]|\[[^\]]*\])\s*`)

// CleanSubject removes reply, forward and list-tag prefixes from a
// subject: "Re: [hallway] AW: register" gives "register".
func CleanSubject(s string) string {
	for {
		loc := subjectPrefix.FindStringIndex(s)
		if loc == nil {
			return strings.TrimSpace(s)
		}
		s = s[loc[1]:]
	}
}

// deriveCommand fills in.Command, CommandFrom and Text.
//
// The rule: if the cleaned subject's first word (an IRC-style "!" allowed)
// is a command, the subject is the command line and the body its free
// text. Otherwise, if the body's first non-blank line starts with a
// command, that line is the command and the rest of the body the free
// text. Otherwise the cleaned subject stands as the command line
// (NoCommand), with the body as free text.
func deriveCommand(in *Incoming, commands []string) {
	subject := CleanSubject(in.Subject)
	if isCommand(subject, commands) {
		in.Command, in.CommandFrom = strings.TrimPrefix(subject, "!"), FromSubject
	} else if first, rest, _ := strings.Cut(strings.TrimSpace(in.Body), "\n"); isCommand(first, commands) {
		in.Command, in.CommandFrom = strings.TrimPrefix(strings.TrimSpace(first), "!"), FromBody
		in.Body = strings.TrimSpace(rest)
	} else {
		in.Command, in.CommandFrom = subject, NoCommand
	}
	in.Text = in.Command
	if in.Body != "" {
		in.Text = strings.TrimSpace(in.Command + " -- " + in.Body)
	}
}

func isCommand(line string, commands []string) bool {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return false
	}
	w := strings.ToLower(strings.TrimPrefix(fields[0], "!"))
	for _, c := range commands {
		if w == c {
			return true
		}
	}
	return false
}
