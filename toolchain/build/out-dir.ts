/** Where `mnt build` writes (and `mnt deploy` reads), relative to the current folder, unless --out says otherwise. */
export const DEFAULT_OUT_DIR = ".mnt/build";
