// SPDX-License-Identifier: Apache-2.0
// next_hooks.mjs: the resolve hook next_register.mjs installs (see there).
export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'server-only')
    return nextResolve(specifier, { ...context,
                                    conditions: [...context.conditions, 'react-server'] });
  if (/^next\/[a-z][a-z-/]*$/.test(specifier))
    return nextResolve(`${specifier}.js`, context);
  return nextResolve(specifier, context);
}
