# SPDX-License-Identifier: MIT
# What the experiments that run in the QEMU guest share: their options'
# checks, and the host side that installs the extension and runs the
# experiment again inside a guest.  Source it with TOP set to the top of
# the mp2 tree and EXP set to the experiment's name (for messages).

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

# exp_in_guest NODES MIB_PER_NODE TIMEOUT OUT PG_CONFIG -- COMMAND...: on
# the host, install the extension into PG_CONFIG's PostgreSQL, build the
# patched kernel (cached), and run COMMAND in a guest of NODES nodes that
# shares OUT read-write, for at most TIMEOUT seconds.
exp_in_guest() {
	local nodes=$1 mib=$2 timeout=$3 out=$4 pg_config=$5
	shift 6
	exp_install "$pg_config"
	"$TOP/kernel/build-kernel.sh" >/dev/null
	mkdir -p "$out"
	echo "$EXP: booting a $nodes-node guest ($mib MiB per node)"
	(cd "$TOP" && kernel/run-guest.sh --nodes "$nodes" --mem-per-node "$mib" \
		--share "$out" --timeout "$timeout" --env "PG_CONFIG=$pg_config" -- "$@")
}

# exp_options SPEC ARGS...: set a variable per option of ARGS.  SPEC
# lists the options as NAME:KIND (KIND number, text or flag), space
# separated; --NAME sets the variable NAME (dashes as underscores): a
# positive whole number, any text, or 1.  -h and --help call usage and
# exit; anything else is an error (exit 2).
exp_options() {
	local spec=" $1 " opt name kind
	shift
	while [ $# -gt 0 ]; do
		opt=$1
		case "$opt" in
		-h | --help) usage; exit 0 ;;
		--*) name=${opt#--} ;;
		*) name="" ;;
		esac
		kind=""
		[ -n "$name" ] && [[ $spec == *" $name:"* ]] && kind=${spec#* "$name":} && kind=${kind%% *}
		case "$kind" in
		number) exp_number "$opt" "${2:-}" ;;
		text) [ -n "${2:-}" ] || { echo "$EXP: $opt needs a value (try --help)" >&2; exit 2; } ;;
		flag) printf -v "${name//-/_}" 1; shift; continue ;;
		*) echo "$EXP: unknown option '$opt' (try --help)" >&2; exit 2 ;;
		esac
		printf -v "${name//-/_}" '%s' "$2"
		shift 2
	done
}
