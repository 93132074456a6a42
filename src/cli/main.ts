#!/usr/bin/env node
/** The `ferry` command: registers its subcommands; no logic of its own. */
import { Command } from 'commander';
import { SERVER_VERSION } from '../server.js';
import { registerBench } from './bench-command.js';
import { registerServe } from './serve-command.js';
import { registerBatch } from './batch-command.js';

const program = new Command('ferry')
  .description('Serve ONNX models over the KServe V2 / Open Inference Protocol')
  .version(SERVER_VERSION);

registerServe(program);
registerBench(program);
registerBatch(program);

await program.parseAsync(process.argv);
