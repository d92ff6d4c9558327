#!/usr/bin/env bash
# Stops what examples/slurm/start.sh started (slurmd, slurmctld, munged, by their pid files) and
# removes its folder. Jobs still running are ended with their daemons.
set -uo pipefail

dir="${MEDPERF_GIT_SLURM_DIR:-/tmp/medperf-git-slurm}"
[ -d "$dir" ] || exit 0
for daemon in slurmd slurmctld munged; do
  pidfile="$dir/$daemon.pid"
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || continue
  # Bounded wait for it to go.
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
done
rm -rf "$dir"
