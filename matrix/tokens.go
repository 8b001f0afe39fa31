package matrix

import (
	"context"
	"sync"
)

// MemoryTokens keeps sync tokens in memory: for tests, and for a bot
// that may hand recent messages again after a restart (the handler's inbox
// makes that harmless).
type MemoryTokens struct {
	mu sync.Mutex
	m  map[string]string
}

// SyncToken returns the saved token, "" for none.
func (t *MemoryTokens) SyncToken(_ context.Context, userID string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[userID], nil
}

// SetSyncToken saves a token.
func (t *MemoryTokens) SetSyncToken(_ context.Context, userID, token string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]string{}
	}
	t.m[userID] = token
	return nil
}
