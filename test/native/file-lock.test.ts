// lockFile / unlockFile: an exclusive flock that a second taker is refused (code 'EAGAIN'), and
// that the kernel releases when its holder is killed with SIGKILL.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { binding } from '../../src/native/binding.js';
import { tempDir, thrown } from './helpers.js';

const ADDON = fileURLToPath(new URL('../../build/Release/sluice.node', import.meta.url));

describe('lockFile', () => {
  it('refuses a second lock on the same path in the same process with EAGAIN and the path', () => {
    const lockPath = path.join(tempDir(), 'lock');
    const fd = binding.lockFile(lockPath);
    const error = thrown(() => binding.lockFile(lockPath));
    expect(error).toMatchObject({ code: 'EAGAIN', syscall: 'flock', path: lockPath });
    binding.unlockFile(fd);
    binding.unlockFile(binding.lockFile(lockPath));
  });

  it('raises errno codes for a missing directory and a bad descriptor', () => {
    const missing = path.join(tempDir(), 'missing', 'lock');
    expect(thrown(() => binding.lockFile(missing))).toMatchObject({ code: 'ENOENT', path: missing });
    expect(thrown(() => binding.unlockFile(1_000_000)).code).toBe('EBADF');
    expect(thrown(() => binding.unlockFile(-1))).toBeInstanceOf(RangeError);
  });

  it('is released by the kernel when the holding process is killed with SIGKILL', async () => {
    const lockPath = path.join(tempDir(), 'lock');
    const script = `
      const binding = require(${JSON.stringify(ADDON)});
      binding.lockFile(${JSON.stringify(lockPath)});
      console.log('locked');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
      child.once('exit', () => reject(new Error('the child exited before taking the lock')));
    });
    expect(thrown(() => binding.lockFile(lockPath)).code).toBe('EAGAIN');
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    binding.unlockFile(binding.lockFile(lockPath));
  });
});
