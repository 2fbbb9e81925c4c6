#!/usr/bin/env bash
# A one-node Slurm cluster on localhost, for testing `experiments sweep --slurm`:
#   scripts/slurm_local.sh start   installs Debian's slurm-wlm and munge if missing (needs root),
#                                  writes /etc/slurm/slurm.conf and starts munged, slurmctld and
#                                  slurmd with the machine's cores; waits until the node is idle.
#   scripts/slurm_local.sh stop    stops the daemons it started.
# There is no systemd here: the daemons are started by hand, and their PIDs are recorded in
# /run/cg-slurm (slurmctld and slurmd remove their own pid files). Logs: /var/log/slurm/.
set -euo pipefail

state=/run/cg-slurm
conf=/etc/slurm/slurm.conf
marker="# written by cg scripts/slurm_local.sh"

stop() {
    for daemon in slurmd slurmctld munged; do
        if [ -f "$state/$daemon.pid" ]; then
            kill "$(cat "$state/$daemon.pid")" 2>/dev/null || true
            rm -f "$state/$daemon.pid"
        fi
    done
}

start() {
    if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
        [ "$(id -u)" -eq 0 ] || { echo "slurm_local.sh: slurm-wlm and munge are missing; run as root to install them" >&2; exit 2; }
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
    fi
    [ "$(id -u)" -eq 0 ] || { echo "slurm_local.sh: start the daemons as root" >&2; exit 2; }
    stop
    mkdir -p "$state" /etc/munge /run/munge /var/log/munge /var/lib/munge /var/log/slurm \
        /var/spool/slurmctld /var/spool/slurmd /etc/slurm
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge
    chmod 0400 /etc/munge/munge.key
    chmod 0755 /run/munge   # munged refuses a socket directory without o+x
    runuser -u munge -- /usr/sbin/munged
    pgrep -n -x munged > "$state/munged.pid"

    if [ -f "$conf" ] && ! grep -qF "$marker" "$conf"; then
        echo "slurm_local.sh: $conf exists and was not written by this script; not touching it" >&2
        exit 2
    fi
    cat > "$conf" <<CONF
$marker
ClusterName=cg
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SchedulerType=sched/backfill
# No 3-second waves between the tasks of an array.
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=localhost CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
    slurmctld
    pgrep -n -x slurmctld > "$state/slurmctld.pid"
    slurmd -N localhost
    pgrep -n -x slurmd > "$state/slurmd.pid"
    for _ in $(seq 1 60); do
        if sinfo -h -o '%T' 2>/dev/null | grep -qx 'idle'; then
            echo "slurm_local.sh: one-node cluster up ($(nproc) CPUs)"
            return 0
        fi
        sleep 0.5
    done
    echo "slurm_local.sh: the node did not come up; see /var/log/slurm/" >&2
    sinfo >&2 || true
    exit 2
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: scripts/slurm_local.sh start|stop" >&2; exit 2 ;;
esac
