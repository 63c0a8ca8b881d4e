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


def option(flag):
    """`--llvm-args=-inline-threshold` of `--llvm-args=-inline-threshold=1000`, else None."""
    if flag.startswith('--llvm-args=-') and flag.count('=') >= 2:
        return flag.rsplit('=', 1)[0]
    return None


# An LLVM option given again replaces the build's own (LLVM takes the last occurrence, so a
# flag merely added in front of the saved command would have no effect).
replaced = {option(f) for f in sys.argv[2:]} - {None}
cmd = [c for c in cmd if option(c) not in replaced]
cmd[1:1] = sys.argv[2:]
result = subprocess.run(cmd, capture_output=True, text=True, env=env)
# With --emit=asm the linker writes the assembly, then fails to read it back as an object:
# the file is what is wanted.
if result.returncode != 0 and not (os.path.exists(sys.argv[1]) and '--emit=asm' in sys.argv[2:]):
    sys.exit(result.stderr[-2000:])
