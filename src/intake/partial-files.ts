/**
 * Names of files still being written, or not meant to be read, by every way in that picks files
 * from a folder (a watched inbox, a schedule's input folder): dotfiles, `*.part`, `*.tmp`,
 * browsers' `*.crdownload` and Excel's `~$*` lock files.
 */
export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name.startsWith('~$') || /\.(part|tmp|crdownload)$/i.test(name);
}
