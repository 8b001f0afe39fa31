package store

import (
	"context"
	_ "embed"
	"fmt"
)

//go:embed schema.sql
var schema string

//go:embed schema_postgres.sql
var schemaPostgres string

// migrations upgrade a database from version i to i+1. The list is
// append-only: a released entry is never edited, and schema.sql always equals
// an empty database with every migration applied. Version 1 is schema.sql
// itself, so the list starts with an empty entry for it.
var migrations = []string{
	"", // version 1: the initial schema
	// version 2: mail that fails is set aside; confirmation mails are
	// limited; answers per address per day are counted; bounces recorded.
	`ALTER TABLE registration ADD COLUMN bounce TEXT NOT NULL DEFAULT '';
-- Mail whose handling failed, by the key it came under: counted, so a mail
-- that keeps failing is set aside instead of being retried for ever.
CREATE TABLE delivery_failure (
	key        TEXT PRIMARY KEY,
	attempts   INTEGER NOT NULL,
	last_error TEXT NOT NULL,
	updated_at DATETIME NOT NULL
);

-- Confirmation mails sent, so an address gets at most one while it is
-- pending and a requester only a few a day. nick is the IRC nick the
-- request came from ("" by mail), to tell the requester of a bounce.
CREATE TABLE confirmation_mail (
	id        INTEGER PRIMARY KEY,
	event_id  INTEGER NOT NULL REFERENCES event(id),
	email     TEXT NOT NULL,
	person_id INTEGER NOT NULL REFERENCES person(id),
	account   TEXT NOT NULL DEFAULT '',
	nick      TEXT NOT NULL DEFAULT '',
	token     TEXT NOT NULL,
	sent_at   DATETIME NOT NULL
);
CREATE INDEX confirmation_mail_email ON confirmation_mail(email, sent_at);
CREATE INDEX confirmation_mail_person ON confirmation_mail(person_id, sent_at);

-- Addresses whose owner answered a confirmation mail "not me": no more
-- confirmation mails go there until the address itself asks.
CREATE TABLE mail_refusal (
	email TEXT PRIMARY KEY,
	at    DATETIME NOT NULL
);

-- Answers mailed to an address per UTC day (RFC 3834 section 2: an
-- automatic responder limits how often it answers one sender).
-- notified is set once the address was told it reached the limit.
CREATE TABLE mail_answers (
	email    TEXT NOT NULL,
	day      TEXT NOT NULL,
	n        INTEGER NOT NULL,
	notified INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (email, day)
) WITHOUT ROWID;
`,
	// version 3: releases asked for and not made yet, finished after a crash
	`CREATE TABLE pending_release (
	id         INTEGER PRIMARY KEY,
	event_id   INTEGER NOT NULL REFERENCES event(id),
	person_id  INTEGER NOT NULL REFERENCES person(id),
	note       TEXT NOT NULL DEFAULT '',
	reply_to   TEXT NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	created_at DATETIME NOT NULL
);`,
	// version 4: private IRC replies are bound to an account
	`ALTER TABLE outbox ADD COLUMN account TEXT NOT NULL DEFAULT ''`,
	// version 5: a released proposal withdrawn, rejected or accepted
	// again shows at once, before the next release
	`CREATE TABLE amendment (
	id         INTEGER PRIMARY KEY,
	event_id   INTEGER NOT NULL REFERENCES event(id),
	version    INTEGER NOT NULL,
	number     INTEGER NOT NULL,
	out        INTEGER NOT NULL,
	reason     TEXT NOT NULL,
	created_at DATETIME NOT NULL
);
CREATE INDEX amendment_event ON amendment(event_id, version);`,
	// version 6: channels an organizer invited the bot to
	`CREATE TABLE irc_channel (
	name       TEXT PRIMARY KEY,
	event_id   INTEGER NOT NULL REFERENCES event(id),
	invited_by TEXT NOT NULL,
	joined_at  DATETIME NOT NULL
);`,
	// version 7: the waitlist is a queue with tickets taken on joining it,
	// so a re-registration goes to the end; those waiting keep their order.
	`ALTER TABLE registration ADD COLUMN wait_seq INTEGER;
UPDATE registration SET wait_seq = (SELECT count(*) FROM registration r
	WHERE r.event_id = registration.event_id AND r.status IN ('waitlisted', 'offered')
	AND (r.created_at < registration.created_at OR (r.created_at = registration.created_at AND r.id <= registration.id)))
	WHERE status IN ('waitlisted', 'offered');
CREATE INDEX registration_wait ON registration(event_id, status, wait_seq);`,
	// version 8: a registration number is given once per event, whatever
	// writes it (several instances on PostgreSQL)
	`CREATE UNIQUE INDEX registration_number ON registration(event_id, number);`,
	// version 9: several instances, one leader on a lease; outbox rows
	// record the term that claimed them
	`CREATE TABLE lease (
	name       TEXT PRIMARY KEY,
	holder     TEXT NOT NULL,
	term       INTEGER NOT NULL,
	expires_at DATETIME NOT NULL
);
ALTER TABLE outbox ADD COLUMN claimed_term INTEGER NOT NULL DEFAULT 0;`,
	// version 10: organizers mark a room full or with space again, for the
	// board.
	`CREATE TABLE room_mark (
	event_id  INTEGER NOT NULL REFERENCES event(id),
	room      TEXT NOT NULL,
	state     TEXT NOT NULL CHECK (state IN ('full', 'space')),
	person_id INTEGER NOT NULL REFERENCES person(id),
	at        DATETIME NOT NULL,
	PRIMARY KEY (event_id, room)
);`,
	// version 11: a person may be a Matrix user ID. SQLite cannot change
	// a CHECK: the table is built again.
	`CREATE TABLE identity_kinds (
	id           INTEGER PRIMARY KEY,
	person_id    INTEGER NOT NULL REFERENCES person(id),
	kind         TEXT NOT NULL CHECK (kind IN ('irc', 'email', 'matrix')),
	value        TEXT NOT NULL,
	confirmed_at DATETIME,
	created_at   DATETIME NOT NULL,
	UNIQUE (kind, value)
);
INSERT INTO identity_kinds (id, person_id, kind, value, confirmed_at, created_at)
	SELECT id, person_id, kind, value, confirmed_at, created_at FROM identity;
DROP TABLE identity;
ALTER TABLE identity_kinds RENAME TO identity;
CREATE INDEX identity_person ON identity(person_id);`,
	// version 12: messages to and from Matrix rooms; the outbox and the
	// inbox are built again for their channel's CHECK.
	`CREATE TABLE outbox_channels (
	id         INTEGER PRIMARY KEY,
	channel    TEXT NOT NULL CHECK (channel IN ('irc', 'mail', 'matrix')),
	target     TEXT NOT NULL,
	addressee  TEXT NOT NULL DEFAULT '',
	kind       TEXT NOT NULL DEFAULT 'privmsg',
	body       TEXT NOT NULL,
	short      TEXT NOT NULL DEFAULT '',
	dedupe_key TEXT,
	created_at DATETIME NOT NULL,
	not_before DATETIME,
	attempts   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	sent_at    DATETIME,
	account    TEXT NOT NULL DEFAULT '',
	claimed_term INTEGER NOT NULL DEFAULT 0
);
INSERT INTO outbox_channels (id, channel, target, addressee, kind, body, short, dedupe_key, created_at, not_before, attempts, last_error, sent_at, account, claimed_term)
	SELECT id, channel, target, addressee, kind, body, short, dedupe_key, created_at, not_before, attempts, last_error, sent_at, account, claimed_term FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_channels RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox(channel, id) WHERE sent_at IS NULL;
CREATE UNIQUE INDEX outbox_dedupe ON outbox(dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE TABLE inbox_channels (
	id           INTEGER PRIMARY KEY,
	channel      TEXT NOT NULL CHECK (channel IN ('irc', 'mail', 'matrix')),
	key          TEXT NOT NULL UNIQUE,
	sender       TEXT NOT NULL DEFAULT '',
	outcome      TEXT NOT NULL DEFAULT '',
	raw          TEXT NOT NULL DEFAULT '',
	processed_at DATETIME NOT NULL
);
INSERT INTO inbox_channels (id, channel, key, sender, outcome, raw, processed_at)
	SELECT id, channel, key, sender, outcome, raw, processed_at FROM inbox;
DROP TABLE inbox;
ALTER TABLE inbox_channels RENAME TO inbox;`,
	// version 13: a Matrix message's HTML body and reply relation, and the
	// Matrix sync position.
	`ALTER TABLE outbox ADD COLUMN html TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN reply_to TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN thread TEXT NOT NULL DEFAULT '';
CREATE TABLE matrix_sync (
	user_id    TEXT PRIMARY KEY,
	token      TEXT NOT NULL,
	updated_at DATETIME NOT NULL
);`,
	// version 14: privacy (one-time links to a person's data, !forget
	// codes) and code-of-conduct reports with their audit log.
	`-- One-time secrets of a person: the link to their data (!mydata, valid
-- for an hour, used once) and the code that confirms !forget.
CREATE TABLE privacy_token (
	token      TEXT PRIMARY KEY,
	kind       TEXT NOT NULL CHECK (kind IN ('mydata', 'forget')),
	person_id  INTEGER NOT NULL REFERENCES person(id),
	created_at DATETIME NOT NULL,
	expires_at DATETIME NOT NULL,
	used_at    DATETIME
);
CREATE INDEX privacy_token_person ON privacy_token(person_id);

-- Code-of-conduct reports. Only the event's team reads them (hallway coc,
-- !coc list in private): no page, export, log line or metric shows them.
-- contact is how the team answers the reporter (an account or address).
CREATE TABLE coc_report (
	id          INTEGER PRIMARY KEY,
	event_id    INTEGER NOT NULL REFERENCES event(id),
	reporter_id INTEGER NOT NULL REFERENCES person(id),
	via         TEXT NOT NULL CHECK (via IN ('irc', 'mail', 'matrix')),
	contact     TEXT NOT NULL DEFAULT '',
	text        TEXT NOT NULL,
	status      TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'acknowledged', 'resolved')),
	created_at  DATETIME NOT NULL,
	updated_at  DATETIME NOT NULL
);
CREATE INDEX coc_report_event ON coc_report(event_id, status, id);

-- Who did what with a report, and when: filed, notified, shown, listed,
-- acknowledged, resolved. report_id is NULL for a list of reports.
CREATE TABLE coc_audit (
	id        INTEGER PRIMARY KEY,
	event_id  INTEGER NOT NULL REFERENCES event(id),
	report_id INTEGER REFERENCES coc_report(id),
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	note      TEXT NOT NULL DEFAULT '',
	at        DATETIME NOT NULL
);
CREATE INDEX coc_audit_report ON coc_audit(report_id, id);`,
	// version 15: codes that link two identities into one person.
	`-- One-time codes that link two identities into one person (!link): given
-- to the identity that asked (kind, value), said from the other; for an
-- address (email set), mailed there and said back by the one that asked.
CREATE TABLE link_code (
	code       TEXT PRIMARY KEY,
	person_id  INTEGER NOT NULL REFERENCES person(id),
	kind       TEXT NOT NULL,
	value      TEXT NOT NULL,
	email      TEXT NOT NULL DEFAULT '',
	created_at DATETIME NOT NULL,
	expires_at DATETIME NOT NULL,
	used_at    DATETIME
);
CREATE INDEX link_code_person ON link_code(person_id, created_at);`,
}

// postgresFirst is the version PostgreSQL support began at: a PostgreSQL
// database is created at the newest version, so it never needs the
// migrations before this one.
const postgresFirst = 8

// postgresMigrations are migrations' PostgreSQL forms, by the index of
// the SQLite migration they stand beside (upgrading from version i to
// i+1), from postgresFirst on; every later migration has one.
var postgresMigrations = map[int]string{
	8: `CREATE TABLE lease (
	name       TEXT PRIMARY KEY,
	holder     TEXT NOT NULL,
	term       BIGINT NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);
ALTER TABLE outbox ADD COLUMN claimed_term BIGINT NOT NULL DEFAULT 0;`,
	9: `CREATE TABLE room_mark (
	event_id  BIGINT NOT NULL REFERENCES event(id),
	room      TEXT NOT NULL,
	state     TEXT NOT NULL CHECK (state IN ('full', 'space')),
	person_id BIGINT NOT NULL REFERENCES person(id),
	at        TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (event_id, room)
);`,
	10: `ALTER TABLE identity DROP CONSTRAINT identity_kind_check;
ALTER TABLE identity ADD CONSTRAINT identity_kind_check CHECK (kind IN ('irc', 'email', 'matrix'));`,
	11: `ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('irc', 'mail', 'matrix'));
ALTER TABLE inbox DROP CONSTRAINT inbox_channel_check;
ALTER TABLE inbox ADD CONSTRAINT inbox_channel_check CHECK (channel IN ('irc', 'mail', 'matrix'));`,
	12: `ALTER TABLE outbox ADD COLUMN html TEXT NOT NULL DEFAULT '',
	ADD COLUMN reply_to TEXT NOT NULL DEFAULT '',
	ADD COLUMN thread TEXT NOT NULL DEFAULT '';
CREATE TABLE matrix_sync (
	user_id    TEXT PRIMARY KEY,
	token      TEXT NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);`,
	13: `-- One-time secrets of a person: the link to their data (!mydata, valid
-- for an hour, used once) and the code that confirms !forget.
CREATE TABLE privacy_token (
	token      TEXT PRIMARY KEY,
	kind       TEXT NOT NULL CHECK (kind IN ('mydata', 'forget')),
	person_id  BIGINT NOT NULL REFERENCES person(id),
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	used_at    TIMESTAMPTZ
);
CREATE INDEX privacy_token_person ON privacy_token(person_id);

-- Code-of-conduct reports. Only the event's team reads them (hallway coc,
-- !coc list in private): no page, export, log line or metric shows them.
-- contact is how the team answers the reporter (an account or address).
CREATE TABLE coc_report (
	id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	event_id    BIGINT NOT NULL REFERENCES event(id),
	reporter_id BIGINT NOT NULL REFERENCES person(id),
	via         TEXT NOT NULL CHECK (via IN ('irc', 'mail', 'matrix')),
	contact     TEXT NOT NULL DEFAULT '',
	text        TEXT NOT NULL,
	status      TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'acknowledged', 'resolved')),
	created_at  TIMESTAMPTZ NOT NULL,
	updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX coc_report_event ON coc_report(event_id, status, id);

-- Who did what with a report, and when: filed, notified, shown, listed,
-- acknowledged, resolved. report_id is NULL for a list of reports.
CREATE TABLE coc_audit (
	id        BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	event_id  BIGINT NOT NULL REFERENCES event(id),
	report_id BIGINT REFERENCES coc_report(id),
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	note      TEXT NOT NULL DEFAULT '',
	at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX coc_audit_report ON coc_audit(report_id, id);`,
	14: `-- One-time codes that link two identities into one person (!link): given
-- to the identity that asked (kind, value), said from the other; for an
-- address (email set), mailed there and said back by the one that asked.
CREATE TABLE link_code (
	code       TEXT PRIMARY KEY,
	person_id  BIGINT NOT NULL REFERENCES person(id),
	kind       TEXT NOT NULL,
	value      TEXT NOT NULL,
	email      TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	used_at    TIMESTAMPTZ
);
CREATE INDEX link_code_person ON link_code(person_id, created_at);`,
}

// SchemaVersion is the database version this binary writes.
var SchemaVersion = len(migrations)

// ErrTooNew is returned by Open for a database written by a newer hallway.
var ErrTooNew = fmt.Errorf("database is newer than this hallway")

// schemaVersion reads the database's schema version: 0 for an empty one.
func (s *Store) schemaVersion(ctx context.Context) (int, error) {
	var version int
	if s.engine == PostgreSQL {
		var exists bool
		if err := s.db.QueryRowContext(ctx, `SELECT to_regclass('hallway_schema') IS NOT NULL`).Scan(&exists); err != nil {
			return 0, fmt.Errorf("read schema version: %w", err)
		}
		if !exists {
			return 0, nil
		}
		if err := s.db.QueryRowContext(ctx, `SELECT version FROM hallway_schema`).Scan(&version); err != nil {
			return 0, fmt.Errorf("read schema version: %w", err)
		}
		return version, nil
	}
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return version, nil
}

// versionFix says how to bring a database of version v to this binary's.
func versionFix(v int) string {
	if v < SchemaVersion {
		return "start this hallway on it once (hallway run upgrades it), or use the hallway that wrote it"
	}
	return "use a hallway at least as new as the one that wrote it"
}

func (s *Store) migrate(ctx context.Context) error {
	if s.engine == PostgreSQL {
		return s.migratePostgres(ctx)
	}
	version, err := s.schemaVersion(ctx)
	if err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("%w: it has schema version %d, this binary knows up to %d; upgrade hallway or restore a backup",
			ErrTooNew, version, len(migrations))
	}
	if version == len(migrations) {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()
	if version == 0 {
		if _, err := tx.ExecContext(ctx, schema); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	} else {
		for i := version; i < len(migrations); i++ {
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migrate to version %d: %w", i+1, err)
			}
		}
	}
	// PRAGMA takes no parameters; the value is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return fmt.Errorf("set schema version: %w", err)
	}
	return tx.Commit()
}

// migratePostgres brings a PostgreSQL database up to date. Its DDL is
// transactional, and the write lock keeps two instances starting at once
// from both creating the schema.
func (s *Store) migratePostgres(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, takeWriteLock); err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	version, err := s.schemaVersion(ctx)
	if err != nil {
		return err
	}
	switch {
	case version > len(migrations):
		return fmt.Errorf("%w: it has schema version %d, this binary knows up to %d; upgrade hallway or restore a backup",
			ErrTooNew, version, len(migrations))
	case version == len(migrations):
		return nil
	case version == 0:
		if _, err := tx.ExecContext(ctx, schemaPostgres); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO hallway_schema (version) VALUES ($1)`, len(migrations)); err != nil {
			return fmt.Errorf("set schema version: %w", err)
		}
		return tx.Commit()
	case version < postgresFirst:
		return fmt.Errorf("it has schema version %d, older than any PostgreSQL database hallway made (%d)", version, postgresFirst)
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, postgresMigrations[i]); err != nil {
			return fmt.Errorf("migrate to version %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE hallway_schema SET version = $1`, len(migrations)); err != nil {
		return fmt.Errorf("set schema version: %w", err)
	}
	return tx.Commit()
}
