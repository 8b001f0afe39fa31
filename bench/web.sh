#!/usr/bin/env bash
# bench/web.sh — requests per second of /{slug}/schedule.ics for a
# FOSDEM-sized event (800 sessions, 35 rooms, 3 releases), 200 and 304
# answers, side by side with nginx serving the same bytes from a file in
# the same run (another loopback port, etag on), and with the floor of
# Go's net/http: a bare handler sending the same bytes and headers from
# memory (webserve -bare), which tells the HTTP server's cost from
# hallway's. Needs wrk and nginx (apt-get install -y wrk nginx-light).
#
#   bench/web.sh                       # 3 rounds of 10 s per case
#   ROUNDS=5 DURATION=20s CONNS=100 bench/web.sh
#
# Each round runs every server for 200 then for 304 in turn, so noise
# from the shared machine falls on both servers alike; the figures are the
# median of the rounds. Targets: 200s at >= 0.5x and 304s at >= 0.8x of
# nginx's rate.
#
# Exit status: 0 targets met, 1 a target missed, 2 could not run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-50}
THREADS=${THREADS:-1}
GO_PORT=${GO_PORT:-18080}
NGINX_PORT=${NGINX_PORT:-18081}
BARE_PORT=${BARE_PORT:-18082}
SLUG=fosdem-2027
URL_PATH=/$SLUG/schedule.ics

for tool in wrk nginx curl; do
	command -v "$tool" >/dev/null || { echo "bench/web.sh: $tool is missing (apt-get install -y wrk nginx-light curl)" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/webbench.XXXXXX")
chmod 755 "$work" # nginx's workers run as nobody
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

echo "machine: $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1); $(date -u '+%Y-%m-%d %H:%M:%S UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$(go version | cut -d' ' -f3-), $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"

go build -o "$work/webserve" ./bench/webserve
mkdir -p "$work/www/$SLUG"
"$work/webserve" -listen "127.0.0.1:$GO_PORT" -out "$work/www/$SLUG/schedule.ics" >"$work/webserve.out" 2>"$work/webserve.err" &
pids+=($!)
for _ in $(seq 1 600); do
	grep -q '^ready=1' "$work/webserve.out" 2>/dev/null && break
	kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/webserve.err" >&2; exit 2; }
	sleep 0.1
done
grep -q '^ready=1' "$work/webserve.out" || { echo "webserve did not get ready" >&2; exit 2; }
chmod 644 "$work/www/$SLUG/schedule.ics"
chmod -R a+rX "$work/www"
"$work/webserve" -bare -listen "127.0.0.1:$BARE_PORT" -in "$work/www/$SLUG/schedule.ics" >"$work/bare.out" 2>"$work/bare.err" &
pids+=($!)

cat >"$work/nginx.conf" <<EOF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
daemon off;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 10000000;
	etag on;
	types { text/calendar ics; }
	charset utf-8;
	charset_types text/calendar;
	client_body_temp_path $work/tmp-body;
	proxy_temp_path $work/tmp-proxy;
	fastcgi_temp_path $work/tmp-fastcgi;
	uwsgi_temp_path $work/tmp-uwsgi;
	scgi_temp_path $work/tmp-scgi;
	server {
		listen 127.0.0.1:$NGINX_PORT;
		root $work/www;
		add_header Cache-Control "public, max-age=300";
		add_header Vary Accept-Encoding;
	}
}
EOF
nginx -e "$work/nginx-error.log" -p "$work" -c "$work/nginx.conf" &
pids+=($!)
for _ in $(seq 1 100); do
	curl -sf -o /dev/null "http://127.0.0.1:$NGINX_PORT$URL_PATH" && break
	sleep 0.1
done

go_url="http://127.0.0.1:$GO_PORT$URL_PATH"
nginx_url="http://127.0.0.1:$NGINX_PORT$URL_PATH"
bare_url="http://127.0.0.1:$BARE_PORT$URL_PATH"
for _ in $(seq 1 100); do
	curl -sf -o /dev/null "$bare_url" && break
	sleep 0.1
done
curl -sf -o "$work/from-go" "$go_url"
curl -sf -o "$work/from-nginx" "$nginx_url"
curl -sf -o "$work/from-bare" "$bare_url"
cmp -s "$work/from-go" "$work/from-nginx" && cmp -s "$work/from-go" "$work/from-bare" || { echo "the servers serve different bytes" >&2; exit 2; }
etag_go=$(sed -n 's/^etag=//p' "$work/webserve.out")
etag_bare=$(sed -n 's/^etag=//p' "$work/bare.out")
etag_nginx=$(curl -sI "$nginx_url" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
for pair in "go $go_url $etag_go" "nginx $nginx_url $etag_nginx" "bare $bare_url $etag_bare"; do
	set -- $pair
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $3" "$2")
	[ "$code" = 304 ] || { echo "$1 answered $code to its own ETag $3" >&2; exit 2; }
done

echo
sed -n 's/^\(render_.*\|first_request\|bytes\|gzip_bytes\)=/  \1 = /p' "$work/webserve.out"
echo
echo "wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS rounds; requests/s per round"

# rps runs wrk and prints its requests per second; a run with socket
# errors or non-2xx/3xx answers fails the benchmark.
rps() {
	local out
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 10s "$@")
	if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
		echo "wrk reported errors for $*:" >&2
		echo "$out" >&2
		exit 2
	fi
	sed -n 's/^Requests\/sec:[[:space:]]*//p' <<<"$out"
}

declare -A runs ratios
for round in $(seq 1 "$ROUNDS"); do
	runs[go200]+=" $(rps "$go_url")"
	runs[nginx200]+=" $(rps "$nginx_url")"
	runs[bare200]+=" $(rps "$bare_url")"
	runs[go304]+=" $(rps -H "If-None-Match: $etag_go" "$go_url")"
	runs[nginx304]+=" $(rps -H "If-None-Match: $etag_nginx" "$nginx_url")"
	runs[bare304]+=" $(rps -H "If-None-Match: $etag_bare" "$bare_url")"
	for kind in 200 304; do
		ratios[$kind]+=" $(awk -v g="${runs[go$kind]##* }" -v n="${runs[nginx$kind]##* }" 'BEGIN {printf "%.3f", g/n}')"
	done
	echo "  round $round (load $(cut -d' ' -f1 /proc/loadavg)): 200: hallway ${runs[go200]##* }, nginx ${runs[nginx200]##* }, bare ${runs[bare200]##* }; 304: hallway ${runs[go304]##* }, nginx ${runs[nginx304]##* }, bare ${runs[bare304]##* }"
done

median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
rc=0
echo
# The verdict is the median of the per-round ratios: hallway and nginx
# run back to back in a round, under the same load, so their ratio is
# steadier than the ratio of two medians taken minutes apart (shown too).
printf '%-6s %10s %10s %10s %12s %12s %10s %8s\n' answer hallway nginx bare paired-ratio ratio-of-med bare/nginx target
for kind in 200 304; do
	g=$(median <<<"${runs[go$kind]}")
	n=$(median <<<"${runs[nginx$kind]}")
	b=$(median <<<"${runs[bare$kind]}")
	target=$([ "$kind" = 200 ] && echo 0.5 || echo 0.8)
	paired=$(median <<<"${ratios[$kind]}")
	ratio=$(awk -v g="$g" -v n="$n" 'BEGIN {printf "%.2f", g/n}')
	bratio=$(awk -v g="$b" -v n="$n" 'BEGIN {printf "%.2f", g/n}')
	met=$(awk -v r="$paired" -v t="$target" 'BEGIN {print (r >= t) ? "met" : "MISSED"}')
	[ "$met" = met ] || rc=1
	printf '%-6s %10.0f %10.0f %10.0f %12.2f %12s %10s %8s %s\n' "$kind" "$g" "$n" "$b" "$paired" "$ratio" "$bratio" "$target" "$met"
done
exit "$rc"
