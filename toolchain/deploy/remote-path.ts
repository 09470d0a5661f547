// A remote folder as the hosts file and the deploy name it (`~/x`, `x`, `/abs/x`), turned into
// what each transfer needs. Neither rsync's remote path nor an SFTP path is a shell word: both are
// relative to the login's home unless absolute, which is what `~/` means, so it is dropped.

/** The path relative to the login's home, or absolute; "." for the home itself. */
export function homeRelative(dir: string): string {
  if (dir === "~" || dir === "~/") return ".";
  const rest = dir.startsWith("~/") ? dir.slice(2) : dir;
  if (rest === "") return ".";
  if (rest.startsWith("~")) throw new Error(`${dir}: another user's home (~user) is not supported; write the absolute path`);
  return rest;
}

/** `a/b` joined under a remote folder, without doubled slashes. */
export function remoteJoin(dir: string, relative: string): string {
  return relative === "" ? dir : `${dir.replace(/\/+$/, "")}/${relative}`;
}
