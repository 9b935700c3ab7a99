#!/usr/bin/env bash
# CLI start-up beside Slurm's sbatch, in one hyperfine run: wall time of `coop submit`,
# `coop jobs` and `coop --help` through the ./coop launcher against a local scheduler over
# mutual TLS, of a Python process that submits once through the Python client
# (clients/python, with Debian's /usr/bin/python3), and of `sbatch --hold --wrap true` against a
# private single-host Slurm (the peer's own set-up, ../shared/peers/slurm/bench.sh). Then the
# Python client's submit in process: PY_SUBMITS calls from one Client, their median and p90.
#
# Usage (as root, from anywhere):  bash bench/cli-startup.sh [OTHER_CHECKOUT]
#   OTHER_CHECKOUT  a second coop checkout (e.g. `git archive main | tar -x -C /tmp/base`, built)
#                   whose ./coop is measured beside this one's, in hyperfine and then call by call
#                   alternating with this one's (the fairer comparison on a noisy machine)
# Env: RUNS [30] per command, WARMUP [3], SETTLE [30] submits (each checkout) before measuring,
#      PY_SUBMITS [200] in-process submits of the Python client,
#      SLURM_BENCH [../shared/peers/slurm/bench.sh],
#      OUT [.] folder for hyperfine's JSON and Markdown exports.
#
# Everything runs in a new network namespace that has only loopback (unshare -n), so neither
# coop's nor Slurm's traffic can leave 127.0.0.0/8. The scheduler, munged, slurmctld and slurmd
# are started here and stopped by the PIDs recorded when they started, never by name.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
other="${1:+$(cd "$1" && pwd)}"
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
SETTLE=${SETTLE:-30}
PY_SUBMITS=${PY_SUBMITS:-200}
SLURM_BENCH=${SLURM_BENCH:-$root/../shared/peers/slurm/bench.sh}
OUT=$(mkdir -p "${OUT:-.}" && cd "${OUT:-.}" && pwd)

[ "$(id -u)" = 0 ] || { echo "cli-startup: run as root (slurmd must be root)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "cli-startup: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
[ -f "$SLURM_BENCH" ] || { echo "cli-startup: no Slurm peer script at $SLURM_BENCH" >&2; exit 1; }
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import grpc, google.protobuf, cloudpickle' 2>/dev/null \
  || { echo "cli-startup: needs python3-grpcio, python3-protobuf, python3-cloudpickle" >&2; exit 1; }

if [ -z "${_BENCH_IN_NETNS:-}" ]; then
  # Build both checkouts first (outside the timing), then re-run inside a loopback-only netns.
  "$root/coop" --version >/dev/null
  [ -z "$other" ] || "$other/coop" --version >/dev/null
  "$root/clients/python/generate.sh"
  exec unshare -n env _BENCH_IN_NETNS=1 bash "$0" "$@"
fi

# The peer's set-up: everything of bench.sh before its measurements (install check, loopback
# addresses, munged, slurm.conf, start_cluster and stop_cluster, its EXIT trap for the PIDs it
# started). N only sizes MaxArraySize there.
N=${N:-2000}
# shellcheck disable=SC1090
source <(sed '/^# -* run --$/,$d' "$SLURM_BENCH")

sched_pid=""
stop_coop() {
  if [ -n "$sched_pid" ] && kill -0 "$sched_pid" 2>/dev/null; then
    kill -TERM "$sched_pid"
    wait "$sched_pid" 2>/dev/null || true
  fi
  sched_pid=""
}
trap 'rc=$?; stop_coop; (exit $rc); cleanup' EXIT

# coop: a cooperative in the same temp dir, its scheduler on a free port of 127.0.0.1.
"$root/coop" init --data "$T/coop" --founders alice:lab-a --accounts lab-a >"$T/log/coop-init.log"
"$root/coop" scheduler --data "$T/coop" --listen 127.0.0.1:0 --port-file "$T/coop-port" \
  >"$T/log/coop-scheduler.log" 2>&1 &
sched_pid=$!
for _ in $(seq 1 300); do
  [ -s "$T/coop-port" ] && break
  kill -0 "$sched_pid" 2>/dev/null || { cat "$T/log/coop-scheduler.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$T/coop-port" ] || { echo "cli-startup: scheduler wrote no port" >&2; exit 1; }
export COOP_SCHEDULER="127.0.0.1:$(cat "$T/coop-port")"
export COOP_IDENTITY="$T/coop/identities/alice.json"

start_cluster
log "coop scheduler $COOP_SCHEDULER (pid $sched_pid), slurmctld pid $CTLD_PID"

submit="submit --account lab-a --gpus 1 -- true"
# The Python client's submit, one process each (interpreter start, imports, TLS, one call), as a
# script calling it would; and PY_SUBMITS calls from one Client, timed one by one.
cat >"$T/py-submit.py" <<PY
import sys
sys.path.insert(0, "$root/clients/python")
from coop_client import Client
Client().submit("true", account="lab-a", gpus_per_node=1)
PY
cat >"$T/py-submits.py" <<PY
import statistics, sys, time
sys.path.insert(0, "$root/clients/python")
from coop_client import Client
n = int(sys.argv[1])
with Client() as client:
    for _ in range(20):
        client.submit("true", account="lab-a", gpus_per_node=1)
    ms = []
    for _ in range(n):
        start = time.perf_counter()
        client.submit("true", account="lab-a", gpus_per_node=1)
        ms.append((time.perf_counter() - start) * 1000)
ms.sort()
print(f"python client in process, {n} submits from one Client: median {statistics.median(ms):.2f} ms, "
      f"p90 {ms[int(0.9 * n) - 1]:.2f} ms, mean {statistics.fmean(ms):.2f} ms, min {ms[0]:.2f} ms")
PY
cmds=(-n "sbatch --hold" "sbatch ${SB_OPTS[*]} --hold --wrap true")
cmds+=(-n "coop submit" "$root/coop $submit")
cmds+=(-n "python submit" "/usr/bin/python3 $T/py-submit.py")
[ -z "$other" ] || cmds+=(-n "coop submit (other)" "$other/coop $submit")
cmds+=(-n "coop jobs" "$root/coop jobs --limit 20")
[ -z "$other" ] || cmds+=(-n "coop jobs (other)" "$other/coop jobs --limit 20")
cmds+=(-n "coop --help" "$root/coop --help")
[ -z "$other" ] || cmds+=(-n "coop --help (other)" "$other/coop --help")

# A fresh scheduler compiles its submit path over its first few dozen calls, on the same cores the
# measured calls need: hyperfine's first command would meet that, the others would not. Warm it
# (and the page cache for both checkouts) first.
for _ in $(seq 1 "$SETTLE"); do
  "$root/coop" $submit >/dev/null
  [ -z "$other" ] || "$other/coop" $submit >/dev/null
  /usr/bin/python3 "$T/py-submit.py"
done

uname -srm; nproc; uptime
java -version 2>&1 | head -1
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$OUT/cli-startup.json" \
  --export-markdown "$OUT/cli-startup.md" "${cmds[@]}"
/usr/bin/python3 "$T/py-submits.py" "$PY_SUBMITS" | tee "$OUT/python-in-process.txt"

# hyperfine runs one command's calls after the other's, so a machine that speeds up or slows down
# meanwhile (a shared host) skews the comparison. With another checkout, also alternate the two
# submits call by call (ABBA order) and report each one's median wall time.
if [ -n "$other" ]; then
  this_ms=(); other_ms=()
  # Microseconds since the epoch: EPOCHREALTIME (bash 5) without its decimal mark, whichever
  # the locale writes; 10# so that no leading zero reads as octal.
  now_us() { local t=${EPOCHREALTIME//[!0-9]/}; echo $((10#$t)); }
  timed() {
    local start end
    start=$(now_us)
    "$1/coop" $submit >/dev/null || { echo "cli-startup: $1/coop $submit failed" >&2; return 1; }
    end=$(now_us)
    echo $(( (end - start) / 1000 ))
  }
  for i in $(seq 1 "$RUNS"); do
    if (( i % 2 )); then
      a=$(timed "$root") && b=$(timed "$other") || exit 1
    else
      b=$(timed "$other") && a=$(timed "$root") || exit 1
    fi
    this_ms+=("$a"); other_ms+=("$b")
  done
  median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
  m_this=$(median "${this_ms[@]}"); m_other=$(median "${other_ms[@]}")
  echo "interleaved coop submit, $RUNS calls each: this ${m_this} ms, other ${m_other} ms (median wall time)," \
    "other/this $(awk -v a="$m_other" -v b="$m_this" 'BEGIN {printf "%.3f", a / b}')"
fi
