// SPDX-License-Identifier: Apache-2.0
// next_register.mjs: `node --import ./next_register.mjs ...` lets plain Node
// load @workos-inc/authkit-nextjs without a Next server or bundler. Two things
// a bundler does are done here, nothing else:
// - `next/headers`, `next/server`, ... are resolved to their .js files (next
//   has no "exports" map, and Node's ESM resolver wants the extension);
// - `server-only` is resolved with the react-server condition (its empty
//   module): this is server code.
import { register } from 'node:module';

register('./next_hooks.mjs', import.meta.url);
