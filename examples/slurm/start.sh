#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, from Debian's slurm-wlm and munge: munged, slurmctld
# and slurmd, each started by hand (no systemd), with everything they write under one folder
# ($MEDPERF_GIT_SLURM_DIR, default /tmp/medperf-git-slurm). Job completions go to a text file
# (jobcomp/filetxt), so `sacct -c` answers without slurmdbd; a default memory per CPU lets jobs
# share the node. An Epilog (a no-op here; a site's own epilog does as well) makes slurmd report
# each job's end with an epilog-complete message, upon which slurmctld starts pending jobs at once:
# without one, Slurm 22.05 starts them only on its once-a-second pass. Idempotent: a second run finds the daemons answering and changes nothing.
# $MEDPERF_GIT_SLURM_PORT (default 6817) is slurmctld's port, slurmd takes the next one, so two
# clusters (two test runs) can share a machine.
# Prints the SLURM_CONF to export; examples/slurm/stop.sh stops what this started.
set -euo pipefail

dir="${MEDPERF_GIT_SLURM_DIR:-/tmp/medperf-git-slurm}"
conf="$dir/slurm.conf"
export SLURM_CONF="$conf"

for bin in munged slurmctld slurmd sbatch; do
  command -v "$bin" >/dev/null 2>&1 || { echo "start.sh: $bin is missing; install Debian's slurm-wlm and munge (apt-get install -y slurm-wlm munge)" >&2; exit 1; }
done

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

if alive "$dir/munged.pid" && alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid" && sinfo -h >/dev/null 2>&1; then
  echo "SLURM_CONF=$conf"
  exit 0
fi

mkdir -p "$dir"/{munge,state,spool,log}
chmod 0700 "$dir/munge"
port="${MEDPERF_GIT_SLURM_PORT:-6817}"
user="$(id -un)"
node="$(hostname -s)"
cpus="$(nproc)"
# Leave a quarter of the memory (at least 1 GiB) to the machine itself.
total_mb="$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)"
real_mb=$(( total_mb - (total_mb / 4 > 1024 ? total_mb / 4 : 1024) ))
per_cpu_mb=$(( real_mb / cpus / 2 ))

# munge: our own key, socket and pid file, so a system munged (if any) is left alone.
if ! alive "$dir/munged.pid"; then
  [ -f "$dir/munge/munge.key" ] || { dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none; chmod 0400 "$dir/munge/munge.key"; }
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munge.seed"
fi

cat > "$conf" <<CONF
ClusterName=medperf-git
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=$user
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
Epilog=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$per_cpu_mb
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
KillWait=30
MinJobAge=60
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$real_mb State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

alive "$dir/slurmctld.pid" || slurmctld -f "$conf"
alive "$dir/slurmd.pid" || slurmd -f "$conf"

# Bounded wait for the node to take jobs.
for _ in $(seq 1 60); do
  state="$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)"
  case "$state" in idle|mixed|allocated) echo "SLURM_CONF=$conf"; exit 0 ;; esac
  sleep 0.5
done
echo "start.sh: the node did not come up (state: ${state:-none}); see $dir/log/" >&2
exit 1
