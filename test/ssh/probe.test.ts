import { expect } from "chai";
import { parseLibc } from "../../core/connections/ssh/probe.ts";

describe("probe: the host's C library, from what getconf or ldd print there", () => {
  it("glibc: getconf GNU_LIBC_VERSION", () => {
    expect(parseLibc("glibc 2.36 ")).to.deep.equal({ family: "glibc", version: "2.36" });
  });
  it("glibc without getconf: ldd's first line", () => {
    expect(parseLibc("ldd (Debian GLIBC 2.31-13+deb11u5) 2.31 Copyright (C) 2020 Free Software Foundation, Inc. ")).to.deep.equal({ family: "glibc", version: "2.31" });
  });
  it("musl (Alpine): getconf has no such variable, ldd names musl and its version", () => {
    expect(parseLibc("getconf: GNU_LIBC_VERSION: unknown variable musl libc (x86_64) Version 1.2.4 ")).to.deep.equal({ family: "musl", version: "1.2.4" });
  });
  it("nothing recognisable: unknown, not a guess", () => {
    expect(parseLibc("sh: getconf: not found sh: ldd: not found ")).to.equal(null);
  });
});
