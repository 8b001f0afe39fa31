// Package placeholder rewrites the ? placeholders hallway's queries are
// written with into PostgreSQL's numbered ones.
package placeholder

import (
	"strconv"
	"strings"
)

// Numbered rewrites the ? placeholders of a query as $1, $2, …, leaving
// quoted strings and identifiers alone.
func Numbered(query string) string { return NumberedFrom(query, 1) }

// NumberedFrom is Numbered starting at $first, for a statement sent
// after others with arguments of their own.
func NumberedFrom(query string, first int) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := first - 1
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
