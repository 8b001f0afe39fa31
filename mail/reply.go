package mail

import (
	"regexp"
	"strings"
)

// maxReferences bounds the References field of a reply in a long thread:
// the first identifier and the latest ones are kept (RFC 5322 section
// 3.6.4 allows trimming; threading needs the root and the parent).
const maxReferences = 20

// Reply returns a reply to in from from (the config's "Name <addr>"): to
// the sender's From address, "Re: " and the subject, threaded under in
// (In-Reply-To its Message-ID, References its References and its
// Message-ID), marked Auto-Submitted: auto-replied (RFC 3834).
//
// A Reply-To in the incoming mail is ignored on purpose: the bot answers
// the address that is asking, so a forged Reply-To cannot collect
// confirmation codes meant for someone else.
func Reply(in *Incoming, from, body string) Outgoing {
	refs := append([]string(nil), in.References...)
	if len(refs) == 0 && len(in.InReplyTo) == 1 {
		refs = append(refs, in.InReplyTo[0])
	}
	if in.MessageID != "" {
		refs = append(refs, in.MessageID)
	}
	if len(refs) > maxReferences {
		refs = append(refs[:1:1], refs[len(refs)-maxReferences+1:]...)
	}
	return Outgoing{
		From:          from,
		To:            []string{in.From.String()},
		Subject:       ReplySubject(in.Subject),
		Body:          body,
		InReplyTo:     in.MessageID,
		References:    refs,
		AutoSubmitted: AutoReplied,
	}
}

var replyPrefix = regexp.MustCompile(`(?i)^\s*(?:re|aw|sv|vs|antw|odp|rif|res)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*`)
var listTag = regexp.MustCompile(`^\s*\[[^\]]*\]\s*`)

// ReplySubject returns "Re: " and subject without the reply markers it
// already has, so a thread never reads "Re: Re: AW:". A list tag stays in
// front of the rest: "[osid] Re: register" gives "Re: [osid] register".
func ReplySubject(subject string) string {
	s := oneLine(subject)
	tag := ""
	for {
		if loc := replyPrefix.FindStringIndex(s); loc != nil {
			s = s[loc[1]:]
			continue
		}
		if loc := listTag.FindStringIndex(s); loc != nil && tag == "" {
			tag = strings.TrimSpace(s[:loc[1]]) + " "
			s = s[loc[1]:]
			continue
		}
		break
	}
	s = strings.TrimSpace(tag + s)
	if s == "" {
		return "Re: your mail"
	}
	return "Re: " + s
}
