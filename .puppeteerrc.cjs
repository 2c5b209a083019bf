// Puppeteer configuration, read both when `npm install` runs puppeteer's
// browser download and when a test launches the browser.
//
// If a system Chrome/Chromium is present (or PUPPETEER_EXECUTABLE_PATH names
// one) we use it and skip puppeteer's own Chrome download: machines without
// internet access (CI here) cannot download it. Without a system browser,
// puppeteer behaves as shipped and downloads its own Chrome.
const fs = require('node:fs');

const candidates = [
  process.env.PUPPETEER_EXECUTABLE_PATH,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome-stable',
  '/usr/bin/google-chrome',
].filter(Boolean);
const systemBrowser = candidates.find((p) => fs.existsSync(p));

module.exports = systemBrowser ? { skipDownload: true, executablePath: systemBrowser } : {};
