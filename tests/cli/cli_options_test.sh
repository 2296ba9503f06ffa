#!/usr/bin/env bash
# cli_options_test.sh HEAPVIZ DEMO.hvs: the command line explains itself (issue 19, item 1):
# --version; every command's --help with its usage and examples; "did you mean" for unknown
# commands and options; a missing value named with what it takes; --at N|end|peak|mark:LABEL
# in stats, sites, chunks and dump --from-mark; stats, dump and check on a scenario; `chunks`
# agreeing with `sim` on every chunk; the bash completion script completing commands, options
# and option values.
set -u
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"
hv=$1
demo=$2

expect 0 "^heapviz [0-9]+\.[0-9]+\.[0-9]+ " -- "$hv" --version
cmds=$("$hv" --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 {print $1}')
[ "$(echo "$cmds" | wc -w)" -ge 18 ] && ok "--help lists $(echo "$cmds" | wc -w) commands" || fail "--help lists: $cmds"
for c in $cmds; do
  out=$("$hv" "$c" --help 2>&1)
  st=$?
  if [ $st -eq 0 ] && echo "$out" | grep -q "^usage: heapviz $c" && echo "$out" | grep -q "^examples:" &&
    echo "$out" | grep -q -- "-h, --help"; then
    ok "$c --help"
  else
    fail "$c --help (status $st): $(echo "$out" | head -3)"
  fi
  "$hv" help "$c" | cmp -s - <(echo "$out") && ok "help $c = $c --help" || fail "help $c differs from $c --help"
done
# Did you mean: commands and options, and the usage line and --help pointer with it.
expect 2 "unknown command 'stst' \(did you mean 'stats'\?\)" -- "$hv" stst
expect 2 "unknown command 'recrod' \(did you mean 'record'\?\)" -- "$hv" recrod
expect 2 "heapviz stats: unknown option '--jsn' \(did you mean '--json'\?\)" -- "$hv" stats --jsn "$demo"
expect 2 "Try 'heapviz stats --help'" -- "$hv" stats --jsn "$demo"
expect 2 "unknown option '--no-stack' \(did you mean '--no-stacks'\?\)" -- "$hv" record --no-stack true
expect 2 "unknown option '--form' \(did you mean '--from'\?\)" -- "$hv" dump --form 3 "$demo"
expect 2 "unknown option '--zzzzzz'$" -- "$hv" sites --zzzzzz "$demo"
# A missing value names the option and what it takes.
expect 2 "heapviz stats: --at needs a value: N\|end\|peak\|mark:LABEL" -- "$hv" stats "$demo" --at
expect 2 "heapviz sites: --by needs a value: live\|allocs\|bytes\|temporary" -- "$hv" sites --by --json "$demo"
expect 2 "heapviz record: --stack-depth needs a value: N" -- "$hv" record --stack-depth
expect 2 "heapviz stats: missing FILE" -- "$hv" stats
# An option that swallowed the file says so.
expect 2 "heapviz stats: missing FILE \(--at took '[^']*' as its N\|end\|peak\|mark:LABEL\)" -- "$hv" stats --at "$demo"
expect 2 "heapviz stats: unexpected argument 'b'" -- "$hv" stats a b
expect 2 "heapviz record: which program\?" -- "$hv" record -o x.hvt
expect 2 "heapviz stats: --json takes no value" -- "$hv" stats --json=1 "$demo"
expect 2 "--at 'soon' is not a position" -- "$hv" stats --at soon "$demo"
expect 2 "--at ' 5' is not a position" -- "$hv" stats --at " 5" "$demo"
expect 2 "--at '\+5' is not a position" -- "$hv" stats --at +5 "$demo"

# Scenarios where traces go: stats, dump, check simulate them first.
expect 0 "^events: +141$" -- "$hv" stats "$demo"
expect 0 ": ok: 141 events" -- "$hv" check "$demo"
[ "$("$hv" dump "$demo" | wc -l)" -eq 141 ] && ok "dump of the scenario: 141 events" || fail "dump of the scenario"

# --at mark:LABEL: the heap right after the first mark with that label.
n_tcache=$("$hv" dump "$demo" | grep -n "mark .*tcache" | head -1 | cut -d: -f1)
[ -n "$n_tcache" ] && ok "the demo's mark tcache is event $n_tcache" || fail "no mark tcache in dump"
expect 0 "^events: +$n_tcache \(up to --at mark:tcache\)$" -- "$hv" stats --at mark:tcache "$demo"
"$hv" stats --json --at mark:tcache "$demo" | grep -q "\"events\": $n_tcache," && ok "stats --json --at mark:" ||
  fail "stats --json --at mark:tcache"
expect 0 "at event $n_tcache \(mark:tcache\)" -- "$hv" chunks --at mark:tcache "$demo"
expect 2 "no mark 'tcash' \(its marks: 'start', 'tcache', 'fastbins'" -- "$hv" stats --at mark:tcash "$demo"
expect 2 "no mark 'x'" -- "$hv" sites --at mark:x "$demo"
first=$("$hv" dump --from-mark tcache "$demo" | head -1)
echo "$first" | grep -q "mark.*tcache" && ok "dump --from-mark starts at the mark: $first" || fail "dump --from-mark: $first"
[ "$("$hv" dump --from-mark tcache "$demo" | wc -l)" -eq $((141 - n_tcache + 1)) ] && ok "dump --from-mark: the rest" ||
  fail "dump --from-mark printed $("$hv" dump --from-mark tcache "$demo" | wc -l) lines"
expect 2 "--from and --from-mark: give one" -- "$hv" dump --from 3 --from-mark tcache "$demo"
peak=$("$hv" stats --json "$demo" | sed -n 's/.*"peak_live_bytes": \([0-9]*\).*/\1/p')
"$hv" stats --json --at peak "$demo" | grep -q "\"final_live_bytes\": $peak," && ok "stats --at peak: live = peak ($peak)" ||
  fail "stats --at peak: final live is not the peak $peak"

# The size filter: either size, the requested size only (req:), the chunk size only (chunk:).
n_any=$("$hv" dump --size 112 "$demo" | wc -l)
n_req=$("$hv" dump --size req:100 "$demo" | grep -c "malloc size=100")
n_chunk=$("$hv" dump --size chunk:112 "$demo" | grep -cE " (malloc|free|calloc|realloc|memalign) ")
[ "$n_req" -ge 1 ] && [ "$("$hv" dump --size req:100 "$demo" | wc -l)" -eq "$n_req" ] && ok "--size req:100: $n_req malloc(100)" ||
  fail "--size req:100: $("$hv" dump --size req:100 "$demo" | head -3)"
[ "$n_chunk" -eq 0 ] && [ "$("$hv" dump --size chunk:112 "$demo" | wc -l)" -ge 1 ] && ok "--size chunk:112: chunk events only" ||
  fail "--size chunk:112 lists API calls"
[ "$n_any" -ge "$("$hv" dump --size chunk:112 "$demo" | wc -l)" ] && ok "--size 112 ($n_any) covers chunk:112" || fail "--size 112: $n_any"
expect 2 "size: N or MIN-MAX after 'chunk:'" -- "$hv" dump --size chunk: "$demo"

# chunks at the end = sim's printout of the same scenario (offsets, sizes, states), row for row.
"$hv" sim "$demo" | awk '$1 ~ /^0x/ {print $1, $2, $3 ($4 == "-" ? "" : " " $4)}' >"$tmp/sim.rows"
"$hv" chunks --json "$demo" | python3 -c '
import json, sys
d = json.load(sys.stdin)
base = d["regions"][0]["addr"]
for c in d["chunks"]:
    if c["region"] == base:
        b = " " + c["bin"] if c["bin"] else ""
        state = c["state"]
        print("%#x %#x %s%s" % (c["offset"], c["size"], state, b))' >"$tmp/chunks.rows"
if [ -s "$tmp/sim.rows" ] && diff "$tmp/sim.rows" "$tmp/chunks.rows" >"$tmp/d"; then
  ok "chunks = sim, $(wc -l <"$tmp/sim.rows") chunks"
else
  fail "chunks differs from sim: $(head -10 "$tmp/d")"
fi

# bash completion, from the same declarations.
"$hv" completion bash >"$tmp/c.bash" && ok "completion bash" || fail "completion bash"
bash -n "$tmp/c.bash" && ok "the script parses" || fail "the script does not parse"
complete_words() { # WORDS...: what completes the last word
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _heapviz; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$tmp/c.bash" "$@" | sort | tr '\n' ' '
}
[[ "$(complete_words heapviz st)" == *"stats"* ]] && ok "heapviz st<TAB>: stats" || fail "heapviz st<TAB>: $(complete_words heapviz st)"
[ "$(complete_words heapviz stats --j)" = "--json " ] && ok "stats --j<TAB>" || fail "stats --j<TAB>: $(complete_words heapviz stats --j)"
[ "$(complete_words heapviz sites --by "")" = "allocs bytes live temporary " ] && ok "sites --by <TAB>" ||
  fail "sites --by <TAB>: $(complete_words heapviz sites --by "")"
[ "$(complete_words heapviz stats --at "")" = "end mark: peak " ] && ok "stats --at <TAB>" ||
  fail "stats --at <TAB>: $(complete_words heapviz stats --at "")"
[[ "$(complete_words heapviz record --no)" == *"--no-stacks"* ]] && ok "record --no<TAB>" || fail "record --no<TAB>"
finish
