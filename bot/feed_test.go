package bot

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/hallwayhq/hallway/store"
)

var feedURLRe = regexp.MustCompile(`http://\S+/feed/([a-z2-7]+)\.ics`)

func TestFeedIsPrivateAndRevocable(t *testing.T) {
	f := newFixture(t)
	f.ev.URL = "http://127.0.0.1:8080/openinfra-day-2027"
	got := f.sayIn("#openinfra", "alice", "alice", "feed")
	if len(got) < 2 || got[0] != "alice: sent you a private message." {
		t.Fatalf("feed in a channel: %q", got)
	}
	msgs, _ := f.store.Pending(context.Background(), store.IRC, 0, 100)
	for _, m := range msgs {
		if feedURLRe.MatchString(m.Body) && m.Target != "alice" {
			t.Errorf("the feed address went to %s", m.Target)
		}
	}
	first := feedURLRe.FindStringSubmatch(got[1])
	again := feedURLRe.FindStringSubmatch(f.sayIn("", "alice", "alice", "feed")[0])
	if first == nil || again == nil || first[1] != again[1] {
		t.Fatalf("asking twice gave %v and %v; want the same address", first, again)
	}
	renewed := feedURLRe.FindStringSubmatch(f.sayIn("", "alice", "alice", "feed revoke")[0])
	if renewed == nil || renewed[1] == first[1] {
		t.Fatalf("revoke gave %v", renewed)
	}
	f.store.View(context.Background(), func(tx *store.Tx) error {
		if _, _, err := tx.FeedOwner(first[1]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the revoked token still resolves: %v", err)
		}
		if _, person, err := tx.FeedOwner(renewed[1]); err != nil || person == 0 {
			t.Errorf("the new token: %v", err)
		}
		return nil
	})
}
