package bot

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/store"
)

var givenCodeRe = regexp.MustCompile(`link ([0-9A-Z]{4}-[0-9A-Z]{4}) from there`)

// TestLink: a person on IRC and on Matrix links the two with a code given
// to one and said from the other, and counts once; every mistake is
// answered, and unlink splits them again.
func TestLink(t *testing.T) {
	f := newFixture(t)
	f.bot.SetReplier(Matrix, matrixReplier{})
	mail, byMail, check := mailFixture(t, f)
	var lastMatrix int64
	// mx says text in a Matrix room as user and returns what the bot
	// queued on Matrix.
	mx := func(user, text string) string {
		t.Helper()
		req := Request{Transport: Matrix, Who: MatrixIdentity(user), Can: ChatCapabilities, Nick: user, Where: "!room:example.org", Text: text}
		if err := f.bot.Handle(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		msgs, err := f.store.Pending(context.Background(), store.Matrix, lastMatrix, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range msgs {
			out = append(out, m.Target+": "+m.Body)
			lastMatrix = m.ID
		}
		return strings.Join(out, "\n")
	}
	codeIn := func(answer string) string {
		t.Helper()
		m := givenCodeRe.FindStringSubmatch(answer)
		if m == nil {
			t.Fatalf("no code in %q", answer)
		}
		return m[1]
	}
	const dave = "@dave:example.org"
	for i := 0; i < 5; i++ {
		f.say("alice", "alice", `propose "Session `+string(rune('A'+i))+`"`)
	}
	check(f.say("dave", "dave", "vote 1 2 3"), "dave: voted for #1, #2, #3 (1 of your 4 votes left).")
	f.now = f.now.Add(time.Minute)
	check(mx(dave, "vote 1 4 5"), "!room:example.org: voted for #1, #4, #5 (1 of your 4 votes left).")

	given := mx(dave, "link")
	if !strings.HasPrefix(given, "@dave:example.org: To link Matrix user @dave:example.org with your IRC account") || !strings.Contains(given, "Nothing is linked to it yet (!link links your other accounts).") {
		t.Errorf("the code was not given privately: %q", given)
	}
	code := codeIn(given)
	check(mx(dave, "link "+code), "!room:example.org: the code is said from your other account, not from the one that asked for it (Matrix user @dave:example.org): it links the two. The code is spent: say !link from Matrix user @dave:example.org for a new one.")
	check(f.say("mallory", "mallory", "link "+code), "mallory: the code "+code+" was used already. Say !link from your other account for a new one.")
	code = codeIn(mx(dave, "link"))
	check(f.say("dave", "dave", "link ZZZZ-ZZZZ"), "dave: no link code ZZZZ-ZZZZ is waiting: check it, or say !link from your other account for a new one.")
	check(f.say("dave", "dave", "link 12-34"), `dave: "12-34" is not a link code (they look like K7Q2-9XM4) or an address. Usage: !link [CODE|ADDRESS] (e.g. !link)`)
	check(f.say("dave", "dave", "link "+dave), "dave: no need to name your Matrix ID: say !link here for a code, then !link CODE from Matrix (or the other way round).")
	f.now = f.now.Add(11 * time.Minute)
	check(f.say("dave", "dave", "link "+code), "dave: the code "+code+" expired at 11:41 UTC (codes work for 10 minutes). Say !link from your other account for a new one.")
	check(byMail("dave@example.org", "link "+code), "dave@example.org: your address is not confirmed yet. Send \"register\" and reply to the confirmation mail first: links count only for confirmed addresses.")

	// From Matrix again: the old code is replaced by the new.
	old := codeIn(mx(dave, "link"))
	code = codeIn(mx(dave, "link"))
	check(f.say("dave", "dave", "link "+old), "dave: the code "+old+" was replaced by a newer one: only the latest code works. Say it, or !link from your other account for a new one.")
	got := f.sayIn("", "dave", "dave", "link "+strings.ToLower(code))
	check(strings.Join(got, "\n"), "linked: this IRC account and the Matrix user that asked for the code are one person now. "+
		"1 vote you made from both count once; together you had 5 votes at Open Source Infrastructure Day 2027, and a person has 4: your latest (#5) are taken back.")
	// The other side hears of it, privately.
	check(mx(dave, "help link"), "@dave:example.org: IRC account dave is now linked with your Matrix user: one person. If that was not you, say !unlink dave.\n"+
		"!room:example.org: !link [CODE|ADDRESS]: Join your IRC account, Matrix ID and addresses into one person, who votes once: say link for a code, then link CODE from your other account. link ADDRESS mails a code to the address. Without a code, also lists what is linked.\n"+
		"Example: !link  |  !link K7Q2-9XM4  |  !link jane@example.org")
	check(mx(dave, "votes"), "!room:example.org: your votes: #2 Session B · #3 Session C · #1 Session A · #4 Session D (0 of your 4 votes left).")
	check(f.say("dave", "dave", "vote 1"), "dave: already had your vote: #1 (0 of your 4 votes left).")
	if !strings.Contains(mx(dave, "show 1"), "1 vote") {
		t.Error("#1 does not have one vote")
	}
	listed := f.sayIn("", "dave", "dave", "link")
	if !strings.Contains(strings.Join(listed, "\n"), "Linked as one person: IRC account dave, Matrix user @dave:example.org.") {
		t.Errorf("link lists %q", listed)
	}
	check(strings.Join(f.sayIn("", "dave", "dave", "whoami"), "\n"), "You are IRC account dave here. Linked as one person: IRC account dave, Matrix user @dave:example.org. To split one off, say !unlink with it.")
	check(f.say("erin", "erin", "whoami"), "erin: sent you a private message.\nYou are IRC account erin here. Nothing is linked to it yet (!link links your other accounts).")
	check(f.say("erin", "erin", "link "+code), "erin: the code "+code+" was used already. Say !link from your other account for a new one.")

	// Linked already; a second IRC account; two organizers.
	f.now = f.now.Add(time.Hour) // dave had 3 codes of his 5 an hour
	code = codeIn(mx(dave, "link"))
	check(f.say("dave", "dave", "link "+code), "dave: Matrix user @dave:example.org and you are linked already: one person.")
	code = codeIn(mx(dave, "link"))
	check(f.say("dave2", "dave2", "link "+code), "dave2: the Matrix user that asked for the code is already linked with another IRC account, and a person has one IRC account here. To link this one, unlink that first (!whoami shows it, !unlink ACCOUNT splits it off). The code is spent: say !link from your other account for a new one.")
	code = codeIn(strings.Join(f.sayIn("", "pleia2", "pleia2", "link"), "\n"))
	check(f.say("krum", "krum", "link "+code), "krum: this IRC account and the IRC account that asked for the code are both organizers of Open Source Infrastructure Day 2027 in the config, and hallway keeps organizers apart: each decides in their own name. If both are yours, take part from one of them. The code is spent: say !link from your other account for a new one.")

	// An organizer links a Matrix ID: it does not organize.
	code = codeIn(strings.Join(f.sayIn("", "pleia2", "pleia2", "link"), "\n"))
	check(mx("@pleia2:example.org", "link "+code), "!room:example.org: linked: this Matrix user and the IRC account that asked for the code are one person now. "+
		"Organizer commands for Open Source Infrastructure Day 2027 still work only from the IRC account the config names.")
	check(mx("@pleia2:example.org", "close voting"), "!room:example.org: !close is for the organizers of Open Source Infrastructure Day 2027.")
	check(strings.Join(f.sayIn("", "pleia2", "pleia2", "help"), "\n")[:150], "Matrix user @pleia2:example.org is now linked with your IRC account: one person. If that was not you, say !unlink @pleia2:example.org.\nCommands: help,")

	// Only what a network vouches for takes part.
	check(byMail("d.work@example.org", "link"), "d.work@example.org: your address is not confirmed yet. Send \"register\" and reply to the confirmation mail first: links count only for confirmed addresses.")
	check(f.say("", "nobody", "link"), "nobody: please log in to services (NickServ) first: links count per account, not per nick.")

	// A code per person is limited.
	for i := 0; i < 4; i++ {
		f.sayIn("", "frank", "frank", "link")
	}
	if got := f.say("frank", "frank", "link"); !strings.Contains(got, "To link IRC account frank") {
		t.Errorf("the 5th code was refused: %q", got)
	}
	check(f.say("frank", "frank", "link"), "frank: you asked for 5 link codes in the last hour, the most I give; try again after 13:42 UTC.")

	// An address, by a code mailed to it: said back in chat, or answered
	// by mail.
	check(mx(dave, "link dave@example.org"), "!room:example.org: a code is on its way to d***@example.org: say !link CODE here with it, within 24 hours.")
	mailed := mail.token(t, "dave@example.org")
	check(f.say("erin", "erin", "link "+mailed), "erin: the code "+mailed+" was asked for from another account: say it from the account that asked for it (the mail names it).")
	check(f.say("dave", "dave", "link "+mailed), "dave: linked: d***@example.org is yours, confirmed.")
	f.say("dave", "dave", "link d.work@example.org")
	check(byMail("d.work@example.org", "confirm", "<confirm-"+mail.token(t, "d.work@example.org")+"@hallway>"), "d.work@example.org: linked: d***@example.org is yours, confirmed.")
	check(byMail("d.work@example.org", "link"), "d.work@example.org: a link code is given only in chat, to an IRC account or a Matrix ID. To link this address, say !link d.work@example.org on IRC or Matrix: I mail a code here.")
	check(byMail("d.work@example.org", "link "+code), "d.work@example.org: a link code is said in chat, from your IRC account or Matrix ID: a mail's sender can be forged. To link this address, say !link d.work@example.org there and I mail a code here.")
	check(byMail("d.work@example.org", "votes"), "d.work@example.org: your votes: #2 Session B · #3 Session C · #1 Session A · #4 Session D (0 of your 4 votes left).")

	// Unlink: the Matrix ID starts afresh; the votes stay.
	check(f.say("dave", "dave", "unlink @nobody:example.org"), "dave: Matrix user @nobody:example.org is not linked to you. Say !whoami to see what is.")
	check(f.say("dave", "dave", "unlink "+dave), "dave: unlinked Matrix user @dave:example.org: it starts afresh as a person of its own; your votes, registrations and the rest stay with you.")
	check(mx(dave, "votes"), "!room:example.org: you have not voted yet (4 votes to give). Vote with !vote N.")
	check(f.say("erin", "erin", "unlink erin"), "erin: IRC account erin is all there is of you: nothing to split it from.")
	check(f.say("dave", "dave", "votes"), "dave: your votes: #2 Session B · #3 Session C · #1 Session A · #4 Session D (0 of your 4 votes left).")
}

// TestRegisterFromMatrix: a Matrix user registers with an address and
// confirms with the mailed code, as an IRC account does: the address is
// then theirs, and a person who had written from it by mail before is
// the same person.
func TestRegisterFromMatrix(t *testing.T) {
	f := newFixture(t)
	f.bot.SetReplier(Matrix, matrixReplier{})
	mail, byMail, check := mailFixture(t, f)
	mx := func(text string) string {
		t.Helper()
		before, _ := f.store.Pending(context.Background(), store.Matrix, 0, 1000)
		req := Request{Transport: Matrix, Who: MatrixIdentity("@gina:example.org"), Can: ChatCapabilities, Nick: "@gina:example.org", Text: text}
		if err := f.bot.Handle(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		after, _ := f.store.Pending(context.Background(), store.Matrix, 0, 1000)
		var out []string
		for _, m := range after[len(before):] {
			out = append(out, m.Body)
		}
		return strings.Join(out, "\n")
	}
	// By mail first: a proposal from the address, before confirming it.
	check(byMail("gina@example.org", "register"), "")
	check(byMail("gina@example.org", "confirm", "<confirm-"+mail.token(t, "gina@example.org")+"@hallway>"), "gina@example.org: You're registered (#1).\nTo cancel, reply \"cancel\".")
	check(byMail("gina@example.org", `propose "Mail first"`), `gina@example.org: proposed #1 (unconference session) "Mail first". Vote with vote 1.`)

	// From Matrix, register and confirm: the address, and the person
	// behind it, are the Matrix user's.
	check(byMail("gina@example.org", "vote 1"), "gina@example.org: voted for #1 (3 of your 4 votes left).")
	check(mx("vote 1"), "voted for #1 (3 of your 4 votes left).")
	check(mx("register gina@example.org"), "a confirmation mail is on its way to g***@example.org: reply to it, or say !confirm CODE here with the code it gives. If it bounces, I tell you here.")
	check(mx("confirm "+mail.token(t, "gina@example.org")), "your address is confirmed and linked: you are registered. 1 vote you made from both count once.")
	check(mx("show 1"), "#1 \"Mail first\", unconference session by @gina:example.org, 1 vote, not yet accepted.")
	check(mx("proposals mine"), "Your proposals (1):\n#1 Mail first (session, 1 vote)")
	// Or, outside registration, link ADDRESS.
	check(mx("link g.other@example.org"), "a code is on its way to g***@example.org: say !link CODE here with it, within 24 hours.")
	check(mx("link "+mail.token(t, "g.other@example.org")), "linked: g***@example.org is yours, confirmed.")
	got := mx("link")
	if !strings.Contains(got, "Linked as one person: address g***@example.org, Matrix user @gina:example.org, address g***@example.org.") {
		t.Errorf("link lists %q", got)
	}
	check(f.say("alice", "alice", "registrations"), "alice: 1 registered, 0 on the waitlist, 0 still to confirm their address.")
	check(byMail("g.other@example.org", "proposals mine"), "g.other@example.org: Your proposals (1):\n#1 Mail first (session, 1 vote)")
}
