package schedule

import (
	"strconv"
	"strings"
)

// Plural writes a count and its noun, in the plural unless the count is
// 1: "1 vote", "2 votes", "1 person", "3 people", "2 attendee
// conflicts". The last word of the noun takes the plural. Bot and web use
// it too, so every count people read is written one way.
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + plural(noun)
}

// irregular are the plurals no rule makes.
var irregular = map[string]string{"person": "people"}

func plural(noun string) string {
	head, last := "", noun
	if i := strings.LastIndexByte(noun, ' '); i >= 0 {
		head, last = noun[:i+1], noun[i+1:]
	}
	if p, ok := irregular[last]; ok {
		return head + p
	}
	for _, end := range []string{"s", "x", "ch", "sh"} {
		if strings.HasSuffix(last, end) {
			return head + last + "es"
		}
	}
	return head + last + "s"
}
