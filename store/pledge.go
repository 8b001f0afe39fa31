package store

import (
	"fmt"
	"time"
)

// Pledge kinds.
const (
	PledgeMoney = "money" // Amount in minor units of Currency
	PledgeTime  = "time"  // Amount in minutes
	PledgeKind  = "kind"  // Description: hardware, cloud credits
)

// Pledge statuses; a withdrawn pledge has the status Withdrawn, as a
// proposal does.
const (
	Pledged        = "pledged"
	PledgeReceived = "received"
	PledgeExpired  = "expired"
)

// Pledge is a promise of money, time or things.
type Pledge struct {
	ID          int64
	EventID     int64
	Campaign    string // slug; "" for the event itself
	PersonID    int64
	Kind        string
	Amount      int64 // minor units (money) or minutes (time)
	Currency    string
	Description string
	// DisplayName is what the public sees: "" for the person's name,
	// "anonymous", or a name they chose.
	DisplayName   string
	Status        string
	Received      int64 // what arrived so far, in Amount's unit
	RemindersSent int
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

const pledgeColumns = `id, event_id, campaign, person_id, kind, amount, currency, description, display_name, status, received,
	reminders_sent, created_at, updated_at`

func scanPledge(row scanner) (Pledge, error) {
	var p Pledge
	err := row.Scan(&p.ID, &p.EventID, &p.Campaign, &p.PersonID, &p.Kind, &p.Amount, &p.Currency, &p.Description,
		&p.DisplayName, &p.Status, &p.Received, &p.RemindersSent, &p.CreatedAt, &p.UpdatedAt)
	return p, notFound(err)
}

// Pledge returns a pledge of an event by its number, or ErrNotFound.
func (tx *Tx) Pledge(eventID, id int64) (Pledge, error) {
	return scanPledge(tx.queryRow(`SELECT `+pledgeColumns+` FROM pledge WHERE event_id = ? AND id = ?`, eventID, id))
}

// OpenPledge returns a person's pledge of a kind to a campaign that is
// still pledged (not yet received, withdrawn or expired), or ErrNotFound.
func (tx *Tx) OpenPledge(eventID int64, campaign string, personID int64, kind string) (Pledge, error) {
	return scanPledge(tx.queryRow(`SELECT `+pledgeColumns+` FROM pledge
		WHERE event_id = ? AND campaign = ? AND person_id = ? AND kind = ? AND status = 'pledged' ORDER BY id DESC LIMIT 1`,
		eventID, campaign, personID, kind))
}

// SavePledge creates a pledge (ID 0) or updates it.
func (tx *Tx) SavePledge(p *Pledge) error {
	if p.ID == 0 {
		p.CreatedAt, p.UpdatedAt = tx.now, tx.now
		var err error
		p.ID, err = tx.insert(`INSERT INTO pledge (event_id, campaign, person_id, kind, amount, currency, description, display_name,
			status, received, reminders_sent, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.EventID, p.Campaign, p.PersonID, p.Kind, p.Amount, p.Currency, p.Description, p.DisplayName, p.Status,
			p.Received, p.RemindersSent, tx.now, tx.now)
		if err != nil {
			return fmt.Errorf("add pledge: %w", err)
		}
		return nil
	}
	p.UpdatedAt = tx.now
	if _, err := tx.exec(`UPDATE pledge SET kind = ?, amount = ?, currency = ?, description = ?, display_name = ?, status = ?,
		received = ?, reminders_sent = ?, updated_at = ? WHERE id = ?`, p.Kind, p.Amount, p.Currency, p.Description,
		p.DisplayName, p.Status, p.Received, p.RemindersSent, tx.now, p.ID); err != nil {
		return fmt.Errorf("update pledge #%d: %w", p.ID, err)
	}
	return nil
}

// Pledges lists an event's pledges, oldest first: of one campaign if
// campaign is not "*", of one person if personID is not 0.
func (tx *Tx) Pledges(eventID int64, campaign string, personID int64) ([]Pledge, error) {
	q := `SELECT ` + pledgeColumns + ` FROM pledge WHERE event_id = ?`
	args := []any{eventID}
	if campaign != "*" {
		q += ` AND campaign = ?`
		args = append(args, campaign)
	}
	if personID != 0 {
		q += ` AND person_id = ?`
		args = append(args, personID)
	}
	rows, err := tx.query(q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list pledges: %w", err)
	}
	defer rows.Close()
	var out []Pledge
	for rows.Next() {
		p, err := scanPledge(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PledgedCurrencies lists, per campaign slug, the currencies of an
// event's money pledges that still count (pledged or received).
func (tx *Tx) PledgedCurrencies(eventID int64) (map[string][]string, error) {
	rows, err := tx.query(`SELECT DISTINCT campaign, currency FROM pledge WHERE event_id = ? AND kind = 'money'
		AND status IN ('pledged', 'received') ORDER BY campaign, currency`, eventID)
	if err != nil {
		return nil, fmt.Errorf("list pledged currencies: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var campaign, currency string
		if err := rows.Scan(&campaign, &currency); err != nil {
			return nil, err
		}
		out[campaign] = append(out[campaign], currency)
	}
	return out, rows.Err()
}
