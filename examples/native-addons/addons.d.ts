// The parts of the addons' APIs this example uses, so that the project type-checks without the
// example's node_modules installed (CI does not install them; the tests install a copy elsewhere).
// bcrypt ships no types at all.

declare module "argon2" {
  const argon2: {
    argon2id: 2;
    hash(password: string | Buffer, options: { raw: true; salt: Buffer; type: 0 | 1 | 2; memoryCost: number; timeCost: number; parallelism: number; hashLength: number }): Promise<Buffer>;
  };
  export default argon2;
}

declare module "bcrypt" {
  const bcrypt: {
    hashSync(data: string | Buffer, saltOrRounds: string | number): string;
  };
  export default bcrypt;
}

declare module "@node-rs/crc32" {
  const crc: { crc32(input: Uint8Array | string, initialState?: number | null): number };
  export default crc;
}

declare module "mnt-checksum" {
  const checksum: { fnv1a(data: Uint8Array): number; compiledFor(): string; byteOrder(): "LE" | "BE"; sumFloat64(values: Float64Array): number };
  export default checksum;
}
