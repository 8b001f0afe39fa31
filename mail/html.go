package mail

import (
	"html"
	"strings"
)

// HTMLToText turns an HTML mail body into plain text, crudely but safely:
// tags are dropped, block elements become line breaks, list items get a
// "- ", entities are decoded, and the contents of <script>, <style>,
// <head> and <blockquote> (a reply's quoted mail) are left out. It never
// fails: broken markup gives the text it can find.
//
// The result is text, never HTML: "&lt;b&gt;" comes out as "<b>", which is
// harmless because nothing renders it.
func HTMLToText(s string) string {
	var b strings.Builder
	skip := 0  // inside script/style/head/title
	quote := 0 // inside blockquote
	for i := 0; i < len(s); {
		c := s[i]
		if c != '<' || i+1 < len(s) && !isTagStart(s[i+1]) {
			if skip == 0 && quote == 0 {
				if c == '\n' || c == '\r' || c == '\t' {
					c = ' '
				}
				b.WriteByte(c)
			}
			i++
			continue
		}
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
			continue
		}
		end := tagEnd(s, i+1)
		if end < 0 {
			break // an unclosed tag: the rest is markup
		}
		name, closing := tagName(s[i+1 : end])
		i = end + 1
		switch name {
		case "script", "style", "head", "title":
			if closing {
				skip = max(skip-1, 0)
			} else if !strings.HasSuffix(s[:end], "/") {
				skip++
			}
			continue
		case "blockquote":
			if closing {
				quote = max(quote-1, 0)
			} else {
				quote++
			}
			b.WriteByte('\n')
			continue
		}
		if skip > 0 || quote > 0 {
			continue
		}
		switch name {
		case "br", "p", "div", "tr", "table", "ul", "ol", "pre", "hr",
			"h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer":
			b.WriteByte('\n')
		case "li":
			if !closing {
				b.WriteString("\n- ")
			}
		case "td", "th":
			b.WriteByte(' ')
		}
	}
	return tidyLines(html.UnescapeString(b.String()))
}

// isTagStart tells whether c may follow '<' in markup; otherwise the '<' is
// text ("a < b").
func isTagStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '/' || c == '!' || c == '?'
}

// tagEnd returns the index of the '>' closing the tag that starts at i,
// skipping quoted attribute values, or -1.
func tagEnd(s string, i int) int {
	var q byte
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '>':
			return i
		}
	}
	return -1
}

// tagName returns a tag's lower-case name and whether it is a closing tag.
func tagName(t string) (string, bool) {
	closing := strings.HasPrefix(t, "/")
	t = strings.TrimPrefix(t, "/")
	n := 0
	for n < len(t) && (t[n] >= 'a' && t[n] <= 'z' || t[n] >= 'A' && t[n] <= 'Z' || t[n] >= '0' && t[n] <= '9') {
		n++
	}
	return strings.ToLower(t[:n]), closing
}

// tidyLines collapses spaces within lines, trims them, and keeps at most
// one blank line in a row.
func tidyLines(s string) string {
	var out []string
	blank := true
	for _, l := range strings.Split(s, "\n") {
		l = strings.Join(strings.FieldsFunc(l, func(r rune) bool {
			return r == ' ' || r == '\t' || r == '\r' || r == '\u00a0'
		}), " ")
		if l == "" {
			if !blank {
				out = append(out, "")
			}
			blank = true
			continue
		}
		out = append(out, l)
		blank = false
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
