#!/usr/bin/env bash
# signal_exit_test.sh HEAPVIZ BUILD_BIN_DIR LIBHVALLOC: a recorded program that a signal ends
# (SIGPIPE under `| head`, Ctrl-C's SIGINT, kill's SIGTERM, SIGHUP, an alarm) keeps
# every event it made, and still dies of that signal. Before, only crashes (SIGSEGV, SIGABRT...)
# flushed the buffers: a short program's trace held 0 events. A signal that stops an event
# half-written leaves a trace that ends with the last whole one (a churn killed at random
# moments). And a process killed by SIGKILL, which nothing can catch, still has its modules:
# they are written out as soon as the first stack names them, so its stacks get function names.
set -u
hv=$(realpath "$1")
bin=$(realpath "$2")
lib=$(realpath "$3")
prog="$bin/hv_record_signal_exit"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mallocs() { "$hv" stats --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls"]["malloc"])'; }

for sig in PIPE INT TERM HUP ALRM; do
  num=$(kill -l "$sig")
  rm -f t.hvt*
  HEAPVIZ_OUT=t.hvt LD_PRELOAD=$lib "$prog" "$num" 750 >/dev/null 2>err.txt
  rc=$?
  [ "$rc" -eq $((128 + num)) ] || fail "SIG$sig: exit status $rc, want $((128 + num)) (the program must still die of it)"
  [ ! -s err.txt ] || fail "SIG$sig: stderr: $(cat err.txt)"
  m=$(mallocs t.hvt 2>/dev/null)
  c=$("$hv" check t.hvt 2>&1)
  if [ "${m:-0}" -ge 750 ] && [[ $c == *": ok:"* ]]; then
    ok "SIG$sig: $m mallocs recorded of 750, $c"
  else
    fail "SIG$sig: ${m:-no} mallocs recorded of 750; check: $c"
  fi
done

# _exit ends a process without exit handlers: the events in its buffers were lost (a 5-event
# trace). _exit and _Exit now flush them first; a vfork child's _exit (posix_spawn's) does not
# touch the parent's buffers, which it shares.
# A handler of the program's own that re-raises with the default action (sort's SIGPIPE under
# `| head`), and a kill of itself, even with SIGKILL: raise and kill flush first.
for how in _exit:5 vfork:6 handler:143 killself:137; do
  rm -f t.hvt*
  HEAPVIZ_OUT=t.hvt LD_PRELOAD=$lib "$prog" "${how%%:*}" 750 >/dev/null 2>err.txt
  rc=$?
  m=$(mallocs t.hvt 2>/dev/null)
  c=$("$hv" check t.hvt 2>&1)
  if [ "$rc" -eq "${how##*:}" ] && [ "${m:-0}" -ge 750 ] && [[ $c == *": ok:"* ]] && [ ! -s err.txt ]; then
    ok "${how%%:*}: exit status $rc, $m mallocs recorded of 750, $c"
  else
    fail "${how%%:*}: exit status $rc (want ${how##*:}), ${m:-no} mallocs recorded of 750; check: $c; $(cat err.txt)"
  fi
done

# A profiling signal is left to the program: a profiler refuses to start over a SIGPROF handler
# it did not install, so recording must not install one.
cat >prof.c <<'C'
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  free(malloc(32));
  struct sigaction sa;
  sigaction(SIGPROF, NULL, &sa);
  printf("%s\n", sa.sa_handler == SIG_DFL ? "default" : "taken");
  return 0;
}
C
if cc -O2 -o prof prof.c; then
  got=$(HEAPVIZ_OUT=p.hvt LD_PRELOAD=$lib ./prof)
  [ "$got" = default ] && ok "SIGPROF is left at its default while recording" ||
    fail "recording installed a SIGPROF handler ('$got'): a profiler would refuse to start"
else
  fail "cannot compile prof.c"
fi

# Killed in the middle of its events: the trace ends with a whole event every time.
cat >churn.c <<'C'
#include <stdlib.h>
int main(void) {
  static void* slot[1024];
  unsigned long long r = 88172645463325252ull;
  for (;;) {
    r ^= r << 13; r ^= r >> 7; r ^= r << 17;
    unsigned k = r % 1024;
    if (slot[k]) { free(slot[k]); slot[k] = 0; } else slot[k] = malloc(16 + (r >> 20) % 600);
  }
}
C
if cc -O2 -fno-builtin -o churn churn.c; then
  torn=0
  for i in $(seq 20); do
    rm -f t.hvt*
    timeout -s TERM "0.0$((i % 9 + 1))" env HEAPVIZ_OUT=t.hvt LD_PRELOAD="$lib" ./churn
    c=$("$hv" check t.hvt 2>&1) || { torn=$((torn + 1)); echo "  run $i: $c"; }
  done
  [ "$torn" -eq 0 ] && ok "a churn killed by SIGTERM at 20 moments: every trace checks" ||
    fail "a churn killed by SIGTERM: $torn of 20 traces end inside an event"
else
  fail "cannot compile churn.c"
fi

# SIGKILL: the modules are in the file before the process dies.
rm -f t.hvt*
HEAPVIZ_OUT=t.hvt LD_PRELOAD=$lib "$prog" wait 100 >ready.txt 2>err.txt &
pid=$!
for _ in $(seq 100); do grep -q ready ready.txt 2>/dev/null && break; sleep 0.05; done
kill -9 "$pid"
wait "$pid" 2>/dev/null
mods=$("$hv" dump t.hvt 2>/dev/null | grep -c ' module ')
[ "$mods" -ge 1 ] && ok "killed by SIGKILL: $mods module events reached the file" ||
  fail "killed by SIGKILL: no module event in the file: its stacks can have no names"

[ "$fails" -eq 0 ] && echo "all signal exit checks passed"
exit $((fails > 0))
