package main

import (
	"reflect"
	"testing"
	"time"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		text   string
		acks   []ack
		others []reply
	}{
		{"bob: voted for #7 (3 of your 4 votes left).",
			[]ack{{nick: "bob", nums: []int64{7}, left: 3}}, nil},
		{"bob: voted for #1, #2 (2 of your 4 votes left).",
			[]ack{{nick: "bob", nums: []int64{1, 2}, left: 2}}, nil},
		{"bob: #7 ✓ 3 left · carol: #2 ✓ 2 left",
			[]ack{{nick: "bob", nums: []int64{7}, left: 3, short: true}, {nick: "carol", nums: []int64{2}, left: 2, short: true}}, nil},
		{"dave: #1 #4 ✓ 0 left",
			[]ack{{nick: "dave", nums: []int64{1, 4}, left: 0, short: true}}, nil},
		{"eve: please log in to services (NickServ) first: votes count per account, not per nick.",
			nil, []reply{{"eve", "please log in to services (NickServ) first: votes count per account, not per nick."}}},
		{"alice: proposed #1 (unconference session) \"Session 1\". Vote with !vote 1.",
			nil, []reply{{"alice", "proposed #1 (unconference session) \"Session 1\". Vote with !vote 1."}}},
		{"Top sessions: #1 x", nil, nil},
	}
	for _, tt := range tests {
		acks, others := parseLine(tt.text)
		if !reflect.DeepEqual(acks, tt.acks) || !reflect.DeepEqual(others, tt.others) {
			t.Errorf("parseLine(%q) = %+v, %+v; want %+v, %+v", tt.text, acks, others, tt.acks, tt.others)
		}
	}
}

func TestMaxInWindow(t *testing.T) {
	s := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	ts := []time.Duration{0, 0, 0, 0, s(1), s(2), s(2.5), s(3), s(10)}
	if got := maxInWindow(ts, time.Second); got != 5 {
		t.Errorf("maxInWindow(1) = %d, want 5", got)
	}
	if got := maxInWindow(ts, 3*time.Second); got != 8 {
		t.Errorf("maxInWindow(3) = %d, want 8", got)
	}
	if got := maxInWindow(nil, 3*time.Second); got != 0 {
		t.Errorf("maxInWindow(nil) = %d", got)
	}
}
