#!/usr/bin/env node
// Prints the functions with the most self time in a V8 .cpuprofile (from `node --cpu-prof`), and the
// same grouped by package/file, so a profile of `npm run bench -- --profile` can be read in a terminal.
//   node bench/profile-top.mjs FILE.cpuprofile [N]
import { readFileSync } from 'node:fs'

const [file, n = '30'] = process.argv.slice(2)
if (!file) {
  process.stderr.write('usage: node bench/profile-top.mjs FILE.cpuprofile [N]\n')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const self = new Map()
const dt = profile.timeDeltas
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]
  self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0))
}
const total = [...self.values()].reduce((a, b) => a + b, 0)
const fnKey = (cf) => `${cf.functionName || '(anonymous)'} ${where(cf)}`
function where(cf) {
  const url = cf.url.replace(/^file:\/\//, '')
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  const short = m ? m[1] : url.split('/').slice(-2).join('/')
  return short ? `${short}:${cf.lineNumber + 1}` : ''
}
function group(cf) {
  const url = cf.url
  if (url === '') return cf.functionName.startsWith('(') ? cf.functionName : '(native/builtin)'
  if (url.startsWith('node:')) return url
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (m) return m[1]
  return url.split('/').slice(-1)[0]
}
const agg = (keyOf) => {
  const map = new Map()
  for (const [id, t] of self) {
    const k = keyOf(byId.get(id).callFrame)
    map.set(k, (map.get(k) ?? 0) + t)
  }
  return [...map.entries()].sort((a, b) => b[1] - a[1])
}
const pct = (t) => `${((100 * t) / total).toFixed(1).padStart(5)}%`

// Inclusive ("total") time: each sample counts once for every distinct function on its stack.
const parent = new Map()
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
const inclusive = new Map()
for (const [id, t] of self) {
  const seen = new Set()
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = fnKey(byId.get(cur).callFrame)
    if (seen.has(k)) continue
    seen.add(k)
    inclusive.set(k, (inclusive.get(k) ?? 0) + t)
  }
}
process.stdout.write(`total sampled ${(total / 1e6).toFixed(2)} s\n\nby function (self time):\n`)
for (const [k, t] of agg(fnKey).slice(0, Number(n))) process.stdout.write(`${pct(t)}  ${k}\n`)
process.stdout.write('\nby function (total time, callees included):\n')
for (const [k, t] of [...inclusive.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(n))) process.stdout.write(`${pct(t)}  ${k}\n`)
process.stdout.write('\nby package / file (self time):\n')
for (const [k, t] of agg(group).slice(0, Number(n))) process.stdout.write(`${pct(t)}  ${k}\n`)
