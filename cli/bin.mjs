#!/usr/bin/env node
// Entry point: register tsx so the TypeScript CLI (and user modules) load directly.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
