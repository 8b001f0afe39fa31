package store

import (
	"fmt"
	"slices"
)

const (
	addVote = `INSERT INTO vote (proposal_id, person_id, event_id, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT DO NOTHING`
	removeVote = `DELETE FROM vote WHERE proposal_id = ? AND person_id = ?`
)

// AddVote records a person's vote for a proposal. It reports false if the
// vote was already there: a person votes once per proposal.
func (tx *Tx) AddVote(eventID, proposalID, personID int64) (bool, error) {
	delete(tx.memo.votes, votesKey{eventID, personID})
	res, err := tx.exec(addVote, proposalID, personID, eventID, tx.now)
	if err != nil {
		return false, fmt.Errorf("add vote: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RemoveVote removes a person's vote, reporting whether there was one.
func (tx *Tx) RemoveVote(proposalID, personID int64) (bool, error) {
	for k := range tx.memo.votes {
		if k.person == personID {
			delete(tx.memo.votes, k)
		}
	}
	res, err := tx.exec(removeVote, proposalID, personID)
	if err != nil {
		return false, fmt.Errorf("remove vote: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// VotesOf lists the proposal numbers a person voted for in an event, in the
// order they voted.
func (tx *Tx) VotesOf(eventID, personID int64) ([]int64, error) {
	if nums, ok := tx.memo.votes[votesKey{eventID, personID}]; ok {
		return slices.Clone(nums), nil
	}
	nums, err := tx.int64s(`SELECT p.number FROM vote v JOIN proposal p ON p.id = v.proposal_id
		WHERE v.event_id = ? AND v.person_id = ? ORDER BY v.created_at, p.number`, eventID, personID)
	if err != nil {
		return nil, fmt.Errorf("list votes: %w", err)
	}
	return nums, nil
}

// VoteCount is how many votes a person has cast in an event.
func (tx *Tx) VoteCount(eventID, personID int64) (int, error) {
	var n int
	err := tx.queryRow(`SELECT count(*) FROM vote WHERE event_id = ? AND person_id = ?`, eventID, personID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count votes: %w", err)
	}
	return n, nil
}
