#!/usr/bin/env bash
# Stops what examples/slurm/start.sh started (slurmd, slurmctld, munged, by their pid files) and
# removes its folder. Jobs still queued or running are cancelled first, through the controller, so
# each running job stops its container as a cancelled job does; a job's step daemon that outlives
# slurmd (a job that did not end in time) is ended with what it runs.
set -uo pipefail

dir="${MEDPERF_GIT_SLURM_DIR:-/tmp/medperf-git-slurm}"
[ -d "$dir" ] || exit 0
export SLURM_CONF="$dir/slurm.conf"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if alive "$dir/slurmctld.pid" && command -v squeue >/dev/null 2>&1; then
  jobs="$(squeue -h -o %A 2>/dev/null)"
  if [ -n "$jobs" ]; then
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null || true
    # Bounded wait for them to end (their containers go with them).
    for _ in $(seq 1 75); do [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break; sleep 0.2; done
  fi
fi
for daemon in slurmd slurmctld munged; do
  pidfile="$dir/$daemon.pid"
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || continue
  # Bounded wait for it to go.
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
done
# A step daemon of this cluster (it works in a folder under $dir) still there: end what it runs,
# then it.
descendants() { local child; for child in $(pgrep -P "$1" 2>/dev/null); do echo "$child"; descendants "$child"; done; }
for pid in $(pgrep -x slurmstepd 2>/dev/null); do
  case "$(readlink "/proc/$pid/cwd" 2>/dev/null)" in
    "$dir" | "$dir"/*)
      tree="$(descendants "$pid")"
      # shellcheck disable=SC2086
      [ -n "$tree" ] && kill -TERM $tree 2>/dev/null
      for _ in $(seq 1 25); do pgrep -P "$pid" >/dev/null 2>&1 || break; sleep 0.2; done
      # shellcheck disable=SC2086
      [ -n "$tree" ] && kill -KILL $tree 2>/dev/null
      kill -9 "$pid" 2>/dev/null
      ;;
  esac
done
rm -rf "$dir"
