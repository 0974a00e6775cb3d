#!/usr/bin/env python3
# Maintainer tool: run after `npm install` changes package-lock.json if `npm ci` then says the lock
# is out of sync (usage: python3 .ci/complete-lockfile.py package-lock.json).
import json, sys
p = sys.argv[1]
lock = json.load(open(p))
pk = lock['packages']
# Platform builds of msgpackr-extract that this machine's registry does not serve: npm leaves them
# out of the lock, and `npm ci` then calls the lock out of sync. They are optional and never
# installed on linux-x64, so a lock entry without integrity is enough.
missing = {'darwin-arm64': ('darwin', 'arm64'), 'darwin-x64': ('darwin', 'x64'), 'linux-arm': ('linux', 'arm'), 'win32-x64': ('win32', 'x64')}
for name, (os_, cpu) in missing.items():
    key = f'node_modules/@msgpackr-extract/msgpackr-extract-{name}'
    if key not in pk:
        pk[key] = {'version': '3.0.7', 'cpu': [cpu], 'license': 'MIT', 'optional': True, 'os': [os_]}
lock['packages'] = dict(sorted(pk.items(), key=lambda kv: (kv[0] != '', kv[0])))
json.dump(lock, open(p, 'w'), indent=2)
open(p, 'a').write('\n')
