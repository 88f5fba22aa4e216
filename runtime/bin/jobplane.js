#!/usr/bin/env node
// Checked-in shim so `npm ci` can link the `jobplane` bin before the first build; the CLI itself
// is compiled TypeScript (src/main/cli.ts → dist/main/cli.js).
import '../dist/main/cli.js';
