// The CPU-bound work of the ray-tracer benchmark: one function that renders one 16×16 tile of a
// fixed scene (spheres over a checkered plane, a point light with shadows, mirror bounces, 6×6
// samples per pixel). Both sides of the comparison import this one module: the program's worker op
// through `mnt exec` and the bare forked processes (bench/peers/fork-raytrace-child.ts), so the
// work per tile is identical. No imports, no allocation in the inner loops: pure float arithmetic.

export const TILE = 16;
export const WIDTH = 480;
export const HEIGHT = 352;
/** 30 × 22 = 660 tiles. */
export const TILES = (WIDTH / TILE) * (HEIGHT / TILE);
/** Samples per pixel side (6 → 36 rays per pixel): about 3 ms per tile on a 2-core EPYC VM. */
export const SAMPLES = 6;
const MAX_DEPTH = 4;

// Spheres: centre x, y, z, radius, r, g, b, reflectivity.
const SPHERES = new Float64Array([
  0, 1, 6, 1, 0.9, 0.2, 0.2, 0.3,
  -2.2, 0.8, 7.5, 0.8, 0.2, 0.9, 0.3, 0.5,
  2.1, 0.7, 5.2, 0.7, 0.2, 0.4, 0.95, 0.2,
  -0.9, 0.35, 4.3, 0.35, 0.95, 0.85, 0.2, 0.6,
  1.2, 2.4, 9, 1.2, 0.8, 0.8, 0.8, 0.7,
  -3.5, 1.5, 11, 1.5, 0.6, 0.3, 0.8, 0.4,
]);
const SPHERE_COUNT = SPHERES.length / 8;
const LIGHT_X = -4;
const LIGHT_Y = 8;
const LIGHT_Z = 1;

// The closest hit of the last `trace` call's intersection test (module state: no allocation).
let hitT = 0;
let hitIndex = -1;

function intersect(ox: number, oy: number, oz: number, dx: number, dy: number, dz: number): void {
  hitT = Infinity;
  hitIndex = -1;
  for (let i = 0; i < SPHERE_COUNT; i += 1) {
    const k = i * 8;
    const lx = ox - SPHERES[k]!;
    const ly = oy - SPHERES[k + 1]!;
    const lz = oz - SPHERES[k + 2]!;
    const r = SPHERES[k + 3]!;
    const b = lx * dx + ly * dy + lz * dz;
    const c = lx * lx + ly * ly + lz * lz - r * r;
    const disc = b * b - c;
    if (disc < 0) continue;
    const s = Math.sqrt(disc);
    let t = -b - s;
    if (t < 1e-4) t = -b + s;
    if (t > 1e-4 && t < hitT) {
      hitT = t;
      hitIndex = i;
    }
  }
  // The plane y = 0 (index SPHERE_COUNT).
  if (dy < -1e-6) {
    const t = -oy / dy;
    if (t > 1e-4 && t < hitT) {
      hitT = t;
      hitIndex = SPHERE_COUNT;
    }
  }
}

// The colour of the last `trace` call (module state: no allocation).
let outR = 0;
let outG = 0;
let outB = 0;

function trace(ox: number, oy: number, oz: number, dx: number, dy: number, dz: number, depth: number): void {
  intersect(ox, oy, oz, dx, dy, dz);
  if (hitIndex < 0) {
    // Sky: a vertical gradient.
    const t = 0.5 * (dy + 1);
    outR = 0.5 + 0.3 * t;
    outG = 0.6 + 0.3 * t;
    outB = 0.9;
    return;
  }
  const index = hitIndex;
  const px = ox + dx * hitT;
  const py = oy + dy * hitT;
  const pz = oz + dz * hitT;
  let nx: number, ny: number, nz: number, cr: number, cg: number, cb: number, refl: number;
  if (index === SPHERE_COUNT) {
    nx = 0;
    ny = 1;
    nz = 0;
    const check = (Math.floor(px) + Math.floor(pz)) & 1;
    cr = cg = cb = check ? 0.9 : 0.25;
    refl = 0.25;
  } else {
    const k = index * 8;
    const inv = 1 / SPHERES[k + 3]!;
    nx = (px - SPHERES[k]!) * inv;
    ny = (py - SPHERES[k + 1]!) * inv;
    nz = (pz - SPHERES[k + 2]!) * inv;
    cr = SPHERES[k + 4]!;
    cg = SPHERES[k + 5]!;
    cb = SPHERES[k + 6]!;
    refl = SPHERES[k + 7]!;
  }
  // Diffuse and specular light, unless something lies between the point and the light.
  let lx = LIGHT_X - px;
  let ly = LIGHT_Y - py;
  let lz = LIGHT_Z - pz;
  const lightDistance = Math.sqrt(lx * lx + ly * ly + lz * lz);
  lx /= lightDistance;
  ly /= lightDistance;
  lz /= lightDistance;
  let diffuse = nx * lx + ny * ly + nz * lz;
  let specular = 0;
  if (diffuse > 0) {
    intersect(px, py, pz, lx, ly, lz);
    if (hitIndex >= 0 && hitT < lightDistance) diffuse = 0;
    else {
      const rdot = 2 * diffuse;
      const rx = rdot * nx - lx;
      const ry = rdot * ny - ly;
      const rz = rdot * nz - lz;
      const s = -(rx * dx + ry * dy + rz * dz);
      if (s > 0) specular = Math.pow(s, 32);
    }
  } else diffuse = 0;
  const light = 0.12 + 0.88 * diffuse;
  let r = cr * light + specular;
  let g = cg * light + specular;
  let b = cb * light + specular;
  if (depth < MAX_DEPTH && refl > 0) {
    const d = 2 * (dx * nx + dy * ny + dz * nz);
    trace(px, py, pz, dx - d * nx, dy - d * ny, dz - d * nz, depth + 1);
    r = r * (1 - refl) + outR * refl;
    g = g * (1 - refl) + outG * refl;
    b = b * (1 - refl) + outB * refl;
  }
  outR = r;
  outG = g;
  outB = b;
}

/** Renders tile `index` (row-major over the image's tiles): TILE × TILE RGB bytes. */
export function renderTile(index: number, samples: number = SAMPLES): Uint8Array {
  const tilesPerRow = WIDTH / TILE;
  const x0 = (index % tilesPerRow) * TILE;
  const y0 = Math.floor(index / tilesPerRow) * TILE;
  const out = new Uint8Array(TILE * TILE * 3);
  const aspect = WIDTH / HEIGHT;
  const weight = 1 / (samples * samples);
  for (let y = 0; y < TILE; y += 1) {
    for (let x = 0; x < TILE; x += 1) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let sy = 0; sy < samples; sy += 1) {
        for (let sx = 0; sx < samples; sx += 1) {
          const u = ((x0 + x + (sx + 0.5) / samples) / WIDTH - 0.5) * 2 * aspect;
          const v = (0.5 - (y0 + y + (sy + 0.5) / samples) / HEIGHT) * 2;
          // Camera at (0, 1.6, 0) looking down +z, slightly tilted down.
          let dx = u;
          let dy = v - 0.15;
          let dz = 1.6;
          const inv = 1 / Math.sqrt(dx * dx + dy * dy + dz * dz);
          dx *= inv;
          dy *= inv;
          dz *= inv;
          trace(0, 1.6, 0, dx, dy, dz, 0);
          r += outR;
          g += outG;
          b += outB;
        }
      }
      const at = (y * TILE + x) * 3;
      out[at] = Math.min(255, Math.round(r * weight * 255));
      out[at + 1] = Math.min(255, Math.round(g * weight * 255));
      out[at + 2] = Math.min(255, Math.round(b * weight * 255));
    }
  }
  return out;
}

/** A cheap fingerprint of rendered tiles, so each side can show it rendered the same image. */
export function checksum(tile: Uint8Array, seed = 0): number {
  let h = seed >>> 0;
  for (let i = 0; i < tile.length; i += 1) h = (Math.imul(h, 31) + tile[i]!) >>> 0;
  return h;
}
