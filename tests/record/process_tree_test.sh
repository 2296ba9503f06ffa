#!/usr/bin/env bash
# process_tree_test.sh HEAPVIZ: recordings of process trees (issue 19). A launcher chain that
# execs straight into the program (a pyenv shim: a bash script that execs bash that execs
# python3) leaves one trace, the program's; a shell that forks real children yields theirs;
# record's line per trace names pid, parent and command line; the CPython note; each recording
# flag sets its variable and does what it says, for record and run; record -o is checked first.
set -u
hv=$1
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
py=/usr/bin/python3
[ -x "$py" ] || { echo "FAIL: $py is needed"; exit 1; }
count() { ls -d "$1" "$1".[0-9]* 2>/dev/null | wc -l; } # the traces beside PATH

# 1. The shim chain: bash script -> exec bash -c -> exec python3. One trace, python's.
cat > shim <<EOF2
#!/bin/bash
exec bash -c 'exec $py -c "import json; print(len(json.dumps(list(range(1000)))))"'
EOF2
chmod +x shim
out=$("$hv" record -o shim.hvt -- ./shim 2>err.txt)
[ "$out" = 4890 ] && ok "shim: python's output passed through" || fail "shim output '$out'"
n=$(count shim.hvt)
[ "$n" -eq 1 ] && ok "shim: 1 trace (was 3: bash, bash, python3)" || fail "shim: $n traces: $(ls shim.hvt*)"
"$hv" check shim.hvt >/dev/null 2>&1 && ok "shim: the trace checks" || fail "shim: check fails"
"$hv" stats shim.hvt | grep -q "^command: *$py -c import json" && ok "shim: stats names python3" ||
  fail "shim: stats command: $("$hv" stats shim.hvt | grep command)"
grep -Eq "^heapviz record: shim.hvt: [0-9]+ events, peak heap [0-9.]+ [KM]iB, 1 thread, pid [0-9]+, parent [0-9]+: $py -c" err.txt &&
  ok "shim: record's line: $(grep 'shim.hvt:' err.txt)" || fail "shim: record's line: $(cat err.txt)"
grep -q "pymalloc serves objects of 512 bytes or less outside malloc.*--python-malloc" err.txt &&
  ok "shim: the CPython note, behind a shim" || fail "shim: no CPython note: $(cat err.txt)"
[ "$(grep -c pymalloc err.txt)" -eq 1 ] && ok "the note is one line" || fail "the note: $(grep -c pymalloc err.txt) lines"

# 1b. --keep-exec: every image's trace, the earlier ones aside as PATH.<pid>.<n>.
"$hv" record --keep-exec -o keep.hvt -- ./shim >/dev/null 2>err.txt
n=$(count keep.hvt)
[ "$n" -eq 3 ] && ls keep.hvt.*.1 keep.hvt.*.2 >/dev/null 2>&1 && ok "--keep-exec: 3 traces" || fail "--keep-exec: $n: $(ls keep.hvt*)"

# 1c. exec from inside libc (env's execvp, which the library's execve never sees): still one trace.
"$hv" record -o env.hvt -- /usr/bin/env sh -c "exec $py -c 'print(1)'" >/dev/null 2>err.txt
n=$(count env.hvt)
[ "$n" -eq 1 ] && ok "env -> sh -> python3: 1 trace" || fail "env chain: $n traces: $(ls env.hvt*)"

# 1d. A launcher with helpers, as pyenv's shim: bash runs $(...) helpers (forked bash that
# execs cat), then execs python3, which runs a child of its own. Beside PATH: python3 and its
# child; the helpers' traces in PATH.launcher/.
cat > pyenvlike <<EOF2
#!/bin/bash
v=\$(/bin/cat /etc/hostname)
w=\$(/bin/cat /etc/hostname)
exec $py -c 'import subprocess; subprocess.run(["/bin/true"])'
EOF2
chmod +x pyenvlike
"$hv" record -o pl.hvt -- ./pyenvlike >/dev/null 2>err.txt
n=$(count pl.hvt)
h=$(ls pl.hvt.launcher 2>/dev/null | wc -l)
[ "$n" -eq 2 ] && [ "$h" -eq 2 ] && ok "launcher with helpers: 2 traces (python3, its child), 2 helpers in pl.hvt.launcher/" ||
  fail "launcher with helpers: $n traces ($(ls pl.hvt*)), $h helpers"
grep -q "^heapviz record: 2 traces of processes that a launcher started before it exec'd the program moved to pl.hvt.launcher/" err.txt &&
  ok "record says where the helpers went" || fail "no helpers line: $(cat err.txt)"
"$hv" record -o pl.hvt -- /bin/true 2>/dev/null
[ ! -e pl.hvt.launcher ] && ok "a new recording removes the old helpers' folder" || fail "pl.hvt.launcher stays: $(ls pl.hvt.launcher)"

# 1e. A program that runs a worker and then execs is a "launcher" by the rule above, but a worker
# with a heap error is not filed away: its trace stays beside PATH, and its line says so.
cat > forkbug <<EOF2
#!/bin/bash
$py -c 'import ctypes; l = ctypes.CDLL(None); l.malloc.restype = ctypes.c_void_p; l.free.argtypes = [ctypes.c_void_p]; p = l.malloc(24); l.free(p); l.free(p)' 2>/dev/null
exec /bin/true
EOF2
chmod +x forkbug
"$hv" record -o fb.hvt -- ./forkbug >/dev/null 2>err.txt
bug=$(sed -n 's/^heapviz record: *\(fb.hvt\.[0-9]*\): .*; 1 heap error (heapviz errors fb.hvt\.[0-9]*)$/\1/p' err.txt)
[ -n "$bug" ] && [ -f "$bug" ] && "$hv" errors "$bug" 2>/dev/null | grep -q "double free" &&
  ok "a worker's heap error: its trace stays beside fb.hvt and its line says '1 heap error'" ||
  fail "the worker's heap error: $(cat err.txt); launcher dir: $(ls fb.hvt.launcher 2>/dev/null)"

# 2. A shell that forks real children: its trace, and each child's, parent = the shell.
cat > forker <<EOF2
#!/bin/bash
$py -c 'print(1)'
$py -c 'print(2)'
echo done
EOF2
chmod +x forker
"$hv" record -o fork.hvt -- ./forker >/dev/null 2>err.txt
n=$(count fork.hvt)
[ "$n" -eq 3 ] && [ ! -e fork.hvt.launcher ] && ok "forking shell: 3 traces (bash, python3 x2)" ||
  fail "forking shell: $n traces: $(ls -d fork.hvt*)"
root_pid=$(sed -n 's/^heapviz record: fork.hvt: .*, pid \([0-9]*\), parent.*/\1/p' err.txt)
kids=$(grep -c "^heapviz record:   fork.hvt\.[0-9]*: .*, parent $root_pid: $py -c print" err.txt)
[ -n "$root_pid" ] && [ "$kids" -eq 2 ] && ok "the children's lines are indented under the shell (pid $root_pid)" ||
  fail "children lines ($root_pid, $kids): $(cat err.txt)"
for f in fork.hvt fork.hvt.*; do "$hv" check "$f" >/dev/null 2>&1 || fail "check $f"; done

# 2b. --no-children: the shell's trace only.
"$hv" record --no-children -o nokids.hvt -- ./forker >/dev/null 2>err.txt
n=$(count nokids.hvt)
[ "$n" -eq 1 ] && ok "--no-children: 1 trace" || fail "--no-children: $n traces: $(ls nokids.hvt*)"

# 3. CPython: --python-malloc sets PYTHONMALLOC=malloc, and the note is not printed.
out=$("$hv" record --python-malloc -o pm.hvt -- $py -c 'import os; print(os.environ.get("PYTHONMALLOC"))' 2>err.txt)
[ "$out" = malloc ] && ok "--python-malloc: the program sees PYTHONMALLOC=malloc" || fail "--python-malloc: '$out'"
grep -q pymalloc err.txt && fail "--python-malloc: the note printed anyway" || ok "--python-malloc: no note"
PYTHONMALLOC=malloc "$hv" record -o pm2.hvt -- $py -c 'pass' >/dev/null 2>err.txt
grep -q pymalloc err.txt && fail "PYTHONMALLOC set: the note printed anyway" || ok "PYTHONMALLOC set: no note"
ln -s "$(readlink -f $py)" interp # CPython under another name: its executable module says so
"$hv" record -o in.hvt -- ./interp -c 'pass' 2>err.txt
grep -q pymalloc err.txt && ok "CPython named ./interp: the note, from its modules" || fail "./interp: no note: $(cat err.txt)"
"$hv" record -o sh.hvt -- sh -c 'ls / >/dev/null' 2>err.txt
grep -q pymalloc err.txt && fail "no python: the note printed" || ok "no python: no note"

# 4. Each flag sets its variable (record and run).
vars='echo "$HEAPVIZ_VERIFY/$HEAPVIZ_COMPRESS/$HEAPVIZ_PRECISE_TIME/$HEAPVIZ_NO_CHILDREN"'
out=$("$hv" record --verify 7 --compress --precise-time --no-children -o v.hvt -- sh -c "$vars" 2>/dev/null)
[ "$out" = "7/3/1/1" ] && ok "record flags -> variables: $out" || fail "record flags -> '$out'"
out=$("$hv" record --compress 9 -o v.hvt -- sh -c "$vars" 2>/dev/null)
[ "$out" = "/9//" ] && ok "record --compress 9 -> $out" || fail "record --compress 9 -> '$out'"
out=$("$hv" record --compress=5 -o v.hvt -- sh -c "$vars" 2>/dev/null)
[ "$out" = "/5//" ] && ok "record --compress=5 -> $out" || fail "record --compress=5 -> '$out'"
for bad in "--verify 0" "--verify x" "--compress 20" "--compress=0"; do
  # shellcheck disable=SC2086
  "$hv" record $bad -o v.hvt -- true 2>err.txt
  rc=$?
  [ "$rc" -eq 2 ] && grep -Eq "^heapviz record: --(verify|compress) '.*': a (number|zstd)" err.txt &&
    ok "record $bad: status 2, $(head -1 err.txt)" || fail "record $bad: $rc $(cat err.txt)"
done
help=$("$hv" record --help)
for w in --verify --compress --precise-time --no-children --keep-exec --python-malloc HEAPVIZ_VERIFY HEAPVIZ_COMPRESS \
  HEAPVIZ_PRECISE_TIME=1 HEAPVIZ_NO_CHILDREN=1 PYTHONMALLOC=malloc; do
  [[ $help == *"$w"* ]] || fail "record --help does not say $w"
done
ok "record --help lists the flags and their variables"
out=$(timeout 60 "$hv" run --out run.hvt --verify 5 --compress 4 --precise-time --no-children -- sh -c "$vars" 2>err.txt)
[ "$out" = "5/4/1/1" ] && ok "run flags -> variables: $out" || fail "run flags -> '$out': $(cat err.txt)"
"$hv" run --help | grep -q -- "--no-children" && ok "run --help lists the flags" || fail "run --help"
# run --no-children: the program's child does not listen (heapviz ps, from inside, lists no row of it).
# The child writes 'up' in main(), after the library's constructor has opened its socket (if any).
kid="$py -c 'import time; open(\"up\", \"w\").close(); time.sleep(2)'"
for nc in "" --no-children; do
  rm -f up
  # shellcheck disable=SC2086
  rows=$(timeout 60 "$hv" run --out nc.hvt $nc -- sh -c "$kid & while [ ! -e up ]; do sleep 0.05; done; '$hv' ps; wait" \
    2>/dev/null | grep -c "^ *[0-9]* .* $py -c import time")
  want=1
  [ -n "$nc" ] && want=0
  [ "$rows" -eq "$want" ] && ok "run ${nc:-without --no-children}: the child listens: $rows" ||
    fail "run ${nc:-without --no-children}: $rows listening children, want $want"
done

# 5. ... and does what it says. --verify: snapshots verified; --compress: a smaller file that
# checks; --precise-time: a clock reading per call (distinct times), not one in 8.
prog='x = [str(i) * 3 for i in range(30000)]'
PYTHONMALLOC=malloc "$hv" record --verify 2000 --compress -o c.hvt -- $py -c "$prog" 2>/dev/null
PYTHONMALLOC=malloc "$hv" record -o u.hvt -- $py -c "$prog" 2>/dev/null
snaps=$("$hv" check c.hvt | sed -n 's/.* \([0-9]*\) snapshots* verified.*/\1/p')
[ "${snaps:-0}" -ge 10 ] && ok "--verify 2000: $snaps snapshots verified" || fail "--verify: ${snaps:-0} snapshots"
cs=$(stat -c %s c.hvt)
us=$(stat -c %s u.hvt)
[ "$cs" -lt "$us" ] && ok "--compress: $us -> $cs bytes" || fail "--compress: $us -> $cs bytes"
distinct() { "$hv" dump "$1" | grep ' malloc ' | sed 's/.* t=\([^ ]*\) .*/\1/' | sort -u | wc -l; }
calls() { "$hv" dump "$1" | grep -c ' malloc '; }
PYTHONMALLOC=malloc "$hv" record --precise-time --no-stacks -o pt.hvt -- $py -c "$prog" 2>/dev/null
dp=$(distinct pt.hvt) cp=$(calls pt.hvt) du=$(distinct u.hvt) cu=$(calls u.hvt)
[ $((dp * 2)) -gt "$cp" ] && [ $((du * 3)) -lt "$cu" ] &&
  ok "--precise-time: $dp distinct times for $cp mallocs (without: $du for $cu)" ||
  fail "--precise-time: $dp / $cp (without: $du / $cu)"
timeout 60 "$hv" run --out rc.hvt --compress --verify 1 -- $py -c "$prog" >/dev/null 2>&1
timeout 60 "$hv" run --out ru.hvt -- $py -c "$prog" >/dev/null 2>&1
"$hv" check rc.hvt >/dev/null 2>&1 && ok "run --compress --verify 1: the capture checks" || fail "run capture: $("$hv" check rc.hvt 2>&1)"
cs=$(stat -c %s rc.hvt)
us=$(stat -c %s ru.hvt)
[ "$cs" -lt "$us" ] && ok "run --compress: $us -> $cs bytes" || fail "run --compress: $us -> $cs bytes"

# 6. record -o checks that it can write before the program starts.
touch afile
for o in missing/x.hvt afile/x.hvt /proc/x.hvt .; do
  "$hv" record -o "$o" -- touch ran 2>err.txt
  rc=$?
  [ "$rc" -eq 2 ] && [ ! -e ran ] && grep -q "^heapviz record: cannot write the trace to" err.txt &&
    ok "-o $o: status 2, not run: $(cat err.txt)" || fail "-o $o: rc $rc, $(ls ran 2>&1), $(cat err.txt)"
  rm -f ran
done
grep -q "static" err.txt && fail "the message blames static linking"
timeout 60 "$hv" run --out missing/r.hvt -- touch ran 2>err.txt
rc=$?
[ "$rc" -eq 2 ] && [ ! -e ran ] && grep -q "^heapviz run: cannot write the capture to missing/r.hvt: no such directory" err.txt &&
  ok "run --out missing/r.hvt: status 2, not run" || fail "run --out missing/: rc $rc, $(cat err.txt)"
rm -f ran
mkdir ro && chmod 555 ro
if [ "$(id -u)" != 0 ]; then # root may write anywhere
  "$hv" record -o ro/x.hvt -- true 2>err.txt
  [ $? -eq 2 ] && grep -q "no permission" err.txt && ok "-o into a read-only directory: $(cat err.txt)" || fail "-o ro: $(cat err.txt)"
fi

[ "$fails" -eq 0 ] && echo "all process tree checks passed"
exit $((fails > 0))
