package mail

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"golang.org/x/text/encoding/charmap"
)

// DefaultMaxBytes is the size limit Parse applies when ParseOptions.MaxBytes
// is zero.
const DefaultMaxBytes = 1 << 20

// ErrTooLarge is returned by Parse for a message longer than
// ParseOptions.MaxBytes. Parse stops reading at the limit.
var ErrTooLarge = errors.New("mail: message too large")

// ErrMalformed is matched (with errors.Is) by every *ParseError.
var ErrMalformed = errors.New("mail: malformed message")

// ParseError is a message Parse cannot make sense of: a broken header block,
// broken MIME structure, or no sender address.
type ParseError struct {
	Part string // "header", "From", "body"
	Err  error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("mail: malformed message (%s): %v", e.Part, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrMalformed) true.
func (e *ParseError) Is(target error) bool { return target == ErrMalformed }

// ParseOptions tune Parse. A nil *ParseOptions means the defaults.
type ParseOptions struct {
	// MaxBytes is the largest message accepted, header and body together;
	// 0 means DefaultMaxBytes.
	MaxBytes int64
	// Commands are the words a command line may start with (lower case).
	// nil means the bot's commands and the mail-only ones (register,
	// cancel, confirm, pledge, ...): see DefaultCommands.
	Commands []string
}

// Address is one mailbox: a display name and an address. Addr is
// lower-cased by Parse.
type Address struct {
	Name string
	Addr string
}

// String writes the address as RFC 5322 wants it in a header: the display
// name quoted (or RFC 2047 encoded) where it needs to be, so any name reads
// back as it was: "Smith, John" <j@example.org>.
func (a Address) String() string {
	if a.Name == "" {
		return a.Addr
	}
	name := oneLine(a.Name)
	switch {
	case phrase(name):
		return name + " <" + a.Addr + ">"
	case printableASCII(name):
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `" <` + a.Addr + ">"
	}
	// RFC 2047 encoded words with the strict character set of a phrase
	// (section 5 (3)); mime.QEncoding writes a backslash raw, which
	// parsers then refuse.
	return encodeText(name) + " <" + a.Addr + ">"
}

// printableASCII tells whether s is all printable ASCII.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// phrase tells whether a display name can be written as it is: words of
// RFC 5322 atext separated by single spaces.
func phrase(s string) bool {
	if s == "" || strings.Contains(s, "=?") {
		return false // it would read back as an encoded word (RFC 2047)
	}
	for _, w := range strings.Split(s, " ") {
		if w == "" {
			return false
		}
		for i := 0; i < len(w); i++ {
			c := w[i]
			alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
			if !alnum && !strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", rune(c)) {
				return false
			}
		}
	}
	return true
}

// Incoming is a parsed mail: who sent it, how it threads, its text, and the
// command line derived from it.
type Incoming struct {
	From    Address
	Sender  string // Sender header's address, lower-cased; "" if none
	ReplyTo []Address
	To      []Address
	Cc      []Address
	// Subject is decoded (RFC 2047) and on one line.
	Subject string
	// MessageID, InReplyTo and References are message identifiers without
	// the angle brackets (RFC 5322 section 3.6.4).
	MessageID  string
	InReplyTo  []string
	References []string
	Date       time.Time // zero if missing or unreadable

	// Plain is the message's text as decoded (text/plain preferred, else
	// text/html made into text), before quotes and signatures are removed.
	Plain string
	// Body is Plain without quoted replies and signatures.
	Body string
	// Command is the command line: the subject without Re:/Fwd:/[tag]
	// prefixes, or the body's first line (see DeriveCommand).
	Command string
	// CommandFrom says where Command came from.
	CommandFrom CommandSource
	// Text is what the bot reads: Command, then " -- " and Body as free text
	// when Body is not empty.
	Text string

	loop loopHeaders
}

// Parse reads one RFC 5322 message and returns what hallway needs of it.
//
// It reads at most opts.MaxBytes (plus one byte to notice more): a longer
// message gives ErrTooLarge without being held in memory. A message it
// cannot understand gives a *ParseError (errors.Is ErrMalformed). Unknown
// charsets and transfer encodings are not errors: the text is kept as well
// as it can be.
func Parse(r io.Reader, opts *ParseOptions) (*Incoming, error) {
	max := int64(DefaultMaxBytes)
	var commands []string
	if opts != nil {
		if opts.MaxBytes > 0 {
			max = opts.MaxBytes
		}
		commands = opts.Commands
	}
	if commands == nil {
		commands = DefaultCommands()
	}
	lr := &limitReader{r: r, left: max}
	in, err := parse(lr, max)
	if lr.exceeded {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	if err != nil {
		return nil, err
	}
	in.Body = StripQuotes(in.Plain)
	deriveCommand(in, commands)
	return in, nil
}

func parse(r io.Reader, max int64) (*Incoming, error) {
	// One byte more than r gives, so a long header ends in r's ErrTooLarge.
	e, err := message.ReadWithOptions(r, &message.ReadOptions{MaxHeaderBytes: max + 2})
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return nil, &ParseError{Part: "header", Err: err}
	}
	h := gomail.Header{Header: e.Header}
	in := &Incoming{}

	from := addressList(h, "From")
	if len(from) == 0 {
		return nil, &ParseError{Part: "From", Err: errors.New("no sender address")}
	}
	in.From = from[0]
	if s := addressList(h, "Sender"); len(s) > 0 {
		in.Sender = s[0].Addr
	}
	in.ReplyTo = addressList(h, "Reply-To")
	in.To = addressList(h, "To")
	in.Cc = addressList(h, "Cc")

	subject, err := h.Subject()
	if err != nil {
		subject = h.Get("Subject")
	}
	in.Subject = oneLine(subject)
	if ids := msgIDs(h.Get("Message-Id")); len(ids) > 0 {
		in.MessageID = ids[0]
	} else {
		in.MessageID = oneLine(strings.Trim(h.Get("Message-Id"), " <>"))
	}
	in.InReplyTo = msgIDs(h.Get("In-Reply-To"))
	in.References = msgIDs(h.Get("References"))
	if d, err := h.Date(); err == nil {
		in.Date = d
	}
	in.loop = readLoopHeaders(e.Header)

	plain, err := bodyText(e)
	if err != nil {
		return nil, &ParseError{Part: "body", Err: err}
	}
	in.Plain = plain
	return in, nil
}

// bodyText walks the MIME tree and returns the first inline text/plain
// part, else the first inline text/html part as text. Every part is read
// to its end, so the size limit covers the whole message.
func bodyText(e *message.Entity) (string, error) {
	var plain, html *string
	err := e.Walk(func(path []int, part *message.Entity, err error) error {
		if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
			return err
		}
		mt, params := contentType(part.Header)
		if strings.HasPrefix(mt, "multipart/") {
			return nil
		}
		disp, _, _ := part.Header.ContentDisposition()
		want := disp != "attachment" &&
			(mt == "" && plain == nil || mt == "text/plain" && plain == nil || mt == "text/html" && html == nil)
		if !want {
			_, err := io.Copy(io.Discard, part.Body)
			return err
		}
		b, err := io.ReadAll(part.Body)
		if err != nil {
			return err
		}
		s := toUTF8(b)
		if mt == "text/html" {
			s = HTMLToText(s)
			html = &s
			return nil
		}
		if strings.EqualFold(params["format"], "flowed") {
			s = unflow(s, strings.EqualFold(params["delsp"], "yes"))
		}
		plain = &s
		return nil
	})
	if err != nil {
		return "", err
	}
	switch {
	case plain != nil:
		return normalizeNewlines(*plain), nil
	case html != nil:
		return *html, nil
	}
	return "", nil
}

// contentType is the part's media type, lower-cased, and its parameters;
// a field mime.ParseMediaType refuses still gives its type.
func contentType(h message.Header) (string, map[string]string) {
	mt, params, err := h.ContentType()
	if err != nil {
		mt, _, _ = strings.Cut(h.Get("Content-Type"), ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
	}
	return mt, params
}

// toUTF8 makes text that is still not UTF-8 after charset decoding (no
// charset given, or a wrong one) into UTF-8, reading it as windows-1252,
// which is what such mail nearly always is.
func toUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	s, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(s)
}

func normalizeNewlines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// unflow joins the soft line breaks of format=flowed text (RFC 3676).
func unflow(s string, delsp bool) string {
	lines := strings.Split(normalizeNewlines(s), "\n")
	var b strings.Builder
	for i, l := range lines {
		if strings.HasPrefix(l, " ") {
			l = l[1:] // space-stuffed
		}
		soft := strings.HasSuffix(l, " ") && l != "-- " && !strings.HasPrefix(l, ">") && i < len(lines)-1
		if soft && delsp {
			l = l[:len(l)-1]
		}
		b.WriteString(l)
		if !soft && i < len(lines)-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// addressList reads an address header leniently: a list net/mail refuses
// still gives the addresses that look like one.
func addressList(h gomail.Header, key string) []Address {
	v := h.Get(key)
	if strings.TrimSpace(v) == "" {
		return nil
	}
	var out []Address
	if l, err := h.AddressList(key); err == nil {
		for _, a := range l {
			if a.Address == "" {
				continue
			}
			out = append(out, Address{Name: oneLine(a.Name), Addr: strings.ToLower(a.Address)})
		}
		return out
	}
	for _, part := range strings.Split(v, ",") {
		if a, ok := lenientAddress(part); ok {
			out = append(out, a)
		}
	}
	return out
}

// lenientAddress finds an address in "Name <addr>", "<addr>" or "addr".
func lenientAddress(s string) (Address, bool) {
	s = strings.TrimSpace(s)
	name := ""
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			return Address{}, false
		}
		name = strings.Trim(strings.TrimSpace(s[:i]), `"`)
		s = s[i+1 : i+j]
	}
	s = strings.TrimSpace(s)
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.ContainsAny(s, " \t<>()\",;") {
		return Address{}, false
	}
	return Address{Name: oneLine(name), Addr: strings.ToLower(s)}, true
}

// msgIDs returns the <...> identifiers in a Message-ID, In-Reply-To or
// References field, without brackets. It reads what is there rather than
// insisting on RFC 5322 syntax, which real mail often misses.
func msgIDs(v string) []string {
	var out []string
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return out
		}
		id := strings.TrimSpace(v[i+1 : i+j])
		if id != "" && !strings.ContainsAny(id, " \t\r\n<") {
			out = append(out, id)
		}
		v = v[i+j+1:]
	}
}

// oneLine makes a header value one clean line: no control characters,
// single spaces.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// limitReader reads up to left bytes and notes whether r had more.
type limitReader struct {
	r        io.Reader
	left     int64
	exceeded bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.exceeded {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		l.exceeded = true
		return 0, ErrTooLarge
	}
	return n, err
}
