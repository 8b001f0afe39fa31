package mail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/store"
)

// Desk is the mail transport of the bot, both ways: it turns delivered
// mails into the bot's requests (a Deliverer for the intake and for
// "hallway ingest"), and the bot's answers, mails and announcements into
// composed messages in the outbox (a bot.Replier, bot.Mailer and
// bot.Announcer).
type Desk struct {
	Bot   *bot.Bot
	Store *store.Store
	// From is the bot's address, "Name <addr>".
	From string
	// List is the mailing list's address for announcements; "" for none.
	List string
	// MaxBytes is the size limit of a mail (see ParseOptions).
	MaxBytes int64
	// MaxAttempts is how often handling a mail may fail before it is set
	// aside; 0 means DefaultMaxAttempts.
	MaxAttempts int
	// AnswersPerDay caps the answers one address gets a day; 0 means
	// DefaultAnswersPerDay.
	AnswersPerDay int
	// Wake, if set, is called after the desk queued an answer itself, so
	// the sender looks at the outbox at once.
	Wake   func()
	Now    func() time.Time
	Logger *slog.Logger
}

func (d *Desk) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Desk) log() *slog.Logger {
	if d.Logger != nil {
		return d.Logger.With("component", "mail")
	}
	return slog.Default().With("component", "mail")
}

// rawKept is how much of a bad mail is kept for the organizers.
const rawKept = 64 << 10

// DefaultAnswersPerDay is Mailman's default cap on the automatic answers
// one address gets a day.
const DefaultAnswersPerDay = 10

// DefaultMaxAttempts is how often handling a mail may fail before it is
// set aside.
const DefaultMaxAttempts = 3

// Failed records that handling a mail failed, and sets it aside once it
// failed MaxAttempts times: recorded with the error and its text for the
// organizers ("hallway export mail"), its sender told that it is kept.
// It implements half of Deliverer.
func (d *Desk) Failed(ctx context.Context, dv Delivery, cause error) (bool, error) {
	n, err := d.Store.NoteDeliveryFailure(ctx, dv.Key, cause)
	if err != nil {
		return false, err
	}
	limit := d.MaxAttempts
	if limit <= 0 {
		limit = DefaultMaxAttempts
	}
	if n < limit {
		return false, nil
	}
	outcome := fmt.Sprintf("set aside after %d failed attempts: %v", n, cause)
	in := headersOnly(dv.Raw)
	var answer *Outgoing
	if in != nil && in.From.Addr != "" {
		if no, _ := in.MustNotReply(); !no {
			a := Reply(in, d.From, "I could not handle your mail because of an error on our side. It is kept for the organizers, who can see what went wrong: you don't need to send it again.\n")
			answer = &a
		}
	}
	if err := d.record(ctx, dv, in, outcome, answer); err != nil {
		if answer == nil {
			return false, err
		}
		// The answer itself may be what fails: keep the mail without it.
		if err := d.record(ctx, dv, in, outcome, nil); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Deliver carries out one mail: the command in it goes to the bot, whose
// answer is mailed back; a mail that is no command for us is recorded
// with why, and answered only where answering cannot start a mail loop.
func (d *Desk) Deliver(ctx context.Context, dv Delivery) error {
	if dv.TooLarge {
		// Raw is the header alone: whatever its MIME structure says
		// about the missing body, the answer is the size.
		return d.refuse(ctx, dv, nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, dv.Size))
	}
	in, err := Parse(bytes.NewReader(dv.Raw), &ParseOptions{MaxBytes: d.MaxBytes})
	if err != nil {
		return d.refuse(ctx, dv, in, err)
	}
	// An answer on the list to a session's minutes joins its notes; list
	// mail is never answered.
	if id, ok := minutesRef(in); ok {
		keys := []string{dv.Key}
		if in.MessageID != "" {
			keys = append(keys, "msgid:"+in.MessageID)
		}
		from := in.From.Name
		if from == "" {
			from, _, _ = strings.Cut(in.From.Addr, "@")
		}
		return d.Bot.AddMailNote(ctx, id, from, in.Body, keys)
	}
	if no, why := in.MustNotReply(); no {
		return d.record(ctx, dv, in, "ignored: "+why, nil)
	}
	if in.From.Addr == "" {
		return d.record(ctx, dv, in, "ignored: no From address", nil)
	}
	keys := []string{dv.Key}
	if in.MessageID != "" {
		keys = append(keys, "msgid:"+in.MessageID)
	}
	text := in.Text
	if d.repliesToUs(in) {
		// "Re: propose session X" is our own subject coming back: the
		// command of a reply is what the person wrote on the first line
		// ("cancel"). A reply to a confirmation mail confirms only when
		// it says so ("confirm", "yes", the code); "not me" refuses it.
		text = commandLine(in.Body)
		confirmation := refersToConfirmation(in)
		if text == "" && confirmation {
			text = confirmationAnswer(in.Body)
		}
		if text == "" {
			if repliesToAnswer(in) {
				// Two programs answering each other: answer a reply to
				// an answer of ours only when it carries a command.
				return d.record(ctx, dv, in, "no command in a reply to one of our answers: not answered", nil)
			}
			msg := "I found no command in your reply. Write it on the first line of your mail, for example:\n\n    cancel\n\nor send \"help\" for the list of commands.\n"
			if confirmation {
				msg = "I found no answer in your reply. To confirm, reply with this on the first line:\n\n    confirm\n\nIf you did not ask for this, reply \"not me\": the request is cancelled and no more confirmation mails come to this address.\n"
			}
			answer := Reply(in, d.From, msg)
			return d.record(ctx, dv, in, "no command in a reply", &answer)
		}
	}
	req := bot.Request{
		Transport: bot.Mail,
		Keys:      keys,
		Who:       bot.AddressIdentity(in.From.Addr),
		Name:      in.From.Name,
		Text:      text,
		RefersTo:  append(append([]string(nil), in.InReplyTo...), in.References...),
		Mail:      in,
		Original:  dv.Raw[:min(len(dv.Raw), rawKept)],
	}
	return d.Bot.Handle(ctx, req)
}

// refuse records a mail that could not be read and tells the sender why,
// when there is a sender to tell and it is safe to.
func (d *Desk) refuse(ctx context.Context, dv Delivery, in *Incoming, cause error) error {
	var answer string
	switch {
	case errors.Is(cause, ErrTooLarge):
		size := dv.Size
		if size <= d.maxBytes() {
			size = d.maxBytes() + 1 // Parse stopped reading at the limit
		}
		answer = fmt.Sprintf("Your mail was too large (%s; the limit is %s), so I did not read it.\n\nSend the command in a short plain-text mail, without attachments: the command in the subject (register, cancel, propose session Title, …) and any text in the body.\n",
			megabytes(size), megabytes(d.maxBytes()))
	default:
		answer = "I could not read your mail: " + cause.Error() + ".\n\nSend the command in a plain-text mail: the command in the subject (register, cancel, propose session Title, …) and any text in the body.\n"
	}
	if in == nil {
		in = headersOnly(dv.Raw)
	}
	if in == nil || in.From.Addr == "" {
		return d.record(ctx, dv, nil, "unreadable: "+cause.Error(), nil)
	}
	if no, why := in.MustNotReply(); no {
		return d.record(ctx, dv, in, fmt.Sprintf("unreadable (%v), not answered: %s", cause, why), nil)
	}
	reply := Reply(in, d.From, answer)
	return d.record(ctx, dv, in, "unreadable: "+cause.Error(), &reply)
}

// megabytes writes a size for people: "1.5 MB", "12 MB".
func megabytes(n int64) string {
	mb := float64(n) / (1 << 20)
	if mb < 10 {
		return strconv.FormatFloat(mb, 'f', 1, 64) + " MB"
	}
	return strconv.FormatFloat(mb, 'f', 0, 64) + " MB"
}

// headersOnly reads what it can of a mail's header, for answering a mail
// whose body could not be read.
func headersOnly(raw []byte) *Incoming {
	e, err := message.Read(bytes.NewReader(raw))
	if e == nil || (err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err)) {
		return nil
	}
	h := gomail.Header{Header: e.Header}
	in := &Incoming{loop: readLoopHeaders(e.Header)}
	in.Subject, _ = h.Subject()
	in.MessageID, _ = h.MessageID()
	if from, err := h.AddressList("From"); err == nil && len(from) > 0 {
		in.From = Address{Name: from[0].Name, Addr: strings.ToLower(from[0].Address)}
	}
	return in
}

func (d *Desk) maxBytes() int64 {
	if d.MaxBytes > 0 {
		return d.MaxBytes
	}
	return DefaultMaxBytes
}

// record keeps a mail that carried no command (with its raw text, for the
// organizers) and queues an answer if there is one, in one transaction.
func (d *Desk) record(ctx context.Context, dv Delivery, in *Incoming, outcome string, answer *Outgoing) error {
	raw := dv.Raw
	if len(raw) > rawKept {
		raw = raw[:rawKept]
	}
	sender := ""
	if in != nil {
		sender = in.From.Addr
	}
	d.log().Info("mail not carried out", "key", dv.Key, "from", sender, "outcome", outcome)
	err := d.Store.Do(ctx, func(tx *store.Tx) error {
		first, err := tx.MarkReceived(store.Received{Channel: store.Mail, Key: dv.Key, Sender: sender, Outcome: outcome, Raw: string(raw)})
		if err != nil || !first || answer == nil {
			return err
		}
		return d.enqueue(tx, in.From.Addr, *answer, "answer:"+dv.Key)
	})
	if err == nil && answer != nil && d.Wake != nil {
		d.Wake()
	}
	return err
}

// enqueue composes a mail and queues it for the SMTP sender.
func (d *Desk) enqueue(tx *store.Tx, to string, o Outgoing, dedupeKey string) error {
	_, err := d.enqueueOnce(tx, to, o, dedupeKey)
	return err
}

// enqueueOnce is enqueue, reporting whether the mail was new. An answer
// (Auto-Submitted: auto-replied) counts against the address's answers of
// the day: past the cap it is dropped, not deferred, after one notice.
func (d *Desk) enqueueOnce(tx *store.Tx, to string, o Outgoing, dedupeKey string) (bool, error) {
	if o.Date.IsZero() {
		o.Date = d.now()
	}
	if o.AutoSubmitted == AutoReplied {
		limit := d.AnswersPerDay
		if limit <= 0 {
			limit = DefaultAnswersPerDay
		}
		ok, notify, err := tx.CountAnswer(strings.ToLower(to), limit)
		switch {
		case err != nil:
			return false, err
		case notify:
			mails := fmt.Sprintf("%d mails", limit)
			if limit == 1 {
				mails = "1 mail"
			}
			o.Body = fmt.Sprintf("I have answered %s from this address today, the most I answer one address in a day: that keeps two programs from mailing each other for ever. I won't answer mail from you again until tomorrow (UTC); commands you send are still carried out.\n", mails)
		case !ok:
			d.log().Info("answer not sent: the address had its answers for today", "to", to, "limit", limit)
			return false, nil
		}
		if o.MessageID == "" {
			o.MessageID = answerPrefix + NewMessageID(addrOf(d.From))
		}
	}
	data, err := Compose(o)
	if err != nil {
		return false, fmt.Errorf("compose mail to %s: %w", to, err)
	}
	return tx.EnqueueOnce(store.Message{Channel: store.Mail, Target: to, Body: string(data), DedupeKey: dedupeKey})
}

// Undelivered tells the bot of a mail the SMTP server refused for good.
// It fits SenderOptions.Undelivered.
func (d *Desk) Undelivered(ctx context.Context, m store.Message, cause error) {
	reason := cause.Error()
	var se *smtp.SMTPError
	if errors.As(cause, &se) {
		reason = fmt.Sprintf("%d %s", se.Code, se.Message)
	}
	err := d.Bot.MailUndelivered(ctx, bot.Undelivered{OutboxID: m.ID, To: m.Target, DedupeKey: m.DedupeKey, Reason: reason})
	if err != nil {
		d.log().Error("recording an undelivered mail", "id", m.ID, "to", m.Target, "err", err)
	}
}

// Reply mails the bot's answer to a request that came by mail, threaded
// under it. It implements bot.Replier.
func (d *Desk) Reply(tx *store.Tx, req bot.Request, r bot.Reply) error {
	if len(r.Lines) == 0 || r.Failure {
		// No apology by mail: the intake tries the mail again, and
		// answers for itself if it has to set the mail aside.
		return nil
	}
	body := strings.Join(r.Lines, "\n") + "\n"
	in, _ := req.Mail.(*Incoming)
	if in == nil {
		if req.Who.Kind != bot.Address {
			return nil // nobody to mail
		}
		o := Outgoing{From: d.From, To: []string{req.Who.Value}, Subject: "hallway", Body: body, AutoSubmitted: AutoGenerated}
		return d.enqueue(tx, req.Who.Value, o, "")
	}
	if no, _ := in.MustNotReply(); no {
		return nil
	}
	return d.enqueue(tx, in.From.Addr, Reply(in, d.From, body), "reply:"+strings.Join(req.Keys, " "))
}

// Mail queues a mail the bot sends to one person: a reply to their mail
// if it answers one, else a new mail. It implements bot.Mailer.
func (d *Desk) Mail(tx *store.Tx, m bot.OutMail) error {
	var o Outgoing
	if in, ok := m.Reply.(*Incoming); ok && in != nil {
		if no, _ := in.MustNotReply(); no {
			return nil
		}
		o = Reply(in, d.From, m.Body)
		if m.To != in.From.Addr {
			o.To = []string{m.To}
		}
	} else {
		o = Outgoing{From: d.From, To: []string{m.To}, Subject: m.Subject, Body: m.Body, AutoSubmitted: AutoGenerated}
	}
	if m.IDPrefix != "" {
		o.MessageID = m.IDPrefix + "." + NewMessageID(addrOf(d.From))
	}
	return d.enqueue(tx, m.To, o, m.DedupeKey)
}

// Announce posts to the mailing list, every post of an event threaded
// under one root, so an event is one thread in people's mail. It
// implements bot.Announcer.
func (d *Desk) Announce(tx *store.Tx, event, key, subject, body string) (bool, error) {
	if d.List == "" {
		return false, nil
	}
	root := "event-" + event + "@" + domainOf(addrOf(d.From))
	o := Outgoing{From: d.From, To: []string{d.List}, Subject: subject, Body: body,
		InReplyTo: root, References: []string{root}, AutoSubmitted: AutoGenerated}
	if strings.HasPrefix(key, "minutes-") {
		// Answers to the minutes find their meeting by this identifier.
		o.MessageID = key + "." + NewMessageID(addrOf(d.From))
	}
	// Without a key, one post per event, subject and moment: the same
	// transaction run again posts once, a phase reopened later posts again.
	if key == "" {
		sum := sha256.Sum256([]byte(event + "\x00" + subject + "\x00" + tx.Now().Format(time.RFC3339Nano)))
		key = hex.EncodeToString(sum[:8])
	}
	return d.enqueueOnce(tx, d.List, o, "announce:"+event+":"+key)
}

func addrOf(from string) string {
	if a, err := mail.ParseAddress(from); err == nil {
		return a.Address
	}
	return from
}

func domainOf(addr string) string {
	if _, domain, ok := strings.Cut(addr, "@"); ok {
		return domain
	}
	return "hallway.invalid"
}

// repliesToUs tells whether a mail answers one of the bot's own mails.
func (d *Desk) repliesToUs(in *Incoming) bool {
	ours := "@" + domainOf(addrOf(d.From))
	for _, ref := range append(append([]string(nil), in.InReplyTo...), in.References...) {
		if strings.HasSuffix(strings.ToLower(ref), ours) {
			return true
		}
	}
	return false
}

// answerPrefix starts the Message-ID of every answer hallway mails, so
// a reply to an answer is known.
const answerPrefix = "answer."

// repliesToAnswer tells whether a mail replies to one of our answers.
func repliesToAnswer(in *Incoming) bool {
	for _, ref := range in.InReplyTo {
		if strings.HasPrefix(strings.ToLower(ref), answerPrefix) {
			return true
		}
	}
	return false
}

// confirmationAnswer reads the first line of a reply to a confirmation
// mail: "confirm" or "yes" (or the code) confirms, "not me", "no" or
// "stop" refuses; anything else is no answer ("").
func confirmationAnswer(body string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(body), "\n")
	words := strings.FieldsFunc(strings.ToLower(first), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-'
	})
	if len(words) == 0 {
		return ""
	}
	switch {
	case words[0] == "confirm" || words[0] == "confirmed" || words[0] == "yes":
		return "confirm"
	case words[0] == "not" && len(words) > 1 && words[1] == "me", words[0] == "notme", words[0] == "no", words[0] == "stop":
		return "notme"
	}
	if codeRe.MatchString(first) {
		return "confirm " + codeRe.FindString(first)
	}
	return ""
}

// codeRe finds a confirmation code as the mail writes it: K7Q2-9XM4.
var codeRe = regexp.MustCompile(`(?i)\b[0-9A-Z]{4}-[0-9A-Z]{4}\b`)

// refersToConfirmation tells whether a mail answers a confirmation mail.
func refersToConfirmation(in *Incoming) bool {
	for _, ref := range append(append([]string(nil), in.InReplyTo...), in.References...) {
		if strings.HasPrefix(strings.ToLower(ref), "confirm-") {
			return true
		}
	}
	return false
}

// commandLine returns the body's first line as a command line, with the
// rest as its free text, if that line starts with a command word.
func commandLine(body string) string {
	first, rest, _ := strings.Cut(strings.TrimSpace(body), "\n")
	first = strings.TrimSpace(first)
	word, _, _ := strings.Cut(first, " ")
	word = strings.ToLower(strings.TrimPrefix(word, "!"))
	if word == "" || !slices.Contains(DefaultCommands(), word) {
		return ""
	}
	line := strings.TrimPrefix(first, "!")
	if rest = strings.TrimSpace(rest); rest != "" && !strings.Contains(line, " -- ") {
		line += " -- " + rest
	}
	return line
}

var minutesRefRe = regexp.MustCompile(`^minutes-(\d+)\.`)

// minutesRef finds the meeting whose minutes a mail answers.
func minutesRef(in *Incoming) (int64, bool) {
	for _, ref := range append(append([]string(nil), in.InReplyTo...), in.References...) {
		if m := minutesRefRe.FindStringSubmatch(ref); m != nil {
			id, err := strconv.ParseInt(m[1], 10, 64)
			return id, err == nil
		}
	}
	return 0, false
}
