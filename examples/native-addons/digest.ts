// What one input is turned into by the four native addons, one of each kind `mnt build` handles.
// Every value depends on the input only (fixed salts, no clocks), so a result computed on an arm64
// host equals the one this machine computes: main checks exactly that.
import argon2 from "argon2"; // prebuilds shipped inside the package (prebuildify + node-gyp-build)
import bcrypt from "bcrypt"; // built from source (node-pre-gyp: its prebuilt download cannot work offline)
import crc from "@node-rs/crc32"; // one package per platform (napi-rs: optionalDependencies with os/cpu)
import checksum from "mnt-checksum"; // our own N-API addon in C (file:./addon), built from source

export interface Item {
  index: number;
  text: string;
}

export interface Digest {
  crc32: number;
  fnv1a: number;
  bcrypt: string;
  argon2: string;
}

// bcrypt's salt is `$2b$<cost>$` and 22 characters of its base64; cost 4 is the lowest it accepts.
const BCRYPT_SALT = "$2b$04$mntnativeaddonsexample.";
// argon2 with a fixed salt and small costs: emulated hosts run it thousands of times slower.
const ARGON2_SALT = Buffer.from("mnt-native-addon");

export async function digest(item: Item): Promise<Digest> {
  const bytes = Buffer.from(item.text, "utf8");
  const argon = await argon2.hash(item.text, { raw: true, salt: ARGON2_SALT, type: argon2.argon2id, memoryCost: 1024, timeCost: 2, parallelism: 1, hashLength: 16 });
  return {
    crc32: crc.crc32(bytes),
    fnv1a: checksum.fnv1a(bytes),
    bcrypt: bcrypt.hashSync(item.text, BCRYPT_SALT),
    argon2: argon.toString("hex"),
  };
}

/** The architecture each addon that can tell was compiled for (ours can). */
export function compiledFor(): string {
  return checksum.compiledFor();
}
