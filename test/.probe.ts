import { createContext } from '/work/wt/intapi/src/index.ts';
for (const bits of [[36,36,36,36,36,38],[30,30,30,30,30,30,30,38], [60,40,40,40,38]]) {
const ctx = await createContext({ scheme: 'bgv', polyModulusDegree: 8192, backend: 'wasm', coeffModulusBits: bits });
ctx.keygen({ galois: [1] });
const x = ctx.encrypt([1, 2, 3, -4, 40]);
const show = (n: string, y: any) => console.log(bits.join(','), n, y.chainIndex, y.noiseBudget(), Array.from(y.decrypt()).join(','));
show('fresh', x);
for (const c of [[1,-7,0,3,0,0,11],[1,2,3,4,5,6,7,8]]) show(c.join(','), x.polyval(c));
}
