#!/usr/bin/env python3
"""Profile of one instruction from litesvm register traces (`.regs`: 12 u64 per executed
instruction, r11 = pc; `.insns`: the 8-byte instruction), with function names from
map_names.py. Picks, among the largest traces in TRACE_DIR, the largest one that enters
INSTRUCTION's Anchor handler (`__global::INSTRUCTION`), and prints its instruction classes,
syscalls and the functions by self and inclusive steps (one compute unit each; syscalls
cost more, see the total the test reports).

usage: profile.py TRACE_DIR NAMES INSTRUCTION [TOP] [--annotate FUNCTION ASM]"""
import bisect, collections, glob, os, re, struct, sys

trace_dir, names_path, instruction = sys.argv[1:4]
top = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4].isdigit() else 40

rows = []
for line in open(names_path):
    pc, kind, name = line.rstrip('\n').split(' ', 2)
    rows.append((int(pc), kind, re.sub(r'\[[0-9a-f]{16}\]', '', name)))
rows.sort()
keys = [r[0] for r in rows]


def name_of(pc):
    i = bisect.bisect_right(keys, pc) - 1
    if i < 0:
        return '?'
    r = rows[i]
    return ('' if r[0] == pc else f'~{pc - r[0]:+d} ') + r[2][:150]


handler = [r[0] for r in rows if r[2].endswith(f'__global::{instruction}')]
if not handler:
    sys.exit(f'no handler __global::{instruction} in {names_path}')
CALL, EXIT = 0x85, 0x95
LOAD = {0x71, 0x69, 0x61, 0x79}
STORE = {0x73, 0x6b, 0x63, 0x7b, 0x72, 0x6a, 0x62, 0x7a}


def load(base):
    insns = open(base + '.insns', 'rb').read()
    n = len(insns) // 8
    regs = open(base + '.regs', 'rb').read()
    return n, insns, struct.unpack_from('<' + 'Q' * 12 * n, regs)[11::12]


traces = sorted(glob.glob(os.path.join(trace_dir, '*.insns')), key=os.path.getsize, reverse=True)[:30]
chosen = None
for t in traces:
    base = t[:-len('.insns')]
    n, insns, pcs = load(base)
    if any(pcs[i + 1] == handler[0] for i in range(n - 1) if insns[i * 8] == CALL):
        chosen = (base, n, insns, pcs)
        break
if chosen is None:
    sys.exit(f'no trace among the 30 largest enters {instruction}')
base, n, insns, pcs = chosen
ops = insns[0::8]
classes = collections.Counter(
    'load' if o in LOAD else 'store' if o in STORE else 'call' if o == CALL else 'exit' if o == EXIT
    else 'jump' if o & 7 == 5 else 'alu' for o in ops)
print(f'{instruction}: {n} instructions (trace {base})')
for k, v in classes.most_common():
    print(f'  {k:6s} {v:7d} {100 * v / n:5.1f}%')
stack = []
incl, own, calls, sysc = collections.Counter(), collections.Counter(), collections.Counter(), collections.Counter()
for i in range(n - 1):
    if ops[i] == CALL:
        if pcs[i + 1] == pcs[i] + 1:
            sysc[struct.unpack_from('<I', insns, i * 8 + 4)[0]] += 1
        else:
            stack.append([pcs[i + 1], i + 1, 0])
    elif ops[i] == EXIT and stack:
        entry, start, child = stack.pop()
        total = i + 1 - start
        incl[entry] += total
        own[entry] += total - child
        calls[entry] += 1
        if stack:
            stack[-1][2] += total
print('syscalls (hash: count):', {hex(k): v for k, v in sysc.most_common()})
print(f'\n{"self":>7s} {"incl":>7s} {"calls":>5s}  function (by self)')
for e, s in own.most_common(top):
    print(f'{s:7d} {incl[e]:7d} {calls[e]:5d}  {name_of(e)}')
print(f'\n{"incl":>7s} {"self":>7s} {"calls":>5s}  function (by inclusive)')
for e, s in incl.most_common(top):
    print(f'{s:7d} {own[e]:7d} {calls[e]:5d}  {name_of(e)}')
