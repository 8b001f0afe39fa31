package mail

import (
	"regexp"
	"strings"
)

// StripQuotes returns what the sender wrote themselves in a plain-text
// body: quoted lines ("> ..."), the attribution line above them ("On ...
// wrote:", "Am ... schrieb ...:", "Le ... a écrit :"), and everything from
// the first of these on are removed:
//
//   - a signature delimiter, "-- " on a line of its own (RFC 3676 section
//     4.3; "--" too, since clients trim the space);
//   - an Outlook quote: "-----Original Message-----" (and its translations),
//     or a From:/Sent:/Subject: header block;
//   - a mailing list footer: a line of underscores, then "... mailing list";
//   - a mobile client's signature: "Sent from my iPhone", "Get Outlook for
//     Android", "Von meinem iPhone gesendet", ...
//
// A forwarded message ("---------- Forwarded message ---------") is kept:
// what someone forwards to the bot is what they want it to read.
func StripQuotes(s string) string {
	lines := strings.Split(normalizeNewlines(s), "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], " \t")
		t := strings.TrimSpace(l)
		if lines[i] == "-- " || l == "--" || isOriginalMessage(t) || isMobileSignature(t) || isOutlookHeader(lines[i:]) || isListFooter(lines[i:]) {
			break
		}
		if strings.HasPrefix(t, ">") {
			continue
		}
		if n := attribution(lines[i:]); n > 0 {
			i += n - 1
			continue
		}
		out = append(out, l)
	}
	return tidyBlank(out)
}

// tidyBlank joins lines keeping at most one blank line in a row, without
// blank lines at either end.
func tidyBlank(lines []string) string {
	var b strings.Builder
	blank := false
	for _, l := range lines {
		if l == "" {
			blank = b.Len() > 0
			continue
		}
		if blank {
			b.WriteString("\n\n")
		} else if b.Len() > 0 {
			b.WriteByte('\n')
		}
		blank = false
		b.WriteString(l)
	}
	return b.String()
}

var originalMessage = regexp.MustCompile(`(?i)^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|messaggio originale|oorspronkelijk bericht|original meddelelse|alkuperäinen viesti)\s*-{2,}$`)

func isOriginalMessage(t string) bool {
	return len(t) < 80 && originalMessage.MatchString(t)
}

var mobileSignatures = []string{
	"sent from my ", "sent from mail for windows", "sent from outlook", "get outlook for ",
	"sent from yahoo mail", "sent with proton", "sent from proton", "sent via ", "sent from samsung",
	"von meinem ", "gesendet von ", "envoyé de mon ", "envoyé depuis ", "enviado desde mi ",
	"enviado do meu ", "inviato da ", "verzonden vanaf mijn ", "skickat från min ",
}

func isMobileSignature(t string) bool {
	if len(t) > 80 {
		return false
	}
	t = strings.ToLower(t)
	for _, p := range mobileSignatures {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// isOutlookHeader tells whether lines start with the header block Outlook
// puts above the mail it quotes (possibly under a line of underscores):
// "From: ..." followed within four lines by "Sent:" or "Date:" and
// "Subject:" (or their translations).
func isOutlookHeader(lines []string) bool {
	first := strings.TrimSpace(lines[0])
	if strings.Trim(first, "_") == "" && len(first) >= 10 && len(lines) > 1 {
		lines = lines[1:]
		first = strings.TrimSpace(lines[0])
	}
	if !hasAnyPrefix(first, "From:", "Von:", "De :", "De:", "Van:", "Från:") {
		return false
	}
	var sent, subject bool
	for _, l := range lines[1:min(len(lines), 6)] {
		l = strings.TrimSpace(l)
		sent = sent || hasAnyPrefix(l, "Sent:", "Date:", "Gesendet:", "Datum:", "Envoyé :", "Envoyé:", "Verzonden:", "Skickat:")
		subject = subject || hasAnyPrefix(l, "Subject:", "Betreff:", "Objet :", "Objet:", "Onderwerp:", "Ämne:")
	}
	return sent && subject
}

// isListFooter tells whether lines start with the footer Mailman adds
// to list posts.
func isListFooter(lines []string) bool {
	first := strings.TrimSpace(lines[0])
	return len(lines) > 1 && len(first) >= 10 && strings.Trim(first, "_") == "" &&
		strings.HasSuffix(strings.ToLower(strings.TrimSpace(lines[1])), "mailing list")
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	ls := strings.ToLower(s)
	for _, p := range prefixes {
		if strings.HasPrefix(ls, strings.ToLower(p)) {
			return true
		}
	}
	return false
}

var attributionLine = regexp.MustCompile(`(?is)^(on\s.*\swrote|am\s.*\sschrieb.*|le\s.*\sa\s+écrit\s*|el\s.*\sescribió|op\s.*\sschreef.*|il\s.*\sha\s+scritto)\s*:$`)

// attribution returns how many lines (1 to 3) an attribution line above a
// quote takes at the start of lines, or 0. It counts only when quoted
// lines follow (after blank lines), or nothing does.
func attribution(lines []string) int {
	joined := ""
	for n := 1; n <= 3 && n <= len(lines); n++ {
		t := strings.TrimSpace(lines[n-1])
		if t == "" || strings.HasPrefix(t, ">") {
			return 0
		}
		if joined != "" {
			joined += " "
		}
		joined += t
		if len(joined) > 300 {
			return 0
		}
		if !attributionLine.MatchString(joined) {
			continue
		}
		for _, next := range lines[n:] {
			next = strings.TrimSpace(next)
			if next == "" {
				continue
			}
			if strings.HasPrefix(next, ">") {
				return n
			}
			return 0
		}
		return n
	}
	return 0
}
