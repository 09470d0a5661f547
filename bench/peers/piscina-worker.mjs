// Piscina peer: the no-op task. Plain .mjs so worker threads need no TypeScript loader.
export default (x) => x;
