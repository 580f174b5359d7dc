#!/usr/bin/env node
// Entry point for `npx cairn` and the package's bin: the compiled CLI lives in build/.
import '../build/main.js';
