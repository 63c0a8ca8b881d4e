#!/usr/bin/env python3
"""Where inside one function the instructions go: the function's assembly (from the linker's
`--emit=asm` output) with each instruction's execution count in a trace, and its basic
blocks by executed instructions. Counts are placed by offset from the function's entry pc
(`names.txt`), which matches the binary within a function (lddw = two slots).

usage: annotate.py TRACE_BASE NAMES ASM FUNCTION [BLOCKS]
  TRACE_BASE  a trace without extension (target/sbf-profile/trace/<hash>, as profile.py prints)
  FUNCTION    a substring of the function's name in NAMES (the first match in text order)
Prints the BLOCKS (default 12) hottest blocks, then the annotated assembly."""
import collections
import re
import struct
import sys

base, names_path, asm_path, wanted = sys.argv[1:5]
blocks_shown = int(sys.argv[5]) if len(sys.argv) > 5 else 12

n = len(open(base + '.insns', 'rb').read()) // 8
pcs = struct.unpack_from('<' + 'Q' * 12 * n, open(base + '.regs', 'rb').read())[11::12]
executed = collections.Counter(pcs)

order = [line.rstrip('\n').split(' ', 2) for line in open(names_path)]
index = next((i for i, row in enumerate(order) if wanted in row[2]), None)
if index is None:
    sys.exit(f'no function matching {wanted!r} in {names_path}')
entry = int(order[index][0])
print(f'{order[index][2]} at pc {entry}')

lines = open(asm_path).read().split('\n')
labels = [i for i, l in enumerate(lines) if l and not l[0].isspace() and l.endswith(':') and not l.startswith('.')]
start = labels[index]
end = labels[index + 1] if index + 1 < len(labels) else len(lines)

annotated, blocks = [], []
block, block_sum, block_len, slot = 'entry', 0, 0, entry
for line in lines[start + 1:end]:
    text = line.strip()
    if text.startswith('.LBB') and text.endswith(':'):
        blocks.append((block_sum, block, block_len))
        block, block_sum, block_len = text[:-1], 0, 0
        annotated.append(f'{"":>8s}       {line}')
        continue
    if not text or text.startswith('.') or text.startswith('#') or re.match(r'^\S+:$', text):
        annotated.append(f'{"":>8s}       {line}')
        continue
    count = executed.get(slot, 0)
    block_sum += count
    block_len += 1
    annotated.append(f'{count:8d} {slot - entry:5d} {line}')
    slot += 2 if text.endswith(' ll') else 1
blocks.append((block_sum, block, block_len))

print(f'{sum(b[0] for b in blocks)} instructions executed in the function itself')
for total, name, length in sorted(blocks, reverse=True)[:blocks_shown]:
    print(f'{total:8d}  {name} ({length} instructions)')
print()
print('\n'.join(annotated))
