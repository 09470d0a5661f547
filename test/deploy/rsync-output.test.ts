// What rsync prints, read: its --stats figures and the line that says why it failed.
import { expect } from "chai";
import { parseRsyncStats, rsyncReason } from "../../toolchain/deploy/rsync-output.ts";
import { homeRelative } from "../../toolchain/deploy/remote-path.ts";

const STATS = `
Number of files: 3 (reg: 2, dir: 1)
Number of created files: 3 (reg: 2, dir: 1)
Number of deleted files: 4
Number of regular files transferred: 2
Total file size: 3000003 bytes
Total transferred file size: 3000003 bytes
Literal data: 2999000 bytes
Matched data: 1003 bytes
File list size: 0
Total bytes sent: 3000909
Total bytes received: 57

sent 3000909 bytes  received 57 bytes  6001932.00 bytes/sec
`;

describe("rsync output", () => {
  it("--stats: literal data is what was sent of the files, the total is what went over the wire", () => {
    expect(parseRsyncStats(STATS)).to.deep.equal({ literalBytes: 2999000, wireBytes: 3000909, filesTransferred: 2, filesDeleted: 4 });
  });

  it("--stats with thousands separators, and rsync 3.0's wording", () => {
    const old = "Number of files transferred: 1,204\nLiteral data: 1,234,567 bytes\nTotal bytes sent: 2,000,000\n";
    expect(parseRsyncStats(old)).to.deep.equal({ literalBytes: 1234567, wireBytes: 2000000, filesTransferred: 1204, filesDeleted: 0 });
  });

  it("no figures: null", () => {
    expect(parseRsyncStats("")).to.equal(null);
  });

  it("the reason is rsync's own complaint, not its summary or the lost connection", () => {
    const stderr = [
      "rsync: connection unexpectedly closed (0 bytes received so far) [sender]",
      'rsync: [Receiver] mkstemp "/srv/x/.a.bin.Xk3p2a" failed: Read-only file system (30)',
      "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338) [sender=3.2.7]",
    ].join("\n");
    expect(rsyncReason(stderr)).to.equal('rsync: [Receiver] mkstemp "/srv/x/.a.bin.Xk3p2a" failed: Read-only file system (30)');
    expect(rsyncReason("rsync error: error in rsync protocol data stream (code 12) at io.c(232)\n")).to.match(/^rsync error: error in rsync protocol/);
    expect(rsyncReason("bash: line 1: rsync: command not found\n")).to.equal("bash: line 1: rsync: command not found");
    expect(rsyncReason("\n")).to.equal(null);
  });
});

describe("homeRelative", () => {
  it("~/x and x name the same folder under the login's home; absolute paths stay", () => {
    expect(homeRelative("~/x/y")).to.equal("x/y");
    expect(homeRelative("x/y")).to.equal("x/y");
    expect(homeRelative("~")).to.equal(".");
    expect(homeRelative("/srv/mnt")).to.equal("/srv/mnt");
    expect(() => homeRelative("~bob/x")).to.throw(/another user's home/);
  });
});
