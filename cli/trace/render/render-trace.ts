// A trace drawn as a PNG: a header, the master's queue counter as a filled step graph, one row per
// track (slave tracks "host:slot", then each host's agent), slices coloured by op name (context
// ops darker, with a bar on top; runs that did not settle their op outlined in red), instants as
// ticks (losses red, ups green), a time axis, and a legend of the op names.
import { textWidth } from "./bitmap-font.ts";
import { Canvas, type Rgb } from "./canvas.ts";
import type { TraceModel, TraceTrack } from "./trace-model.ts";

export interface RenderOptions {
  width: number;
  title: string;
}

const SCALE = 2; // font pixel size
const LINE = 7 * SCALE; // text line height
const PAD = 10;
const ROW = 22;
const COUNTER_HEIGHT = 70;
const BACKGROUND: Rgb = [255, 255, 255];
const INK: Rgb = [40, 40, 48];
const FAINT: Rgb = [225, 228, 234];
const ROW_SHADE: Rgb = [246, 247, 250];
const LOST: Rgb = [214, 39, 40];
const UP: Rgb = [44, 160, 44];
const OTHER_MARK: Rgb = [120, 120, 140];
const QUEUED: Rgb = [255, 160, 70];
const RUNNING: Rgb = [90, 140, 220];
/** Op colours by name (Tableau 10), in the order names are first seen. */
const PALETTE: Rgb[] = [
  [78, 121, 167], [242, 142, 43], [89, 161, 79], [176, 122, 161], [237, 201, 72],
  [118, 183, 178], [255, 157, 167], [156, 117, 95], [186, 176, 172], [225, 87, 89],
];

export function renderTrace(model: TraceModel, options: RenderOptions): Buffer {
  const tracks = model.tracks.filter((track) => track.slices.length > 0 || track.marks.length > 0);
  const colours = colourByName(tracks);
  const labelWidth = Math.max(textWidth("queue", SCALE), ...tracks.map((track) => textWidth(track.label, SCALE))) + 2 * PAD;
  const legendRows = Math.ceil(colours.size / 4) || 1;
  const top = PAD + LINE + PAD;
  const rowsTop = top + COUNTER_HEIGHT + PAD;
  const axisTop = rowsTop + tracks.length * ROW + 4;
  const height = axisTop + LINE + PAD + legendRows * (LINE + 6) + PAD;
  const width = Math.max(options.width, labelWidth + 200);
  const canvas = new Canvas(width, height, BACKGROUND);
  const plotLeft = labelWidth;
  const plotWidth = width - plotLeft - PAD;
  const span = Math.max(1, model.end - model.start);
  const x = (ts: number) => plotLeft + ((ts - model.start) / span) * plotWidth;

  canvas.text(PAD, PAD, options.title, INK, SCALE);

  // The time axis's grid, under everything else.
  const ticks = timeTicks(span, Math.max(2, Math.floor(plotWidth / 120)));
  for (const tick of ticks) canvas.fill(x(model.start + tick), top, 1, axisTop - top, FAINT);

  drawCounter(canvas, model, x, plotLeft, top, plotWidth);

  tracks.forEach((track, row) => {
    const y = rowsTop + row * ROW;
    if (row % 2 === 0) canvas.fill(plotLeft, y, plotWidth, ROW, ROW_SHADE);
    canvas.text(PAD, y + (ROW - 5 * SCALE) / 2, track.label, INK, SCALE);
    drawTrack(canvas, track, colours, x, y);
  });
  for (const mark of model.marks) {
    if (mark.at < model.start) continue;
    const colour = markColour(mark.name);
    canvas.fill(x(mark.at), rowsTop, 1, tracks.length * ROW, colour);
  }

  canvas.fill(plotLeft, axisTop, plotWidth, 1, INK);
  for (const tick of ticks) {
    const label = formatTime(tick, span);
    const at = x(model.start + tick);
    canvas.fill(at, axisTop, 1, 4, INK);
    canvas.text(Math.min(width - PAD - textWidth(label, SCALE), Math.max(plotLeft, at - textWidth(label, SCALE) / 2)), axisTop + 6, label, INK, SCALE);
  }

  // The legend: op names with their colours, four to a row.
  const legendTop = axisTop + LINE + PAD + 4;
  const column = Math.floor(plotWidth / 4);
  const contextOnly = contextNames(tracks);
  [...colours].forEach(([name, colour], i) => {
    const lx = plotLeft + (i % 4) * column;
    const ly = legendTop + Math.floor(i / 4) * (LINE + 6);
    const context = contextOnly.has(name);
    canvas.fill(lx, ly, 5 * SCALE * 2, 5 * SCALE, context ? darker(colour) : colour);
    if (context) canvas.fill(lx, ly - 2, 5 * SCALE * 2, 2, INK);
    canvas.text(lx + 5 * SCALE * 2 + 6, ly, context ? `${name} (context op)` : name, INK, SCALE);
  });
  canvas.text(PAD, legendTop, "ops:", INK, SCALE);
  return canvas.toPng();
}

function drawTrack(canvas: Canvas, track: TraceTrack, colours: Map<string, Rgb>, x: (ts: number) => number, y: number): void {
  for (const slice of track.slices) {
    const left = x(slice.start);
    const w = Math.max(1, x(slice.start + slice.dur) - left);
    const colour = colours.get(slice.name) ?? OTHER_MARK;
    if (slice.context) {
      canvas.fill(left, y + 3, w, ROW - 6, darker(colour));
      canvas.fill(left, y + 1, w, 2, INK);
    } else {
      canvas.fill(left, y + 3, w, ROW - 6, colour);
    }
    if (slice.superseded) {
      canvas.fill(left, y + 3, w, 2, LOST);
      canvas.fill(left, y + ROW - 5, w, 2, LOST);
    }
  }
  for (const mark of track.marks) {
    const at = x(mark.at);
    const colour = markColour(mark.name);
    canvas.fill(at - 1, y, 3, ROW, colour);
    canvas.fill(at - 3, y, 7, 3, colour);
  }
}

function drawCounter(canvas: Canvas, model: TraceModel, x: (ts: number) => number, left: number, top: number, width: number): void {
  canvas.text(PAD, top + COUNTER_HEIGHT / 2 - 5, "queue", INK, SCALE);
  canvas.fill(left, top + COUNTER_HEIGHT, width, 1, FAINT);
  const counter = model.counter;
  if (!counter || counter.samples.length === 0) return;
  const max = Math.max(1, ...counter.samples.map((sample) => sample.values.reduce((a, b) => a + b, 0)));
  const barTop = top + 4 * SCALE + 4;
  const barHeight = COUNTER_HEIGHT - (barTop - top);
  counter.samples.forEach((sample, i) => {
    if (i + 1 < counter.samples.length && counter.samples[i + 1]!.at < model.start) return;
    const from = Math.max(left, x(sample.at));
    const to = i + 1 < counter.samples.length ? x(counter.samples[i + 1]!.at) : x(model.end);
    // Stacked: the first series (queued) on top of the second (running).
    let base = top + COUNTER_HEIGHT;
    for (let s = counter.series.length - 1; s >= 0; s--) {
      const h = (sample.values[s]! / max) * barHeight;
      canvas.fill(from, base - h, Math.max(1, to - from), h, s === 0 ? QUEUED : RUNNING);
      base -= h;
    }
  });
  const legend = `${counter.series.join(" + ")} (max ${max})`;
  canvas.text(left + 4, top, legend, INK, SCALE);
  canvas.fill(left + 4 + textWidth(legend, SCALE) + 8, top, 10, 10, QUEUED);
  if (counter.series.length > 1) canvas.fill(left + 4 + textWidth(legend, SCALE) + 22, top, 10, 10, RUNNING);
}

function colourByName(tracks: TraceTrack[]): Map<string, Rgb> {
  const names = new Set<string>();
  for (const track of tracks) for (const slice of track.slices) names.add(slice.name);
  const colours = new Map<string, Rgb>();
  [...names].sort().forEach((name, i) => colours.set(name, PALETTE[i % PALETTE.length]!));
  return colours;
}

/** Names of context ops (every slice of the name is one). */
function contextNames(tracks: TraceTrack[]): Set<string> {
  const context = new Set<string>();
  const worker = new Set<string>();
  for (const track of tracks) for (const slice of track.slices) (slice.context ? context : worker).add(slice.name);
  for (const name of worker) context.delete(name);
  return context;
}

function markColour(name: string): Rgb {
  if (/lost|failed|aside|poison/.test(name)) return LOST;
  if (/up/.test(name)) return UP;
  return OTHER_MARK;
}

function darker([r, g, b]: Rgb): Rgb {
  return [Math.round(r * 0.6), Math.round(g * 0.6), Math.round(b * 0.6)];
}

/** Tick offsets (µs from the start) at a round step giving about `count` ticks. */
export function timeTicks(spanUs: number, count: number): number[] {
  const rough = spanUs / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = 0; t <= spanUs + 1e-9; t += step) ticks.push(t);
  return ticks;
}

function formatTime(us: number, spanUs: number): string {
  if (spanUs >= 2_000_000) return `${+(us / 1e6).toFixed(2)} s`;
  if (spanUs >= 2_000) return `${+(us / 1e3).toFixed(1)} ms`;
  return `${Math.round(us)} us`;
}
