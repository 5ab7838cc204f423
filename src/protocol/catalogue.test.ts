import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { renderCatalogue } from './catalogue.js';

it('docs/messages.md is the catalogue generated from the declarations (run `npm run docs`)', () => {
  const onDisk = readFileSync(new URL('../../docs/messages.md', import.meta.url), 'utf8');
  expect(onDisk).toBe(renderCatalogue());
});
