// What rsync prints, read: the figures of `--stats --no-human-readable` and the line that says why
// it failed. Pure functions of the text, so they are tested on captured output.

export interface RsyncStats {
  /** File bytes that had to be sent (rsync's "Literal data": what delta transfer could not match). */
  literalBytes: number;
  /** Everything sent, protocol and file list included ("Total bytes sent"). */
  wireBytes: number;
  /** Regular files whose data was sent ("Number of regular files transferred"). */
  filesTransferred: number;
  /** "Number of deleted files" (0 from rsync before 3.1, which does not count them). */
  filesDeleted: number;
}

/** The figures of `rsync --stats`; null when the output has none (rsync failed before printing them). */
export function parseRsyncStats(stdout: string): RsyncStats | null {
  const figure = (label: RegExp): number | null => {
    const match = label.exec(stdout);
    // --no-human-readable prints plain digits; commas are removed in case an old rsync adds them.
    return match ? Number(match[1]!.replaceAll(",", "")) : null;
  };
  const literalBytes = figure(/^Literal data: ([\d,]+)/m);
  const wireBytes = figure(/^Total bytes sent: ([\d,]+)/m);
  // rsync 3.0 says "Number of files transferred".
  const filesTransferred = figure(/^Number of (?:regular )?files transferred: ([\d,]+)/m);
  if (literalBytes === null || wireBytes === null || filesTransferred === null) return null;
  return { literalBytes, wireBytes, filesTransferred, filesDeleted: figure(/^Number of deleted files: ([\d,]+)/m) ?? 0 };
}

/**
 * The line that says why rsync failed: its first own complaint (`rsync: [Receiver] mkdir "/x"
 * failed: Read-only file system (30)`), else its summary (`rsync error: … (code 11)`), else the
 * first line at all.
 */
export function rsyncReason(stderr: string): string | null {
  const lines = stderr.split("\n").map((line) => line.trim()).filter(Boolean);
  return (
    lines.find((line) => /^rsync: /.test(line) && !/^rsync: connection unexpectedly closed/.test(line)) ??
    lines.find((line) => /^rsync error: /.test(line)) ??
    lines[0] ??
    null
  );
}
