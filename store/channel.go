package store

import "fmt"

// InvitedChannel is an IRC channel an organizer invited the bot to.
type InvitedChannel struct {
	Name      string // case-folded (RFC 1459)
	EventID   int64
	InvitedBy string // the organizer's account
}

// AddChannel remembers a channel the bot was invited to; it reports
// whether the channel is new. key is the channel's case-folded name.
func (tx *Tx) AddChannel(key string, c InvitedChannel) (bool, error) {
	res, err := tx.exec(`INSERT INTO irc_channel (name, event_id, invited_by, joined_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO NOTHING`, key, c.EventID, c.InvitedBy, tx.now)
	if err != nil {
		return false, fmt.Errorf("remember channel: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Channels lists the channels the bot was invited to, oldest first.
func (tx *Tx) Channels() ([]InvitedChannel, error) {
	rows, err := tx.query(`SELECT name, event_id, invited_by FROM irc_channel ORDER BY joined_at, name`)
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	defer rows.Close()
	var out []InvitedChannel
	for rows.Next() {
		var c InvitedChannel
		if err := rows.Scan(&c.Name, &c.EventID, &c.InvitedBy); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
