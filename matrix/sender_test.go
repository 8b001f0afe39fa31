package matrix

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	t0 := time.Date(2027, 3, 5, 10, 0, 0, 0, time.UTC)
	b := &bucket{burst: 3, tokens: 3, every: time.Second}
	for i := 0; i < 3; i++ {
		if at := b.take(t0); !at.Equal(t0) {
			t.Fatalf("take %d of the burst waits until %s", i, at)
		}
	}
	if at := b.take(t0); !at.Equal(t0.Add(time.Second)) {
		t.Errorf("after the burst: wait until %s, want %s", at, t0.Add(time.Second))
	}
	if at := b.take(t0.Add(time.Second)); !at.Equal(t0.Add(time.Second)) {
		t.Errorf("a second later: wait until %s, want now", at)
	}
	// The homeserver's retry_after_ms holds the room whatever the tokens.
	b.refund()
	b.hold(t0.Add(5 * time.Second))
	if at := b.take(t0.Add(2 * time.Second)); !at.Equal(t0.Add(5 * time.Second)) {
		t.Errorf("held: wait until %s, want %s", at, t0.Add(5*time.Second))
	}
	if at := b.take(t0.Add(5 * time.Second)); !at.Equal(t0.Add(5 * time.Second)) {
		t.Errorf("after the hold: wait until %s, want now", at)
	}
}

func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		attempts int
		want     time.Duration
	}{{0, 2 * time.Second}, {1, 4 * time.Second}, {5, 64 * time.Second}, {20, 10 * time.Minute}} {
		if got := backoff(tt.attempts); got != tt.want {
			t.Errorf("backoff(%d) = %s, want %s", tt.attempts, got, tt.want)
		}
	}
}
