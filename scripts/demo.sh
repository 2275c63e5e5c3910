#!/bin/bash
# SPDX-License-Identifier: MIT
# mp2's main job (make demo): the pgbench experiment, short version, in
# the two-node guest.  Options go to experiments/run.sh (see its --help).
set -euo pipefail
cd "$(dirname "$0")/.."
exec experiments/run.sh "$@"
