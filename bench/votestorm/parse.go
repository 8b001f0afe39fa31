package main

import (
	"regexp"
	"strconv"
	"strings"
)

// ack is one acknowledgement of a vote found in a line of the bot: the
// full form "bob: voted for #7 (3 of your 4 votes left)." or one segment
// of a coalesced line "bob: #7 ✓ 3 left · carol: #2 ✓ 2 left".
type ack struct {
	nick  string
	nums  []int64
	left  int // votes left, -1 if the line did not say
	short bool
}

// reply is a segment of a bot line addressed to someone that is not a vote
// acknowledgement (an error, a rate-limit notice, ...).
type reply struct {
	nick, text string
}

var (
	reNum   = regexp.MustCompile(`#(\d+)`)
	reFull  = regexp.MustCompile(`^voted for ((?:#\d+(?:, )?)+) \((\d+) of your \d+ votes? left\)\.$`)
	reShort = regexp.MustCompile(`^((?:#\d+ ?)+) ✓ (\d+) left$`)
)

// segmentSep joins the acknowledgements of a coalesced line.
const segmentSep = " · "

// parseLine splits a line the bot said in the channel into vote
// acknowledgements and other replies, by addressee.
func parseLine(text string) (acks []ack, others []reply) {
	for _, seg := range strings.Split(text, segmentSep) {
		nick, rest, ok := strings.Cut(seg, ": ")
		if !ok || nick == "" || strings.ContainsAny(nick, " #") {
			continue
		}
		if m := reFull.FindStringSubmatch(rest); m != nil {
			acks = append(acks, ack{nick: nick, nums: numbers(m[1]), left: atoi(m[2])})
			continue
		}
		if m := reShort.FindStringSubmatch(rest); m != nil {
			acks = append(acks, ack{nick: nick, nums: numbers(m[1]), left: atoi(m[2]), short: true})
			continue
		}
		others = append(others, reply{nick: nick, text: rest})
	}
	return acks, others
}

func numbers(s string) []int64 {
	var out []int64
	for _, m := range reNum.FindAllStringSubmatch(s, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		out = append(out, n)
	}
	return out
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}
