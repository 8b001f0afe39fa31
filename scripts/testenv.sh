#!/usr/bin/env bash
# scripts/testenv.sh — install and run the real servers hallway's tests need,
# all on loopback, all state in one directory:
#
#   InspIRCd 3 (IRC, IRCv3 caps, SASL)  127.0.0.1:16668, TLS :16697 (services link :17000)
#   Anope 2.0 (NickServ accounts, SASL)  linked to InspIRCd
#   Dovecot (IMAP)                       127.0.0.1:1143    (LMTP :10024)
#   OpenSMTPD                            127.0.0.1:2525    -> LMTP -> Dovecot
#   PostgreSQL (Debian's postgresql)     127.0.0.1:15432   (user hallway, trust)
#   Dendrite (Matrix homeserver)         127.0.0.1:18008   (server name test.local,
#                                        SQLite, shared-secret registration only)
#
# Usage: scripts/testenv.sh [--full] COMMAND
#   install      install the Debian packages (apt-get) if missing
#   start        install if needed, then start everything (idempotent: does
#                nothing when already running and healthy; otherwise starts
#                from a clean state: fresh Anope accounts, empty mailboxes)
#   stop         stop everything
#   status       exit 0 when every server is up (prints one line each)
#   restart-irc  kill InspIRCd and start it again (Anope relinks, accounts stay)
#   stop-irc     kill InspIRCd only;  start-irc: start it again
#   restart-pg   kill PostgreSQL and start it again (its databases stay)
#   restart-matrix  kill Dendrite and start it again (its accounts and rooms stay)
#   wait-matrix  wait until the homeserver answers (start builds Dendrite in the
#                background the first time, about 2-3 min; this waits for that)
#   env          print shell exports for the tests (eval "$(scripts/testenv.sh env)")
#   logs         print the tail of every server log
#
#   --full       also install vdirsyncer, khal, chromium (+ driver), zbar-tools (a QR decoder)
#
# State directory: $HALLWAY_TESTENV_DIR, default <repo>/.local/testenv.
# Dendrite is built once per machine with `go install` into
# $HALLWAY_TOOLS_DIR (default ~/.cache/hallway-tools); it is a tool of the
# tests, not a dependency of hallway.
# Test accounts: Dovecot users bot@test.local/botpass, alice@test.local/alicepass,
# bob@test.local/bobpass, list@test.local/listpass, and for the example config
# bot@openinfra.test/botpass, jane@openinfra.test/janepass,
# dana@openinfra.test/danapass, organizers@openinfra.test/orgpass,
# openinfra@openinfra.test/listpass; mail for any @test.local or @openinfra.test
# address is accepted by OpenSMTPD and delivered through LMTP.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SELF="$ROOT/scripts/testenv.sh"
D=${HALLWAY_TESTENV_DIR:-$ROOT/.local/testenv}
mkdir -p "$D"
D=$(cd "$D" && pwd)

IRC_PORT=16668
# The example config (examples/openinfra-day.toml) talks to 127.0.0.1:6667:
# the same InspIRCd listens there too, for scripts/run-local.sh.
LOCAL_IRC_PORT=6667
# TLS clients (a self-signed certificate made at start; tests trust it).
TLS_IRC_PORT=16697
# A port whose clients get a realistic connect class (flood limits as on a
# public network): the bot connects here in the flood tests.
STRICT_IRC_PORT=16669
LINK_PORT=17000
IMAP_PORT=1143
LMTP_PORT=10024
SMTP_PORT=2525
# A cluster of the tests' own, beside any the machine runs on 5432.
PG_PORT=15432
# Dendrite, the Matrix homeserver: tests register users through the
# shared secret (Synapse's admin API, which Dendrite speaks); nobody can
# register otherwise, and there is no federation.
MATRIX_PORT=18008
MATRIX_SERVER_NAME=test.local
MATRIX_SECRET=hallway-test-secret
DENDRITE_VERSION=v0.13.8
HOST=127.0.0.1

PKGS=(gcc openssl inspircd anope dovecot-imapd dovecot-lmtpd dovecot-sieve opensmtpd postgresql python3-icalendar python3-vobject)
FULL_PKGS=(vdirsyncer khal chromium chromium-driver zbar-tools)
# npm installs axe-core; Debian's npm only where there is none (a Node.js
# from elsewhere brings its own, and Debian's conflicts with it).
command -v npm >/dev/null || FULL_PKGS+=(npm)

# How many file descriptors the servers get (InspIRCd needs one per client).
NOFILE=65536

log() { echo "testenv: $*" >&2; }
die() { echo "testenv: ERROR: $*" >&2; exit 1; }

now_ms() { date +%s%3N; }

# ---------------------------------------------------------------- packages

need_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root to run: $*"
	fi
}

missing_packages() {
	local p st
	for p in "$@"; do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[ "$st" = "install ok installed" ] || echo "$p"
	done
}

install_packages() {
	local want=("${PKGS[@]}")
	[ "${FULL:-0}" = 1 ] && want+=("${FULL_PKGS[@]}")
	local missing
	mapfile -t missing < <(missing_packages "${want[@]}")
	[ "${#missing[@]}" -eq 0 ] && { install_axe; return 0; }

	command -v apt-get >/dev/null || die "apt-get not found; install by hand: ${missing[*]}"
	log "installing with apt-get: ${missing[*]}"
	local t0 aptlog guard=0 updated=0
	t0=$(now_ms)
	aptlog="$D/apt.log"
	: >"$aptlog"

	# Debian starts services on install; a policy-rc.d that says "no" stops
	# that (our servers run as plain processes on other ports). Only ours is
	# removed again afterwards.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		need_root sh -c 'printf "#!/bin/sh\n# hallway testenv: no service starts during install\nexit 101\n" >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
		guard=1
	fi

	local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
	# Update the package lists first only when some package has no candidate.
	local p
	for p in "${missing[@]}"; do
		# (no "apt-cache | grep -q": with pipefail, SIGPIPE reads as failure)
		if [[ "$(apt-cache policy "$p" 2>/dev/null || true)" != *"Candidate: "[0-9]* ]]; then
			log "no apt candidate for $p: running apt-get update"
			need_root "${apt[@]}" update >>"$aptlog" 2>&1 || { tail -20 "$aptlog" >&2; die "apt-get update failed"; }
			updated=1
			break
		fi
	done
	local rc=0
	need_root "${apt[@]}" install --no-install-recommends "${missing[@]}" >>"$aptlog" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ] && [ "$updated" = 0 ]; then
		# Stale package lists give 404s: update once and retry.
		log "apt-get install failed (stale package lists?): running apt-get update and retrying"
		need_root "${apt[@]}" update >>"$aptlog" 2>&1 || true
		rc=0
		need_root "${apt[@]}" install --no-install-recommends "${missing[@]}" >>"$aptlog" 2>&1 || rc=$?
	fi
	[ "$guard" = 1 ] && need_root rm -f /usr/sbin/policy-rc.d
	if [ "$rc" -ne 0 ]; then
		tail -30 "$aptlog" >&2
		die "apt-get install ${missing[*]} failed (log: $aptlog)"
	fi
	log "installed in $(( $(now_ms) - t0 ))ms"
	install_axe
}

# axe-core (accessibility rules) for the web package's phone test, from
# the npm registry into .local/axe (with --full only).
install_axe() {
	[ "${FULL:-0}" = 1 ] || return 0
	[ -f "$ROOT/.local/axe/node_modules/axe-core/axe.min.js" ] && return 0
	command -v npm >/dev/null || die "npm not found: it installs axe-core"
	log "installing axe-core with npm into $ROOT/.local/axe"
	mkdir -p "$ROOT/.local/axe"
	npm install --no-audit --no-fund --prefix "$ROOT/.local/axe" axe-core@4 >>"$D/apt.log" 2>&1 || die "npm install axe-core failed (log: $D/apt.log)"
}

# ---------------------------------------------------------------- helpers

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# pid of a server we started, if it is still alive and still that program
server_pid() {
	local f="$D/$1/bg.pid" pid comm
	[ -f "$f" ] || return 1
	read -r pid comm <"$f" || return 1
	alive "$pid" || return 1
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] || return 1
	echo "$pid"
}

# alive PID: the process exists and is not a zombie
alive() {
	local st
	[ -n "$1" ] && st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [ "$st" != Z ] && [ "$st" != X ]
}

show_log() {
	local name=$1 f
	for f in "$D/$name"/*.log; do
		[ -s "$f" ] || continue
		echo "----- $f (last 25 lines)" >&2
		tail -25 "$f" >&2
	done
}

# wait_port NAME PORT [SECONDS]: wait until PORT accepts connections; fail
# early (with the log) if the server NAME died.
wait_port() {
	local name=$1 port=$2 secs=${3:-15} i
	for ((i = 0; i < secs * 20; i++)); do
		port_open "$port" && return 0
		if ! server_pid "$name" >/dev/null; then
			show_log "$name"
			die "$name exited before listening on $HOST:$port"
		fi
		sleep 0.05
	done
	show_log "$name"
	die "$name not listening on $HOST:$port after ${secs}s"
}

# env_dir_of_port PORT: the state directory of the hallway test environment
# whose server listens on PORT ("" if it is something else).
env_dir_of_port() {
	local pid arg dir
	pid=$(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)
	[ -n "$pid" ] || return 0
	while IFS= read -r -d '' arg; do
		case "$arg" in
		--config=*/insp/inspircd.conf) dir=${arg#--config=} dir=${dir%/insp/inspircd.conf} ;;
		*/dovecot/dovecot.conf) dir=${arg%/dovecot/dovecot.conf} ;;
		*/smtpd/smtpd.conf) dir=${arg%/smtpd/smtpd.conf} ;;
		*/matrix/dendrite.yaml) dir=${arg%/matrix/dendrite.yaml} ;;
		esac
	done <"/proc/$pid/cmdline"
	[ -n "${dir:-}" ] && [ -f "$dir/.hallway-testenv" ] && echo "$dir"
	return 0
}

# A test environment left running from another state directory (say a
# developer's checkout, while CI runs in a fresh clone) holds our ports: stop
# it if no test is using it.
take_over_ports() {
	local p other
	for p in "$IRC_PORT" "$LINK_PORT" "$IMAP_PORT" "$LMTP_PORT" "$SMTP_PORT" "$MATRIX_PORT"; do
		port_open "$p" || continue
		other=$(env_dir_of_port "$p")
		if [ -z "$other" ] || [ "$other" = "$D" ]; then continue; fi
		if ! flock -n "$other/irc.lock" true 2>/dev/null || ! flock -n "$other/users.lock" true 2>/dev/null; then
			die "port $p is used by the test environment in $other, and tests are using it"
		fi
		log "stopping the idle test environment in $other (it holds port $p)"
		HALLWAY_TESTENV_DIR=$other "$SELF" stop
	done
}

port_in_use_error() {
	local port=$1
	log "port $HOST:$port is already in use:"
	ss -ltnp "sport = :$port" >&2 2>/dev/null || true
	die "free port $port (another test environment? try: HALLWAY_TESTENV_DIR=... $0 stop)"
}

# launch NAME COMM CMD...: start CMD in the background in its own process
# group, with a raised fd limit, stdout/stderr into $D/NAME/out.log, pid into
# $D/NAME/bg.pid.
launch() {
	local name=$1 comm=$2
	shift 2
	(
		# Never hand a server our lock files, nor any other descriptor
		# the caller had open: a server holding a caller's flock (a
		# benchmark's, a test run's) would hold it until it exits.
		local fd
		for fd in /proc/self/fd/*; do
			fd=${fd##*/}
			if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
		done
		ulimit -Hn "$NOFILE" 2>/dev/null || true
		ulimit -n "$NOFILE" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
		# in its own directory, so nothing it writes (a core dump) lands in
		# the caller's, which may be the checkout
		cd "$D/$name"
		# own session and process group: stop kills the server with all
		# its helper processes, and a ^C at the terminal doesn't reach it
		exec setsid "$@"
	) </dev/null >>"$D/$name/out.log" 2>&1 &
	local pid=$! i
	echo "$pid $comm" >"$D/$name/bg.pid"
	# Until the exec chain (subshell, setsid, ...) reaches the server, its
	# name is wrong and server_pid would take it for dead.
	for ((i = 0; i < 500; i++)); do
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] && return 0
		alive "$pid" || return 0 # died: wait_port shows its log
		sleep 0.01
	done
	return 0
}

# group_alive PGID: some process of the group is still running
group_alive() {
	local p
	for p in $(pgrep -g "$1" 2>/dev/null || true); do
		alive "$p" && return 0
	done
	alive "$1"
}

# kill_server NAME [SIGNAL]: signal the server's process group, wait for all
# of it to exit (KILL after 3 s)
kill_server() {
	local name=$1 sig=${2:-TERM} pid i
	pid=$(server_pid "$name") || { rm -f "$D/$name/bg.pid"; return 0; }
	kill "-$sig" -- "-$pid" 2>/dev/null || kill "-$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < 150; i++)); do
		group_alive "$pid" || break
		sleep 0.02
	done
	if group_alive "$pid"; then
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
		sleep 0.1
	fi
	rm -f "$D/$name/bg.pid"
}

# Substitute in a config file and check that the result is there, so a
# changed upstream default fails loudly instead of silently.
patch_conf() {
	local file=$1 expr=$2 check=$3
	sed -i -e "$expr" "$file"
	grep -qE "$check" "$file" || die "patching $file: '$expr' did not produce /$check/"
}

# ---------------------------------------------------------------- InspIRCd

write_inspircd_conf() {
	mkdir -p "$D/insp"
	printf 'hallway test IRC server\n' >"$D/insp/motd.txt"
	# A self-signed certificate for 127.0.0.1, trusted by the TLS tests.
	if [ ! -s "$D/insp/cert.pem" ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=irc.test.local" \
			-addext "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:irc.test.local" \
			-keyout "$D/insp/key.pem" -out "$D/insp/cert.pem" >/dev/null 2>&1 || die "openssl could not make the test certificate"
	fi
	{
		cat <<EOF
<server name="irc.test.local" description="hallway test server" network="TestNet">
<admin name="admin" nick="admin" email="admin@test.local">
<bind address="$HOST" port="$IRC_PORT" type="clients">
<bind address="$HOST" port="$LOCAL_IRC_PORT" type="clients">
<sslprofile name="test" provider="gnutls" certfile="$D/insp/cert.pem" keyfile="$D/insp/key.pem" dhfile="" hash="sha256" requestclientcert="no">
<bind address="$HOST" port="$TLS_IRC_PORT" type="clients" sslprofile="test">
<bind address="$HOST" port="$LINK_PORT" type="servers">
<bind address="$HOST" port="$STRICT_IRC_PORT" type="clients">

# Clients on the strict port get limits like a public network's: about a
# command a second after a burst of 10, small queues, and "Excess Flood"
# instead of fake lag. First, so it matches before the class below.
<connect name="strict" allow="*" port="$STRICT_IRC_PORT" timeout="60" pingfreq="120"
         hardsendq="1M" softsendq="8192" recvq="8192"
         threshold="10" commandrate="1000" fakelag="no"
         localmax="10000" globalmax="10000" maxconnwarn="no" limit="10000"
         maxchans="20" resolvehostnames="no" useident="no">
# One class for every test client: no per-IP limits (every client comes from
# 127.0.0.1), no fake lag and no flood kills, no DNS or ident lookups.
<connect name="test" allow="*" timeout="60" pingfreq="120"
         hardsendq="8M" softsendq="1M" recvq="1M"
         threshold="1000000" commandrate="2000000000" fakelag="no"
         localmax="10000" globalmax="10000" maxconnwarn="no" limit="10000"
         maxchans="500" resolvehostnames="no" useident="no">
<performance softlimit="20000" somaxconn="4096" netbuffersize="10240"
             clonesonconnect="no" quietbursts="yes" timeskipwarn="0">
<dns server="127.0.0.1" timeout="1">
<channels users="500" opers="500">
<maxlist chan="*" limit="500">

<class name="All" commands="*" privs="*" usermodes="*" chanmodes="*">
<type name="NetAdmin" classes="All">
<oper name="admin" password="adminpw" host="*@127.0.0.1" type="NetAdmin">
<files motd="$D/insp/motd.txt">
<pid file="$D/insp/inspircd.pid">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="$D/insp/inspircd.log">

<ircv3 accountnotify="yes" awaynotify="yes" extendedjoin="yes">
<sasl target="services.test.local" requiressl="no">
<link name="services.test.local" ipaddr="$HOST" port="$LINK_PORT" allowmask="127.0.0.0/8"
      sendpass="linkpw" recvpass="linkpw">
<uline server="services.test.local" silent="yes">
EOF
		local m
		for m in cap ircv3 ircv3_accounttag ircv3_batch ircv3_capnotify ircv3_chghost ircv3_ctctags \
			ircv3_echomessage ircv3_invitenotify ircv3_labeledresponse ircv3_msgid ircv3_servertime \
			namesx uhnames chghost chgident hidechans servprotect services_account svshold sasl spanningtree ssl_gnutls \
			monitor; do
			echo "<module name=\"$m\">"
		done
	} >"$D/insp/inspircd.conf"
}

start_inspircd() {
	port_open "$IRC_PORT" && port_in_use_error "$IRC_PORT"
	# a fresh log per incarnation: "linked" is read from it
	[ -f "$D/insp/inspircd.log" ] && mv -f "$D/insp/inspircd.log" "$D/insp/inspircd.log.prev"
	launch insp inspircd inspircd --nofork --runasroot --config="$D/insp/inspircd.conf"
}

# irc_probe: connect as a client and check that InspIRCd offers the sasl
# capability, which it does only while the SASL target (Anope) is linked.
# CAP LS works before registration, so this takes milliseconds (registering
# a client takes InspIRCd up to a second).
irc_probe() {
	port_open "$IRC_PORT" || return 1
	{ exec 7<>"/dev/tcp/$HOST/$IRC_PORT"; } 2>/dev/null || return 1
	local line ok=1
	printf 'CAP LS 302\r\n' >&7
	while IFS= read -r -t 5 line <&7; do
		line=${line%$'\r'}
		case "$line" in
		*" CAP "*" LS "*)
			[[ " ${line#* LS } " =~ [\ :]sasl[=\ ] ]] && ok=0
			# "CAP * LS * :..." means more lines follow
			[[ "$line" == *" LS * "* ]] || break
			;;
		ERROR*) break ;;
		esac
	done
	printf 'QUIT\r\n' >&7 2>/dev/null || true
	exec 7>&-
	return "$ok"
}

anope_linked() { irc_probe; }

wait_linked() {
	local secs=${1:-15} i
	for ((i = 0; i < secs * 20; i++)); do
		anope_linked && return 0
		if ! server_pid anope >/dev/null; then
			show_log anope
			die "anope exited before linking"
		fi
		sleep 0.05
	done
	show_log anope
	show_log insp
	die "anope did not link to InspIRCd within ${secs}s"
}

# ---------------------------------------------------------------- Anope

write_anope_conf() {
	local c="$D/anope/conf"
	# Anope backs its database up at the first save of each day, and exits
	# when data/backups is missing (seen at midnight).
	mkdir -p "$c" "$D/anope/data/backups" "$D/anope/logs"
	cp /etc/anope/*.conf /etc/anope/services.motd "$c/"
	patch_conf "$c/services.conf" "s/^\(\s*\)port = 7000/\1port = $LINK_PORT/" "^\s*port = $LINK_PORT"
	patch_conf "$c/services.conf" 's/^\(\s*\)password = "mypassword"/\1password = "linkpw"/' '^\s*password = "linkpw"'
	patch_conf "$c/services.conf" '0,/^\(\s*\)name = "services.example.com"/s//\1name = "services.test.local"/' '^\s*name = "services.test.local"'
	patch_conf "$c/services.conf" "s|^\(\s*\)pid = .*|\1pid = \"$D/anope/anope.pid\"|" "^\s*pid = \"$D/anope/anope.pid\""
	patch_conf "$c/services.conf" 's|^\(\s*\)motd = .*|\1motd = "services.motd"|' '^\s*motd = "services.motd"'
	patch_conf "$c/services.conf" 's/^\(\s*\)usemail = yes/\1usemail = no/' '^\s*usemail = no'
	patch_conf "$c/services.conf" 's/^\(\s*\)casemap = "ascii"/\1casemap = "rfc1459"/' '^\s*casemap = "rfc1459"'
	# relink within a second or two after restart-irc: Anope checks its
	# timers every timeoutcheck, and only when its poll returns (which waits
	# up to readtimeout)
	patch_conf "$c/services.conf" 's/^\(\s*\)retrywait = .*/\1retrywait = 1s/' '^\s*retrywait = 1s'
	patch_conf "$c/services.conf" 's/^\(\s*\)readtimeout = .*/\1readtimeout = 1s/' '^\s*readtimeout = 1s'
	patch_conf "$c/services.conf" 's/^\(\s*\)timeoutcheck = .*/\1timeoutcheck = 1s/' '^\s*timeoutcheck = 1s'
	# tests try wrong passwords on purpose: no kill after 5 of them
	patch_conf "$c/services.conf" 's/^\(\s*\)badpasslimit = .*/\1#badpasslimit = 0/' '^\s*#badpasslimit = 0'
	patch_conf "$c/services.conf" 's/^\(\s*\)networkname = .*/\1networkname = "TestNet"/' '^\s*networkname = "TestNet"'
	# NickServ: email optional, no delay between registrations, no kill
	# protection for unidentified users of a registered nick
	patch_conf "$c/nickserv.conf" 's/^\(\s*\)forceemail = yes/\1forceemail = no/' '^\s*forceemail = no'
	patch_conf "$c/nickserv.conf" 's/^\(\s*\)regdelay = .*/\1#regdelay = 0s/' '^\s*#regdelay = 0s'
	patch_conf "$c/nickserv.conf" 's/^\(\s*\)defaults = "killprotect /\1defaults = "/' '^\s*defaults = "ns_secure'
	# registrations are not throttled per host or per email: these must stay off
	grep -qE '^\s*#\s*nickregdelay' "$c/nickserv.conf" || die "nickserv.conf: nickregdelay is set"
	patch_conf "$c/nickserv.conf" 's/^\(\s*\)maxemails = .*/\1maxemails = 0/' '^\s*maxemails = 0'
	# every test client comes from 127.0.0.1: no session limit (the default
	# of 3 kills the 4th client)
	patch_conf "$c/operserv.conf" 's/^\(\s*\)defaultsessionlimit = .*/\1defaultsessionlimit = 0/' '^\s*defaultsessionlimit = 0'
	# SASL (m_sasl) must be loaded
	grep -qE '^module \{ name = "m_sasl" \}' "$c/modules.conf" || echo 'module { name = "m_sasl" }' >>"$c/modules.conf"
}

start_anope() {
	# Anope sleeps 3 s after warning that it runs as root (uid 0 and gid 0):
	# a non-zero gid skips that; uid 0 still reads and writes everything.
	launch anope anope setpriv --regid=65534 --clear-groups anope --nofork --confdir="$D/anope/conf" --dbdir="$D/anope/data" \
		--logdir="$D/anope/logs" --modulesdir=/usr/lib/anope --localedir=/usr/share/anope/locale
}

# ---------------------------------------------------------------- Dovecot

# Dovecot refuses to deliver mail as root, so mailboxes belong to nobody
# (65534), and its auth process runs as user dovecot: both must reach the
# mail and the users file. Its sockets live in base_dir, whose path must stay
# short (unix socket paths < 108 bytes). If $D/dovecot fails either test
# (a long path, or a checkout under a private home), use a directory in /tmp.
dovecot_dirs() {
	local dv="$D/dovecot"
	mkdir -p "$dv"
	if [ "${#dv}" -gt 60 ] || ! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$dv" 2>/dev/null; then
		dv="/tmp/hallway-testenv-$(printf %s "$D" | md5sum | cut -c1-10)"
	fi
	DOVECOT_RUN="$dv/run"
	DOVECOT_MAIL="$dv/mail"
	DOVECOT_USERS="$dv/users"
}

write_dovecot_conf() {
	dovecot_dirs
	rm -rf "$DOVECOT_RUN" "$DOVECOT_MAIL"
	mkdir -p "$D/dovecot/state" "$DOVECOT_RUN" "$DOVECOT_MAIL"
	chmod 0755 "$(dirname "$DOVECOT_MAIL")"
	chmod 0777 "$DOVECOT_MAIL"
	cat >"$D/dovecot/dovecot.conf" <<EOF
protocols = imap lmtp
listen = $HOST
base_dir = $DOVECOT_RUN
state_dir = $D/dovecot/state
log_path = $D/dovecot/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
# Test mailboxes need no crash safety: no fsync per delivered mail.
mail_fsync = never
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DOVECOT_USERS
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$DOVECOT_MAIL/%u allow_all_users=yes
}
service imap-login {
  inet_listener imap {
    address = $HOST
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = $HOST
    port = $LMTP_PORT
  }
}
protocol imap {
  mail_max_userip_connections = 1000
}
# bot+BOX@test.local is delivered to the bot's mailbox BOX: a test reads
# mail sent to it over SMTP from a mailbox of its own.
recipient_delimiter = +
lmtp_save_to_detail_mailbox = yes
lda_mailbox_autocreate = yes
# Sieve (Pigeonhole) for the mail loop tests: a user's ~/.dovecot.sieve
# runs at delivery; a vacation answer goes out through OpenSMTPD.
protocol lmtp {
  mail_plugins = \$mail_plugins sieve
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
}
submission_host = $HOST:$SMTP_PORT
EOF
	# openinfra.test is the example config's domain (scripts/run-local.sh).
	printf '%s\n' 'bot@test.local:{PLAIN}botpass' 'alice@test.local:{PLAIN}alicepass' \
		'bob@test.local:{PLAIN}bobpass' 'list@test.local:{PLAIN}listpass' \
		'bot@openinfra.test:{PLAIN}botpass' 'jane@openinfra.test:{PLAIN}janepass' \
		'openinfra@openinfra.test:{PLAIN}listpass' 'dana@openinfra.test:{PLAIN}danapass' \
		'organizers@openinfra.test:{PLAIN}orgpass' >"$DOVECOT_USERS"
	chmod 0644 "$DOVECOT_USERS"
}

# ---------------------------------------------------------------- OpenSMTPD

# Mail goes to Dovecot by relaying over LMTP: OpenSMTPD's mta keeps LMTP
# sessions open, where its lmtp MDA forked sh and mail.lmtp for every
# delivery. The recipient address is the LMTP user, as the MDA's rcpt-to
# gave it (Dovecot's static userdb takes any: home DIR/<address>).
# The mta's limits are made for remote MXs; for the local Dovecot:
#  - no pause between connections (5 s after a connect to a route, 3 s
#    after a disconnect, 2 s per relay): with them, 16 mails/s;
#  - 20 sessions at once, not 5: the mta sends DATA's final dot in a
#    write of its own without TCP_NODELAY, so each mail waits for
#    Dovecot's delayed ACK (40 ms): one session carries about 20 mails/s;
#  - up to 5000 mails queued in the mta, not 50, before it holds mail
#    back in the queue, and all of it released once the mta is down to
#    2500: it released 10 at a time, and what was still held when mail
#    stopped coming waited for the relay to go idle (stalls of 5-15 s).
write_smtpd_conf() {
	mkdir -p "$D/smtpd"
	cat >"$D/smtpd/smtpd.conf" <<EOF
table domains { "test.local", "openinfra.test" }
listen on $HOST port $SMTP_PORT
action "to_dovecot" relay host lmtp://$HOST:$LMTP_PORT
mta limit for domain "$HOST" conn-delay-route 0 conn-delay-relay 0 reconn-delay-route 0 \
	max-conn-per-route 20 max-conn-per-host 20 task-hiwat 5000 task-lowat 2500 task-release 100000
match from any for domain <domains> action "to_dovecot"
EOF
}

start_smtpd() {
	# Its control socket (/var/run/smtpd.sock) and queue (/var/spool/smtpd)
	# are compiled in: only one smtpd per machine. Drop mail queued by an
	# earlier run so it can't turn up in fresh mailboxes.
	if [ -S /var/run/smtpd.sock ] && smtpctl show status >/dev/null 2>&1; then
		die "another smtpd is running (its control socket /var/run/smtpd.sock answers): stop it first (Debian: systemctl stop opensmtpd)"
	fi
	local q
	for q in queue incoming corrupt temporary purge offline; do
		if [ -d "/var/spool/smtpd/$q" ]; then
			need_root find "/var/spool/smtpd/$q" -mindepth 1 -delete 2>/dev/null || true
		fi
	done
	launch smtpd smtpd smtpd -d -f "$D/smtpd/smtpd.conf"
}

# ---------------------------------------------------------------- PostgreSQL

pg_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	[ -n "$d" ] && [ -x "$d/postgres" ] || die "PostgreSQL's binaries not found under /usr/lib/postgresql (apt-get install postgresql)"
	echo "$d"
}

# A throwaway cluster: PostgreSQL refuses to run as root, so it runs as
# Debian's postgres user; trust on loopback for the hallway superuser,
# which makes a database per test. No fsync: the data lives as long as
# the test run (the benchmarks say what they measured with).
start_pg() {
	local bin
	bin=$(pg_bindir)
	rm -rf "$D/pg"
	mkdir -p "$D/pg"
	chown postgres: "$D/pg"
	setpriv --reuid=postgres --regid=postgres --init-groups -- \
		"$bin/initdb" -D "$D/pg/data" -U hallway --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync \
		>"$D/pg/initdb.log" 2>&1 || { tail -20 "$D/pg/initdb.log" >&2; die "initdb failed"; }
	cat >>"$D/pg/data/postgresql.conf" <<EOF
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$D/pg'
max_connections = 400
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 64MB
log_min_messages = warning
EOF
	launch_pg "$bin"
}

launch_pg() {
	launch pg postgres setpriv --reuid=postgres --regid=postgres --init-groups -- "$1/postgres" -D "$D/pg/data"
}

pg_healthy() {
	server_pid pg >/dev/null && port_open "$PG_PORT"
}

# ---------------------------------------------------------------- Dendrite

# Built once per machine: a second start, or a fresh clone, reuses it.
TOOLS=${HALLWAY_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hallway-tools}
DENDRITE_BIN=$TOOLS/dendrite-$DENDRITE_VERSION/bin

dendrite_built() {
	[ -x "$DENDRITE_BIN/dendrite" ] && [ -x "$DENDRITE_BIN/generate-config" ] && [ -x "$DENDRITE_BIN/generate-keys" ]
}

# build_dendrite: go install Dendrite's commands into $DENDRITE_BIN, once
# (a lock keeps two state directories from building at the same time).
build_dendrite() {
	mkdir -p "$TOOLS"
	exec 7>>"$TOOLS/dendrite.lock"
	flock -w 900 7 || die "timed out waiting for another build of Dendrite ($TOOLS/dendrite.lock)"
	if dendrite_built; then
		exec 7>&-
		return 0
	fi
	command -v go >/dev/null || die "go not found: Dendrite is built with go install"
	command -v gcc >/dev/null || die "gcc not found: Dendrite's SQLite driver needs cgo (apt-get install gcc)"
	local t0 tmp
	t0=$(now_ms)
	tmp="$TOOLS/dendrite-$DENDRITE_VERSION.tmp"
	rm -rf "$tmp"
	log "building Dendrite $DENDRITE_VERSION with go install (about 2-3 min on 2 cores) into $DENDRITE_BIN"
	# Outside any module, so hallway's go.mod plays no part.
	(cd "$TOOLS" && GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=1 GOBIN="$tmp/bin" go install \
		"github.com/matrix-org/dendrite/cmd/dendrite@$DENDRITE_VERSION" \
		"github.com/matrix-org/dendrite/cmd/generate-config@$DENDRITE_VERSION" \
		"github.com/matrix-org/dendrite/cmd/generate-keys@$DENDRITE_VERSION") || die "go install of Dendrite $DENDRITE_VERSION failed"
	rm -rf "$TOOLS/dendrite-$DENDRITE_VERSION"
	mv "$tmp" "$TOOLS/dendrite-$DENDRITE_VERSION"
	exec 7>&-
	log "built Dendrite in $(( $(now_ms) - t0 ))ms"
}

write_dendrite_conf() {
	local m="$D/matrix" c="$D/matrix/dendrite.yaml"
	mkdir -p "$m/data"
	"$DENDRITE_BIN/generate-config" -dir "$m/data" -server "$MATRIX_SERVER_NAME" >"$c" || die "generate-config failed"
	[ -s "$m/matrix_key.pem" ] || "$DENDRITE_BIN/generate-keys" -private-key "$m/matrix_key.pem" >/dev/null || die "generate-keys failed"
	patch_conf "$c" "s|^\(\s*\)private_key: .*|\1private_key: $m/matrix_key.pem|" "^\s*private_key: $m/matrix_key.pem"
	patch_conf "$c" 's/^\(\s*\)disable_federation: false/\1disable_federation: true/' '^\s*disable_federation: true'
	patch_conf "$c" 's/^\(\s*\)registration_disabled: .*/\1registration_disabled: true/' '^\s*registration_disabled: true'
	patch_conf "$c" "s/^\(\s*\)registration_shared_secret: .*/\1registration_shared_secret: \"$MATRIX_SECRET\"/" "^\s*registration_shared_secret: \"$MATRIX_SECRET\""
	patch_conf "$c" 's/^\(\s*\)guests_disabled: .*/\1guests_disabled: true/' '^\s*guests_disabled: true'
	# Registering 200 storm users: the cheapest password hash bcrypt has.
	patch_conf "$c" 's/^\(\s*\)bcrypt_cost: .*/\1bcrypt_cost: 4/' '^\s*bcrypt_cost: 4'
	# Rate limits as Dendrite ships them (5 requests, a slot freed 500 ms
	# after each), keyed per user and device: normal accounts meet
	# M_LIMIT_EXCEEDED on joins, invites, leaves, profile changes, as on a
	# public server. Accounts registered as admin are never limited: a
	# benchmark's drivers register so. (Dendrite v0.13.8 limits no sends.)
	patch_conf "$c" '/^\s*rate_limiting:/,/^\s*cooloff_ms:/s/^\(\s*\)enabled: .*/\1enabled: true/' '^\s*enabled: true'
	patch_conf "$c" 's/^\(\s*\)threshold: .*/\1threshold: 5/' '^\s*threshold: 5'
	patch_conf "$c" 's/^\(\s*\)cooloff_ms: .*/\1cooloff_ms: 500/' '^\s*cooloff_ms: 500'
	patch_conf "$c" 's/^\(\s*\)level: info/\1level: warn/' '^\s*level: warn'
}

matrix_up() {
	server_pid matrix >/dev/null && port_open "$MATRIX_PORT" &&
		curl -fsS -m 2 -o /dev/null "http://$HOST:$MATRIX_PORT/_matrix/client/versions" 2>/dev/null
}

# matrix_building: the background build (then start) is still at work
matrix_building() { server_pid matrix-build >/dev/null; }

launch_dendrite() {
	port_open "$MATRIX_PORT" && port_in_use_error "$MATRIX_PORT"
	launch matrix dendrite "$DENDRITE_BIN/dendrite" -config "$D/matrix/dendrite.yaml" -http-bind-address "$HOST:$MATRIX_PORT"
	wait_port matrix "$MATRIX_PORT" 60
	local i
	for ((i = 0; i < 600; i++)); do
		matrix_up && return 0
		server_pid matrix >/dev/null || break
		sleep 0.05
	done
	show_log matrix
	die "Dendrite does not answer on http://$HOST:$MATRIX_PORT"
}

# start_matrix: a fresh homeserver (no accounts, no rooms).
start_matrix() {
	rm -rf "$D/matrix"
	mkdir -p "$D/matrix"
	write_dendrite_conf
	launch_dendrite
}

# start_matrix_bg: start Dendrite now if it is built; otherwise build it
# and start it in the background (wait-matrix waits for that), so the
# servers everything else needs are up at once.
start_matrix_bg() {
	if dendrite_built; then
		local t0
		t0=$(now_ms)
		start_matrix
		log "started Dendrite in $(( $(now_ms) - t0 ))ms on http://$HOST:$MATRIX_PORT"
		return 0
	fi
	matrix_building && return 0
	rm -rf "$D/matrix-build"
	mkdir -p "$D/matrix-build"
	launch matrix-build bash bash "$SELF" matrix-bootstrap
	log "building Dendrite in the background (log: $D/matrix-build/out.log); scripts/testenv.sh wait-matrix waits for it"
}

# matrix-bootstrap (run by start_matrix_bg): build, then start.
cmd_matrix_bootstrap() {
	build_dendrite
	control_lock
	matrix_up && return 0
	start_matrix
	log "Dendrite started on http://$HOST:$MATRIX_PORT"
}

cmd_wait_matrix() {
	local secs=${HALLWAY_TESTENV_MATRIX_WAIT:-900} i
	for ((i = 0; i < secs * 5; i++)); do
		matrix_up && return 0
		if ! matrix_building && ! server_pid matrix >/dev/null; then
			show_log matrix-build
			show_log matrix
			die "the Matrix homeserver is not running (scripts/testenv.sh start starts it)"
		fi
		sleep 0.2
	done
	show_log matrix-build
	die "the Matrix homeserver did not come up within ${secs}s"
}

cmd_restart_matrix() {
	server_pid matrix >/dev/null || die "Dendrite not running (run: $0 start)"
	kill_server matrix KILL
	launch_dendrite
	log "Dendrite restarted"
}

# ---------------------------------------------------------------- commands

SERVERS=(insp anope dovecot smtpd pg)

# healthy: print problems (one a line) and return 1 when anything is wrong
check_health() {
	local bad=0 name
	for name in "${SERVERS[@]}"; do
		server_pid "$name" >/dev/null || { echo "$name: not running"; bad=1; }
	done
	port_open "$IRC_PORT" || { echo "inspircd: $HOST:$IRC_PORT closed"; bad=1; }
	port_open "$IMAP_PORT" || { echo "dovecot: imap $HOST:$IMAP_PORT closed"; bad=1; }
	port_open "$LMTP_PORT" || { echo "dovecot: lmtp $HOST:$LMTP_PORT closed"; bad=1; }
	port_open "$SMTP_PORT" || { echo "smtpd: $HOST:$SMTP_PORT closed"; bad=1; }
	anope_linked || { echo "anope: not linked to InspIRCd"; bad=1; }
	pg_healthy || { echo "postgres: not running on $HOST:$PG_PORT"; bad=1; }
	# (while it is being built, the homeserver is on its way: not a fault)
	matrix_up || matrix_building || { echo "matrix: Dendrite not running on $HOST:$MATRIX_PORT"; bad=1; }
	return "$bad"
}

cmd_status() {
	local problems
	if problems=$(check_health); then
		echo "testenv: running in $D (irc $HOST:$IRC_PORT, imap $HOST:$IMAP_PORT, smtp $HOST:$SMTP_PORT, lmtp $HOST:$LMTP_PORT)"
		if matrix_up; then
			echo "testenv: matrix http://$HOST:$MATRIX_PORT (Dendrite $DENDRITE_VERSION, server name $MATRIX_SERVER_NAME)"
		else
			echo "testenv: matrix: Dendrite is being built and started (log: $D/matrix-build/out.log)"
		fi
		return 0
	fi
	echo "testenv: not healthy ($D):"
	printf '  %s\n' "$problems"
	return 1
}

stop_all() {
	local name p i
	# Anope gets KILL: its database is wiped on start anyway, and on TERM it
	# takes up to readtimeout (1 s) to notice
	kill_server anope KILL &
	for name in insp dovecot smtpd pg matrix-build matrix; do kill_server "$name" & done
	wait
	# helpers (dovecot's imap-login, smtpd's children) may hold a listening
	# socket a little longer than their master
	for p in "$IRC_PORT" "$LINK_PORT" "$IMAP_PORT" "$LMTP_PORT" "$SMTP_PORT" "$PG_PORT" "$MATRIX_PORT"; do
		for ((i = 0; i < 100; i++)); do
			port_open "$p" || break
			sleep 0.03
		done
	done
}

cmd_start() {
	install_packages
	[ "$(id -u)" -eq 0 ] || die "start needs root: Dovecot and OpenSMTPD switch to their own users, and OpenSMTPD's socket and queue are in /var"
	# A restart-irc in progress would look unhealthy: wait for it first.
	# (Lock order everywhere: irc.lock, then .control.lock.)
	exec 9>>"$D/irc.lock"
	flock -s -w 300 9 || die "timed out waiting for $D/irc.lock (an IRC restart that never ends?)"
	control_lock
	if check_health >/dev/null; then
		log "already running and healthy ($D)"
		return 0
	fi
	# Only PostgreSQL or the homeserver missing (an environment started
	# before they were added): start them alone, so tests running on the
	# others go on.
	local problems
	problems=$(check_health || true)
	if [ -n "$problems" ] && ! grep -qv '^\(pg\|postgres\|matrix\):' <<<"$problems"; then
		if grep -q '^\(pg\|postgres\):' <<<"$problems"; then
			port_open "$PG_PORT" && port_in_use_error "$PG_PORT"
			start_pg
			wait_port pg "$PG_PORT"
			log "started PostgreSQL on $HOST:$PG_PORT"
		fi
		if grep -q '^matrix:' <<<"$problems"; then
			kill_server matrix KILL
			start_matrix_bg
		fi
		return 0
	fi
	local t0
	t0=$(now_ms)
	stop_all
	take_over_ports
	local p
	for p in "$IRC_PORT" "$LINK_PORT" "$IMAP_PORT" "$LMTP_PORT" "$SMTP_PORT" "$PG_PORT" "$MATRIX_PORT"; do
		port_open "$p" && port_in_use_error "$p"
	done
	# clean state: fresh accounts and mailboxes every start
	rm -rf "$D/insp" "$D/anope" "$D/dovecot" "$D/smtpd"
	mkdir -p "$D/insp" "$D/anope" "$D/dovecot" "$D/smtpd"
	echo "hallway test environment (scripts/testenv.sh)" >"$D/.hallway-testenv"
	write_inspircd_conf
	write_anope_conf
	write_dovecot_conf
	write_smtpd_conf

	start_inspircd
	launch dovecot dovecot dovecot -F -c "$D/dovecot/dovecot.conf"
	start_smtpd
	start_pg
	wait_port insp "$LINK_PORT"
	start_anope
	wait_port insp "$IRC_PORT"
	wait_port dovecot "$IMAP_PORT"
	wait_port dovecot "$LMTP_PORT"
	wait_port smtpd "$SMTP_PORT"
	wait_port pg "$PG_PORT"
	wait_linked 20
	start_matrix_bg
	log "started in $(( $(now_ms) - t0 ))ms: irc $HOST:$IRC_PORT (tests; your IRC client: $HOST:$LOCAL_IRC_PORT) imap $HOST:$IMAP_PORT smtp $HOST:$SMTP_PORT lmtp $HOST:$LMTP_PORT postgres $HOST:$PG_PORT matrix http://$HOST:$MATRIX_PORT (state: $D)"
}

# control_lock: one start/stop/restart at a time
control_lock() {
	exec 8>>"$D/.control.lock"
	flock -w 120 8 || die "another testenv command holds $D/.control.lock"
}

cmd_stop() {
	control_lock
	stop_all
	log "stopped ($D)"
}

# The IRC lock: tests (bot/irctest.TestEnv) hold it shared while they use the
# IRC server; restarting takes it exclusively, so a restart never cuts into a
# test running in another package. HALLWAY_TESTENV_IRC_LOCKED=1 says the
# caller already holds it exclusively.
irc_lock() {
	[ "${HALLWAY_TESTENV_IRC_LOCKED:-0}" = 1 ] && return 0
	exec 9>>"$D/irc.lock"
	flock -x -w "${HALLWAY_TESTENV_LOCK_WAIT:-300}" 9 ||
		die "timed out waiting for $D/irc.lock: other test processes are still using the IRC server"
}

cmd_stop_irc() {
	server_pid anope >/dev/null || die "testenv not running (run: $0 start)"
	kill_server insp "${1:-TERM}"
	log "InspIRCd stopped"
}

cmd_start_irc() {
	server_pid anope >/dev/null || die "testenv not running (run: $0 start)"
	if server_pid insp >/dev/null; then
		log "InspIRCd already running"
		return 0
	fi
	local t0
	t0=$(now_ms)
	# the config as this script writes it now (the certificate is kept)
	write_inspircd_conf
	start_inspircd
	wait_port insp "$IRC_PORT"
	wait_linked 20
	log "InspIRCd started and Anope relinked in $(( $(now_ms) - t0 ))ms"
}

cmd_restart_irc() {
	local t0
	t0=$(now_ms)
	cmd_stop_irc KILL
	cmd_start_irc
	log "restart-irc took $(( $(now_ms) - t0 ))ms"
}

cmd_restart_pg() {
	server_pid pg >/dev/null || die "PostgreSQL not running (run: $0 start)"
	kill_server pg KILL
	launch_pg "$(pg_bindir)"
	wait_port pg "$PG_PORT"
	log "PostgreSQL restarted"
}

cmd_env() {
	printf 'export HALLWAY_TEST_IRC=%q\n' "$HOST:$IRC_PORT"
	printf 'export HALLWAY_TEST_IRC_TLS=%q\n' "$HOST:$TLS_IRC_PORT"
	printf 'export HALLWAY_TEST_IRC_STRICT=%q\n' "$HOST:$STRICT_IRC_PORT"
	printf 'export HALLWAY_TEST_IRC_CA=%q\n' "$D/insp/cert.pem"
	printf 'export HALLWAY_TEST_IMAP=%q\n' "$HOST:$IMAP_PORT"
	printf 'export HALLWAY_TEST_SMTP=%q\n' "$HOST:$SMTP_PORT"
	printf 'export HALLWAY_TEST_LMTP=%q\n' "$HOST:$LMTP_PORT"
	printf 'export HALLWAY_TEST_POSTGRES=%q\n' "postgres://hallway@$HOST:$PG_PORT/postgres?sslmode=disable"
	printf 'export HALLWAY_TEST_MATRIX_URL=%q\n' "http://$HOST:$MATRIX_PORT"
	printf 'export HALLWAY_TEST_MATRIX_SECRET=%q\n' "$MATRIX_SECRET"
	printf 'export HALLWAY_TEST_MATRIX_SERVER_NAME=%q\n' "$MATRIX_SERVER_NAME"
	printf 'export HALLWAY_TESTENV_DIR=%q\n' "$D"
	printf 'export HALLWAY_TESTENV_SCRIPT=%q\n' "$SELF"
}

cmd_logs() {
	local name
	for name in "${SERVERS[@]}" matrix-build matrix; do show_log "$name"; done
	if [ -d "$D/anope/logs" ]; then
		local f
		for f in "$D"/anope/logs/*; do
			[ -s "$f" ] && { echo "----- $f (last 25 lines)" >&2; tail -25 "$f" >&2; }
		done
	fi
}

usage() {
	sed -n '2,/^set -euo/p' "$SELF" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
	exit 2
}

FULL=0
args=()
for a in "$@"; do
	case "$a" in
	--full) FULL=1 ;;
	-h | --help) usage ;;
	*) args+=("$a") ;;
	esac
done
[ "${#args[@]}" -eq 1 ] || usage

case "${args[0]}" in
install) install_packages ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
restart-irc) irc_lock; control_lock; cmd_restart_irc ;;
stop-irc) irc_lock; control_lock; cmd_stop_irc ;;
start-irc) control_lock; cmd_start_irc ;;
restart-pg) control_lock; cmd_restart_pg ;;
restart-matrix) control_lock; cmd_restart_matrix ;;
wait-matrix) cmd_wait_matrix ;;
matrix-bootstrap) cmd_matrix_bootstrap ;;
env) cmd_env ;;
logs) cmd_logs ;;
*) usage ;;
esac
