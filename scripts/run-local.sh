#!/usr/bin/env bash
# scripts/run-local.sh — run hallway with the example config
# (examples/openinfra-day.toml) against a local IRC network with services
# and local mail servers, all on 127.0.0.1:
#
#   IRC   InspIRCd + Anope (NickServ, SASL)  127.0.0.1:6667
#   mail  OpenSMTPD 127.0.0.1:2525 -> Dovecot IMAP 127.0.0.1:1143
#         bot@openinfra.test (the bot), jane@openinfra.test/janepass (you),
#         openinfra@openinfra.test/listpass (the list)
#   Matrix  Dendrite http://127.0.0.1:18008 (server name test.local):
#         @hallway:test.local (the bot; its access token in
#         .local/matrix-hallway.token), @jane:test.local/janepass (you),
#         @pleia2:test.local/pleia2pass (an organizer)
#   data  examples/hallway.db (SQLite)
#
# It installs the Debian packages it needs with apt-get (needs root) the
# first time, registers the bot's services account and the event's channel
# (so that ChanServ gives the bot op whenever it joins), builds hallway and
# runs it in the foreground. Ctrl-C stops hallway; `scripts/testenv.sh stop`
# stops the servers.
#
#   scripts/run-local.sh [-config FILE] [hallway run flags, e.g. -debug]
#
# Another config (say a copy of the example you edit) must talk to the same
# local servers: IRC 127.0.0.1:6667, mail as above.
set -euo pipefail
cd "$(dirname "$0")/.."

CONFIG=examples/openinfra-day.toml
if [[ ${1:-} == -config || ${1:-} == --config ]]; then
	[[ $# -ge 2 ]] || { echo "run-local: -config needs a file: scripts/run-local.sh -config my-event.toml" >&2; exit 2; }
	CONFIG=$2
	shift 2
fi
[[ -f $CONFIG ]] || { echo "run-local: no config file $CONFIG" >&2; exit 2; }

# Go 1.26 or later; Debian 12 ships 1.19, too old.
go_minor=$(go env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [[ -z $go_minor || $go_minor -lt 26 ]]; then
	cat >&2 <<'MSG'
run-local: hallway needs Go 1.26 or later (Debian 12's golang-go is 1.19). Get it from go.dev:
  curl -fsSLO https://go.dev/dl/go1.26.8.linux-amd64.tar.gz
  rm -rf /usr/local/go && tar -C /usr/local -xzf go1.26.8.linux-amd64.tar.gz
  export PATH=/usr/local/go/bin:$PATH
then run this script again.
MSG
	exit 1
fi
export HALLWAY_IRC_PASSWORD=${HALLWAY_IRC_PASSWORD:-hallway-local}
export HALLWAY_IMAP_PASSWORD=botpass

echo "run-local: starting the local servers; the first time this installs Debian packages with apt-get:" >&2
echo "run-local:   inspircd anope dovecot-imapd dovecot-lmtpd opensmtpd python3-icalendar python3-vobject" >&2
scripts/testenv.sh start
echo "run-local: waiting for the local Matrix homeserver (Dendrite; the first time on this machine it is built with go install, 2-3 min)" >&2
scripts/testenv.sh wait-matrix
matrix_url=$(scripts/testenv.sh env | sed -n "s/^export HALLWAY_TEST_MATRIX_URL=//p")
matrix_secret=$(scripts/testenv.sh env | sed -n "s/^export HALLWAY_TEST_MATRIX_SECRET=//p")

# register_matrix USER PASSWORD: make a Matrix account through the
# homeserver's shared secret (a no-op when it exists), and print its
# access token (a fresh login).
register_matrix() {
	local user=$1 pass=$2 nonce mac out
	nonce=$(curl -fsS "$matrix_url/_synapse/admin/v1/register" | sed -n 's/.*"nonce":"\([^"]*\)".*/\1/p')
	mac=$(printf '%s\0%s\0%s\0notadmin' "$nonce" "$user" "$pass" | openssl dgst -sha1 -hmac "$matrix_secret" | sed 's/^.*= //')
	out=$(curl -sS -X POST -H 'Content-Type: application/json' "$matrix_url/_synapse/admin/v1/register" \
		-d "{\"nonce\":\"$nonce\",\"username\":\"$user\",\"password\":\"$pass\",\"admin\":false,\"mac\":\"$mac\"}")
	case "$out" in
	*access_token* | *M_USER_IN_USE*) ;;
	*) echo "run-local: could not register @$user on the Matrix homeserver: $out" >&2; return 1 ;;
	esac
	out=$(curl -sS -X POST -H 'Content-Type: application/json' "$matrix_url/_matrix/client/v3/login" \
		-d "{\"type\":\"m.login.password\",\"identifier\":{\"type\":\"m.id.user\",\"user\":\"$user\"},\"password\":\"$pass\"}")
	case "$out" in
	*access_token*) sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' <<<"$out" ;;
	*) echo "run-local: could not log in as @$user on the Matrix homeserver: $out" >&2; return 1 ;;
	esac
}
mkdir -p .local
register_matrix hallway "$HALLWAY_IRC_PASSWORD" >.local/matrix-hallway.token
chmod 600 .local/matrix-hallway.token
register_matrix jane janepass >/dev/null
register_matrix pleia2 pleia2pass >/dev/null

# register_nick NICK PASSWORD: register a services account with NickServ
# (a no-op when it exists already).
register_nick() {
	local nick=$1 pass=$2 line
	exec 5<>/dev/tcp/127.0.0.1/6667
	printf 'NICK %s\r\nUSER %s 0 * :%s\r\n' "$nick" "$nick" "$nick" >&5
	while IFS= read -r -t 20 line <&5; do
		case "$line" in
		PING*) printf 'PONG %s\r\n' "${line#PING }" >&5 ;;
		*" 376 "* | *" 422 "*) printf 'PRIVMSG NickServ :REGISTER %s %s@openinfra.test\r\n' "$pass" "$nick" >&5 ;;
		*" 433 "*) echo "run-local: the nick $nick is in use: is hallway running already?" >&2; break ;;
		*NickServ*registered* | *NickServ*"already"* | *" 900 "*) break ;;
		esac
	done
	printf 'QUIT\r\n' >&5 || true
	exec 5<&- 5>&-
}
register_nick hallway "$HALLWAY_IRC_PASSWORD"

# register_channel NICK PASSWORD CHANNEL: as NICK, register CHANNEL with
# ChanServ, NICK its founder: ChanServ then ops NICK whenever it joins,
# after every restart (event.keep_topic needs op in a +t channel). A no-op
# when the channel is registered already.
register_channel() {
	local nick=$1 pass=$2 channel=$3 line
	exec 5<>/dev/tcp/127.0.0.1/6667
	printf 'NICK %s\r\nUSER %s 0 * :%s\r\n' "$nick" "$nick" "$nick" >&5
	while IFS= read -r -t 20 line <&5; do
		case "$line" in
		PING*) printf 'PONG %s\r\n' "${line#PING }" >&5 ;;
		*" 376 "* | *" 422 "*) printf 'PRIVMSG NickServ :IDENTIFY %s\r\n' "$pass" >&5 ;;
		*" 433 "*) echo "run-local: the nick $nick is in use: is hallway running already?" >&2; break ;;
		*" 900 "*) printf 'JOIN %s\r\n' "$channel" >&5 ;;
		*" 366 "*) printf 'PRIVMSG ChanServ :REGISTER %s\r\n' "$channel" >&5 ;;
		*ChanServ*"registered"* | *ChanServ*"already"*) break ;;
		esac
	done
	printf 'QUIT\r\n' >&5 || true
	exec 5<&- 5>&-
}

go build -o .local/hallway ./cmd/hallway
.local/hallway check -config "$CONFIG" >/dev/null
# the events' channels, from the resolved config
for channel in $(.local/hallway check -config "$CONFIG" | sed -n 's/^\s*channel = "\(#[^"]*\)".*/\1/p' | sort -u); do
	register_channel hallway "$HALLWAY_IRC_PASSWORD" "$channel"
done
cat >&2 <<'MSG'
run-local: hallway is starting. Talk to it:
  IRC   connect a client to 127.0.0.1:6667 (no TLS), /msg NickServ REGISTER yourpassword you@openinfra.test,
        /join #openinfra and say !help (organizers are the accounts pleia2 and krum).
  mail  scripts/mail-local.py send register       (as jane@openinfra.test)
        scripts/mail-local.py read                (jane's inbox)
        or any mail client: IMAP 127.0.0.1:1143, SMTP 127.0.0.1:2525, no TLS; mailboxes
        jane@openinfra.test/janepass, dana@openinfra.test/danapass, organizers@openinfra.test/orgpass,
        openinfra@openinfra.test/listpass (the list), bot@openinfra.test/botpass (the bot's)
  web   http://127.0.0.1:8080/
  Matrix  a homeserver on http://127.0.0.1:18008 (server name test.local): log in with any Matrix client
        as @jane:test.local/janepass or @pleia2:test.local/pleia2pass (an organizer); the bot's account is
        @hallway:test.local, its access token in .local/matrix-hallway.token. (hallway's Matrix transport,
        package matrix, is not wired into hallway run yet.)
MSG
exec .local/hallway run -config "$CONFIG" "$@"
