import { timeToFirstOk, simulatorModeProbe, liveModeProbe, median } from './cold-start.js';
import { startSimulator } from '../src/simulator/index.js';
const sim = await startSimulator({ speed: 1 });
const entries = process.argv.slice(2);
const res: Record<string, {ms:number[],cpu:number[]}> = {};
for (let i = 0; i < 9; i++) for (const e of entries) for (const mode of ['sim','live']) {
  const p = mode === 'sim' ? simulatorModeProbe('/v1/environments') : liveModeProbe(sim);
  p.args = [e];
  const r = await timeToFirstOk(p);
  const k = `${mode} ${e}`; (res[k] ??= {ms:[],cpu:[]}); res[k].ms.push(r.ms); res[k].cpu.push(r.cpuMs);
}
for (const [k,v] of Object.entries(res)) console.log(k, 'wall', median(v.ms).toFixed(0), 'cpu', median(v.cpu).toFixed(0));
await sim.close();
