# SPDX-License-Identifier: MIT
# What the experiments that run in the QEMU guest share: their options'
# checks and help; the host side that installs the extension, boots the
# guest and runs the experiment (or its guest side) there, that of the
# pgbench experiments as a whole; and mp2bench's run in the guest.
# Source it with TOP set to the top of the mp2 tree and EXP set to the
# experiment's name (for messages).

# exp_number OPTION VALUE: VALUE is a positive whole number, or exit 2.
exp_number() {
	[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || {
		echo "$EXP: $1 wants a positive whole number, got '${2:-}' (try --help)" >&2
		exit 2
	}
}

# exp_out DIR: DIR made absolute against the top of the tree (the guest
# runs in another directory).
exp_out() {
	case "$1" in
	/*) echo "$1" ;;
	*) echo "$TOP/$1" ;;
	esac
}

# exp_pg_config VERSION: the pg_config of PostgreSQL VERSION: Debian's for
# 15, else the one scripts/build-pg.sh builds (cached).
exp_pg_config() {
	if [ "$1" = 15 ]; then
		echo /usr/lib/postgresql/15/bin/pg_config
	else
		"$TOP/scripts/build-pg.sh" "$1" | tail -n 1
	fi
}

# exp_install PG_CONFIG: the tree's extension (and libmp2) installed into
# that PostgreSQL.
exp_install() {
	echo "$EXP: installing the extension into $("$1" --pkglibdir)"
	make -s -C "$TOP" install PG_CONFIG="$1" >/dev/null
}

# exp_boot NODES MIB_PER_NODE TIMEOUT OUT [--host-log FILE [--host-note
# LINE]] [RUN_GUEST_OPTION VALUE...] -- COMMAND...: on the host, build the
# patched kernel (cached) and run COMMAND in a guest of NODES nodes that
# shares OUT read-write, for at most TIMEOUT seconds.  With --host-log,
# experiments/host-load.sh records in FILE how busy the host was
# meanwhile (--host-note: one more line at its top).  Returns COMMAND's
# status.
exp_boot() {
	local nodes=$1 mib=$2 timeout=$3 out=$4 log="" note="" boot_opts=() run rc=0
	shift 4
	while [ "$1" != -- ]; do
		case "$1" in
		--host-log) log=$2 ;;
		--host-note) note=$2 ;;
		*) boot_opts+=("$1" "$2") ;;
		esac
		shift 2
	done
	"$TOP/kernel/build-kernel.sh" >/dev/null || return
	mkdir -p "$out"
	run=(kernel/run-guest.sh --nodes "$nodes" --mem-per-node "$mib"
		--share "$out" --timeout "$timeout" "${boot_opts[@]}" "$@")
	[ -z "$log" ] || run=(experiments/host-load.sh "$log" ${note:+--note "$note"} -- "${run[@]}")
	echo "$EXP: booting a $nodes-node guest ($mib MiB per node)"
	(cd "$TOP" && "${run[@]}") || rc=$?
	[ "$rc" = 0 ] || echo "$EXP: the guest run failed ($rc)" >&2
	return "$rc"
}

# exp_in_guest NODES MIB_PER_NODE TIMEOUT OUT PG_CONFIG [exp_boot's
# options] -- COMMAND...: exp_boot, after installing the extension into
# PG_CONFIG's PostgreSQL, with PG_CONFIG set in the guest.
exp_in_guest() {
	exp_install "$5" || return
	exp_boot "$1" "$2" "$3" "$4" --env "PG_CONFIG=$5" "${@:6}"
}

# exp_measured NODES: machine.txt's first lines: the day, the guest of
# NODES nodes, the host's cores and CPU.
exp_measured() {
	echo "Measured $(date -u +%Y-%m-%d) in the $1-node QEMU guest (TCG, no KVM) on"
	echo "a $(nproc)-core host ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
}

# exp_pgbench OUT GUEST REPORT ARGS...: the host side of the pgbench
# experiments (run.sh, rate.sh): experiments/GUEST OUT ARGS in the
# two-node guest into a new OUT/runs.csv (the host's load in host.txt),
# when, where and by what command in machine.txt, then the medians and
# tables of experiments/REPORT OUT.
exp_pgbench() {
	local out=$1 guest=$2 report=$3
	shift 3
	rm -f "$out"/runs.csv
	exp_in_guest 2 1024 5000 "$out" "${PG_CONFIG:-pg_config}" --host-log "$out/host.txt" -- \
		experiments/"$guest" "$out" "$@"
	{
		exp_measured 2
		echo "by: experiments/${0##*/} $*"
	} >"$out/machine.txt"
	echo
	cat "$out/machine.txt"
	"$TOP/experiments/$report" "$out"
	echo "$EXP: CSV, table and plots are in $out/"
}

# exp_mp2bench REPORT ARGS...: in the guest, build/mp2bench ARGS, its
# report (stderr: the medians and ratios) kept in REPORT and shown when it
# is done.  Returns mp2bench's status.
exp_mp2bench() {
	local report=$1 rc=0
	shift
	"$TOP/build/mp2bench" "$@" 2>"$report" || rc=$?
	cat "$report"
	return "$rc"
}

# exp_usage: the comment at the top of the experiment's script, its help
# (found in experiments/: the script may have changed directory).
exp_usage() {
	awk 'NR >= 3 && !/^#/ { exit } NR >= 3' "$TOP/experiments/${0##*/}" | sed 's/^# \{0,1\}//'
}

# exp_options SPEC ARGS...: set a variable per option of ARGS.  SPEC
# lists the options as NAME:KIND (KIND number, whole, text or flag),
# separated by white space; --NAME sets the variable NAME (dashes as
# underscores): a positive whole number, a whole number (0 too), any
# text, or 1.  -h and --help print usage (the script's own, else
# exp_usage) and exit; anything else is an error (exit 2).
exp_options() {
	local spec=" ${1//[$'\t\n']/ } " opt name kind
	shift
	while [ $# -gt 0 ]; do
		opt=$1
		case "$opt" in
		-h | --help)
			if declare -F usage >/dev/null; then usage; else exp_usage; fi
			exit 0
			;;
		--*) name=${opt#--} ;;
		*) name="" ;;
		esac
		kind=""
		[ -n "$name" ] && [[ $spec == *" $name:"* ]] && kind=${spec#* "$name":} && kind=${kind%% *}
		case "$kind" in
		number) exp_number "$opt" "${2:-}" ;;
		whole)
			[[ ${2:-} =~ ^[0-9]+$ ]] || {
				echo "$EXP: $opt wants a whole number, got '${2:-}' (try --help)" >&2
				exit 2
			}
			;;
		text) [ -n "${2:-}" ] || { echo "$EXP: $opt needs a value (try --help)" >&2; exit 2; } ;;
		flag) printf -v "${name//-/_}" 1; shift; continue ;;
		*) echo "$EXP: unknown option '$opt' (try --help)" >&2; exit 2 ;;
		esac
		printf -v "${name//-/_}" '%s' "$2"
		shift 2
	done
}
