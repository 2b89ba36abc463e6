import { backupDatabase } from '../store/backup.js';

/**
 * `sloguard backup FILE`: an online copy of the configured database, allowed beside a running service (it only
 * reads). Exit 0 when the copy passed its integrity check, 1 otherwise.
 */
export async function runBackup(
  databasePath: string,
  file: string,
  io: { out: (text: string) => void; err: (text: string) => void },
): Promise<number> {
  const { pages, integrity } = await backupDatabase(databasePath, file);
  if (integrity !== 'ok') {
    io.err(`backup of ${databasePath} to ${file} failed its integrity check: ${integrity}`);
    return 1;
  }
  io.out(`backed up ${databasePath} to ${file} (${pages} pages, integrity ok)`);
  return 0;
}
