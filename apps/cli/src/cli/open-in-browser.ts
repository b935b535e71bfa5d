import { spawn } from 'node:child_process';

/** The platform's "open with the default application" command. */
function opener(): { command: string; args: (target: string) => string[] } {
  if (process.platform === 'darwin') return { command: 'open', args: (t) => [t] };
  if (process.platform === 'win32') return { command: 'cmd', args: (t) => ['/c', 'start', '""', t] };
  return { command: 'xdg-open', args: (t) => [t] };
}

/**
 * Opens a file or URL in the default browser when there is one. Resolves to false (never throws)
 * when no opener exists or it fails to start: a headless machine is not an error.
 */
export function openInBrowser(target: string): Promise<boolean> {
  const { command, args } = opener();
  return new Promise((resolve) => {
    try {
      const child = spawn(command, args(target), { detached: true, stdio: 'ignore' });
      child.once('error', () => resolve(false));
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}
