package store

import (
	"context"
	"fmt"
	"time"
)

// NoteDeliveryFailure records that handling the mail taken in under key
// failed with cause, in a transaction of its own (the failed one rolled
// back), and returns how many times it has failed now.
func (s *Store) NoteDeliveryFailure(ctx context.Context, key string, cause error) (int, error) {
	var n int
	err := s.Do(ctx, func(tx *Tx) error {
		return tx.queryRow(`INSERT INTO delivery_failure (key, attempts, last_error, updated_at) VALUES (?, 1, ?, ?)
			ON CONFLICT (key) DO UPDATE SET attempts = delivery_failure.attempts + 1, last_error = excluded.last_error, updated_at = excluded.updated_at
			RETURNING attempts`, key, cause.Error(), tx.now).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("record failed mail %s: %w", key, err)
	}
	return n, nil
}

// CountAnswer counts a mail answered to addr today (UTC) and reports
// whether it is within limit; at the first answer over it, notify is
// true once, so the address can be told that it gets no more answers
// today.
func (tx *Tx) CountAnswer(addr string, limit int) (ok, notify bool, err error) {
	day := tx.now.UTC().Format(time.DateOnly)
	var n, notified int
	err = tx.queryRow(`INSERT INTO mail_answers (email, day, n) VALUES (?, ?, 1)
		ON CONFLICT (email, day) DO UPDATE SET n = mail_answers.n + 1 RETURNING n, notified`, addr, day).Scan(&n, &notified)
	if err != nil {
		return false, false, fmt.Errorf("count answers to %s: %w", addr, err)
	}
	if n <= limit {
		return true, false, nil
	}
	if notified != 0 {
		return false, false, nil
	}
	if _, err := tx.exec(`UPDATE mail_answers SET notified = 1 WHERE email = ? AND day = ?`, addr, day); err != nil {
		return false, false, fmt.Errorf("count answers to %s: %w", addr, err)
	}
	return false, true, nil
}
