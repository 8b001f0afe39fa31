// Package matrix is hallway's Matrix transport: a client logged in as a
// normal user (an access token), a sync loop that hands each text message
// to a handler, and a sender that takes outbox rows and sends each one
// exactly once.
//
// # Identity
//
// A message's sender is the Matrix user ID the homeserver vouches for
// (event.sender), never a display name: anyone can take any display name.
//
// # Exactly once
//
// Incoming: the event ID is the inbox key; the sync token is saved only
// after a whole batch was handled, so a crash hands a batch again and the
// handler's inbox makes the second time a no-op. Outgoing: every outbox row
// is sent with a transaction ID made from the row
// (PUT /rooms/{room}/send/m.room.message/{txnId}), so a resend after a
// crash is answered by the homeserver with the first event, not a second
// one (client-server API, "Transaction identifiers"). The homeserver keeps
// transaction IDs per access token: a new token is a new scope.
//
// # Good citizen
//
// M_LIMIT_EXCEEDED is honoured with its retry_after_ms; sends are paced per
// room; encrypted rooms are not read, and hallway says so there once.
package matrix
