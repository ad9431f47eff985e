# Helpers shared by scripts/stack.sh and its per-server parts (postgres.sh, redis.sh,
# rabbitmq.sh). Sourced, never run: it relies on stack.sh's shell options and variables
# (DIR, WAIT_SECS).
# shellcheck shell=bash

say() { echo "stack: $*" >&2; }
die() { echo "stack: error: $*" >&2; exit 1; }

# True if PID names a live process. kill -0 is not enough: PID 1 in some containers reaps
# slowly, and a zombie still answers kill -0 although it is dead for our purposes.
pid_alive() {
  local pid=$1 stat
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != [ZX] ]]
}

# PID from the first line of a pid file, or nothing.
read_pidfile() { if [[ -f $1 ]]; then head -n1 "$1" 2>/dev/null | tr -dc 0-9; fi; return 0; }

# The process's command line with NULs turned into spaces (DIR never contains spaces).
cmdline_of() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }

# Processes whose cwd is $1 and whose comm is $2. Servers that chdir into their data dir
# (the postmaster and its backends, redis-server) are found this way even without a pid file,
# and a recycled PID never matches.
pids_with_cwd() {
  local cwd=$1 comm=$2 p
  [[ -n $cwd ]] || return 0
  for p in /proc/[0-9]*; do
    if [[ $(readlink "$p/cwd" 2>/dev/null) == "$cwd" && $(cat "$p/comm" 2>/dev/null) == "$comm" ]]; then
      echo "${p#/proc/}"
    fi
  done
  return 0
}

# Wait up to $2 seconds for PID $1 to be gone; false if it is still alive then.
wait_pid_gone() {
  local pid=$1 secs=$2 i
  for ((i = 0; i < secs * 10; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  ! pid_alive "$pid"
}

# Stop one process by PID: TERM, wait up to $2 seconds, then KILL.
terminate_pid() {
  local pid=$1 grace=${2:-10}
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait_pid_gone "$pid" "$grace" && return 0
  say "pid $pid ignored TERM for ${grace}s, sending KILL"
  kill -KILL "$pid" 2>/dev/null || true
  wait_pid_gone "$pid" 5 || true
}

# PIDs of every process below PID $1 (children, grandchildren, ...), from one pass over
# /proc/*/stat (field 4 is the parent; comm, in parentheses, may contain spaces). A daemon that
# has detached (re-parented to init) is not among them.
descendant_pids() {
  local f s pid
  for f in /proc/[0-9]*/stat; do
    read -r s <"$f" 2>/dev/null || continue
    pid=${s%% *} s=${s##*) } # "STATE PPID ..."
    s=${s#* }
    echo "$pid ${s%% *}"
  done | awk -v root="$1" '
    { parent[$1] = $2 }
    END {
      for (p in parent) {
        for (q = parent[p]; q != "" && q > 1; q = parent[q]) if (q == root) { print p; break }
      }
    }'
}

# True if something accepts TCP connections on 127.0.0.1:PORT.
port_open() { timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# PIDs listening on TCP PORT (any address), straight from /proc: LISTEN sockets (state 0A)
# of /proc/net/tcp{,6} by inode, then the processes holding them (no need for ss/lsof).
pids_on_port() {
  local hex inode
  hex=$(printf '%04X' "$1")
  awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u |
    while read -r inode; do
      find /proc/[0-9]*/fd -maxdepth 1 -lname "socket:\[$inode\]" 2>/dev/null | cut -d/ -f3
    done | sort -u || true
}

# Before launching a server: its port must be free, otherwise the server would fail with an
# error buried in its log (or, worse, we would talk to someone else's server).
require_free_port() {
  if port_open "$1"; then
    die "$2: port $1 on 127.0.0.1 is already in use by a process that is not this stack's ($DIR)"
  fi
}

# Print the tail of a log file to stderr, for failed waits.
show_log() {
  local f
  for f in "$@"; do
    [[ -s $f ]] || continue
    echo "----- last lines of $f -----" >&2
    tail -n 30 "$f" >&2
  done
  echo "-----" >&2
}

# Run a command that daemonizes (pg_ctl, redis-server, rabbitmq-server -detached, epmd -daemon)
# with stdio on a log file and every other inherited descriptor closed. This matters: a server
# that inherits our lock (fd 9) would hold it forever, and one that inherits a caller's pipe
# makes `$(stack.sh start)` or `... 2>&1 | tee` wait for EOF until the server stops.
launch() {
  local log=$1
  shift
  (
    for fd in "/proc/$BASHPID/fd/"*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec $fd>&-"; fi
    done
    "$@"
  ) </dev/null >>"$log" 2>&1
}

# After a launch: wait until ANSWERING (a function) succeeds on 127.0.0.1:PORT, for at most
# WAIT_SECS. A deadline, not a count of tries: one probe may itself take seconds. ALIVE (a
# function) failing after the first 2 s (time for the server to write its pid file) means the
# server died, and there is no point waiting on.
#   wait_until_ready NAME PORT ALIVE ANSWERING LOG WHAT   (WHAT: "answer", "answer PONG")
wait_until_ready() {
  local name=$1 port=$2 alive=$3 answering=$4 log=$5 what=$6 t0=$SECONDS
  until "$answering"; do
    if ((SECONDS - t0 > 2)) && ! "$alive"; then
      show_log "$log"
      die "$name exited during startup (port $port)"
    fi
    if ((SECONDS - t0 >= WAIT_SECS)); then
      show_log "$log"
      die "$name did not $what on 127.0.0.1:$port within ${WAIT_SECS}s (STACK_WAIT_SECS)"
    fi
    sleep 0.2
  done
}
