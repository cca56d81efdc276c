#!/usr/bin/env node
// Thin launcher so npm can link the command before the TypeScript build has run.
import "../dist/main.js";
