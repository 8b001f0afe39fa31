package mail

import (
	"strings"

	"github.com/emersion/go-message"
)

// loopHeaders is what Parse keeps of a message's header to tell whether
// answering it could start a mail loop.
type loopHeaders struct {
	autoSubmitted   string
	precedence      string
	list            string // the first List-* field present
	suppress        string // X-Auto-Response-Suppress
	xAutoreply      bool   // X-Autoreply or X-Autorespond
	returnPathEmpty bool   // Return-Path: <>
	report          bool   // multipart/report
	reportType      string
}

func readLoopHeaders(h message.Header) loopHeaders {
	l := loopHeaders{
		autoSubmitted: strings.ToLower(strings.TrimSpace(stripComment(h.Get("Auto-Submitted")))),
		precedence:    strings.ToLower(strings.TrimSpace(h.Get("Precedence"))),
		suppress:      strings.ToLower(h.Get("X-Auto-Response-Suppress")),
		xAutoreply:    h.Has("X-Autoreply") || h.Has("X-Autorespond") || h.Has("X-Autoresponder"),
	}
	for _, k := range []string{"List-Id", "List-Unsubscribe", "List-Post"} {
		if h.Has(k) {
			l.list = k
			break
		}
	}
	if h.Has("Return-Path") {
		rp := strings.TrimSpace(h.Get("Return-Path"))
		l.returnPathEmpty = rp == "<>" || rp == ""
	}
	if mt, params := contentType(h); mt == "multipart/report" {
		l.report = true
		l.reportType = strings.ToLower(params["report-type"])
	}
	return l
}

// stripComment drops an RFC 5322 comment: "auto-replied (vacation)".
func stripComment(s string) string {
	if i := strings.IndexByte(s, '('); i >= 0 {
		return s[:i]
	}
	return s
}

// MustNotReply tells whether answering this mail could start a mail loop
// or answer a machine, and why. It is true for:
//
//   - Auto-Submitted other than "no" (RFC 3834 section 5);
//   - Precedence: bulk, list or junk;
//   - any List-Id, List-Unsubscribe or List-Post field (RFC 2919, 2369);
//   - X-Auto-Response-Suppress: All or AutoReply (Exchange), X-Autoreply,
//     X-Autorespond;
//   - an empty Return-Path ("<>", a bounce or other notification);
//   - a From or Sender that is MAILER-DAEMON, postmaster, or a
//     noreply/no-reply/donotreply address;
//   - a delivery status notification or other multipart/report (RFC 6522).
func (in *Incoming) MustNotReply() (bool, string) {
	l := in.loop
	switch {
	case l.autoSubmitted != "" && l.autoSubmitted != "no":
		return true, "Auto-Submitted: " + l.autoSubmitted
	case l.precedence == "bulk" || l.precedence == "list" || l.precedence == "junk":
		return true, "Precedence: " + l.precedence
	case l.list != "":
		return true, l.list + " present (mailing list)"
	case strings.Contains(l.suppress, "all") || strings.Contains(l.suppress, "autoreply"):
		return true, "X-Auto-Response-Suppress: " + l.suppress
	case l.xAutoreply:
		return true, "X-Autoreply/X-Autorespond present"
	case l.returnPathEmpty:
		return true, "empty Return-Path (a bounce or notification)"
	case l.report:
		return true, "multipart/report (" + l.reportType + ")"
	}
	for _, a := range []string{in.From.Addr, in.Sender} {
		if isMachineAddress(a) {
			return true, "sent by " + a
		}
	}
	return false, ""
}

// isMachineAddress tells whether an address belongs to a program that must
// not be answered: MAILER-DAEMON, postmaster, noreply and its variants,
// list bounce addresses.
func isMachineAddress(addr string) bool {
	local, _, ok := strings.Cut(strings.ToLower(addr), "@")
	if !ok {
		return false
	}
	local, _, _ = strings.Cut(local, "+")
	squashed := strings.NewReplacer("-", "", "_", "", ".", "").Replace(local)
	switch {
	case squashed == "mailerdaemon", squashed == "postmaster":
		return true
	case strings.HasPrefix(squashed, "noreply"), strings.HasPrefix(squashed, "donotreply"),
		strings.HasPrefix(squashed, "dontreply"), strings.HasSuffix(squashed, "noreply"):
		return true
	case local == "bounce" || local == "bounces" || strings.HasSuffix(local, "-bounces") || strings.HasPrefix(local, "bounce-"):
		return true
	}
	return false
}
