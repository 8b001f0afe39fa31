package bot

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/bot/money"
	"github.com/hallwayhq/hallway/store"
)

func pledgeFixture(t *testing.T) (*fixture, *strings.Builder) {
	f := newFixture(t)
	f.ev.Campaigns = []Campaign{
		{Slug: "ci-macs", Title: "Macs for CI testing", Goal: money.Amount{Minor: 300000, Currency: "USD"}},
		{Slug: "infra-time", Title: "Engineer time for the infrastructure team", GoalHours: 200},
		{Slug: "old", Title: "Last year's drive", Goal: money.Amount{Minor: 100000, Currency: "EUR"}, Closes: f.now.Add(-time.Hour)},
	}
	var list strings.Builder
	f.bot.SetAnnouncer(listAnnouncer{&list})
	return f, &list
}

func TestPledges(t *testing.T) {
	f, list := pledgeFixture(t)
	steps := []struct{ who, text, want string }{
		{"alice", "pledge 250 USD for ci-macs", `alice: thank you! Pledge #1: 250.00 USD to "Macs for CI testing" — 250.00 of 3,000.00 USD pledged (8%), 0.00 received.`},
		{"bob", "pledge 8h for infra-time as anonymous", `bob: thank you! Pledge #2: 8h to "Engineer time for the infrastructure team" — 8h of 200h pledged (4%), 0h given (shown as anonymous). Next time, pledge in a private message (/msg hallway pledge …): everyone here saw who pledged anonymously.`},
		{"carol", `pledge "2 Mac minis (M2)" for ci-macs`, `carol: thank you! Pledge #3: "2 Mac minis (M2)" to "Macs for CI testing" — 250.00 of 3,000.00 USD pledged (8%), 0.00 received; 1 pledge of things.`},
		{"dave", "pledge 1300 USD for ci-macs", `dave: thank you! Pledge #4: 1,300.00 USD to "Macs for CI testing" — 1,550.00 of 3,000.00 USD pledged (51%), 0.00 received; 1 pledge of things.`},
		{"erin", "pledge 100 EUR for ci-macs", `erin: thank you! Pledge #5: 100.00 EUR to "Macs for CI testing" — 1,550.00 of 3,000.00 USD pledged (51%), 0.00 received; by currency: 1,550.00 USD, 100.00 EUR (not counted: no exchange rate to USD); 1 pledge of things.`},
		// Pledging again changes the pledge.
		{"alice", "pledge 300 USD for ci-macs", `alice: changed your pledge #1: 300.00 USD to "Macs for CI testing" — 1,600.00 of 3,000.00 USD pledged (53%), 0.00 received; by currency: 1,600.00 USD, 100.00 EUR (not counted: no exchange rate to USD); 1 pledge of things.`},
		{"pleia2", "received 4 400", `pleia2: pledge #4: 400.00 USD received, 900.00 USD still to come — Macs for CI testing: 1,600.00 of 3,000.00 USD pledged (53%), 400.00 received; by currency: 1,600.00 USD, 100.00 EUR (not counted: no exchange rate to USD); 1 pledge of things.`},
		{"pleia2", "received 4 1000", `pleia2: only 900.00 USD of pledge #4 is still to come.`},
		{"pleia2", "received 3", `pleia2: pledge #3 received in full — Macs for CI testing: 1,600.00 of 3,000.00 USD pledged (53%), 400.00 received; by currency: 1,600.00 USD, 100.00 EUR (not counted: no exchange rate to USD); 1 pledge of things.`},
		{"mallory", "received 1", `mallory: !received is for the organizers of Open Source Infrastructure Day 2027.`},
		{"bob", "unpledge 1", `bob: pledge #1 is not yours.`},
		{"erin", "unpledge 5", `erin: withdrew pledge #5 (100.00 EUR).`},
		{"alice", "pledges", "alice: your pledges (1):\nalice: #1 300.00 USD for ci-macs, not yet received"},
		{"x", "campaign ci-macs", `x: Macs for CI testing: 1,600.00 of 3,000.00 USD pledged (53%), 400.00 received; 1 pledge of things.`},
		{"frank", "pledge 1400 USD for ci-macs", `frank: thank you! Pledge #6: 1,400.00 USD to "Macs for CI testing" — 3,000.00 of 3,000.00 USD pledged (100%), 400.00 received; 1 pledge of things.`},
		{"gina", "pledge 20 EUR", `gina: thank you! Pledge #7: 20.00 EUR to Open Source Infrastructure Day 2027.`},
		// Bad input gets the right form.
		{"x", "pledge a lot", `x: I can't tell what "a lot" is: write !pledge 100 EUR, !pledge 8h, or !pledge "a rack server".`},
		{"x", "pledge -5 USD", `x: the amount must be more than zero, not -5.`},
		{"x", "pledge 5 dollars", `x: write the currency as its ISO 4217 code: 5 USD, not dollars.`},
		{"x", "pledge 1e9 USD", `x: "1e9" is not an amount: write digits with an optional decimal point, as in 250 USD or 99.50 USD.`},
		{"x", "pledge 10 XYZ", `x: "XYZ" is not a currency code: use an ISO 4217 code like USD, EUR or GBP, as in 100 EUR.`},
		{"x", "pledge 50", `x: 50 of what? Add a currency code (50 USD) or h for hours (50h).`},
		{"x", "pledge USD 50", `x: put the amount first: 50 USD.`},
		{"x", "pledge 10 EUR for old", `x: the campaign "Last year's drive" closed on 4 Mar 2027; thank you all the same.`},
		{"x", "pledge 10 EUR for nope", `x: there is no campaign "nope". Campaigns: ci-macs, infra-time, old.`},
		{"x", "pledge", `x: say what you pledge: write !pledge 100 EUR, !pledge 8h, or !pledge "a rack server".`},
	}
	for _, s := range steps {
		if got := f.say(s.who, s.who, s.text); got != s.want {
			t.Errorf("<%s> !%s\n got: %s\nwant: %s", s.who, s.text, got, s.want)
		}
	}
	// 50% and 100% were posted to the list, once each.
	for _, want := range []string{"Macs for CI testing: 50% of the goal pledged", "Macs for CI testing: the goal is reached"} {
		if n := strings.Count(list.String(), want); n != 1 {
			t.Errorf("%q posted %d times:\n%s", want, n, list.String())
		}
	}
	if got := f.say("", "nonick", "pledge 5 USD"); got != "nonick: please log in to services (NickServ) first: pledges count per account, not per nick." {
		t.Errorf("unidentified pledge: %q", got)
	}
}

func TestPledgeThanksByMail(t *testing.T) {
	f, _ := pledgeFixture(t)
	mail := &fakeMail{}
	f.bot.SetMailer(mail)
	f.say("alice", "alice", "register alice@example.org")
	f.say("alice", "alice", "confirm "+mail.token(t, "alice@example.org"))
	f.say("alice", "alice", "pledge 100 USD for ci-macs")
	last := mail.sent[len(mail.sent)-1]
	if last.To != "alice@example.org" || !strings.Contains(last.Body, "Thank you for pledging 100.00 USD to Macs for CI testing (pledge #1)") {
		t.Errorf("thank-you mail: %+v", last)
	}
}

func TestPledgeRemindersAndExpiry(t *testing.T) {
	f, _ := pledgeFixture(t)
	f.ev.ReminderAfter, f.ev.Reminders = 14*24*time.Hour, 2
	f.ev.Campaigns[0].Closes = f.now.Add(40 * 24 * time.Hour)
	mail := &fakeMail{}
	f.bot.SetMailer(mail)
	f.say("alice", "alice", "register alice@example.org")
	f.say("alice", "alice", "confirm "+mail.token(t, "alice@example.org"))
	f.say("alice", "alice", "pledge 100 USD for ci-macs")
	f.say("bob", "bob", "pledge 5 USD for ci-macs") // no address: never reminded
	sent := len(mail.sent)
	remind := func(days int) {
		t.Helper()
		if err := f.store.Do(t.Context(), func(tx *store.Tx) error {
			return f.bot.RemindPledges(tx, f.now.Add(time.Duration(days)*24*time.Hour))
		}); err != nil {
			t.Fatal(err)
		}
	}
	var got []int
	for day := 1; day <= 80; day++ {
		f.now = f.now.Add(24 * time.Hour) // the store's clock moves too
		remind(0)
		if len(mail.sent) > sent {
			got = append(got, day)
			sent = len(mail.sent)
			if last := mail.sent[sent-1]; last.To != "alice@example.org" || !strings.Contains(last.Body, `reply "unpledge 1"`) {
				t.Errorf("reminder: %+v", last)
			}
		}
	}
	if len(got) != 2 || got[0] != 14 || got[1] != 28 {
		t.Errorf("reminders on days %v, want 14 and 28", got)
	}
	if want := "alice: your pledges (1):\nalice: #1 100.00 USD for ci-macs, expired"; f.say("alice", "alice", "pledges") != want {
		t.Errorf("after the campaign closed: %q", f.say("alice", "alice", "pledges"))
	}
}

func TestCampaignReportHidesAnonymous(t *testing.T) {
	f, _ := pledgeFixture(t)
	f.say("alice", "alice", "pledge 2000 USD for ci-macs as anonymous")
	f.say("bob", "bob", `pledge 1500 USD for ci-macs as "Bob's company"`)
	f.say("carol", "carol", `pledge "a Mac mini" for ci-macs`)
	f.say("pleia2", "pleia2", "received 2 500")
	r, err := f.bot.Campaign(t.Context(), "openinfra-day-2027", "ci-macs")
	if err != nil {
		t.Fatal(err)
	}
	if r.Percent != 100 || len(r.Pledges) != 3 {
		t.Fatalf("report: %+v", r)
	}
	got := fmt.Sprintf("%s %s %s | %s %s %s | %s %s", r.Pledges[0].Name, r.Pledges[0].What, r.Pledges[0].Status,
		r.Pledges[1].Name, r.Pledges[1].What, r.Pledges[1].Status, r.Pledges[2].Name, r.Pledges[2].What)
	if want := `anonymous 2,000.00 USD pledged | Bob's company 1,500.00 USD partly received | carol "a Mac mini"`; got != want {
		t.Errorf("public list:\n got %s\nwant %s", got, want)
	}
	if _, err := f.bot.Campaign(t.Context(), "openinfra-day-2027", "nope"); err == nil {
		t.Error("an unknown campaign gave a report")
	}
}
