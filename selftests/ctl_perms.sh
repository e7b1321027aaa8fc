#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Who may do what.  Without CAP_NET_ADMIN (uid 65534, no capabilities):
# natctl info, network show and stats work and show what root sees;
# network add/set/delete, -f FILE, -f -, session show, session flush,
# lookup, stats reset and monitor fail with exit 1 and a permission
# message.  In a user namespace that does not own the network namespace
# (unshare -U -r: "root" there), it is the same; in one that owns its
# network namespace (unshare -U -r -n), the commands work.  Nothing
# changes: networks, sessions and counters are as before.

. "$(dirname "$0")/lib.sh"

require_root
require_cmd socat jq ss setpriv unshare
require_module

tmp=
cleanup() {
	bg_kill "${BG_PIDS[@]}"
	wait 2>/dev/null
	[ -n "$tmp" ] && rm -rf "$tmp"
	knat_cleanup
}
trap cleanup EXIT

tmp=$(mktemp -d /tmp/knat-ctl-perms.XXXXXX) || exit $ksft_fail
chmod 755 "$tmp"
nc=$(readlink -f "$(command -v "$NATCTL")") || skip_test "no natctl binary"

setup_nat_topology || skip_test "cannot build the topology"
# timeout udp 3600: the session outlives the test, however slow.
natctl -n "$ROUTER" network add net0 internal 198.18.0.0/24 \
	external dev ext0 timeout udp 3600 || { fail "network add"; exit $ret; }

# A live session, so that there are sessions to show and counters.
# (lib.sh's python UDP server, one process that answers every datagram:
# the child of socat UDP-RECVFROM,fork gives up on its shell's answer
# 0.5 s after the datagram, which a loaded emulated CPU may need.)
udp_server "$SERVER" 203.0.113.2 9000 peer /dev/null
busywait 30000 sh -c "ip netns exec $SERVER ss -lnu | grep -q '203.0.113.2:9000 '" ||
	{ fail "the server did not start"; exit $ret; }
ext=$(ip netns exec "$CLIENT1" socat -t 0.1 -T 10 \
	UDP:203.0.113.2:9000,sourceport=40000 \
	SYSTEM:'echo x; read -r seen; echo "$seen" >&2' 2>&1)
check_match "a flow through net0" '^203\.0\.113\.1:[0-9]+$' "$ext"

snapshot() {	# FILE
	{
		natctl -n "$ROUTER" -j network show &&
		natctl -n "$ROUTER" network show &&
		natctl -n "$ROUTER" -j session show | jq -c 'map(del(.expires))' &&
		natctl -n "$ROUTER" -j stats
	} >"$1"
}
snapshot "$tmp/before" || { fail "cannot read the state"; exit $ret; }

# Each process is slow on an emulated CPU: the commands of one identity
# run from one script, run.sh DIR, which runs natctl with the arguments of
# each line of DIR/cmds and leaves its exit status, standard output and
# standard error in DIR/N.rc, N.out and N.err (N: the line).
cat >"$tmp/run.sh" <<RUN
#!/bin/bash
n=0
while read -r -a args; do
	n=\$((n + 1))
	if [ "\${args[*]}" = "-f -" ]; then
		printf 'network delete net0\n' | "$nc" -f -
	elif [ "\${args[*]}" = monitor ]; then
		timeout 10 "$nc" monitor </dev/null
	else
		"$nc" "\${args[@]}" </dev/null
	fi >"\$1/\$n.out" 2>"\$1/\$n.err"
	echo \$? >"\$1/\$n.rc"
done <"\$1/cmds"
RUN
chmod 755 "$tmp/run.sh"
printf 'network delete net0\n' >"$tmp/delete.conf"
chmod 644 "$tmp/delete.conf"

# The commands: those anyone may run, then those that need CAP_NET_ADMIN
# (monitor last).
allowed=(
	"info"
	"-j info"
	"network show"
	"-j network show"
	"network show net0"
	"-j stats"
	"stats network net0"
)
needs_admin=(
	"network add x internal 198.18.1.0/24 external 203.0.113.9"
	"network set net0 timeout udp 30"
	"network delete net0"
	"-f $tmp/delete.conf"
	"-f -"
	"session show"
	"-j session show"
	"session show network net0 proto udp"
	"session flush"
	"session flush proto tcp"
	"lookup udp 198.18.0.2:40000 203.0.113.2:9000"
	"stats reset"
	"stats reset network net0"
	"monitor"
)

# What root sees with the commands anyone may run.
root_out=()
for c in "${allowed[@]}"; do
	# shellcheck disable=SC2086
	root_out+=("$(natctl -n "$ROUTER" $c)")
done

# run_as WHO WRAPPER...: the commands, run by WRAPPER; those anyone may
# run print what root sees, the others fail with exit 1, a permission
# message and nothing on standard output.
run_as() {
	local who=$1 dir=$tmp/${1// /-} n=0 i rc out err
	shift
	mkdir -m 777 "$dir" || { fail "$who: mkdir"; return; }
	printf '%s\n' "${allowed[@]}" "${needs_admin[@]}" >"$dir/cmds"
	"$@" "$tmp/run.sh" "$dir"
	for i in "${!allowed[@]}"; do
		n=$((n + 1))
		rc=$(<"$dir/$n.rc") out=$(<"$dir/$n.out")
		check_eq "$who: ${allowed[i]}: exit 0" "0" "$rc"
		check_eq "$who: ${allowed[i]}: as root sees it" "${root_out[i]}" "$out"
	done
	for i in "${!needs_admin[@]}"; do
		n=$((n + 1))
		rc=$(<"$dir/$n.rc") out=$(<"$dir/$n.out") err=$(<"$dir/$n.err")
		if [ "$rc" != 1 ]; then
			fail "$who: ${needs_admin[i]}: denied (exit $rc, expected 1: $err)"
		elif [ -n "$out" ]; then
			fail "$who: ${needs_admin[i]}: denied (printed: $out)"
		elif ! [[ $err =~ ^natctl:\ .*Operation\ not\ permitted ]]; then
			fail "$who: ${needs_admin[i]}: denied (no permission message: $err)"
		else
			ok "$who: ${needs_admin[i]}: denied"
		fi
	done
	check_match "$who: monitor says what it needs" 'CAP_NET_ADMIN' "$err"
}

# As uid 65534 without capabilities, in the router's namespace.
unpriv() {
	ip netns exec "$ROUTER" setpriv --reuid=65534 --regid=65534 \
		--clear-groups --inh-caps=-all --bounding-set=-all "$@"
}

check_eq "unprivileged: the commands run as uid 65534" "65534" \
	"$(unpriv id -u)"
run_as unprivileged unpriv

# As "root" of a user namespace made by uid 65534: it does not own the
# router's network namespace (the initial user namespace does).
if [ "$(unpriv unshare -U -r id -u 2>/dev/null)" != "0" ]; then
	log "SKIP: no unprivileged user namespaces (unshare -U -r)"
else
	run_as "user namespace" unpriv unshare -U -r

	# In a network namespace of its own, it is the administrator.
	check_eq "user namespace owning its network namespace: add, show" \
		'["x"]' "$(unpriv unshare -U -r -n sh -c "'$nc' network add x \
			internal 198.18.1.0/24 external 203.0.113.9 &&
			'$nc' session show && '$nc' stats reset &&
			'$nc' -j network show" | jq -c 'map(.name)')"
fi

snapshot "$tmp/after" || fail "cannot read the state"
check "nothing changed: networks, sessions, counters" \
	cmp "$tmp/before" "$tmp/after"
check_eq "the session is still there" "$ext" \
	"$(natctl -n "$ROUTER" -j session show | jq -r '.[0].external')"

exit $ret
