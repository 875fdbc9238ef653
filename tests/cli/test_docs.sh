#!/usr/bin/env bash
# The documentation is tested: every `tcpbed ...` (or `build/tcpbed ...`)
# command and every `make fuzz...` line shown in README.md and docs/*.md —
# in fenced code blocks (also inside quotes, e.g. a parallel or Slurm line,
# and shown output such as "reproduce with: tcpbed ..."), and in inline
# `code` with options or arguments — is run as the text says.
#
#   bash tests/cli/test_docs.sh [build/tcpbed]
#
# tcpbed commands run one after another in one temporary directory (so a
# later command sees an earlier one's files, as a reader's shell would),
# where build/tcpbed and tcpbed are the binary under test and tests/ is the
# repository's; make commands run in the repository. Every command shown
# must have a line in TABLE below (its exit status, or why it is not run);
# a command the table does not know fails, and so does a table line no
# document shows any more. Long runs are cut by the SCALE substitutions,
# placeholders (crash-...) are real files made from PLACEHOLDERS.
# Prints "ok"/"FAIL"/"skip" per command and, last, "docs: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TCPBED=$(realpath "${1:-build/tcpbed}")
if [ ! -x "$TCPBED" ]; then
  echo "FAIL the binary under test '$TCPBED' does not exist"
  echo "docs: 0 passed, 1 failed"
  exit 1
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/run/build" "$TMP/bin"
ln -s "$TCPBED" "$TMP/run/build/tcpbed"
ln -s "$TCPBED" "$TMP/bin/tcpbed"
ln -s "$ROOT/tests" "$TMP/run/tests"
export PATH="$TMP/bin:$PATH"
# Campaigns the documents start write their AFL++ output here, not over a
# campaign someone runs in build/fuzz/ meanwhile.
export FUZZ_LONG_DIR="$TMP/fuzz-long" FUZZ_AFL_OUT="$TMP/afl-out"

# Every command the documents show (whitespace runs collapsed), and what it
# must do:  EXIT @@ COMMAND AS SHOWN [@@ COMMAND TO RUN INSTEAD [@@ CHECK]]
#           skip @@ COMMAND AS SHOWN @@ WHY IT IS NOT RUN
# An empty "instead" runs the command as shown. CHECK is bash run in the
# same directory afterwards, with $OUT the file holding the command's output.
read -r -d '' TABLE <<'EOF'
0 @@ tcpbed sim bulk --bytes 10M --seed 1 --pcap build/demo.pcap @@ @@ test -s build/demo.pcap && grep -q 'integrity: ok' $OUT
0 @@ build/tcpbed help @@ @@ grep -q 'commands:' $OUT
0 @@ tcpbed tap --help @@ @@ grep -q -- '--record FILE' $OUT
0 @@ build/tcpbed tap --iface tb0 --ip 10.9.0.2/24 --host-ip 10.9.0.1/24 --app http @@ bash tests/interop/docs_tap.sh curl build/tcpbed -- --iface tb0 --ip 10.9.0.2/24 --host-ip 10.9.0.1/24 --app http @@ grep -q 'docs-tap: 2 passed, 0 failed' $OUT
0 @@ build/tcpbed tap --iface tb0 --ip 10.9.0.2/24 --app echo --pcap tap.pcap @@ bash tests/interop/docs_tap.sh echo build/tcpbed -- --iface tb0 --ip 10.9.0.2/24 --app echo --pcap tap.pcap @@ grep -q 'docs-tap: 2 passed, 0 failed' $OUT && test -s tap.pcap
0 @@ build/tcpbed tap --iface tb0 --ip 10.9.0.2/24 --app sink & @@ bash tests/interop/docs_tap.sh sink build/tcpbed -- --iface tb0 --ip 10.9.0.2/24 --app sink @@ grep -q 'docs-tap: 2 passed, 0 failed' $OUT
0 @@ build/tcpbed sim ping --help @@ @@ grep -q -- '--pcap FILE' $OUT
0 @@ build/tcpbed sim ping --count 3 --seed 1 --pcap a.pcap @@ @@ cp a.pcap a1.pcap && build/tcpbed sim ping --count 3 --seed 1 --pcap a.pcap >/dev/null && cmp a.pcap a1.pcap
0 @@ build/tcpbed sim ping --delay 20ms --rate 1Mbps --size 1400
0 @@ build/tcpbed sim ping --size 3000 --count 2 @@ @@ grep -q '2 packets transmitted, 2 received, 0% packet loss' $OUT
0 @@ build/tcpbed sim ping --json @@ @@ python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["pass"]' $OUT
0 @@ build/tcpbed sim bulk --bytes 50M --seed 3 --json @@ @@ python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["integrity"] == "ok" and d["delivered_bytes"] == d["sent_bytes"]' $OUT
0 @@ build/tcpbed sim bulk --duration 10s --delay 50ms --rate 1Gbps --pcap b.pcap @@ @@ test -s b.pcap
0 @@ build/tcpbed sim bulk --bytes 1M --zero-copy
0 @@ build/tcpbed sim bulk --both --bytes 5M --loss 0.01 @@ @@ grep -q 'B sent 5242880 bytes back, A read 5242880' $OUT
0 @@ build/tcpbed sim bulk --loss 0.02 --reorder 0.05 --duplicate 0.01 --corrupt 0.005 --seed 9
0 @@ build/tcpbed sim bulk --bytes 20M --loss 0.02 --cc cubic --trace-cc cc.csv @@ @@ head -1 cc.csv | grep -q '^time_ns,host,conn,event'
0 @@ build/tcpbed sim bulk --ecn --ecn-mark 30K
0 @@ build/tcpbed sim bulk --no-rack-tlp --no-sack --loss 0.01
0 @@ build/tcpbed sim bulk --fault 'drop A>B tcp data #3' --fault 'blackout A<>B 1.2s..1.5s'
1 @@ build/tcpbed sim bulk --loss 0.02 --seed 4 --expect 'retransmits==0' @@ @@ grep -q 'reproduce with: tcpbed sim bulk --loss 0.02 --seed 4 --expect retransmits==0' $OUT
0 @@ build/tcpbed shrink -- bulk --bytes 1M --loss 0.02 --seed 4 --expect 'retransmits==0' @@ @@ grep -q "reproduce with: tcpbed sim bulk .*--fault 'drop A>B" $OUT
0 @@ build/tcpbed sweep --seeds 1..500 -- bulk --bytes 1M --loss 0.05 --reorder 0.1 @@ @@ grep -q 'sweep: 100 passed, 0 failed' $OUT
0 @@ build/tcpbed sim bulk --bytes 300K --pcap-dir run1 && build/tcpbed plot run1 @@ @@ test -s run1/plot.svg
0 @@ build/tcpbed sim dumbbell --pairs 8 --workload mixed --qdisc red --red 20K,80K,0.1
0 @@ build/tcpbed sim run tests/scenarios/branch-office.ini
0 @@ build/tcpbed check tests/conformance @@ @@ tail -1 $OUT | grep -qE '^[0-9]+ passed, 0 failed, 0 skipped$'
0 @@ build/tcpbed check --profile linux tests/check/corpus @@ @@ tail -1 $OUT | grep -qE '^[0-9]+ passed, 0 failed, [0-9]+ skipped$'
0 @@ build/tcpbed check tests/conformance --junit check.xml @@ @@ tail -1 $OUT | grep -qE '^[0-9]+ passed, 0 failed, 0 skipped$' && python3 -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' check.xml
0 @@ build/tcpbed sim dumbbell --pairs 1000 --workload bulk --bytes 20K --pcap-dir db1 @@ @@ test "$(ls db1/*.pcap | wc -l)" -eq 2000 && grep -q '^ok: ' $OUT
0 @@ make fuzz-long SECONDS=1800 TARGETS=stack @@ @@ grep -q '^fuzz-long: stack: 2 s x' $OUT
0 @@ make fuzz TARGET=wire ENGINE=libfuzzer SECONDS=30 @@ @@ grep -q '^fuzz: wire/libfuzzer: .* 0 finding(s)' $OUT
0 @@ build/tcpbed fuzz-to-pcap build/fuzz/findings/stack/crash-...
0 @@ tcpbed sim bulk --both @@ @@ grep -q 'A 10.0.0.1 <-> B' $OUT
0 @@ tcpbed sweep --seeds 1..500 -- bulk --both --bytes 200K --loss 0.02 --reorder 0.05 --duplicate 0.01 --corrupt 0.005 @@ @@ grep -q 'sweep: 100 passed, 0 failed' $OUT
0 @@ tcpbed sweep --seeds 1..10000 [--jobs N] -- bulk --bytes 1M --loss 0.05 @@ tcpbed sweep --seeds 1..10000 --jobs 2 -- bulk --bytes 1M --loss 0.05
0 @@ tcpbed sim <args> --seed S --json @@ tcpbed sim bulk --bytes 100K --seed 7 --json @@ grep -q '"seed":7' $OUT
0 @@ tcpbed sweep --seeds 1..100000 --shard ${SLURM_ARRAY_TASK_ID}/16 --out sweep-${SLURM_ARRAY_TASK_ID}.jsonl -- bulk --loss 0.05 @@ SLURM_ARRAY_TASK_ID=1; tcpbed sweep --seeds 1..100000 --shard ${SLURM_ARRAY_TASK_ID}/16 --out sweep-${SLURM_ARRAY_TASK_ID}.jsonl -- bulk --loss 0.05 @@ test "$(wc -l < sweep-1.jsonl)" -eq 2
0 @@ tcpbed sweep --seeds 1..100000 --shard {}/3 --out sweep-{}.jsonl -- bulk --loss 0.05 @@ for s in 1 2 3; do tcpbed sweep --seeds 1..100000 --shard $s/3 --out sweep-$s.jsonl -- bulk --loss 0.05 || exit 1; done
0 @@ tcpbed sweep --merge sweep-*.jsonl @@ @@ grep -q 'sweep: 32 passed, 0 failed' $OUT
0 @@ tcpbed shrink -- bulk --bytes 1M --loss 0.02 --seed 4 --expect 'retransmits==0'
1 @@ tcpbed sim bulk --bytes 1M --seed 4 --expect retransmits==0 --fault 'drop A>B tcp data #50' @@ @@ grep -q 'FAILED: expect retransmits==0' $OUT
0 @@ make fuzz TARGET=wire ENGINE=libfuzzer SECONDS=60
0 @@ make fuzz TARGET=stack ENGINE=afl SECONDS=600 @@ @@ grep -q '^fuzz: stack/afl: .* 0 finding(s)' $OUT
0 @@ make fuzz TARGET=faults ENGINE=libfuzzer SECONDS=3600
0 @@ make fuzz-build [ENGINE=libfuzzer|afl|afl-plain|replay] @@ make fuzz-build ENGINE=replay @@ test -x build/fuzz/replay/stack
skip @@ tcpbed wire --a IFACE --b IFACE [--loss P] [--burst-loss ...] [--reorder P] [--duplicate P] [--corrupt P] @@ the synopsis; the commands below run
0 @@ tcpbed wire --a a0 --b b0 --loss 2% --reorder 5% --duplicate 1% --corrupt 0.5% --delay 5ms --seed 3 --pcap-dir run1 @@ bash tests/interop/wire_doc.sh tcpbed wire --a a0 --b b0 --loss 2% --reorder 5% --duplicate 1% --corrupt 0.5% --delay 5ms --seed 3 --pcap-dir run1 @@ test -s run1/A.pcap && test -s run1/B.pcap && grep -q ',A,B,loss,' run1/faults.csv && grep -q 'stopped by SIGTERM' $OUT
0 @@ tcpbed plot run1 @@ @@ test -s run1/plot.svg
0 @@ tcpbed wire --a a0 --b b0 --fault 'drop A>B tcp data #3' --record-faults targeted.specs @@ bash tests/interop/wire_doc.sh tcpbed wire --a a0 --b b0 --fault 'drop A>B tcp data #3' --record-faults targeted.specs @@ test "$(cat targeted.specs)" = 'drop A>B tcp data #3'
0 @@ tcpbed wire --a a0 --b b0 --loss 5% --corrupt 2% --seed 7 --record-faults run2.specs @@ bash tests/interop/wire_doc.sh tcpbed wire --a a0 --b b0 --loss 5% --corrupt 2% --seed 7 --record-faults run2.specs @@ test -s run2.specs
0 @@ tcpbed wire --a a0 --b b0 "${args[@]}" --record-faults replay.specs @@ args=(); while IFS= read -r spec; do args+=(--fault "$spec"); done < run2.specs; bash tests/interop/wire_doc.sh tcpbed wire --a a0 --b b0 "${args[@]}" --record-faults replay.specs @@ test -s replay.specs && ! grep -v ' tcp ' replay.specs | grep -vxFf run2.specs
skip @@ make fuzz-smoke @@ make test runs it (tests/run.sh: fuzz/smoke.sh)
0 @@ make fuzz-bench @@ FUZZ_BENCH_SECONDS=1 make fuzz-bench @@ grep -q '^faults ' $OUT
0 @@ make fuzz-long [SECONDS=1800] [TARGETS=wire,stack,faults,check] @@ make fuzz-long SECONDS=1800 TARGETS=wire @@ grep -q '^fuzz-long: wire: 2 s x' $OUT
skip @@ make fuzz-corpus @@ it rewrites fuzz/corpus/ in the tree; make test replays the committed corpus
0 @@ build/tcpbed fuzz-to-pcap build/fuzz/findings/stack/crash-... --target stack --out crash.pcap @@ @@ test -s crash.pcap
0 @@ build/tcpbed fuzz-to-pcap build/fuzz/findings/faults/crash-... --target faults @@ @@ grep -q 'reproduce with: tcpbed sim bulk' $OUT
0 @@ tcpbed fuzz-to-pcap INPUT [--target stack|faults] [--out FILE.pcap] @@ tcpbed fuzz-to-pcap build/fuzz/findings/stack/crash-... --target stack --out FILE.pcap @@ test -s FILE.pcap
skip @@ tcpbed sim bulk ... --fault '...' @@ elided; the full line is the next one in the same section
0 @@ tcpbed sim bulk --seed 108 --bytes 23552 --sndbuf 8192 --rcvbuf 8192 --mss 536 --nodelay --zero-copy --delay 1ms --rate 100000000bps --time-limit 1200s --fault 'corrupt A>B any #30-32 bit=3531' --fault 'drop A>B any #29-31' --fault 'delay B>A tcp data #29-30 301ms'
skip @@ tcpbed shrink -- bulk ... @@ elided; README's shrink line is the full form
0 @@ tcpbed sim bulk --bytes 50K
0 @@ make fuzz-long @@ @@ grep -q "^fuzz-long: faults: 2 s x" $OUT && grep -q "^fuzz-long: check: 2 s x" $OUT
0 @@ make fuzz-long SECONDS=600 TARGETS=stack,faults
0 @@ FUZZ_JOBS=4 make fuzz-long SECONDS=3600 TARGETS=faults @@ @@ grep -q '^fuzz-long: faults: 2 s x 4 instances' $OUT
0 @@ FUZZ_JOBS=N make fuzz ... @@ FUZZ_JOBS=2 make fuzz TARGET=wire ENGINE=libfuzzer SECONDS=2
0 @@ FUZZ_JOBS=2 make fuzz TARGET=stack ENGINE=afl SECONDS=3600
0 @@ tcpbed sim dumbbell --pairs N @@ tcpbed sim dumbbell --pairs 2 --bytes 200K
0 @@ tcpbed sim run FILE.ini @@ tcpbed sim run tests/scenarios/branch-office.ini
0 @@ tcpbed sweep --seeds 1..100 -- run FILE.ini @@ tcpbed sweep --seeds 1..100 -- run tests/scenarios/branch-office.ini
0 @@ tcpbed sim bulk --bytes 2M --loss 0.02 --reorder 0.05 --seed 7 --record run.log @@ @@ grep -q 'run-log: run.log' $OUT
0 @@ tcpbed replay run.log @@ @@ grep -q '^identical$' $OUT
0 @@ tcpbed replay run.log --pcap-dir replayed --trace-cc cc.csv @@ @@ test -s replayed/A.pcap && test -s replayed/cc.csv && head -1 cc.csv | grep -q '^time_ns,host'
0 @@ tcpbed plot replayed @@ @@ test -s replayed/plot.svg
EOF

# Runs that take minutes as written, cut short (sed -E, applied in order to
# every command that is run).
read -r -d '' SCALE <<'EOF'
--bytes 50M @@ --bytes 5M
--bytes 20M @@ --bytes 5M
--duration 10s --delay 50ms --rate 1Gbps @@ --duration 1s --delay 50ms --rate 1Gbps
--seeds 1\.\.500\b @@ --seeds 1..100
--seeds 1\.\.10000\b @@ --seeds 1..50
--seeds 1\.\.100000\b @@ --seeds 1..32
--seeds 1\.\.100 -- run @@ --seeds 1..10 -- run
\bSECONDS=[0-9]+ @@ SECONDS=2
^make fuzz-long$ @@ make fuzz-long SECONDS=2
EOF

# Placeholder paths the documents use, and the real file each is made from.
read -r -d '' PLACEHOLDERS <<'EOF'
build/fuzz/findings/stack/crash-... @@ fuzz/regressions/stack/persist-probe-after-fin-acked
build/fuzz/findings/faults/crash-... @@ fuzz/corpus/faults/FIRST
EOF

while IFS= read -r line; do
  [ -z "$line" ] && continue
  dst=${line%% @@ *}
  src=${line#* @@ }
  if [[ "$src" == */FIRST ]]; then src=$(find "${src%/FIRST}" -type f | sort | head -1); fi
  mkdir -p "$TMP/run/$(dirname "$dst")"
  cp "$ROOT/$src" "$TMP/run/$dst"
done <<<"$PLACEHOLDERS"

export TABLE SCALE ROOT TMP
python3 - README.md docs/*.md >"$TMP/plan" <<'PY' || { echo "FAIL extracting the commands"; echo "docs: 0 passed, 1 failed"; exit 1; }
import os, re, sys

SUB = r'(?:sim|check|sweep|shrink|plot|fuzz-to-pcap|tap|wire|replay|help|version)'
CMD = re.compile(r'(?<![\w/.-])((?:build/)?tcpbed (?:' + SUB + r')(?![\w:-]).*)')
MAKE = re.compile(r'^((?:[A-Z_]+=\S+ )*make fuzz(?:-[a-z]+)?\b.*)')

def strip_comment(s):
    q = None
    for i, c in enumerate(s):
        if q:
            if c == q:
                q = None
        elif c in "'\"":
            q = c
        elif c == '#' and (i == 0 or s[i - 1] in ' \t'):
            return s[:i].rstrip()
    return s.rstrip()

def collapse(s):
    return re.sub(r'\s+', ' ', s).strip()

shown = []   # (where, command)
for path in sys.argv[1:]:
    lines = open(path).read().split('\n')
    fenced = False
    i = 0
    while i < len(lines):
        line, where = lines[i], f'{path}:{i + 1}'
        if line.lstrip().startswith('```'):
            fenced = not fenced
        elif fenced:
            while line.endswith('\\') and i + 1 < len(lines):
                i += 1
                line = line[:-1] + ' ' + lines[i].strip()
            s = line.strip()
            if s.startswith('$ '):
                s = s[2:]
            m = MAKE.match(s)
            if m:
                shown.append((where, collapse(strip_comment(m.group(1)))))
            else:
                m = CMD.search(s)
                if m:
                    cmd = m.group(1)
                    opener = s[m.start(1) - 1] if m.start(1) > 0 else ''
                    if opener in ("'", '"') and opener in cmd:   # inside a quoted string
                        cmd = cmd[:cmd.index(opener)]
                    shown.append((where, collapse(strip_comment(cmd))))
        else:
            for span in re.findall(r'`([^`]+)`', line):
                t = collapse(span)
                if not (CMD.match(t) or MAKE.match(t)):
                    continue
                # a command rather than a name: it has an option, a value or an argument
                if any(w.startswith('-') or '=' in w for w in t.split()) or len(t.split()) > 3:
                    shown.append((where, t))
        i += 1

table = {}
order = []
for raw in os.environ['TABLE'].split('\n'):
    if not raw.strip():
        continue
    f = [x.strip() for x in re.split(r'\s*@@\s*', raw)]
    f += [''] * (4 - len(f))
    kind, cmd, instead, check = f[0], collapse(f[1]), f[2], f[3]
    if cmd in table:
        print(f'bad\t-\t{cmd}\tthe table lists this command twice')
        continue
    table[cmd] = (kind, instead, check)
    order.append(cmd)
scale = []
for raw in os.environ['SCALE'].split('\n'):
    if raw.strip():
        a, b = re.split(r'\s*@@\s*', raw)
        scale.append((re.compile(a.strip()), b.strip()))

seen = {}
for where, cmd in shown:
    if cmd in seen:
        seen[cmd].append(where)
        continue
    seen[cmd] = [where]
done = set()
for where, cmd in shown:
    if cmd in done:
        continue
    done.add(cmd)
    wheres = ' '.join(seen[cmd])
    if cmd not in table:
        print(f'unknown\t{wheres}\t{cmd}\tnot in the TABLE of tests/cli/test_docs.sh: add it with its exit status')
        continue
    kind, instead, check = table[cmd]
    if kind == 'skip':
        print(f'skip\t{wheres}\t{cmd}\t{instead}')
        continue
    run = instead or cmd
    for rx, rep in scale:
        run = rx.sub(rep, run)
    is_make = bool(re.match(r'^(?:[A-Z_]+=\S+;? )*make ', run))
    print(f'run\t{wheres}\t{cmd}\t{kind}\t{"make" if is_make else "tcpbed"}\t{run}\t{check}')
for cmd in order:
    if cmd not in seen:
        print(f'stale\t-\t{cmd}\tin the TABLE but no document shows it any more')
PY

pass=0
fail=0
skip=0
n=0
while IFS=$'\t' read -r what where cmd a b c d; do
  case "$what" in
  unknown | stale | bad)
    fail=$((fail + 1))
    echo "FAIL $where: $cmd: $a"
    ;;
  skip)
    skip=$((skip + 1))
    echo "skip $where: $cmd ($a)"
    ;;
  run)
    want=$a mode=$b run=$c check=$d
    n=$((n + 1))
    OUT=$TMP/out.$n
    if [ "$mode" = make ]; then dir=$ROOT; else dir=$TMP/run; fi
    t0=$(date +%s)
    (cd "$dir" && timeout 600 bash -c "$run") >"$OUT" 2>&1 </dev/null
    rc=$?
    secs=$(($(date +%s) - t0))
    shown=$cmd
    [ "$run" != "$cmd" ] && shown="$cmd  [run as: $run]"
    if [ "$rc" -ne "$want" ]; then
      fail=$((fail + 1))
      echo "FAIL $where: $shown (exit $rc, wanted $want, ${secs}s)"
      tail -12 "$OUT" | cut -c1-300 | sed 's/^/    /'
    elif [ -n "$check" ] && ! (cd "$dir" && OUT=$OUT bash -c "$check") >"$OUT.check" 2>&1 </dev/null; then
      fail=$((fail + 1))
      echo "FAIL $where: $shown (exit $rc as wanted, but the check failed: $check)"
      cat "$OUT.check" | tail -5 | sed 's/^/    /'
      tail -8 "$OUT" | cut -c1-300 | sed 's/^/    /'
    else
      pass=$((pass + 1))
      echo "ok   $where: $shown (exit $rc, ${secs}s)"
    fi
    ;;
  esac
done <"$TMP/plan"

echo "($skip shown command(s) not run, each for the reason given)"
echo "docs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
