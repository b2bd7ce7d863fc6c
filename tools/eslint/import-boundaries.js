// ESLint rule: every import must respect the layer table in ./layers.js (ARCHITECTURE.md "Folders").
import { builtinModules } from 'node:module';
import path from 'node:path';
import { layerOf, layers } from './layers.js';

const builtins = new Set(builtinModules);

/** @param {string} source */
function packageName(source) {
  const parts = source.split('/');
  return source.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** @type {import('eslint').Rule.RuleModule} */
export const importBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce the folder import rules of ARCHITECTURE.md' },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, additionalProperties: false }],
    messages: {
      layer: '{{from}} may not import {{to}} (ARCHITECTURE.md folder rules)',
      node: '{{from}} may not use the Node built-in "{{module}}"',
      package: '{{from}} may not import the package "{{module}}"',
    },
  },
  create(context) {
    const root = context.options[0]?.root ?? context.cwd;
    const file = path.relative(root, context.filename).split(path.sep).join('/');
    const from = layerOf(file);
    // Tests and build configuration are tooling, not product code.
    if (from === undefined || /\.test\.tsx?$/.test(file) || /\.config\.[cm]?[jt]s$/.test(file)) return {};
    const rule = layers[from];

    /** @param {import('estree').Node} node @param {string} source */
    function check(node, source) {
      if (source.startsWith('.')) {
        const target = path.relative(root, path.resolve(path.dirname(context.filename), source)).split(path.sep).join('/');
        const to = layerOf(target) ?? target.split('/')[0];
        if (!rule.layers.includes(to)) context.report({ node, messageId: 'layer', data: { from, to } });
        return;
      }
      const bare = source.startsWith('node:') ? source.slice(5) : source;
      if (source.startsWith('node:') || builtins.has(bare)) {
        const name = bare.split('/')[0];
        const ok = rule.node === true || (Array.isArray(rule.node) && rule.node.includes(name));
        if (!ok) context.report({ node, messageId: 'node', data: { from, module: source } });
        return;
      }
      const pkg = packageName(source);
      if (!rule.packages.includes(pkg)) context.report({ node, messageId: 'package', data: { from, module: pkg } });
    }

    return {
      ImportDeclaration(node) { check(node, String(node.source.value)); },
      ExportNamedDeclaration(node) { if (node.source) check(node, String(node.source.value)); },
      ExportAllDeclaration(node) { check(node, String(node.source.value)); },
      ImportExpression(node) {
        if (node.source.type === 'Literal') check(node, String(node.source.value));
      },
    };
  },
};

export default { rules: { 'import-boundaries': importBoundaries } };
