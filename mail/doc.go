// Package mail is hallway's email transport: it turns mail into command
// lines for the bot, and the outbox's mail into SMTP. It holds no business
// rules.
//
// # Reading mail
//
// Parse reads one RFC 5322 message with go-message: addresses (From
// lower-cased), the subject decoded from RFC 2047 encoded-words, Message-ID,
// In-Reply-To and References (RFC 5322 section 3.6.4), and one plain-text
// body: the first text/plain part, else the first text/html part made into
// text (HTMLToText), decoded from quoted-printable or base64 and from its
// charset (RFC 2045, RFC 2046) into UTF-8. Text without a usable charset is
// read as windows-1252. Quoted replies and signatures are then removed
// (StripQuotes). Parse reads at most ParseOptions.MaxBytes: a bigger
// message gives ErrTooLarge without being held in memory; one it cannot
// read gives a *ParseError.
//
// # Commands by mail
//
// The subject, without "Re:", "Fwd:", "AW:" and "[list]" prefixes
// (CleanSubject), is the command when its first word is one ("register",
// "confirm K7Q2-9XM4", "propose session Title words"); the body is its free
// text. If the subject is not a command but the body's first line is, that
// line is the command and the rest of the body its free text. Incoming.Text
// joins them the way the bot's command language does: "command -- free
// text".
//
// # Mail loops
//
// Incoming.MustNotReply tells mail that must not be answered: automatic
// replies and notifications (Auto-Submitted, RFC 3834 section 5), list and
// bulk mail (RFC 2369, RFC 2919, Precedence), bounces (empty Return-Path,
// multipart/report per RFC 6522, MAILER-DAEMON) and noreply senders. Mail
// hallway sends carries Auto-Submitted itself, so it never answers itself.
//
// # Writing mail
//
// Compose builds a message: a single text/plain UTF-8 part, quoted-printable
// unless it is short-lined ASCII, the subject RFC 2047 encoded when it needs
// it, a Message-ID made at compose time, and Auto-Submitted: auto-replied
// or auto-generated (RFC 3834 section 5). Reply threads an answer under the
// mail it answers (In-Reply-To, References) with a single "Re: ".
//
// # Sending
//
// A Sender drains the store's mail outbox through an SMTP submission
// server: plain SMTP only to loopback, else STARTTLS (RFC 3207) or
// implicit TLS (RFC 8314), AUTH PLAIN (RFC 4616) when configured, retries
// with backoff for temporary failures (RFC 5321 section 4.2.1: 4xx), none
// for permanent ones (5xx), and a per-address rate limit.
package mail

// The charsets go-message decodes: importing the package registers them.
import _ "github.com/emersion/go-message/charset"
