package store

import (
	"fmt"
	"time"
)

// Room marks an organizer sets on the board (!full, !space).
const (
	RoomFull  = "full"
	RoomSpace = "space"
)

// RoomMark is an organizer's word on how full a room is, made at At: it
// holds for the session on in the room at that time.
type RoomMark struct {
	Room  string
	State string // RoomFull or RoomSpace
	At    time.Time
}

// MarkRoom records that a room is full, or has space again, replacing the
// room's earlier mark.
func (tx *Tx) MarkRoom(eventID int64, room, state string, personID int64) error {
	_, err := tx.exec(`INSERT INTO room_mark (event_id, room, state, person_id, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (event_id, room) DO UPDATE SET state = excluded.state, person_id = excluded.person_id, at = excluded.at`,
		eventID, room, state, personID, tx.now)
	if err != nil {
		return fmt.Errorf("mark room: %w", err)
	}
	return nil
}

// RoomMarks lists an event's room marks by room.
func (tx *Tx) RoomMarks(eventID int64) ([]RoomMark, error) {
	rows, err := tx.query(`SELECT room, state, at FROM room_mark WHERE event_id = ? ORDER BY room`, eventID)
	if err != nil {
		return nil, fmt.Errorf("list room marks: %w", err)
	}
	defer rows.Close()
	var out []RoomMark
	for rows.Next() {
		var m RoomMark
		if err := rows.Scan(&m.Room, &m.State, &m.At); err != nil {
			return nil, fmt.Errorf("list room marks: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// PresentVoters counts, by proposal number, the voters of each proposal
// who are checked in: the people the board expects in its room.
func (tx *Tx) PresentVoters(eventID int64) (map[int64]int, error) {
	rows, err := tx.query(`SELECT p.number, count(*) FROM vote v
		JOIN checkin c ON c.event_id = v.event_id AND c.person_id = v.person_id
		JOIN proposal p ON p.id = v.proposal_id
		WHERE v.event_id = ? GROUP BY p.number`, eventID)
	if err != nil {
		return nil, fmt.Errorf("count present voters: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var n int64
		var c int
		if err := rows.Scan(&n, &c); err != nil {
			return nil, fmt.Errorf("count present voters: %w", err)
		}
		out[n] = c
	}
	return out, rows.Err()
}
