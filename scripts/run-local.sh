#!/usr/bin/env bash
# scripts/run-local.sh — run hallway with the example config
# (examples/openinfra-day.toml) against a local IRC network with services
# and local mail servers, all on 127.0.0.1:
#
#   IRC   InspIRCd + Anope (NickServ, SASL)  127.0.0.1:6667
#   mail  OpenSMTPD 127.0.0.1:2525 -> Dovecot IMAP 127.0.0.1:1143
#         bot@openinfra.test (the bot), jane@openinfra.test/janepass (you),
#         openinfra@openinfra.test/listpass (the list)
#   data  examples/hallway.db (SQLite)
#
# It installs the Debian packages it needs with apt-get (needs root) the
# first time, registers the bot's services account, builds hallway and runs
# it in the foreground. Ctrl-C stops hallway; `scripts/testenv.sh stop`
# stops the servers. Extra arguments go to `hallway run` (e.g. -debug).
set -euo pipefail
cd "$(dirname "$0")/.."

CONFIG=examples/openinfra-day.toml
export HALLWAY_IRC_PASSWORD=${HALLWAY_IRC_PASSWORD:-hallway-local}
export HALLWAY_IMAP_PASSWORD=botpass

echo "run-local: starting the local servers; the first time this installs Debian packages with apt-get:" >&2
echo "run-local:   inspircd anope dovecot-imapd dovecot-lmtpd opensmtpd python3-icalendar python3-vobject" >&2
scripts/testenv.sh start

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

mkdir -p .local
go build -o .local/hallway ./cmd/hallway
.local/hallway check -config "$CONFIG" >/dev/null
cat >&2 <<'MSG'
run-local: hallway is starting. Talk to it:
  IRC   connect a client to 127.0.0.1:6667, /msg NickServ REGISTER yourpassword you@openinfra.test,
        /join #openinfra and say !help (organizers are the accounts pleia2 and krum).
  mail  scripts/mail-local.py send register       (as jane@openinfra.test)
        scripts/mail-local.py read                (jane's inbox)
MSG
exec .local/hallway run -config "$CONFIG" "$@"
