#!/usr/bin/env python3
"""Function names for the entry pcs of a linked sBPF .so, from `sbpf-linker --emit=asm` output of
the same link. Both keep the functions in one order; the functions that are call targets are
matched by aligning their static call-site counts (asm `call name` against the binary's `call
imm`, src = 1, target pc + imm + 1), the others placed at their asm offset plus the local
drift (marked `~`; exact ones `=`). The .so has no symbols (sbpf-linker strips them).

usage: map_names.py PROG.so PROG.s OUT"""
import sys, re, struct, subprocess, difflib, collections, bisect
so, asm, out = sys.argv[1:4]
data = open(so, 'rb').read()
e_phoff = struct.unpack_from('<Q', data, 32)[0]
_, _, off, vaddr, _, size = struct.unpack_from('<IIQQQQ', data, e_phoff + 56)
text = data[off:off + size]
bcount = collections.Counter()
for pc in range(len(text) // 8):
    if text[pc * 8] == 0x85 and text[pc * 8 + 1] >> 4 == 1:
        bcount[pc + struct.unpack_from('<i', text, pc * 8 + 4)[0] + 1] += 1
funcs = []; pos = 0; cur = None; acount = collections.Counter()
for l in open(asm).read().split('\n'):
    if l and not l[0].isspace() and l.endswith(':') and not l.startswith('.'):
        funcs.append([pos, l[:-1]]); cur = 1; continue
    s = l.strip()
    if not s or s.startswith('.') or s.startswith('#') or s.endswith(':') or cur is None:
        continue
    m = re.match(r'call (\S+)$', s)
    if m: acount[m.group(1)] += 1
    pos += 2 if s.endswith(' ll') else 1
called = [f for f in funcs if acount[f[1]]]
targets = sorted(bcount)
a = [min(acount[f[1]], 9) for f in called]
b = [min(bcount[t], 9) for t in targets]
sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
match = {}
for blk in sm.get_matching_blocks():
    for k in range(blk.size):
        match[called[blk.a + k][1]] = targets[blk.b + k]
names = [f[1] for f in funcs]
dem = subprocess.run(['c++filt'], input='\n'.join(names), capture_output=True, text=True).stdout.split('\n')
drift = 0; rows = []
for (start, name), d in zip(funcs, dem):
    if name in match:
        drift = match[name] - start; rows.append((match[name], '=', d or name))
    else:
        rows.append((start + drift, '~', d or name))
with open(out, 'w') as f:
    for pc, k, name in rows:
        f.write(f'{pc} {k} {name}\n')
print('functions', len(funcs), 'called (asm)', len(called), 'targets', len(targets), 'matched', len(match))
