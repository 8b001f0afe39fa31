package config

import (
	"strconv"
	"strings"
)

// lineIndex maps a key path, spelled the way errors name keys
// ("event[0].room[1].capacity"), to the line it is defined on.
//
// BurntSushi/toml keeps key positions private, and keys them without array
// indices, so every [[event.room]] would share one line. We scan the source
// ourselves instead. The scan only runs on input the toml parser accepted,
// so it can be lenient about syntax; it must still never panic or loop, as
// FuzzParse feeds it all sorts of accepted input.
type lineIndex map[string]int

// find returns the line of key, or of its nearest enclosing table when key
// itself is not in the file (a missing required key is reported at the
// table that lacks it). It returns 0 when nothing encloses it.
func (ix lineIndex) find(key string) int {
	for key != "" {
		if n, ok := ix[key]; ok {
			return n
		}
		key = parentKey(key)
	}
	return 0
}

// parentKey strips the last component: "a.b[2]" → "a.b", "a.b" → "a".
func parentKey(key string) string {
	if strings.HasSuffix(key, "]") {
		if i := strings.LastIndexByte(key, '['); i >= 0 {
			return key[:i]
		}
	}
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[:i]
	}
	return ""
}

// joinKey appends a key component to a path.
func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// indexKey appends an array index to a path.
func indexKey(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func indexLines(src string) lineIndex {
	s := &scanner{src: src, line: 1, ix: lineIndex{}, count: map[string]int{}}
	s.document()
	return s.ix
}

type scanner struct {
	src  string
	i    int // offset of the next byte
	line int // line of src[i]
	ix   lineIndex
	// count is the number of tables seen so far in each array of tables,
	// by indexed path ("event[0].room"), to number the next one.
	count map[string]int
}

func (s *scanner) eof() bool { return s.i >= len(s.src) }
func (s *scanner) peek() byte {
	if s.eof() {
		return 0
	}
	return s.src[s.i]
}

// advance moves n bytes on, counting newlines, never past the end.
func (s *scanner) advance(n int) {
	for ; n > 0 && !s.eof(); n-- {
		if s.src[s.i] == '\n' {
			s.line++
		}
		s.i++
	}
}

// mark records the line of path unless an earlier line was recorded: the
// first mention of a table is where it starts.
func (s *scanner) mark(path string, line int) {
	if _, ok := s.ix[path]; !ok {
		s.ix[path] = line
	}
}

func (s *scanner) document() {
	ctx := "" // indexed path of the current table
	for {
		s.skipBlank(true)
		if s.eof() {
			return
		}
		line := s.line
		if s.peek() == '[' {
			array := strings.HasPrefix(s.src[s.i:], "[[")
			if array {
				s.advance(2)
			} else {
				s.advance(1)
			}
			ctx = s.header(s.key(), array, line)
		} else {
			start := s.i
			key := s.key()
			if s.i == start {
				s.skipLine()
				continue
			}
			s.skipBlank(false)
			if s.peek() == '=' {
				s.advance(1)
			}
			s.skipBlank(false)
			s.value(s.markKey(ctx, key, line))
		}
		s.skipLine()
	}
}

// header resolves a table header's key to its indexed path, numbering
// arrays of tables: in [[event.room]], "event" is the latest [[event]].
func (s *scanner) header(key []string, array bool, line int) string {
	p := ""
	for n, k := range key {
		p = joinKey(p, k)
		s.mark(p, line)
		if n == len(key)-1 && array {
			s.count[p]++
			p = indexKey(p, s.count[p]-1)
		} else if c := s.count[p]; c > 0 {
			p = indexKey(p, c-1)
		}
		s.mark(p, line)
	}
	return p
}

// markKey records a (possibly dotted) key defined in table ctx and
// returns its path.
func (s *scanner) markKey(ctx string, key []string, line int) string {
	p := ctx
	for _, k := range key {
		p = joinKey(p, k)
		s.mark(p, line)
	}
	return p
}

// key reads a possibly dotted key: bare, "basic" or 'literal' parts.
func (s *scanner) key() []string {
	var parts []string
	for {
		s.skipBlank(false)
		var part string
		switch c := s.peek(); {
		case c == '"':
			raw := s.str()
			if u, err := strconv.Unquote(`"` + raw + `"`); err == nil {
				part = u
			} else {
				part = raw
			}
		case c == '\'':
			part = s.str()
		case isBare(c):
			start := s.i
			for !s.eof() && isBare(s.peek()) {
				s.i++
			}
			part = s.src[start:s.i]
		default:
			return parts
		}
		parts = append(parts, part)
		s.skipBlank(false)
		if s.peek() != '.' {
			return parts
		}
		s.advance(1)
	}
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// value skips a value, recording the lines of array elements and of keys
// in inline tables.
func (s *scanner) value(path string) {
	switch s.peek() {
	case '"', '\'':
		s.str()
	case '[':
		s.advance(1)
		for n := 0; ; n++ {
			s.skipBlank(true)
			if s.eof() {
				return
			}
			if s.peek() == ']' {
				s.advance(1)
				return
			}
			start := s.i
			elem := indexKey(path, n)
			s.mark(elem, s.line)
			s.value(elem)
			s.skipBlank(true)
			if s.peek() == ',' || s.i == start {
				s.advance(1) // the comma, or a byte we can't make sense of
			}
		}
	case '{':
		s.advance(1)
		for {
			s.skipBlank(true)
			if s.eof() {
				return
			}
			if s.peek() == '}' {
				s.advance(1)
				return
			}
			start, line := s.i, s.line
			key := s.key()
			s.skipBlank(false)
			if s.peek() == '=' {
				s.advance(1)
			}
			s.skipBlank(false)
			s.value(s.markKey(path, key, line))
			s.skipBlank(true)
			if s.peek() == ',' || s.i == start {
				s.advance(1)
			}
		}
	default: // number, bool, date-time: up to the next delimiter
		for !s.eof() && !strings.ContainsRune(",]}#\n", rune(s.peek())) {
			s.i++
		}
	}
}

// str reads a string of any of TOML's four kinds, starting at its opening
// quote, and returns its raw contents.
func (s *scanner) str() string {
	q := s.peek()
	multi := strings.HasPrefix(s.src[s.i:], string([]byte{q, q, q}))
	if multi {
		s.advance(3)
	} else {
		s.advance(1)
	}
	start := s.i
	for !s.eof() {
		c := s.peek()
		switch {
		case c == '\\' && q == '"':
			s.advance(2)
		case c == '\n' && !multi:
			return s.src[start:s.i]
		case c == q && !multi:
			end := s.i
			s.advance(1)
			return s.src[start:end]
		case c == q && strings.HasPrefix(s.src[s.i:], string([]byte{q, q, q})):
			s.advance(3)
			// Up to two more quotes are part of the string: """a""""".
			for k := 0; k < 2 && s.peek() == q; k++ {
				s.advance(1)
			}
			return s.src[start : s.i-3]
		default:
			s.advance(1)
		}
	}
	return s.src[start:]
}

// skipBlank skips spaces and tabs and, if newlines is set, comments and
// line breaks too.
func (s *scanner) skipBlank(newlines bool) {
	for !s.eof() {
		switch s.peek() {
		case ' ', '\t', '\r':
			s.i++
		case '\n', '#':
			if !newlines {
				return
			}
			if s.peek() == '#' {
				for !s.eof() && s.peek() != '\n' {
					s.i++
				}
				continue
			}
			s.advance(1)
		default:
			return
		}
	}
}

// skipLine skips to the start of the next line.
func (s *scanner) skipLine() {
	for !s.eof() && s.peek() != '\n' {
		s.i++
	}
	s.advance(1)
}
