#!/usr/bin/env python3
"""Re-runs the sbpf-linker command that profile.sh captured ($SBF_PROFILE_DIR/link.json: the
environment and arguments rustc used) with another output and extra flags, e.g. `--emit=asm`
or `--llvm-args=-inline-threshold=500` to measure a codegen option without a rebuild.

usage: relink.py OUT [FLAG...]"""
import json
import os
import subprocess
import sys

saved = json.load(open(os.path.join(os.environ.get('SBF_PROFILE_DIR', 'target/sbf-profile'), 'link.json')))
env = dict(os.environ)
env.update(saved['env'])
# sbpf-linker loads the toolchain's LLVM, which the proxy looks up next to rustc.
# The toolchain pin: sbf/env.sh's SBF_TOOLCHAIN (profile.sh exports it).
toolchain = os.environ.get('SBF_TOOLCHAIN') or sys.exit('SBF_TOOLCHAIN not set: source sbf/env.sh first')
sysroot = subprocess.run(['rustup', 'run', toolchain, 'rustc',
                          '--print', 'sysroot'], capture_output=True, text=True).stdout.strip()
env['LD_LIBRARY_PATH'] = sysroot + '/lib'
cmd = list(saved['cmd'])
cmd[cmd.index('-o') + 1] = sys.argv[1]
cmd[1:1] = sys.argv[2:]
result = subprocess.run(cmd, capture_output=True, text=True, env=env)
# With --emit=asm the linker writes the assembly, then fails to read it back as an object:
# the file is what is wanted.
if result.returncode != 0 and not (os.path.exists(sys.argv[1]) and '--emit=asm' in sys.argv[2:]):
    sys.exit(result.stderr[-2000:])
