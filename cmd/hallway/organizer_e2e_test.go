package main

import (
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
)

// TestOrganizerByAddress: an organizer the config names by address runs
// organizer commands by mail once that address is confirmed, not before,
// through the real OpenSMTPD and Dovecot; another address never does.
func TestOrganizerByAddress(t *testing.T) {
	t.Parallel() // its mailEnv is its own
	e := startMailEnv(t, 3*time.Minute, func(cfg *config.Config) {
		// The test's addresses are name-TAG@test.local, TAG from the mailbox.
		tag := strings.TrimPrefix(cfg.Mail.Mailbox, "box-")
		cfg.Events[0].Organizers = []string{uniqueNick("org"), "@org:matrix.test.local", "org-" + tag + "@test.local"}
	})
	refused := "close is for the organizers of Test Day."
	if got := flat(e.ask("org", "", "close voting", "")); !strings.Contains(got, refused) {
		t.Fatalf("an organizer's address not confirmed yet was answered:\n%s", got)
	}
	e.registerByMail("org", "")
	if got := flat(e.ask("org", "", "close voting", "")); !strings.Contains(got, "Voting is now closed for Test Day.") {
		t.Fatalf("the organizer's confirmed address could not close voting:\n%s", got)
	}
	e.registerByMail("eve", "")
	if got := flat(e.ask("eve", "", "open voting", "")); !strings.Contains(got, "open is for the organizers of Test Day.") {
		t.Fatalf("another confirmed address was let open voting:\n%s", got)
	}
}
