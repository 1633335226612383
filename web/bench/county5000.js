// The dashboard at 5,000 grids (BENCHMARKS.md, "Dashboard"): writes a
// directory of one county with 20 towns x 10 communities x 25 grids (each grid
// a 24-vertex polygon), starts $GRIDD on it in open mode, opens the page in
// headless Chromium ($CHROMIUM) and logs the time to the first render and to
// each re-render as it zooms in, then times the shapes endpoint at several
// zoom levels (gzip accepted, as a browser does).
//   GRIDD=build/tools/gridd CHROMIUM=/usr/bin/chromium GRID_WEB_ROOT=build/web/dist \
//     NODE_PATH=build/web/node_modules node web/bench/county5000.js
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const puppeteer = require('puppeteer-core');

const COUNTY = '990100';

// A grid cell as a 24-vertex ring (six points per side, slightly bowed), so
// that simplification has work to do.
function cell(west, south, size) {
  const lng = [];
  const lat = [];
  const side = (x0, y0, x1, y1) => {
    for (let i = 0; i < 6; i++) {
      const t = i / 6;
      const bow = Math.sin(Math.PI * t) * size * 0.01;
      lng.push(x0 + (x1 - x0) * t + (y1 - y0 ? bow : 0));
      lat.push(y0 + (y1 - y0) * t + (x1 - x0 ? bow : 0));
    }
  };
  side(west, south, west + size, south);
  side(west + size, south, west + size, south + size);
  side(west + size, south + size, west, south + size);
  side(west, south + size, west, south);
  return { polygons: [{ rings: [{ lng, lat }] }] };
}

function directory() {
  const units = [{ code: COUNTY, level: 'UNIT_LEVEL_COUNTY', name: '基准县' }];
  const size = 0.01;
  for (let t = 0; t < 20; t++) {
    const town = `${COUNTY}${String(100 + t)}`;
    units.push({ code: town, level: 'UNIT_LEVEL_TOWN', name: `第${t + 1}镇`, parentCode: COUNTY });
    for (let c = 0; c < 10; c++) {
      const community = `${town}${String(c + 1).padStart(3, '0')}`;
      units.push({ code: community, level: 'UNIT_LEVEL_COMMUNITY', name: `第${c + 1}社区`, parentCode: town });
      for (let g = 0; g < 25; g++) {
        // Towns in a 5 x 4 lattice, communities 5 x 2 in a town, grids 5 x 5 in a community.
        const x = (t % 5) * 25 + (c % 5) * 5 + (g % 5);
        const y = Math.floor(t / 5) * 50 + Math.floor(c / 5) * 25 + Math.floor(g / 5) * 5;
        units.push({ code: `${community}${String(g + 1).padStart(3, '0')}`, level: 'UNIT_LEVEL_GRID',
          name: `第${g + 1}网格`, parentCode: community, boundary: cell(109 + x * size, 19 + y * size / 5, size) });
      }
    }
  }
  return { units };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'county5000-'));
  fs.writeFileSync(path.join(dir, 'directory.json'), JSON.stringify(directory()));
  const portFile = path.join(dir, 'port');
  const log = fs.openSync(path.join(dir, 'gridd.log'), 'w');
  const gridd = spawn(process.env.GRIDD, ['--listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--data',
    path.join(dir, 'data'), '--port-file', portFile, '--directory', path.join(dir, 'directory.json'),
    '--web-root', process.env.GRID_WEB_ROOT], { stdio: ['ignore', log, log] });
  try {
    for (let i = 0; !fs.existsSync(portFile) || !fs.readFileSync(portFile, 'utf8').includes('http'); i++) {
      if (i > 1200) throw new Error(fs.readFileSync(path.join(dir, 'gridd.log'), 'utf8'));
      await new Promise((r) => setTimeout(r, 50));
    }
    const base = `http://127.0.0.1:${/http (\d+)/.exec(fs.readFileSync(portFile, 'utf8'))[1]}`;
    // The page first, on a cold cache; then the endpoint at each zoom.
    const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1360, height: 820 });
      await page.goto(`${base}/dashboard/`);
      await page.type('#token', 'bench');
      await page.click('#login-form button');
      await page.waitForFunction(() => window.gridDashboard.renders.length > 0, { timeout: 60000 });
      let r = await page.evaluate(() => window.gridDashboard.renders[0]);
      console.log(`browser: first render of ${r.grids} grids (${r.features} ${r.outline}) at zoom ${r.zoom}: ${r.sinceLogin} ms after logging in (shapes fetched and drawn in ${r.ms} ms)`);
      for (let i = 1; i <= 3; i++) {
        await page.evaluate(() => window.gridDashboard.state.map.zoomIn(1, { animate: false }));
        await page.waitForFunction((n) => window.gridDashboard.renders.length > n, { timeout: 60000 }, i);
        r = await page.evaluate((n) => window.gridDashboard.renders[n], i);
        console.log(`browser: zoom ${r.zoom} (${r.features} ${r.outline}): shapes fetched and drawn in ${r.ms} ms`);
      }
      const t0 = Date.now();
      await page.evaluate(() => { document.getElementById('metric').value = 'responseRate'; document.getElementById('metric').dispatchEvent(new Event('change')); });
      console.log(`browser: recolour ${r.grids} grids: ${Date.now() - t0} ms`);
    } finally {
      await browser.close();
    }
    for (const zoom of [8, 9, 10, 11, 12, 14]) {
      for (const run of ['first', 'cached']) {
        const t0 = performance.now();
        const r = await fetch(`${base}/dashboard/api/shapes?unit=${COUNTY}&zoom=${zoom}`, { headers: { Authorization: 'Bearer bench', 'Accept-Encoding': 'gzip' } });
        const text = await r.text();
        const wire = Number(r.headers.get('content-length'));
        const ms = performance.now() - t0;
        const shapes = JSON.parse(text);
        const points = shapes.features.reduce((n, f) => n + f.geometry.coordinates[0][0].length - 1, 0);
        console.log(`shapes zoom ${zoom} (${run}): ${shapes.features.length} ${shapes.outline} of ${shapes.grids} grids, ${points} points kept, ${(text.length / 1024).toFixed(0)} KiB (${(wire / 1024).toFixed(0)} KiB gzipped), ${ms.toFixed(0)} ms`);
      }
    }
  } finally {
    gridd.kill('SIGTERM');
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
