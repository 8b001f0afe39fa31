-- hallway's schema for a fresh database. Upgrades are appended to the
-- migrations list in migrate.go; this file always describes the newest
-- version, and user_version is set to len(migrations) after it runs.
--
-- Times are DATETIME columns: SQLite text (the driver's _time_format=sqlite),
-- always UTC, read back as time.Time.

-- A person is who does things: an IRC services account, a confirmed email
-- address, or both linked together.
CREATE TABLE person (
	id           INTEGER PRIMARY KEY,
	display_name TEXT NOT NULL DEFAULT '',
	created_at   DATETIME NOT NULL
);

-- How a person is recognised. IRC accounts are stored case-folded
-- (RFC 1459 casemapping), email addresses lower-cased. An email address only
-- counts once confirmed_at is set.
CREATE TABLE identity (
	id           INTEGER PRIMARY KEY,
	person_id    INTEGER NOT NULL REFERENCES person(id),
	kind         TEXT NOT NULL CHECK (kind IN ('irc', 'email', 'matrix')),
	value        TEXT NOT NULL,
	confirmed_at DATETIME,
	created_at   DATETIME NOT NULL,
	UNIQUE (kind, value)
);
CREATE INDEX identity_person ON identity(person_id);

-- Events come from the config; the row gives them a stable id.
CREATE TABLE event (
	id         INTEGER PRIMARY KEY,
	slug       TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL,
	created_at DATETIME NOT NULL
);

-- Manual phase changes by organizers. Scheduled changes come from the config;
-- the latest of the two wins.
CREATE TABLE phase_change (
	id         INTEGER PRIMARY KEY,
	event_id   INTEGER NOT NULL REFERENCES event(id),
	phase      TEXT NOT NULL CHECK (phase IN ('cfp', 'voting', 'registration')),
	open       INTEGER NOT NULL CHECK (open IN (0, 1)),
	person_id  INTEGER REFERENCES person(id),
	changed_at DATETIME NOT NULL
);
CREATE INDEX phase_change_event ON phase_change(event_id, phase, changed_at);

-- Talks and unconference sessions. number is what people type (#7); it is
-- per event and never reused.
CREATE TABLE proposal (
	id         INTEGER PRIMARY KEY,
	event_id   INTEGER NOT NULL REFERENCES event(id),
	number     INTEGER NOT NULL,
	kind       TEXT NOT NULL CHECK (kind IN ('talk', 'session')),
	title      TEXT NOT NULL,
	abstract   TEXT NOT NULL DEFAULT '',
	author_id  INTEGER NOT NULL REFERENCES person(id),
	status     TEXT NOT NULL DEFAULT 'proposed'
	           CHECK (status IN ('proposed', 'accepted', 'rejected', 'withdrawn')),
	reason     TEXT NOT NULL DEFAULT '',
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	UNIQUE (event_id, number)
);
CREATE INDEX proposal_author ON proposal(author_id);

-- Who speaks in a proposal (the author by default). The scheduler keeps a
-- speaker out of two rooms at once.
CREATE TABLE speaker (
	proposal_id INTEGER NOT NULL REFERENCES proposal(id),
	person_id   INTEGER NOT NULL REFERENCES person(id),
	PRIMARY KEY (proposal_id, person_id)
);

-- One vote per person per proposal. WITHOUT ROWID: the primary key is the
-- table, so a vote writes one b-tree less.
CREATE TABLE vote (
	proposal_id INTEGER NOT NULL REFERENCES proposal(id),
	person_id   INTEGER NOT NULL REFERENCES person(id),
	event_id    INTEGER NOT NULL REFERENCES event(id),
	created_at  DATETIME NOT NULL,
	PRIMARY KEY (proposal_id, person_id)
) WITHOUT ROWID;
CREATE INDEX vote_person ON vote(event_id, person_id);

-- Registrations: double opt-in by email, or by a confirmed address linked to
-- an IRC account. number is the place in the registration order, given when
-- the person gets a seat. A waitlisted person offered a freed seat has until
-- offered_until to take it.
CREATE TABLE registration (
	id            INTEGER PRIMARY KEY,
	event_id      INTEGER NOT NULL REFERENCES event(id),
	person_id     INTEGER NOT NULL REFERENCES person(id),
	email         TEXT NOT NULL,
	status        TEXT NOT NULL
	              CHECK (status IN ('pending', 'registered', 'waitlisted', 'offered', 'cancelled')),
	number        INTEGER,
	token         TEXT NOT NULL UNIQUE,
	offered_until DATETIME,
	checked_in_at DATETIME,
	-- bounce is why the confirmation mail could not be delivered ("" if
	-- it was, or is on its way).
	bounce        TEXT NOT NULL DEFAULT '',
	created_at    DATETIME NOT NULL,
	updated_at    DATETIME NOT NULL,
	-- wait_seq is the registration's ticket in the waitlist queue, taken
	-- when it joins the waitlist: the queue's order, whenever the row
	-- itself was made.
	wait_seq      INTEGER,
	UNIQUE (event_id, person_id)
);
CREATE INDEX registration_status ON registration(event_id, status, id);
CREATE INDEX registration_wait ON registration(event_id, status, wait_seq);
CREATE UNIQUE INDEX registration_number ON registration(event_id, number);

-- Pledges of money (minor units + ISO 4217 currency), time (minutes) or
-- kind (free text) to an event, optionally to one of its campaigns.
CREATE TABLE pledge (
	id             INTEGER PRIMARY KEY,
	event_id       INTEGER NOT NULL REFERENCES event(id),
	campaign       TEXT NOT NULL DEFAULT '',
	person_id      INTEGER NOT NULL REFERENCES person(id),
	kind           TEXT NOT NULL CHECK (kind IN ('money', 'time', 'kind')),
	amount         INTEGER NOT NULL DEFAULT 0,
	currency       TEXT NOT NULL DEFAULT '',
	description    TEXT NOT NULL DEFAULT '',
	display_name   TEXT NOT NULL DEFAULT '',
	status         TEXT NOT NULL DEFAULT 'pledged'
	               CHECK (status IN ('pledged', 'received', 'withdrawn', 'expired')),
	received       INTEGER NOT NULL DEFAULT 0,
	reminders_sent INTEGER NOT NULL DEFAULT 0,
	created_at     DATETIME NOT NULL,
	updated_at     DATETIME NOT NULL
);
CREATE INDEX pledge_event ON pledge(event_id, campaign);

-- Notes taken during a session, MeetBot style. A meeting is one run of
-- notes in a channel; every line said there while it runs is kept raw, so
-- the minutes are a replay of the log and can be regenerated exactly.
-- series groups meetings whose open actions carry over (a session's
-- number, or the name given to #startmeeting).
CREATE TABLE meeting (
	id          INTEGER PRIMARY KEY,
	event_id    INTEGER NOT NULL REFERENCES event(id),
	number      INTEGER,
	series      TEXT NOT NULL,
	title       TEXT NOT NULL,
	channel     TEXT NOT NULL,
	started_by  INTEGER NOT NULL REFERENCES person(id),
	started_at  DATETIME NOT NULL,
	ends_at     DATETIME,
	ended_at    DATETIME
);
CREATE INDEX meeting_channel ON meeting(channel, ended_at);
CREATE INDEX meeting_series ON meeting(event_id, series, started_at);

-- One line of a meeting's log. account is the speaker's services account
-- ("" if none); resolved holds, as JSON, the accounts of the nicks a
-- #chair or #action line named, as they were when it was said.
CREATE TABLE meeting_line (
	id         INTEGER PRIMARY KEY,
	meeting_id INTEGER NOT NULL REFERENCES meeting(id),
	at         DATETIME NOT NULL,
	nick       TEXT NOT NULL,
	account    TEXT NOT NULL DEFAULT '',
	text       TEXT NOT NULL,
	resolved   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX meeting_line_meeting ON meeting_line(meeting_id, id);

-- People in the room: checked in by an organizer or by themselves (!here).
CREATE TABLE checkin (
	event_id  INTEGER NOT NULL REFERENCES event(id),
	person_id INTEGER NOT NULL REFERENCES person(id),
	by_id     INTEGER NOT NULL REFERENCES person(id),
	at        DATETIME NOT NULL,
	PRIMARY KEY (event_id, person_id)
);

-- An organizer's word on how full a room is (!full, !space), for the
-- board; it holds for the session on in the room when it was said.
CREATE TABLE room_mark (
	event_id  INTEGER NOT NULL REFERENCES event(id),
	room      TEXT NOT NULL,
	state     TEXT NOT NULL CHECK (state IN ('full', 'space')),
	person_id INTEGER NOT NULL REFERENCES person(id),
	at        DATETIME NOT NULL,
	PRIMARY KEY (event_id, room)
);

-- Pinned sessions stay where an organizer put them.
CREATE TABLE pin (
	proposal_id INTEGER PRIMARY KEY REFERENCES proposal(id),
	room        TEXT NOT NULL,
	slot_start  DATETIME NOT NULL,
	person_id   INTEGER NOT NULL REFERENCES person(id),
	created_at  DATETIME NOT NULL
);

-- Released schedules: version K of an event's schedule, frozen as JSON.
CREATE TABLE release (
	id         INTEGER PRIMARY KEY,
	event_id   INTEGER NOT NULL REFERENCES event(id),
	version    INTEGER NOT NULL,
	note       TEXT NOT NULL DEFAULT '',
	schedule   TEXT NOT NULL,
	person_id  INTEGER REFERENCES person(id),
	created_at DATETIME NOT NULL,
	UNIQUE (event_id, version)
);

-- Changes to an event's latest release made without a new release: a
-- released proposal withdrawn or rejected (out = 1), or accepted again
-- (out = 0). Every view shows the release with them; the next release
-- takes their place. reason is the proposal's status after the change.
CREATE TABLE amendment (
	id         INTEGER PRIMARY KEY,
	event_id   INTEGER NOT NULL REFERENCES event(id),
	version    INTEGER NOT NULL,
	number     INTEGER NOT NULL,
	out        INTEGER NOT NULL,
	reason     TEXT NOT NULL,
	created_at DATETIME NOT NULL
);
CREATE INDEX amendment_event ON amendment(event_id, version);

-- A schedule release asked for and not made yet: the command's
-- transaction records it, the solver runs after it, and the release's own
-- transaction removes it. A row left by a crash is finished (or the
-- organizer told it failed) at the next start. reply_to is, as JSON, whom
-- to answer and how.
CREATE TABLE pending_release (
	id         INTEGER PRIMARY KEY,
	event_id   INTEGER NOT NULL REFERENCES event(id),
	person_id  INTEGER NOT NULL REFERENCES person(id),
	note       TEXT NOT NULL DEFAULT '',
	reply_to   TEXT NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	created_at DATETIME NOT NULL
);

-- Personal calendar feeds: an unguessable token per person and event,
-- revocable (a new one replaces it).
CREATE TABLE feed_token (
	token      TEXT PRIMARY KEY,
	event_id   INTEGER NOT NULL REFERENCES event(id),
	person_id  INTEGER NOT NULL REFERENCES person(id),
	created_at DATETIME NOT NULL,
	revoked_at DATETIME
);
CREATE INDEX feed_token_person ON feed_token(event_id, person_id);

-- Messages to send, written in the same transaction as the change that
-- caused them, so a crash loses none and sends none twice. channel is 'irc',
-- 'mail' or 'matrix'; target is an IRC channel or nick, an email address, or
-- a Matrix room ID; body is the line (IRC), the whole message (mail) or the
-- plain text (Matrix). short is a compact form used when IRC
-- acknowledgements to one target are coalesced.
CREATE TABLE outbox (
	id         INTEGER PRIMARY KEY,
	channel    TEXT NOT NULL CHECK (channel IN ('irc', 'mail', 'matrix')),
	target     TEXT NOT NULL,
	addressee  TEXT NOT NULL DEFAULT '',
	-- kind is what to do with an IRC message: 'privmsg', or 'topic' to set
	-- the target channel's topic to body.
	kind       TEXT NOT NULL DEFAULT 'privmsg',
	body       TEXT NOT NULL,
	short      TEXT NOT NULL DEFAULT '',
	dedupe_key TEXT,
	created_at DATETIME NOT NULL,
	not_before DATETIME,
	attempts   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	sent_at    DATETIME,
	-- account: an IRC message to a nick goes out only while the nick is
	-- logged in to this services account ('' for anyone).
	account    TEXT NOT NULL DEFAULT '',
	-- claimed_term: the leadership term (see lease) of the sender that
	-- last claimed the row to send it; 0 for never.
	claimed_term INTEGER NOT NULL DEFAULT 0,
	-- A Matrix message: its HTML body ('' for plain only), the event it
	-- replies (or, kind 'reaction', reacts) to, and its thread's root.
	html       TEXT NOT NULL DEFAULT '',
	reply_to   TEXT NOT NULL DEFAULT '',
	thread     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox(channel, id) WHERE sent_at IS NULL;
-- Partial: most messages have no key and then cost no index write.
CREATE UNIQUE INDEX outbox_dedupe ON outbox(dedupe_key) WHERE dedupe_key IS NOT NULL;

-- Messages received and processed: the key (an IRC msgid, an IMAP
-- UIDVALIDITY/UID, a Message-ID) makes processing happen once. Bad input is
-- kept with its raw text for organizers to look at.
CREATE TABLE inbox (
	id           INTEGER PRIMARY KEY,
	channel      TEXT NOT NULL CHECK (channel IN ('irc', 'mail', 'matrix')),
	key          TEXT NOT NULL UNIQUE,
	sender       TEXT NOT NULL DEFAULT '',
	outcome      TEXT NOT NULL DEFAULT '',
	raw          TEXT NOT NULL DEFAULT '',
	processed_at DATETIME NOT NULL
);

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

-- IRC channels an organizer invited the bot to (name case-folded), joined
-- again after a restart.
CREATE TABLE irc_channel (
	name       TEXT PRIMARY KEY,
	event_id   INTEGER NOT NULL REFERENCES event(id),
	invited_by TEXT NOT NULL,
	joined_at  DATETIME NOT NULL
);

-- The leadership of instances sharing this database: the holder runs the
-- IRC connection, mail intake, senders and clock until expires_at unless it
-- renews; term rises by one at every takeover, and outbox claims and the
-- clock's transactions check it (fencing).
CREATE TABLE lease (
	name       TEXT PRIMARY KEY,
	holder     TEXT NOT NULL,
	term       INTEGER NOT NULL,
	expires_at DATETIME NOT NULL
);

-- The Matrix client's position in its event stream (/sync's next_batch), per
-- account: saved after a batch was handled, so a restart hands on what
-- came while it was down and nothing handled before.
CREATE TABLE matrix_sync (
	user_id    TEXT PRIMARY KEY,
	token      TEXT NOT NULL,
	updated_at DATETIME NOT NULL
);

-- One-time secrets of a person: the link to their data (!mydata, valid
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
CREATE INDEX coc_audit_report ON coc_audit(report_id, id);

-- One-time codes that link two identities into one person (!link): given
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
CREATE INDEX link_code_person ON link_code(person_id, created_at);
