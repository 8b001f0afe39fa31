package store

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

const (
	addVote = `INSERT INTO vote (proposal_id, person_id, event_id, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT DO NOTHING`
	removeVote = `DELETE FROM vote WHERE proposal_id = ? AND person_id = ?`
	// addNewVote is addVote where the vote is known to be new: a
	// conflict would be an error, not nothing.
	addNewVote = `INSERT INTO vote (proposal_id, person_id, event_id, created_at) VALUES (?, ?, ?, ?)`
)

// AddVote records a person's vote for a proposal. It reports false if the
// vote was already there: a person votes once per proposal.
//
// When the transaction knows the person's votes and the proposal (read
// ahead, or read before), the answer is known without asking: on
// PostgreSQL the INSERT then goes with the next message to the server,
// and on both what the transaction knows stays known.
func (tx *Tx) AddVote(eventID, proposalID, personID int64) (bool, error) {
	key := votesKey{eventID, personID}
	votes, known := tx.memo.votes[key]
	number, numbered := tx.rememberedNumber(eventID, proposalID)
	if !known || !numbered {
		delete(tx.memo.votes, key)
		res, err := tx.exec(addVote, proposalID, personID, eventID, tx.now)
		if err != nil {
			return false, fmt.Errorf("add vote: %w", err)
		}
		n, err := res.RowsAffected()
		return n == 1, err
	}
	if slices.ContainsFunc(votes, func(v castVote) bool { return v.number == number }) {
		return false, nil
	}
	at := tx.now
	if tx.pg != nil {
		at = at.Truncate(time.Microsecond) // as PostgreSQL keeps it
	}
	i, _ := slices.BinarySearchFunc(votes, castVote{number, at}, compareVotes)
	tx.memo.votes[key] = slices.Insert(votes, i, castVote{number, at})
	if tx.pg != nil {
		tx.wrote = true
		tx.pg.deferExec(1, "vote", addNewVote, proposalID, personID, eventID, tx.now)
		return true, nil
	}
	if _, err := tx.exec(addNewVote, proposalID, personID, eventID, tx.now); err != nil {
		return false, fmt.Errorf("add vote: %w", err)
	}
	return true, nil
}

// compareVotes orders votes as VotesOf lists them: by when, then by
// number.
func compareVotes(a, b castVote) int {
	if c := a.at.Compare(b.at); c != 0 {
		return c
	}
	return cmp.Compare(a.number, b.number)
}

// rememberedNumber is the number of the proposal with id, if the
// transaction has read it.
func (tx *Tx) rememberedNumber(eventID, id int64) (int64, bool) {
	for k, p := range tx.memo.proposals {
		if k.event == eventID && p.ID == id {
			return p.Number, true
		}
	}
	return 0, false
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
	key := votesKey{eventID, personID}
	votes, ok := tx.memo.votes[key]
	if !ok {
		rows, err := tx.query(`SELECT p.number, v.created_at FROM vote v JOIN proposal p ON p.id = v.proposal_id
		WHERE v.event_id = ? AND v.person_id = ? ORDER BY v.created_at, p.number`, eventID, personID)
		if err != nil {
			return nil, fmt.Errorf("list votes: %w", err)
		}
		defer rows.Close()
		votes = []castVote{}
		for rows.Next() {
			var v castVote
			if err := rows.Scan(&v.number, &v.at); err != nil {
				return nil, fmt.Errorf("list votes: %w", err)
			}
			votes = append(votes, v)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("list votes: %w", err)
		}
		if tx.writing {
			if tx.memo.votes == nil {
				tx.memo.votes = map[votesKey][]castVote{}
			}
			tx.memo.votes[key] = votes
		}
	}
	nums := make([]int64, len(votes))
	for i, v := range votes {
		nums[i] = v.number
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
