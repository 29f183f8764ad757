#!/usr/bin/env bash
# Start or stop a single-node Slurm cluster on this machine (Debian's slurm-wlm
# and munge), for bnlab's end-to-end launcher tests and for trying
# `deno task study --launcher slurm` without a real cluster. Needs root.
#
#   scripts/slurm-local.sh up      install (apt) if missing, write configs, start munged,
#                                  slurmctld and slurmd; waits until the node is idle
#   scripts/slurm-local.sh down    stop the daemons this script started
#   scripts/slurm-local.sh status  sinfo
#
# Everything it writes lives under $BNLAB_SLURM_DIR (default /tmp/bnlab-slurm),
# except the munge key (/etc/munge/munge.key, created only when missing) and
# /etc/slurm/slurm.conf (written only when missing or written by this script).
set -euo pipefail

DIR="${BNLAB_SLURM_DIR:-/tmp/bnlab-slurm}"
CONF=/etc/slurm/slurm.conf
MARK="# written by bnlab scripts/slurm-local.sh"

die() { echo "slurm-local: $*" >&2; exit 1; }

install_packages() {
  local need=()
  command -v slurmctld >/dev/null 2>&1 || need+=(slurm-wlm)
  command -v munged >/dev/null 2>&1 || need+=(munge)
  [ "${#need[@]}" -eq 0 ] && return
  echo "slurm-local: installing ${need[*]} with apt"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
}

write_config() {
  local host cpus mem
  host="$(hostname)"
  cpus="$(nproc)"
  # RealMemory below what the machine has (MiB), leaving room for the OS.
  mem="$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.8}' /proc/meminfo)"
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log" /etc/slurm
  if [ -f "$CONF" ] && ! grep -q "$MARK" "$CONF"; then
    die "$CONF exists and was not written by this script; refusing to replace it."
  fi
  cat >"$CONF" <<CONF
$MARK
ClusterName=bnlab
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
MaxArraySize=10001
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.log
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=600
KillWait=10
Waittime=0
# Without a default, a job that names no --mem would claim the whole node's memory under
# CR_Core_Memory, and array tasks would run one at a time.
DefMemPerCPU=$((mem / cpus))
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
}

start_munge() {
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
  fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  if ! pgrep -x munged >/dev/null; then
    if command -v runuser >/dev/null 2>&1; then
      runuser -u munge -- /usr/sbin/munged
    else
      su -s /bin/sh munge -c /usr/sbin/munged
    fi
  fi
  munge -n | unmunge >/dev/null || die "munge does not work (see /var/log/munge/munged.log)"
}

up() {
  [ "$(id -u)" = 0 ] || die "must run as root (it starts system daemons)"
  install_packages
  write_config
  start_munge
  pgrep -x slurmctld >/dev/null || slurmctld -i
  pgrep -x slurmd >/dev/null || slurmd
  local host
  host="$(hostname)"
  for _ in $(seq 1 60); do
    local state
    state="$(sinfo -h -n "$host" -o %T 2>/dev/null || true)"
    case "$state" in
      idle | mixed | allocated) echo "slurm-local: node $host is $state"; return 0 ;;
      down* | drain*) scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 1
  done
  die "the node did not become idle within 60 s; see $DIR/log/"
}

down() {
  for daemon in slurmd slurmctld; do
    if [ -f "$DIR/$daemon.pid" ]; then
      kill "$(cat "$DIR/$daemon.pid")" 2>/dev/null || true
    fi
    pkill -x "$daemon" 2>/dev/null || true
  done
  echo "slurm-local: stopped slurmctld and slurmd (munged keeps running)"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) sinfo ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
