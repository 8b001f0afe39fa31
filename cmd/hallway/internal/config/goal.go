package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hallwayhq/hallway/bot/money"
)

// Goal is what a campaign aims for: an amount of money ("3000 USD") or of
// volunteer time ("200h"). Money is kept in minor units so that pledges
// add up exactly.
type Goal struct {
	Raw string // as written in the config

	// Amount is a money goal in minor units of Currency (cents for USD,
	// yen for JPY); Currency is its ISO 4217 code. Both are zero for a
	// time goal.
	Amount   int64
	Currency string

	// Hours is a time goal; 0 for a money goal.
	Hours int
}

// IsMoney reports whether the goal is an amount of money.
func (g Goal) IsMoney() bool { return g.Currency != "" }

func (g Goal) String() string { return g.Raw }

const goalHint = `write an amount and an ISO 4217 currency code like "3000 USD" or "1500.50 EUR", or hours like "200h"`

// maxGoal bounds hours far above any real campaign, as money.Max bounds
// amounts.
const maxGoal = money.Max

// ParseGoal parses a campaign goal: "AMOUNT CODE" with an ISO 4217 code
// ("3000 USD", "1500.50 EUR", "500000 JPY") or "Nh" hours ("200h",
// "200 hours"). Errors say how to write it right.
func ParseGoal(s string) (Goal, error) {
	g := Goal{Raw: s}
	f := strings.Fields(s)
	if len(f) == 0 {
		return g, fmt.Errorf("is empty: %s", goalHint)
	}

	// Hours: "200h", "200 h", "200 hours".
	if len(f) <= 2 {
		num, unit := f[0], ""
		if len(f) == 2 {
			unit = f[1]
		} else if i := strings.IndexFunc(num, func(r rune) bool { return r < '0' || r > '9' }); i > 0 {
			num, unit = num[:i], num[i:]
		}
		switch strings.ToLower(unit) {
		case "h", "hour", "hours":
			n, err := strconv.ParseInt(num, 10, 64)
			if err != nil || n <= 0 || n > maxGoal {
				return g, fmt.Errorf("has a bad number of hours %q: write a positive whole number of hours like \"200h\"", num)
			}
			g.Hours = int(n)
			return g, nil
		}
	}

	if len(f) == 1 {
		if i := strings.IndexFunc(s, func(r rune) bool { return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' }); i > 0 {
			if money.IsCurrency(s[i:]) {
				return g, fmt.Errorf("needs a space between amount and currency: write %q", s[:i]+" "+s[i:])
			}
		}
	}
	if len(f) != 2 {
		return g, fmt.Errorf("is not a goal (got %q): %s", s, goalHint)
	}
	if money.IsCurrency(f[0]) {
		return g, fmt.Errorf("puts the currency first (got %q): write %q", s, f[1]+" "+f[0])
	}
	a, err := money.Parse(f[0], f[1])
	if err != nil {
		return g, fmt.Errorf("is not a goal: %v", err)
	}
	g.Amount, g.Currency = a.Minor, a.Currency
	return g, nil
}
