package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// SyncToken returns where the Matrix account userID's event stream was
// read up to (/sync's next_batch), "" if never.
func (s *Store) SyncToken(ctx context.Context, userID string) (string, error) {
	var token string
	err := s.View(ctx, func(tx *Tx) error {
		err := tx.queryRow(`SELECT token FROM matrix_sync WHERE user_id = ?`, userID).Scan(&token)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("read matrix sync token: %w", err)
	}
	return token, nil
}

// SetSyncToken records where userID's event stream was read up to.
func (s *Store) SetSyncToken(ctx context.Context, userID, token string) error {
	return s.Do(ctx, func(tx *Tx) error {
		if _, err := tx.exec(`INSERT INTO matrix_sync (user_id, token, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET token = excluded.token, updated_at = excluded.updated_at`, userID, token, tx.now); err != nil {
			return fmt.Errorf("save matrix sync token: %w", err)
		}
		return nil
	})
}
